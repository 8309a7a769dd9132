//! Copying file trees between the host and a container's root filesystem (`berth cp`,
//! `berth export`), one entry at a time: a [`walk`] of a source directory fd emits entries to a
//! [`Sink`]: a [`fs_sink::FsSink`] that writes them below a destination directory fd, or a
//! [`tar_io::TarSink`] that writes a tar stream (`cp SRC -`, `export`); a tar stream read by
//! [`tar_io::read_tar`] (`cp - DEST`) feeds a sink the same way.
//!
//! Both ends may be a container's root, which the container controls: every name is opened
//! relative to an already-open directory with O_NOFOLLOW (no symlink is ever followed, on
//! either side; symlinks are copied as symlinks), so nothing the container plants or swaps in
//! mid-copy redirects a read or a write onto the host (CVE-2018-15664, CVE-2019-14271 class).
//! The starting directories are resolved by the caller inside the container's root with
//! openat2(2) RESOLVE_IN_ROOT.

pub mod fs_sink;
pub mod tar_io;
pub mod walk;

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::PathBuf;

use thiserror::Error;

/// Deepest directory nesting copied (each level holds a directory fd while it is walked).
pub const MAX_DEPTH: usize = 512;

#[derive(Debug, Error)]
pub enum CopyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {reason}")]
    Refused { path: String, reason: String },
    #[error("reading the tar stream: {0}")]
    Tar(#[source] io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Host {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub type Result<T> = std::result::Result<T, CopyError>;

/// Wrap an io::Error with the path (as shown to the user) it concerns.
pub fn io_at(path: &str) -> impl FnOnce(io::Error) -> CopyError + '_ {
    move |source| CopyError::Io { path: path.to_string(), source }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink(OsString),
    /// A hard link to an entry sent earlier (its path, as sent).
    HardLink(Vec<OsString>),
    Fifo,
    Char(u64),
    Block(u64),
}

/// An entry's metadata: permission bits, owner, mtime (seconds), size of a file's data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub size: u64,
}

impl Meta {
    pub fn of(st: &libc::stat) -> Meta {
        Meta {
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            mtime: st.st_mtime,
            size: st.st_size.max(0) as u64,
        }
    }
}

/// Where entries go. `path` is relative to the sink's root and never empty; a file's `data`
/// yields exactly `meta.size` bytes.
pub trait Sink {
    fn entry(&mut self, path: &[OsString], kind: &Kind, meta: &Meta, data: Option<&mut dyn Read>) -> Result<()>;
    /// After the last entry (directory metadata is applied here, deepest first).
    fn finish(&mut self) -> Result<()>;
}

/// A path as the user reads it.
pub fn shown(path: &[OsString]) -> String {
    path.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Container ↔ host ids of a user namespace (`(container, host, size)` ranges); identity
/// when the container has none.
#[derive(Debug, Clone, Default)]
pub struct IdMaps {
    pub uids: Vec<(u32, u32, u32)>,
    pub gids: Vec<(u32, u32, u32)>,
}

impl IdMaps {
    fn map(ranges: &[(u32, u32, u32)], id: u32, to_host: bool) -> u32 {
        if ranges.is_empty() {
            return id;
        }
        for &(c, h, n) in ranges {
            let (from, to) = if to_host { (c, h) } else { (h, c) };
            if id >= from && id - from < n {
                return to + (id - from);
            }
        }
        // Unmapped: the kernel's overflow id (nobody).
        65534
    }
    pub fn to_host(&self, uid: u32, gid: u32) -> (u32, u32) {
        (Self::map(&self.uids, uid, true), Self::map(&self.gids, gid, true))
    }
    pub fn to_container(&self, uid: u32, gid: u32) -> (u32, u32) {
        (Self::map(&self.uids, uid, false), Self::map(&self.gids, gid, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_maps_translate_both_ways_and_unmapped_ids_are_nobody() {
        let m = IdMaps { uids: vec![(0, 100000, 65536)], gids: vec![(0, 200000, 10)] };
        assert_eq!(m.to_host(0, 5), (100000, 200005));
        assert_eq!(m.to_container(100001, 200000), (1, 0));
        assert_eq!(m.to_container(0, 0), (65534, 65534));
        assert_eq!(IdMaps::default().to_host(7, 8), (7, 8));
    }
}
