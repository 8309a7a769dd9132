//! The destination side: entries written below a directory fd. Parents are opened one name at
//! a time with O_NOFOLLOW|O_DIRECTORY from the root fd (a symlink in a parent position is
//! refused, never followed); files are created with O_EXCL|O_NOFOLLOW after whatever was at
//! the name is removed, so nothing is ever written through a symlink or into a file the other
//! side swapped in. Directory modes and mtimes are applied last, deepest first, so a read-only
//! directory does not stop its own children from being written.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};

use super::{io_at, shown, CopyError, IdMaps, Kind, Meta, Result, Sink};
use crate::fsat as at;

/// Who owns what is written.
#[derive(Debug, Clone)]
pub enum Owner {
    /// The entry's own ids, through the destination's user namespace map (`cp -a`).
    Keep(IdMaps),
    /// These ids, whatever the entry says (`cp` without `-a`).
    Fixed(u32, u32),
}

pub struct FsSink {
    root: File,
    /// How the root is named in messages (`web:/data`, `/tmp/out`).
    base: String,
    owner: Owner,
    is_root: bool,
    dirs: Vec<(Vec<OsString>, Meta)>,
    /// Regular-file bytes written.
    pub bytes: u64,
    /// Make device nodes. Off when writing to the host: a container with CAP_MKNOD (Docker's
    /// default set) can make a node of any host device, world-readable, and a copy out must not
    /// plant it on the host; such entries are skipped with a warning.
    pub devices: bool,
}

impl FsSink {
    pub fn new(root: File, base: &str, owner: Owner) -> FsSink {
        let is_root = nix::unistd::geteuid().is_root();
        FsSink {
            root,
            base: base.trim_end_matches('/').to_string(),
            owner,
            is_root,
            dirs: Vec::new(),
            bytes: 0,
            devices: true,
        }
    }

    fn show(&self, path: &[OsString]) -> String {
        format!("{}/{}", self.base, shown(path))
    }

    fn ids(&self, meta: &Meta) -> (u32, u32) {
        match &self.owner {
            Owner::Keep(maps) => maps.to_host(meta.uid, meta.gid),
            Owner::Fixed(u, g) => (*u, *g),
        }
    }

    /// The directory `path` names, opened from the root without following any symlink;
    /// missing directories are made when `create`.
    fn open_dirs(&self, path: &[OsString], create: bool) -> Result<File> {
        let mut dir = self.root.try_clone().map_err(io_at(&self.base))?;
        for (i, comp) in path.iter().enumerate() {
            let here = || self.show(&path[..=i]);
            let next = match at::open_dir_at(&dir, comp) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                    at::mkdir_at(&dir, comp, 0o755).map_err(io_at(&here()))?;
                    at::open_dir_at(&dir, comp)
                }
                other => other,
            };
            dir = next.map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => {
                    CopyError::Refused { path: here(), reason: "is a symlink or not a directory".into() }
                }
                _ => io_at(&here())(e),
            })?;
        }
        Ok(dir)
    }

    /// Make room for a non-directory at `name`: refuse to replace a directory (as Docker).
    fn clear(&self, parent: &File, name: &OsString, shown: &str) -> Result<()> {
        if let Some(st) = at::stat_at(parent, name).map_err(io_at(shown))? {
            if at::is_dir(&st) {
                return Err(CopyError::Refused {
                    path: shown.to_string(),
                    reason: "cannot overwrite a directory with a non-directory".into(),
                });
            }
            at::remove_at(parent, name).map_err(io_at(shown))?;
        }
        Ok(())
    }

    fn write_file(&mut self, parent: &File, name: &OsString, meta: &Meta, data: &mut dyn Read, sh: &str) -> Result<()> {
        self.clear(parent, name, sh)?;
        let mut f =
            at::open_at(parent, name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600).map_err(io_at(sh))?;
        let n = io::copy(&mut data.take(meta.size), &mut f).map_err(io_at(sh))?;
        if n != meta.size {
            return Err(CopyError::Refused {
                path: sh.to_string(),
                reason: format!("{n} of {} bytes read", meta.size),
            });
        }
        self.bytes += n;
        let (uid, gid) = self.ids(meta);
        if self.is_root {
            at::fchown(&f, uid, gid).map_err(io_at(sh))?;
        }
        // After chown, which clears set-user-ID and set-group-ID bits.
        at::fchmod(&f, meta.mode).map_err(io_at(sh))?;
        at::futimes(&f, meta.mtime, meta.mtime).map_err(io_at(sh))
    }

    fn special(&mut self, parent: &File, name: &OsString, kind: &Kind, meta: &Meta, sh: &str) -> Result<()> {
        let (fmt, dev) = match kind {
            Kind::Fifo => (libc::S_IFIFO, 0),
            Kind::Char(_) | Kind::Block(_) if !self.devices => {
                eprintln!("warning: {sh}: device node not copied to the host");
                return Ok(());
            }
            Kind::Char(d) => (libc::S_IFCHR, *d),
            Kind::Block(d) => (libc::S_IFBLK, *d),
            _ => return Ok(()),
        };
        self.clear(parent, name, sh)?;
        at::mknod_at(parent, name, fmt | (meta.mode & 0o7777), dev as libc::dev_t).map_err(io_at(sh))?;
        self.lown(parent, name, meta, sh)
    }

    fn lown(&self, parent: &File, name: &OsString, meta: &Meta, sh: &str) -> Result<()> {
        if self.is_root {
            let (uid, gid) = self.ids(meta);
            at::lchown_at(parent, name, uid, gid).map_err(io_at(sh))?;
        }
        Ok(())
    }
}

