//! Read-only views of an import source by path: a directory, or a tar archive indexed once and
//! read by offset (no extraction, so nothing of the archive is ever written to disk as is).
//! Paths inside are resolved lexically within the source: `..` may not climb out, and a symlink
//! in an archive (old `docker save` links duplicate layers) is followed only inside the archive.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::{io_err, ImageError, Result};
use super::layers::open_decompressed;
use super::layout::Layout;
use crate::fsutil::read_limited;

const MAX_LINK_HOPS: usize = 16;

pub(crate) enum Source {
    Dir(PathBuf),
    Tar(TarSource),
}

pub(crate) struct TarSource {
    /// The (decompressed) archive file.
    file: PathBuf,
    /// Temp copy to delete on drop, when the archive was compressed.
    temp: Option<PathBuf>,
    entries: HashMap<String, TarItem>,
}

enum TarItem {
    File {
        offset: u64,
        size: u64,
    },
    /// A symlink or hard link, already resolved to an archive path (relative to the root).
    Link(String),
}

impl Drop for TarSource {
    fn drop(&mut self) {
        if let Some(t) = &self.temp {
            let _ = fs::remove_file(t);
        }
    }
}

/// Lexically resolve `rel` against directory `base` (both archive paths, `/`-separated),
/// refusing to climb above the root.
pub(crate) fn join_lexical(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> =
        if rel.starts_with('/') { Vec::new() } else { base.split('/').filter(|s| !s.is_empty()).collect() };
    for comp in rel.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

impl Source {
    /// Open `path`: a directory as is; a file as a tar (gunzipped into `layout`'s tmp/ first
    /// when compressed, since reading by offset needs a seekable plain tar).
    pub fn open(path: &Path, layout: &Layout) -> Result<Source> {
        if path.is_dir() {
            return Ok(Source::Dir(path.to_path_buf()));
        }
        let (file, temp) = if is_gzip(path)? {
            let tmp = layout.tmp_path("archive");
            let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
            let copied = io::copy(&mut open_decompressed(path)?, &mut out);
            if let Err(e) = copied {
                let _ = fs::remove_file(&tmp);
                return Err(io_err(path)(e));
            }
            (tmp.clone(), Some(tmp))
        } else {
            (path.to_path_buf(), None)
        };
        let mut src = TarSource { file, temp, entries: HashMap::new() };
        src.index().map_err(|e| ImageError::InvalidArchive { path: path.to_path_buf(), reason: e.to_string() })?;
        Ok(Source::Tar(src))
    }

    pub fn describe(&self) -> &Path {
        match self {
            Source::Dir(p) => p,
            Source::Tar(t) => &t.file,
        }
    }

    pub fn exists(&self, path: &str) -> bool {
        match self {
            Source::Dir(d) => join_lexical("", path).is_some_and(|p| d.join(p).exists()),
            Source::Tar(t) => t.resolve(path).is_some(),
        }
    }

    /// Open a file of the source for reading.
    pub fn open_file(&self, path: &str) -> Result<Box<dyn Read>> {
        let missing = || ImageError::InvalidArchive {
            path: self.describe().to_path_buf(),
            reason: format!("`{path}` not found in the archive"),
        };
        match self {
            Source::Dir(d) => {
                let rel = join_lexical("", path).ok_or_else(missing)?;
                let full = d.join(rel);
                // Symlinks in a directory source may point anywhere; only read what is inside.
                let (canon, root) =
                    (fs::canonicalize(&full).map_err(|_| missing())?, fs::canonicalize(d).map_err(io_err(d))?);
                if !canon.starts_with(&root) {
                    return Err(ImageError::InvalidArchive {
                        path: d.clone(),
                        reason: format!("`{path}` points outside the layout"),
                    });
                }
                Ok(Box::new(File::open(&canon).map_err(io_err(&canon))?))
            }
            Source::Tar(t) => {
                let (offset, size) = t.resolve(path).ok_or_else(missing)?;
                let mut f = File::open(&t.file).map_err(io_err(&t.file))?;
                f.seek(SeekFrom::Start(offset)).map_err(io_err(&t.file))?;
                Ok(Box::new(f.take(size)))
            }
        }
    }

    /// Read a small (JSON) file whole: at most `limit` bytes (see [`super::limits`]), or an
    /// error saying which `kind` of document was too large.
    pub fn read(&self, path: &str, limit: u64, kind: &'static str) -> Result<Vec<u8>> {
        let file = self.open_file(path)?;
        read_limited(file, limit, kind).map_err(io_err(self.describe().join(path)))
    }
}

impl TarSource {
    fn index(&mut self) -> io::Result<()> {
        let mut archive = tar::Archive::new(File::open(&self.file)?);
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = join_lexical("", &raw) else { continue };
            let item = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    TarItem::File { offset: entry.raw_file_position(), size: entry.size() }
                }
                kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                    let target =
                        entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                    // Symlinks are relative to their directory, hard links to the archive root.
                    let base =
                        if kind == tar::EntryType::Symlink { name.rsplit_once('/').map_or("", |(d, _)| d) } else { "" };
                    match join_lexical(base, &target) {
                        Some(t) => TarItem::Link(t),
                        None => continue,
                    }
                }
                _ => continue,
            };
            self.entries.insert(name, item);
        }
        Ok(())
    }

    fn resolve(&self, path: &str) -> Option<(u64, u64)> {
        let mut name = join_lexical("", path)?;
        for _ in 0..MAX_LINK_HOPS {
            match self.entries.get(&name)? {
                TarItem::File { offset, size } => return Some((*offset, *size)),
                TarItem::Link(t) => name = t.clone(),
            }
        }
        None
    }
}

fn is_gzip(path: &Path) -> Result<bool> {
    let mut head = [0u8; 2];
    let mut f = File::open(path).map_err(io_err(path))?;
    let n = f.read(&mut head).map_err(io_err(path))?;
    Ok(n == 2 && head == [0x1f, 0x8b])
}

#[cfg(test)]
mod tests {
    use super::join_lexical;

    #[test]
    fn lexical_join_stays_inside() {
        assert_eq!(join_lexical("a/b", "../c/layer.tar").as_deref(), Some("a/c/layer.tar"));
        assert_eq!(join_lexical("", "./blobs/sha256/x").as_deref(), Some("blobs/sha256/x"));
        assert_eq!(join_lexical("a", "/x").as_deref(), Some("x"));
        assert_eq!(join_lexical("a", "../../x"), None);
    }
}
