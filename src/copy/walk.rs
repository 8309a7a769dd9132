//! The source side: entries below a directory fd, sorted by name, sent to a [`Sink`]. Every
//! name is opened relative to its parent's fd with O_NOFOLLOW; a regular file is read through
//! the fd that was opened and checked (fstat), so a file swapped for a symlink or a FIFO
//! between the listing and the read is never followed or blocked on.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use super::{io_at, shown, CopyError, Kind, Meta, Result, Sink, MAX_DEPTH};
use crate::fsat as at;

/// Options of a walk.
#[derive(Default)]
pub struct Walker {
    /// (dev, inode) of a multiply-linked file → the path it was first sent as.
    links: HashMap<(u64, u64), Vec<OsString>>,
    /// Do not descend into mounts (a container's /proc, /sys, /dev, volumes, bound files:
    /// `export`, as Docker's); their mount points are sent empty.
    pub one_file_system: bool,
    /// Applied to every owner (host ids → the ids the destination should record).
    pub map_ids: Option<super::IdMaps>,
}

impl Walker {
    /// Send `name` (in directory `dir`) as `as_path`, and everything below it.
    pub fn send(&mut self, dir: &File, name: &OsStr, as_path: Vec<OsString>, sink: &mut dyn Sink) -> Result<()> {
        let st = at::stat_at(dir, name)
            .map_err(io_at(&shown(&as_path)))?
            .ok_or_else(|| CopyError::Refused { path: shown(&as_path), reason: "no such file or directory".into() })?;
        self.send_stat(dir, name, &st, as_path, sink, None, 0)
    }

    /// Send the entries of directory `dir` (not the directory itself) below `prefix`.
    pub fn send_contents(&mut self, dir: &File, prefix: Vec<OsString>, sink: &mut dyn Sink) -> Result<()> {
        let st = fstat(dir).map_err(io_at(&shown(&prefix)))?;
        self.children(dir, &prefix, st.st_dev, sink, 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn send_stat(
        &mut self,
        dir: &File,
        name: &OsStr,
        st: &libc::stat,
        path: Vec<OsString>,
        sink: &mut dyn Sink,
        parent_dev: Option<u64>,
        depth: usize,
    ) -> Result<()> {
        let shown_path = shown(&path);
        let mut meta = Meta::of(st);
        if let Some(m) = &self.map_ids {
            (meta.uid, meta.gid) = m.to_container(meta.uid, meta.gid);
        }
        if self.one_file_system && parent_dev.is_some() && is_mount_root(dir, name) {
            // A mount (a volume, /proc, a bound secret or /etc/hosts): its mount point only,
            // empty, as Docker's export shows it.
            let kind = if st.st_mode & libc::S_IFMT == libc::S_IFDIR { Kind::Dir } else { Kind::File };
            return sink.entry(&path, &kind, &Meta { size: 0, ..meta }, Some(&mut std::io::empty()));
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                if depth >= MAX_DEPTH {
                    return Err(CopyError::Refused {
                        path: shown_path,
                        reason: format!("nested more than {MAX_DEPTH} directories deep"),
                    });
                }
                meta.size = 0;
                sink.entry(&path, &Kind::Dir, &meta, None)?;
                let sub = at::open_dir_at(dir, name).map_err(io_at(&shown_path))?;
                self.children(&sub, &path, st.st_dev, sink, depth + 1)
            }
            libc::S_IFREG => self.file(dir, name, st, path, meta, sink),
            libc::S_IFLNK => {
                let target = read_link_at(dir, name).map_err(io_at(&shown_path))?;
                meta.size = 0;
                sink.entry(&path, &Kind::Symlink(target), &meta, None)
            }
            libc::S_IFIFO => sink.entry(&path, &Kind::Fifo, &Meta { size: 0, ..meta }, None),
            libc::S_IFCHR => sink.entry(&path, &Kind::Char(st.st_rdev), &Meta { size: 0, ..meta }, None),
            libc::S_IFBLK => sink.entry(&path, &Kind::Block(st.st_rdev), &Meta { size: 0, ..meta }, None),
            // Sockets have no tar form, and nothing to copy.
            _ => Ok(()),
        }
    }

    fn file(
        &mut self,
        dir: &File,
        name: &OsStr,
        st: &libc::stat,
        path: Vec<OsString>,
        mut meta: Meta,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let shown_path = shown(&path);
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key) {
                meta.size = 0;
                return sink.entry(&path, &Kind::HardLink(first.clone()), &meta, None);
            }
            self.links.insert(key, path.clone());
        }
        // O_NONBLOCK: a FIFO swapped in after the listing must not block the open.
        let f = at::open_at(dir, name, libc::O_RDONLY | libc::O_NONBLOCK, 0).map_err(io_at(&shown_path))?;
        let now = fstat(&f).map_err(io_at(&shown_path))?;
        if now.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(CopyError::Refused { path: shown_path, reason: "changed while being copied".into() });
        }
        meta.size = now.st_size.max(0) as u64;
        // Exactly `size` bytes: a file that shrinks meanwhile is padded with zeros, one that
        // grows is cut, so the entry is always as long as its header says.
        let mut data = (&f).take(meta.size).chain(std::io::repeat(0)).take(meta.size);
        sink.entry(&path, &Kind::File, &meta, Some(&mut data))
    }

    fn children(&mut self, dir: &File, path: &[OsString], dev: u64, sink: &mut dyn Sink, depth: usize) -> Result<()> {
        let list = std::path::Path::new("/proc/self/fd").join(dir.as_raw_fd().to_string());
        let rd = std::fs::read_dir(&list).map_err(io_at(&shown(path)))?;
        let mut names: Vec<OsString> =
            rd.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<_>>().map_err(io_at(&shown(path)))?;
        names.sort();
        for name in names {
            let mut child = path.to_vec();
            child.push(name.clone());
            // Gone since the listing: nothing to copy.
            let Some(st) = at::stat_at(dir, &name).map_err(io_at(&shown(&child)))? else { continue };
            self.send_stat(dir, &name, &st, child, sink, Some(dev), depth)?;
        }
        Ok(())
    }
}

/// Whether `name` in `dir` is the root of a mount (statx(2) STATX_ATTR_MOUNT_ROOT, Linux 5.8);
/// on older kernels, never.
fn is_mount_root(dir: &File, name: &OsStr) -> bool {
    let Ok(c) = at::cstr(name.as_bytes()) else { return false };
    // SAFETY: a zeroed statx is a valid out-parameter.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: valid dirfd, C string and out-parameter.
    let rc = unsafe {
        libc::statx(dir.as_raw_fd(), c.as_ptr(), libc::AT_SYMLINK_NOFOLLOW, libc::STATX_BASIC_STATS, &mut stx)
    };
    let bit = libc::STATX_ATTR_MOUNT_ROOT as u64;
    rc == 0 && stx.stx_attributes_mask & bit != 0 && stx.stx_attributes & bit != 0
}

pub fn fstat(f: &File) -> std::io::Result<libc::stat> {
    Ok(nix::sys::stat::fstat(f.as_raw_fd())?)
}

/// The target of symlink `name` in `dir` (at most PATH_MAX bytes, as the kernel allows).
pub fn read_link_at(dir: &File, name: &OsStr) -> std::io::Result<OsString> {
    Ok(nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name)?)
}
