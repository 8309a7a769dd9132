//! The unpacked-layer cache: `layers/<diffid-hex>/`, one directory per distinct layer content,
//! shared read-only (as overlay lower dirs) by every image and container that uses it.
//!
//! A layer is extracted into tmp/, its diff id (sha256 of the uncompressed tar) verified while
//! extracting, the filesystem synced, and only then renamed into place: a crash never leaves a
//! half layer under layers/. Two processes unpacking the same layer both extract; the first
//! rename wins and the loser discards its copy (rename(2) onto a non-empty dir fails).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::error::{io_err, Result};
use super::extract;
use super::layout::{check_digest, Layout};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
/// A zstd stream may open with a skippable frame: magic 0x184D2A50..=0x184D2A5F, little endian
/// (RFC 8878 section 3.1.2).
const ZSTD_SKIPPABLE_MAGIC_TAIL: &[u8] = &[0x2a, 0x4d, 0x18];
/// libzstd's default window limit is 2^27 (128 MiB), which refuses layers written with
/// `zstd --long=28..30`; 2^30 admits them while bounding the decoder's memory at 1 GiB.
const ZSTD_WINDOW_LOG_MAX: u32 = 30;

/// Compression of a blob, from its magic bytes (media types lie more often than magic does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(ZSTD_MAGIC)
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && &head[1..4] == ZSTD_SKIPPABLE_MAGIC_TAIL)
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The OCI layer media type for this compression.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Open `path` and return a reader of its decompressed content (gzip, zstd or plain). The
/// compression is read from the magic bytes, never from a media type: `docker save` tars name
/// none, and a manifest's media type is only a claim (containerd sniffs the same way).
pub(crate) fn open_decompressed(path: &Path) -> Result<Box<dyn Read>> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut buf = BufReader::with_capacity(256 * 1024, file);
    let head = buf.fill_buf().map_err(io_err(path))?;
    match Compression::sniff(head) {
        Compression::None => Ok(Box::new(buf)),
        Compression::Gzip => Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buf))),
        Compression::Zstd => {
            // Reads every frame of a multi-frame stream, skipping skippable frames.
            let mut z = zstd::stream::read::Decoder::with_buffer(buf).map_err(io_err(path))?;
            z.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(io_err(path))?;
            Ok(Box::new(z))
        }
    }
}

/// Return the unpacked directory of the layer with `diff_id`, extracting blob `digest` if it is
/// not cached yet.
pub(crate) fn ensure_unpacked(layout: &Layout, digest: &str, diff_id: &str) -> Result<PathBuf> {
    let dest = layout.layer_path(diff_id);
    if dest.is_dir() {
        return Ok(dest);
    }
    let (_, path) = unpack(layout, digest, Some(diff_id))?;
    Ok(path)
}

/// Extract blob `digest` into the cache; returns (diff id, dir). The diff id is computed while
/// extracting and checked against `expected` when given.
pub(crate) fn unpack(layout: &Layout, digest: &str, expected: Option<&str>) -> Result<(String, PathBuf)> {
    let tmp = layout.tmp_path("layer");
    let result = unpack_via(layout, &tmp, digest, expected);
    if tmp.exists() {
        let _ = remove_tree(&tmp);
    }
    result
}

fn unpack_via(layout: &Layout, tmp: &Path, digest: &str, expected: Option<&str>) -> Result<(String, PathBuf)> {
    fs::create_dir(tmp).map_err(io_err(tmp))?;
    let blob = layout.blob_path(digest);
    let mut hashing = HashingReader { inner: open_decompressed(&blob)?, hasher: Sha256::new() };
    extract::extract_layer(&mut hashing, tmp, digest)?;
    // The tar reader stops at the end-of-archive marker; the diff id covers every byte.
    io::copy(&mut hashing, &mut io::sink()).map_err(io_err(&blob))?;
    let diff_id = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    check_digest(&format!("uncompressed layer {digest}"), expected, &diff_id)?;
    let dest = layout.layer_path(&diff_id);
    if dest.is_dir() {
        return Ok((diff_id, dest));
    }
    syncfs(tmp)?;
    match fs::rename(tmp, &dest) {
        Ok(()) => Ok((diff_id, dest)),
        // Lost a race with another unpack of the same layer: theirs is complete, use it.
        Err(e) if dest.is_dir() && matches!(e.raw_os_error(), Some(libc::ENOTEMPTY) | Some(libc::EEXIST)) => {
            Ok((diff_id, dest))
        }
        Err(e) => Err(io_err(&dest)(e)),
    }
}

/// Flush the extracted files before the rename that publishes them (one syncfs(2) instead of
/// an fsync per file).
fn syncfs(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(io_err(dir))?;
    nix::unistd::syncfs(f.as_raw_fd()).map_err(|e| io_err(dir)(e.into()))
}

/// Delete an unpacked layer: first renamed into tmp/ (atomic: no reader ever sees a half-deleted
/// layer under layers/), then removed.
pub(crate) fn remove_layer(layout: &Layout, dir: &Path) -> Result<()> {
    let doomed = layout.tmp_path("deleting");
    fs::rename(dir, &doomed).map_err(io_err(dir))?;
    remove_tree(&doomed).map_err(io_err(&doomed))
}

/// remove_dir_all, after making directories writable (a layer may hold 0555 dirs, which stop
/// a non-root owner from deleting their children; root is not stopped but this is harmless).
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(first) => {
            make_dirs_writable(path);
            fs::remove_dir_all(path).map_err(|_| first)
        }
    }
}

fn make_dirs_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::symlink_metadata(path) else { return };
    if !meta.is_dir() {
        return;
    }
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o700));
    if let Ok(rd) = fs::read_dir(path) {
        for e in rd.flatten() {
            make_dirs_writable(&e.path());
        }
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[path = "zstd_tests.rs"]
mod zstd_tests;
