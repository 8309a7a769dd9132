//! Directory-fd-relative file operations (openat(2) family), shared by layer extraction and
//! volume copy-up. A layer or a volume shared with a running container may hold symlinks
//! planted anywhere, so every lookup is a single name relative to an already-open directory,
//! with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: nothing berth writes can be redirected onto the host
//! (openat(2), symlink(7); see image/extract.rs for the why).

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::fcntl::AtFlags;
use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};
use xattr::FileExt;

/// The directory fd as nix's `*at` wrappers take it.
fn at(dir: &File) -> Option<std::os::fd::RawFd> {
    Some(dir.as_raw_fd())
}

/// A C string of a name or path (InvalidInput if it holds a nul byte).
pub(crate) fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "nul byte in name"))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn wrap(fd: libc::c_int) -> io::Result<File> {
    check(fd)?;
    // SAFETY: fd was just returned by open(2)/openat(2) and is owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Open a directory by path (the path itself is ours), refusing a symlink as the last component.
pub fn open_dir(path: &Path) -> io::Result<File> {
    let c = cstr(path.as_os_str().as_bytes())?;
    // SAFETY: valid C string.
    wrap(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) })
}

/// Open a file (never a symlink) by path for reading.
pub fn open_file(path: &Path) -> io::Result<File> {
    let c = cstr(path.as_os_str().as_bytes())?;
    // SAFETY: valid C string.
    wrap(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC) })
}

/// openat(dir, name) with the given flags (O_NOFOLLOW and O_CLOEXEC always added).
pub fn open_at(dir: &File, name: &OsStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
    let c = cstr(name.as_bytes())?;
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid dirfd and C string.
    wrap(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags, mode as libc::c_uint) })
}

/// Open a subdirectory without following a symlink (ELOOP/ENOTDIR if `name` is one or a file).
pub fn open_dir_at(dir: &File, name: &OsStr) -> io::Result<File> {
    open_at(dir, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
}

/// Create a new regular file `name` in `dir` (fails if anything is already there).
pub fn create_at(dir: &File, name: &OsStr) -> io::Result<File> {
    open_at(dir, name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
}

pub fn mkdir_at(dir: &File, name: &OsStr, mode: libc::mode_t) -> io::Result<()> {
    Ok(nix::sys::stat::mkdirat(at(dir), name, Mode::from_bits_retain(mode))?)
}

pub fn mkfifo_at(dir: &File, name: &OsStr, mode: u32) -> io::Result<()> {
    Ok(nix::unistd::mkfifoat(at(dir), name, Mode::from_bits_retain(mode as libc::mode_t))?)
}

/// mknodat(2); `mode` holds the file type and the permission bits.
pub fn mknod_at(dir: &File, name: &OsStr, mode: libc::mode_t, dev: libc::dev_t) -> io::Result<()> {
    let (kind, perm) = (SFlag::from_bits_retain(mode & libc::S_IFMT), Mode::from_bits_retain(mode & !libc::S_IFMT));
    Ok(nix::sys::stat::mknodat(at(dir), name, kind, perm, dev)?)
}

/// lstat-like fstatat(AT_SYMLINK_NOFOLLOW); Ok(None) when absent.
pub fn stat_at(dir: &File, name: &OsStr) -> io::Result<Option<libc::stat>> {
    match nix::sys::stat::fstatat(at(dir), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(nix::errno::Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Remove whatever is at `name` (a directory recursively; never following symlinks).
pub fn remove_at(dir: &File, name: &OsStr) -> io::Result<()> {
    let Some(st) = stat_at(dir, name)? else { return Ok(()) };
    if is_dir(&st) {
        // std's remove_dir_all does not follow symlinks (fixed for CVE-2022-21658); the
        // /proc/self/fd path names the directory we hold open, not a path a layer controls.
        let p = Path::new("/proc/self/fd").join(dir.as_raw_fd().to_string()).join(name);
        return std::fs::remove_dir_all(p);
    }
    Ok(nix::unistd::unlinkat(at(dir), name, nix::unistd::UnlinkatFlags::NoRemoveDir)?)
}

pub fn symlink_at(target: &OsStr, dir: &File, name: &OsStr) -> io::Result<()> {
    Ok(nix::unistd::symlinkat(target, at(dir), name)?)
}

/// linkat(2) without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
pub fn link_at(old_dir: &File, old: &OsStr, new_dir: &File, new: &OsStr) -> io::Result<()> {
    Ok(nix::unistd::linkat(at(old_dir), old, at(new_dir), new, AtFlags::empty())?)
}

/// fchownat(AT_SYMLINK_NOFOLLOW): a symlink's own owner, never its target's (lchown(2)).
pub fn lchown_at(dir: &File, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    let (uid, gid) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    Ok(nix::unistd::fchownat(at(dir), name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)?)
}

pub fn fchown(f: &File, uid: u32, gid: u32) -> io::Result<()> {
    Ok(nix::unistd::fchown(f.as_raw_fd(), Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?)
}

/// Set the mode after the owner: chown(2) clears set-user-ID and set-group-ID bits.
pub fn fchmod(f: &File, mode: u32) -> io::Result<()> {
    Ok(nix::sys::stat::fchmod(f.as_raw_fd(), Mode::from_bits_retain((mode & 0o7777) as libc::mode_t))?)
}

/// Set atime and mtime (seconds) on an open file or directory.
pub fn futimes(f: &File, atime: i64, mtime: i64) -> io::Result<()> {
    let ts = |s: i64| TimeSpec::new(s as libc::time_t, 0);
    Ok(nix::sys::stat::futimens(f.as_raw_fd(), &ts(atime), &ts(mtime))?)
}

/// Set the atime and mtime of a symlink itself (utimensat with AT_SYMLINK_NOFOLLOW).
pub fn lutimes_at(dir: &File, name: &OsStr, mtime: i64) -> io::Result<()> {
    let ts = TimeSpec::new(mtime as libc::time_t, 0);
    let nofollow = nix::sys::stat::UtimensatFlags::NoFollowSymlink;
    Ok(nix::sys::stat::utimensat(at(dir), name, &ts, &ts, nofollow)?)
}

pub fn fsetxattr(f: &File, name: &str, value: &[u8]) -> io::Result<()> {
    f.set_xattr(name, value)
}

#[cfg(test)]
pub fn fgetxattr(f: &File, name: &str) -> io::Result<Vec<u8>> {
    f.get_xattr(name)?.ok_or_else(|| io::Error::from_raw_os_error(libc::ENODATA))
}
