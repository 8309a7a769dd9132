//! Safe layer extraction into an empty directory, in the form overlayfs expects of a lower dir.
//!
//! A layer is untrusted input. The classic attacks (the "tar-slip" family, and the
//! CVE-2019-14271 / CVE-2018-15664 class where a path is resolved through a symlink the
//! attacker controls) all make a tar entry land outside the target:
//! - `../../etc/cron.d/x`: refused (any `..` component refuses the whole layer);
//! - `/etc/passwd`: the leading `/` is stripped (GNU tar's behaviour), so it lands inside;
//! - `a -> /etc` then `a/passwd`: every parent component is opened with
//!   `openat(O_NOFOLLOW|O_DIRECTORY)` one component at a time from the target's fd, so a symlink
//!   in a parent position fails with ELOOP/ENOTDIR and the layer is refused;
//! - a hard link to `/etc/shadow` or through a symlink: the link target is resolved the same
//!   way (inside the tree, no symlink followed) and linked with linkat(2) without
//!   AT_SYMLINK_FOLLOW, so it can only ever name a file of this layer.
//!
//! `tar::Entry::unpack_in` alone is not enough: it checks `..` but resolves parents by path,
//! following symlinks created earlier in the same archive.
//!
//! Whiteouts (image-spec `layer.md`) become overlayfs's own form (kernel
//! Documentation/filesystems/overlayfs.rst): `.wh.NAME` → a 0/0 character device NAME;
//! `.wh..wh..opq` → xattr `trusted.overlay.opaque=y` on the directory. Modes, owners, mtimes
//! and xattrs are kept where the kernel allows; device nodes are created only as root.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::error::{ImageError, Result};
use crate::fsat as at;

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What an extraction wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtractStats {
    pub entries: u64,
    /// Bytes of regular-file content written.
    pub bytes: u64,
    /// Entries skipped (device nodes when not root, unknown types).
    pub skipped: u64,
}

/// Metadata applied to directories after all entries are written, so a read-only directory
/// (e.g. mode 0555) does not stop its own children from being created, and child creation
/// does not clobber the directory's mtime.
struct DirMeta {
    path: Vec<OsString>,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

struct Extractor<'a> {
    root: File,
    layer: &'a str,
    is_root: bool,
    stats: ExtractStats,
    dirs: Vec<DirMeta>,
}

/// Split a tar path into components: `.` and empty ones dropped (so a leading `/` is
/// stripped); a `..` anywhere refuses the entry.
pub fn normalize(raw: &[u8]) -> std::result::Result<Vec<OsString>, &'static str> {
    let mut out = Vec::new();
    for comp in raw.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err("path has a `..` component"),
            c if c.contains(&0) => return Err("path has a nul byte"),
            c => out.push(OsStr::from_bytes(c).to_os_string()),
        }
    }
    Ok(out)
}

/// Extract the layer tar stream `reader` (already decompressed) into `target`, an existing,
/// empty directory. `layer` names the layer in errors.
pub fn extract_layer(reader: &mut dyn Read, target: &Path, layer: &str) -> Result<ExtractStats> {
    let root = at::open_dir(target).map_err(|source| ImageError::Extract {
        layer: layer.into(),
        entry: "/".into(),
        source,
    })?;
    let is_root = nix::unistd::geteuid().is_root();
    let mut ex = Extractor { root, layer, is_root, stats: ExtractStats::default(), dirs: Vec::new() };
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| ex.err("<archive>", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ex.err("<archive>", e))?;
        ex.entry(&mut entry)?;
        ex.stats.entries += 1;
    }
    ex.finish_dirs()?;
    Ok(ex.stats)
}

