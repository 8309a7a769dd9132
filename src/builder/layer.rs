//! Layers from directories: an overlay upper dir after a RUN, or a fresh directory COPY wrote
//! into, becomes a tar layer (image-spec `layer.md`): a 0/0 character device (overlayfs's
//! whiteout) → an empty `.wh.NAME`; `trusted.overlay.opaque=y` on a directory →
//! `.wh..wh..opq` inside it; hard links within the layer → tar links; `trusted.overlay.*`
//! bookkeeping xattrs are dropped, others kept as PAX `SCHILY.xattr.*` records.
//!
//! The tar's sha256 is the diff id; gzipped, it is stored as a blob; then it is unpacked into
//! the store's layer cache with the image store's own safe extractor, exactly as a pulled or
//! imported layer would be, so every later step and container reads it as an overlay lower dir.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::{io_err, Result};
use super::tree::{is_opaque, is_whiteout};
use crate::image::ImageStore;

pub const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A layer of the image being built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    pub digest: String,
    pub size: u64,
    pub diff_id: String,
    pub media_type: String,
}

impl LayerRef {
    /// The unpacked directory in the store's layer cache.
    pub fn dir(&self, store: &ImageStore) -> PathBuf {
        store.layout.layer_path(&self.diff_id)
    }

    /// Both the blob and the unpacked dir are still in the store (garbage collection may have
    /// removed a layer no tagged image uses).
    pub fn present(&self, store: &ImageStore) -> bool {
        store.layout.blob_path(&self.digest).is_file() && self.dir(store).is_dir()
    }
}

/// Turn `dir` into a stored, unpacked layer; None when it holds nothing.
pub fn commit_dir(store: &ImageStore, dir: &Path) -> Result<Option<LayerRef>> {
    let tar_path = store.layout.tmp_path("build-layer");
    let result = commit_via(store, dir, &tar_path);
    let _ = fs::remove_file(&tar_path);
    result
}

fn commit_via(store: &ImageStore, dir: &Path, tar_path: &Path) -> Result<Option<LayerRef>> {
    let file = File::create(tar_path).map_err(io_err(tar_path))?;
    let mut hashing = Hashing { inner: BufWriter::new(file), hasher: Sha256::new() };
    let entries = {
        let mut w = LayerWriter { b: tar::Builder::new(&mut hashing), links: HashMap::new(), entries: 0 };
        w.b.mode(tar::HeaderMode::Complete);
        w.walk(dir, "").map_err(io_err(dir))?;
        w.b.finish().map_err(io_err(tar_path))?;
        w.entries
    };
    hashing.flush().map_err(io_err(tar_path))?;
    if entries == 0 {
        return Ok(None);
    }
    let diff_id = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    let plain = File::open(tar_path).map_err(io_err(tar_path))?;
    let mut gz = flate2::read::GzEncoder::new(io::BufReader::new(plain), flate2::Compression::fast());
    let (digest, size) = store.layout.put_blob(&mut gz, None, &format!("layer of {}", dir.display()))?;
    let layer = LayerRef { digest, size, diff_id, media_type: GZIP_LAYER.into() };
    unpack(store, &layer, tar_path)?;
    Ok(Some(layer))
}

/// Extract the plain tar at `tar_path` into the layer cache (tmp/ first, then renamed).
fn unpack(store: &ImageStore, layer: &LayerRef, tar_path: &Path) -> Result<()> {
    let dest = layer.dir(store);
    if dest.is_dir() {
        return Ok(());
    }
    let tmp = store.layout.tmp_path("build-unpack");
    fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    let result = (|| {
        let mut f = File::open(tar_path).map_err(io_err(tar_path))?;
        crate::image::extract::extract_layer(&mut f, &tmp, &layer.digest)?;
        match fs::rename(&tmp, &dest) {
            Ok(()) => Ok(()),
            Err(_) if dest.is_dir() => Ok(()), // another build unpacked the same layer first
            Err(e) => Err(io_err(&dest)(e)),
        }
    })();
    if tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

struct LayerWriter<'a, W: Write> {
    b: tar::Builder<&'a mut W>,
    /// (dev, inode) → first path, for hard links.
    links: HashMap<(u64, u64), String>,
    entries: usize,
}

impl<W: Write> LayerWriter<'_, W> {
    /// Every entry below `dir`, sorted by name (a stable layer for the same content).
    fn walk(&mut self, dir: &Path, rel: &str) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let name = name.to_string_lossy();
            let child = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
            let meta = fs::symlink_metadata(&path)?;
            self.entries += 1;
            if is_whiteout(&meta) {
                let wh = if rel.is_empty() { format!(".wh.{name}") } else { format!("{rel}/.wh.{name}") };
                self.empty_file(&wh, &meta)?;
                continue;
            }
            self.entry(&path, &child, &meta)?;
            if meta.is_dir() {
                if is_opaque(&path) {
                    self.empty_file(&format!("{child}/.wh..wh..opq"), &meta)?;
                }
                self.walk(&path, &child)?;
            }
        }
        Ok(())
    }

    fn empty_file(&mut self, path: &str, meta: &fs::Metadata) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_mtime(meta.mtime().max(0) as u64);
        h.set_size(0);
        self.b.append_data(&mut h, path, io::empty())
    }

    fn entry(&mut self, path: &Path, rel: &str, meta: &fs::Metadata) -> io::Result<()> {
        let xattrs = list_xattrs(path);
        if !xattrs.is_empty() {
            let recs: Vec<(String, Vec<u8>)> =
                xattrs.into_iter().map(|(k, v)| (format!("SCHILY.xattr.{k}"), v)).collect();
            self.b.append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
        h.set_size(0);
        let ft = meta.file_type();
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            return self.b.append_data(&mut h, format!("{rel}/"), io::empty());
        }
        if ft.is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            return self.b.append_link(&mut h, rel, fs::read_link(path)?);
        }
        if ft.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    h.set_entry_type(tar::EntryType::Link);
                    let first = first.clone();
                    return self.b.append_link(&mut h, rel, first);
                }
                self.links.insert(key, rel.to_string());
            }
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            return self.b.append_data(&mut h, rel, File::open(path)?);
        }
        let kind = if ft.is_fifo() {
            tar::EntryType::Fifo
        } else if ft.is_char_device() {
            tar::EntryType::Char
        } else if ft.is_block_device() {
            tar::EntryType::Block
        } else {
            self.entries -= 1;
            return Ok(()); // sockets have no tar form
        };
        h.set_entry_type(kind);
        let rdev = meta.rdev();
        h.set_device_major(libc::major(rdev))?;
        h.set_device_minor(libc::minor(rdev))?;
        self.b.append_data(&mut h, rel, io::empty())
    }
}

/// The xattrs of `path` worth keeping in a layer (not overlayfs's own `trusted.overlay.*`).
fn list_xattrs(path: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(names) = xattr::list(path) else { return Vec::new() };
    names
        .filter_map(|n| n.into_string().ok())
        .filter(|n| !n.starts_with("trusted.overlay."))
        .filter_map(|n| super::tree::xattr_get(path, &n).map(|v| (n, v)))
        .collect()
}

/// A writer that hashes what passes through.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
