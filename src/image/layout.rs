//! The store on disk, an OCI image layout (image-spec `image-layout.md`):
//!
//! ```text
//! images/
//!   oci-layout                 {"imageLayoutVersion":"1.0.0"}
//!   index.json                 one manifest descriptor per tag (annotation
//!                              org.opencontainers.image.ref.name = fully qualified reference)
//!   blobs/sha256/<hex>         manifests, configs, layer tarballs
//!   layers/<diffid-hex>/       unpacked layers, shared by every image and container using them
//!   tmp/                       staging for blobs and layers (renamed into place when complete)
//!   .lock                      flock(2) held while index.json is read-modified-written
//! ```
//!
//! Every file lands by rename(2) from tmp/ after fsync, so a crash leaves either the old or the
//! new version and never a torn one.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use oci_spec::image::{ImageIndex, ImageIndexBuilder, MediaType};
use sha2::{Digest as _, Sha256};

use super::error::{io_err, json_err, ImageError, Result};
use super::limits::{MAX_STORED_DOCUMENT, MAX_STORE_INDEX};
use crate::fsutil::read_file_limited;

pub(crate) struct Layout {
    pub root: PathBuf,
}

/// A held flock(2); released on drop (closing the fd drops the lock).
pub(crate) struct FileLock {
    _file: File,
}

impl Layout {
    /// Open (creating if needed) the layout at `root`.
    pub fn open(root: &Path) -> Result<Layout> {
        let l = Layout { root: root.to_path_buf() };
        for d in [l.root.join("blobs/sha256"), l.layers_dir(), l.tmp_dir()] {
            fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        let marker = l.root.join("oci-layout");
        if marker.exists() && l.index_path().exists() {
            return Ok(l);
        }
        // Shared gc lock: garbage collection must not run while the layout is being set up.
        let _gc = l.gc_lock(false)?;
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        if !l.index_path().exists() {
            let _lock = l.lock()?;
            if !l.index_path().exists() {
                l.write_index(&empty_index()?)?;
            }
        }
        Ok(l)
    }

    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh, unique path under tmp/ (pid + counter + time: unique across processes too).
    pub fn tmp_path(&self, prefix: &str) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        self.tmp_dir().join(format!("{prefix}-{}-{n}-{t}", std::process::id()))
    }

    /// `blobs/sha256/<hex>` for a `sha256:<hex>` digest.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
    }

    /// The unpacked layer directory for a diff id.
    pub fn layer_path(&self, diff_id: &str) -> PathBuf {
        self.layers_dir().join(diff_id.trim_start_matches("sha256:"))
    }

    /// Take the index lock (flock(2), exclusive; blocks until free), held while index.json is
    /// read-modified-written.
    pub fn lock(&self) -> Result<FileLock> {
        self.flock(".lock", libc::LOCK_EX)
    }

    /// The garbage-collection lock: imports and unpacks hold it shared for their whole run (their
    /// blobs are not in index.json yet), garbage collection holds it exclusive. Always taken
    /// before the index lock.
    pub fn gc_lock(&self, exclusive: bool) -> Result<FileLock> {
        self.flock(".gc.lock", if exclusive { libc::LOCK_EX } else { libc::LOCK_SH })
    }

    fn flock(&self, name: &str, op: libc::c_int) -> Result<FileLock> {
        let path = self.root.join(name);
        let file = crate::fsutil::lock_file(&path, op).map_err(io_err(&path))?;
        Ok(FileLock { _file: file })
    }

    pub fn read_index(&self) -> Result<ImageIndex> {
        let path = self.index_path();
        let bytes = read_file_limited(&path, MAX_STORE_INDEX, "store index").map_err(io_err(&path))?;
        serde_json::from_slice(&bytes).map_err(json_err(path.display().to_string()))
    }

    /// Replace index.json atomically. Callers hold [`Layout::lock`].
    pub fn write_index(&self, index: &ImageIndex) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(index).map_err(json_err("index.json"))?;
        write_atomic(&self.index_path(), &bytes)
    }

    /// Store a blob from a reader: hash while copying into tmp/, check `expected` if given,
    /// fsync, rename into place. Returns (digest, size). An existing blob is kept as is.
    pub fn put_blob(&self, reader: &mut dyn Read, expected: Option<&str>, what: &str) -> Result<(String, u64)> {
        // Content addressing: a blob already stored under the expected digest was verified when
        // it was written, so there is nothing to copy.
        if let Some(meta) = expected.and_then(|e| fs::metadata(self.blob_path(e)).ok()) {
            return Ok((expected.unwrap_or_default().to_string(), meta.len()));
        }
        let tmp = self.tmp_path("blob");
        let result = self.put_blob_via(&tmp, reader, expected, what);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn put_blob_via(
        &self,
        tmp: &Path,
        reader: &mut dyn Read,
        expected: Option<&str>,
        what: &str,
    ) -> Result<(String, u64)> {
        let mut file = File::create(tmp).map_err(io_err(tmp))?;
        let mut hw = HashingWriter { inner: &mut file, hasher: Sha256::new(), count: 0 };
        io::copy(reader, &mut hw).map_err(io_err(tmp))?;
        let (digest, size) = (format!("sha256:{}", hex::encode(hw.hasher.finalize())), hw.count);
        check_digest(what, expected, &digest)?;
        file.sync_all().map_err(io_err(tmp))?;
        let dest = self.blob_path(&digest);
        if dest.exists() {
            fs::remove_file(tmp).map_err(io_err(tmp))?;
        } else {
            fs::rename(tmp, &dest).map_err(io_err(&dest))?;
        }
        Ok((digest, size))
    }

    pub fn put_blob_bytes(&self, bytes: &[u8], expected: Option<&str>, what: &str) -> Result<(String, u64)> {
        self.put_blob(&mut &bytes[..], expected, what)
    }

    /// Read a (small) blob, a manifest or config, and verify it still hashes to its name.
    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let bytes = read_file_limited(&path, MAX_STORED_DOCUMENT, "image document").map_err(io_err(&path))?;
        check_digest(&path.display().to_string(), Some(digest), &sha256_digest(&bytes))?;
        Ok(bytes)
    }
}

pub(crate) fn check_digest(what: &str, expected: Option<&str>, actual: &str) -> Result<()> {
    match expected {
        Some(e) if e != actual => Err(ImageError::DigestMismatch {
            what: what.to_string(),
            expected: e.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn empty_index() -> Result<ImageIndex> {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(Vec::new())
        .build()
        .map_err(|e| ImageError::Unsupported { what: "index".into(), value: e.to_string() })
}

/// Replace `dest` atomically (see [`crate::fsutil::write_atomic`]).
fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    crate::fsutil::write_atomic(dest, bytes).map_err(io_err(dest))
}

/// A writer that hashes (sha256) and counts what passes through.
pub(crate) struct HashingWriter<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub count: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