impl Sink for FsSink {
    fn entry(&mut self, path: &[OsString], kind: &Kind, meta: &Meta, data: Option<&mut dyn Read>) -> Result<()> {
        let Some((name, parents)) = path.split_last() else { return Ok(()) };
        let sh = self.show(path);
        let parent = self.open_dirs(parents, true)?;
        match kind {
            Kind::Dir => {
                match at::stat_at(&parent, name).map_err(io_at(&sh))? {
                    Some(st) if at::is_dir(&st) => {}
                    Some(_) => {
                        return Err(CopyError::Refused {
                            path: sh,
                            reason: "cannot overwrite a non-directory with a directory".into(),
                        })
                    }
                    None => at::mkdir_at(&parent, name, 0o700).map_err(io_at(&sh))?,
                }
                self.dirs.push((path.to_vec(), *meta));
                Ok(())
            }
            Kind::File => {
                let mut empty = io::empty();
                let data: &mut dyn Read = match data {
                    Some(d) => d,
                    None => &mut empty,
                };
                self.write_file(&parent, name, meta, data, &sh)
            }
            Kind::Symlink(target) => {
                self.clear(&parent, name, &sh)?;
                at::symlink_at(target, &parent, name).map_err(io_at(&sh))?;
                self.lown(&parent, name, meta, &sh)?;
                at::lutimes_at(&parent, name, meta.mtime).map_err(io_at(&sh))
            }
            Kind::HardLink(target) => {
                let Some((tname, tparents)) = target.split_last() else {
                    return Err(CopyError::Refused { path: sh, reason: "hard link to the destination root".into() });
                };
                // Resolved like any entry (below the root, no symlink followed): a link can only
                // ever name a file this copy wrote or found below its destination.
                let tdir = self.open_dirs(tparents, false)?;
                self.clear(&parent, name, &sh)?;
                at::link_at(&tdir, tname, &parent, name).map_err(io_at(&sh))
            }
            Kind::Fifo | Kind::Char(_) | Kind::Block(_) => self.special(&parent, name, kind, meta, &sh),
        }
    }

    fn finish(&mut self) -> Result<()> {
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        for (path, meta) in dirs {
            let sh = self.show(&path);
            let dir = self.open_dirs(&path, false)?;
            let (uid, gid) = self.ids(&meta);
            if self.is_root {
                at::fchown(&dir, uid, gid).map_err(io_at(&sh))?;
            }
            at::fchmod(&dir, meta.mode).map_err(io_at(&sh))?;
            at::futimes(&dir, meta.mtime, meta.mtime).map_err(io_at(&sh))?;
        }
        Ok(())
    }
}