impl Extractor<'_> {
    fn err(&self, entry: &str, source: io::Error) -> ImageError {
        ImageError::Extract { layer: self.layer.to_string(), entry: entry.to_string(), source }
    }

    fn unsafe_entry(&self, entry: &str, reason: &str) -> ImageError {
        ImageError::UnsafeEntry { layer: self.layer.to_string(), entry: entry.to_string(), reason: reason.to_string() }
    }

    fn entry(&mut self, entry: &mut tar::Entry<'_, &mut dyn Read>) -> Result<()> {
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let comps = normalize(&raw).map_err(|r| self.unsafe_entry(&shown, r))?;
        let kind = entry.header().entry_type();
        let Some((last, parents)) = comps.split_last() else {
            // The layer's own root ("./"): only its directory metadata matters.
            if kind.is_dir() {
                self.dirs.push(self.dir_meta(entry, Vec::new(), &shown)?);
            }
            return Ok(());
        };
        let parent = self.open_parents(parents, true, &shown)?;
        let name = last.as_bytes();
        if name == OPAQUE_MARKER {
            return self.opaque(&parent, &shown);
        }
        if name.starts_with(b".wh..wh.") {
            return Ok(()); // aufs bookkeeping (.wh..wh.plnk etc.): nothing to create
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            return self.whiteout(&parent, OsStr::from_bytes(hidden), &shown);
        }
        match kind {
            tar::EntryType::Directory => self.directory(entry, &parent, &comps, &shown),
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                self.regular(entry, &parent, last, &shown)
            }
            tar::EntryType::Symlink => self.symlink(entry, &parent, last, &shown),
            tar::EntryType::Link => self.hardlink(entry, &parent, last, &shown),
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                self.special(entry, &parent, last, &shown)
            }
            other => {
                tracing::debug!(layer = self.layer, entry = %shown, kind = ?other, "skipping tar entry of unsupported type");
                self.stats.skipped += 1;
                Ok(())
            }
        }
    }

    /// Walk `parents` from the root one component at a time with O_NOFOLLOW|O_DIRECTORY,
    /// creating missing directories when `create`; a symlink or non-directory on the way
    /// refuses the entry (this is the guard against `a -> /etc` then `a/passwd`).
    fn open_parents(&self, parents: &[OsString], create: bool, shown: &str) -> Result<File> {
        let mut dir = self.root.try_clone().map_err(|e| self.err(shown, e))?;
        for comp in parents {
            let next = match at::open_dir_at(&dir, comp) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                    at::mkdir_at(&dir, comp, 0o755).map_err(|e| self.err(shown, e))?;
                    at::open_dir_at(&dir, comp)
                }
                other => other,
            };
            dir = next.map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => {
                    self.unsafe_entry(shown, &format!("`{}` does not exist in this layer", comp.to_string_lossy()))
                }
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => self.unsafe_entry(
                    shown,
                    &format!("parent `{}` is a symlink or not a directory", comp.to_string_lossy()),
                ),
                _ => self.err(shown, e),
            })?;
        }
        Ok(dir)
    }

    fn owner(&self, entry: &tar::Entry<'_, &mut dyn Read>, shown: &str) -> Result<(u32, u32, u32, i64)> {
        let h = entry.header();
        let get = |r: io::Result<u64>| r.map_err(|e| self.err(shown, e));
        let uid = u32::try_from(get(h.uid())?).map_err(|_| self.unsafe_entry(shown, "uid out of range"))?;
        let gid = u32::try_from(get(h.gid())?).map_err(|_| self.unsafe_entry(shown, "gid out of range"))?;
        let mode = get(h.mode().map(u64::from))? as u32 & 0o7777;
        let mtime = get(h.mtime())? as i64;
        Ok((mode, uid, gid, mtime))
    }

    fn dir_meta(&self, entry: &mut tar::Entry<'_, &mut dyn Read>, path: Vec<OsString>, shown: &str) -> Result<DirMeta> {
        let (mode, uid, gid, mtime) = self.owner(entry, shown)?;
        Ok(DirMeta { path, mode, uid, gid, mtime, xattrs: xattrs(entry, shown) })
    }

    fn directory(
        &mut self,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        parent: &File,
        comps: &[OsString],
        shown: &str,
    ) -> Result<()> {
        let name = &comps[comps.len() - 1];
        match at::stat_at(parent, name).map_err(|e| self.err(shown, e))? {
            Some(st) if at::is_dir(&st) => {}
            Some(_) => {
                at::remove_at(parent, name).map_err(|e| self.err(shown, e))?;
                at::mkdir_at(parent, name, 0o755).map_err(|e| self.err(shown, e))?;
            }
            None => at::mkdir_at(parent, name, 0o755).map_err(|e| self.err(shown, e))?,
        }
        let meta = self.dir_meta(entry, comps.to_vec(), shown)?;
        self.dirs.push(meta);
        Ok(())
    }

    fn regular(
        &mut self,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        parent: &File,
        name: &OsStr,
        shown: &str,
    ) -> Result<()> {
        at::remove_at(parent, name).map_err(|e| self.err(shown, e))?;
        // O_EXCL|O_NOFOLLOW: never write through anything that appeared at this name.
        let mut file = at::open_at(parent, name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
            .map_err(|e| self.err(shown, e))?;
        self.stats.bytes += io::copy(entry, &mut file).map_err(|e| self.err(shown, e))?;
        let (mode, uid, gid, mtime) = self.owner(entry, shown)?;
        let xattrs = xattrs(entry, shown);
        self.apply_fd(&file, mode, uid, gid, mtime, &xattrs, shown)
    }

    /// chown before chmod: chown(2) clears set-user-ID/set-group-ID bits.
    #[allow(clippy::too_many_arguments)]
    fn apply_fd(
        &self,
        f: &File,
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: i64,
        xattrs: &[(String, Vec<u8>)],
        shown: &str,
    ) -> Result<()> {
        if self.is_root {
            at::fchown(f, uid, gid).map_err(|e| self.err(shown, e))?;
        }
        at::fchmod(f, mode).map_err(|e| self.err(shown, e))?;
        for (k, v) in xattrs {
            if let Err(e) = at::fsetxattr(f, k, v) {
                tracing::debug!(layer = self.layer, entry = %shown, xattr = %k, error = %e, "xattr not kept");
            }
        }
        at::futimes(f, mtime, mtime).map_err(|e| self.err(shown, e))
    }

    fn symlink(
        &mut self,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        parent: &File,
        name: &OsStr,
        shown: &str,
    ) -> Result<()> {
        // The target is stored verbatim: it is only ever resolved inside the container (after
        // pivot_root), never by this extractor, which opens nothing through symlinks.
        let target = self.link_target(entry, shown, "symlink")?;
        if target.contains(&0) {
            return Err(self.unsafe_entry(shown, "symlink target has a nul byte"));
        }
        at::remove_at(parent, name).map_err(|e| self.err(shown, e))?;
        at::symlink_at(OsStr::from_bytes(&target), parent, name).map_err(|e| self.err(shown, e))?;
        let (_, uid, gid, mtime) = self.owner(entry, shown)?;
        self.lchown(parent, name, uid, gid, shown)?;
        at::lutimes_at(parent, name, mtime).map_err(|e| self.err(shown, e))
    }

    /// The target of a link entry (`what`: "symlink" or "hard link"), as stored.
    fn link_target(&self, entry: &tar::Entry<'_, &mut dyn Read>, shown: &str, what: &str) -> Result<Vec<u8>> {
        let target =
            entry.link_name_bytes().ok_or_else(|| self.unsafe_entry(shown, &format!("{what} without a target")))?;
        Ok(target.into_owned())
    }

    /// Give a non-directory entry its owner (only root may; others keep their own ids).
    fn lchown(&self, parent: &File, name: &OsStr, uid: u32, gid: u32, shown: &str) -> Result<()> {
        if self.is_root {
            at::lchown_at(parent, name, uid, gid).map_err(|e| self.err(shown, e))?;
        }
        Ok(())
    }

    fn hardlink(
        &mut self,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        parent: &File,
        name: &OsStr,
        shown: &str,
    ) -> Result<()> {
        let raw = self.link_target(entry, shown, "hard link")?;
        let comps = normalize(&raw).map_err(|r| self.unsafe_entry(shown, &format!("hard link target: {r}")))?;
        let Some((last, parents)) = comps.split_last() else {
            return Err(self.unsafe_entry(shown, "hard link to the layer root"));
        };
        // Resolved like any entry path (inside the tree, no symlink followed, nothing created):
        // a target outside the tree does not exist in it, so the link fails.
        let outside = |e: io::Error| match e.raw_os_error() {
            Some(libc::ENOENT) => self.unsafe_entry(shown, "hard link target is not in this layer"),
            _ => self.err(shown, e),
        };
        let target_dir = self.open_parents(parents, false, shown)?;
        if at::stat_at(&target_dir, last).map_err(outside)?.is_none() {
            return Err(outside(io::Error::from_raw_os_error(libc::ENOENT)));
        }
        at::remove_at(parent, name).map_err(|e| self.err(shown, e))?;
        at::link_at(&target_dir, last, parent, name).map_err(outside)
    }

    fn special(
        &mut self,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        parent: &File,
        name: &OsStr,
        shown: &str,
    ) -> Result<()> {
        let h = entry.header();
        let kind = h.entry_type();
        let (mode, uid, gid, _) = self.owner(entry, shown)?;
        let (fmt, dev) = match kind {
            tar::EntryType::Fifo => (libc::S_IFIFO, 0),
            _ if !self.is_root => {
                tracing::debug!(layer = self.layer, entry = %shown, "skipping device node (not root)");
                self.stats.skipped += 1;
                return Ok(());
            }
            _ => {
                let major = h.device_major().ok().flatten().unwrap_or(0);
                let minor = h.device_minor().ok().flatten().unwrap_or(0);
                let fmt = if kind == tar::EntryType::Char { libc::S_IFCHR } else { libc::S_IFBLK };
                (fmt, libc::makedev(major, minor))
            }
        };
        at::remove_at(parent, name).map_err(|e| self.err(shown, e))?;
        at::mknod_at(parent, name, fmt | (mode & 0o7777), dev).map_err(|e| self.err(shown, e))?;
        self.lchown(parent, name, uid, gid, shown)?;
        Ok(())
    }

    /// `.wh.NAME`: NAME is deleted from the layers below → a 0/0 character device.
    fn whiteout(&mut self, parent: &File, hidden: &OsStr, shown: &str) -> Result<()> {
        if hidden.is_empty() || hidden.as_bytes().contains(&b'/') {
            return Err(self.unsafe_entry(shown, "empty whiteout name"));
        }
        at::remove_at(parent, hidden).map_err(|e| self.err(shown, e))?;
        at::mknod_at(parent, hidden, libc::S_IFCHR, libc::makedev(0, 0)).map_err(|e| self.err(shown, e))
    }

    /// `.wh..wh..opq`: the directory hides everything below it → trusted.overlay.opaque=y.
    fn opaque(&mut self, dir: &File, shown: &str) -> Result<()> {
        at::fsetxattr(dir, OVERLAY_OPAQUE_XATTR, b"y").map_err(|e| self.err(shown, e))
    }

    /// Apply deferred directory metadata, deepest first.
    fn finish_dirs(&mut self) -> Result<()> {
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.path.len()));
        for d in dirs {
            let shown = d.path.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/");
            let dir = self.open_parents(&d.path, false, &shown)?;
            self.apply_fd(&dir, d.mode, d.uid, d.gid, d.mtime, &d.xattrs, &shown)?;
        }
        Ok(())
    }
}

/// The entry's xattrs (PAX `SCHILY.xattr.*`). `trusted.overlay.*` is dropped: a layer must not
/// forge overlayfs metadata (opaque, redirect, metacopy), which could make the overlay look up
/// files elsewhere in the lower layers; only this extractor sets those.
fn xattrs(entry: &mut tar::Entry<'_, &mut dyn Read>, shown: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(Some(exts)) = entry.pax_extensions() else { return Vec::new() };
    let mut out = Vec::new();
    for ext in exts.flatten() {
        let Ok(key) = ext.key() else { continue };
        if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
            if name.starts_with("trusted.overlay.") {
                tracing::debug!(entry = %shown, xattr = %name, "dropping overlay xattr from layer");
                continue;
            }
            out.push((name.to_string(), ext.value_bytes().to_vec()));
        }
    }
    out
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
