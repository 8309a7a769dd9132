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
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode) })
}

pub fn mkfifo_at(dir: &File, name: &OsStr, mode: u32) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::mkfifoat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) })
}

pub fn mknod_at(dir: &File, name: &OsStr, mode: libc::mode_t, dev: libc::dev_t) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), mode, dev) })
}

/// lstat-like fstatat(AT_SYMLINK_NOFOLLOW); Ok(None) when absent.
pub fn stat_at(dir: &File, name: &OsStr) -> io::Result<Option<libc::stat>> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: zeroed stat is a valid out-parameter; valid dirfd and C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::fstatat(dir.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    match check(rc) {
        Ok(()) => Ok(Some(st)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
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
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) })
}

pub fn symlink_at(target: &OsStr, dir: &File, name: &OsStr) -> io::Result<()> {
    let (t, n) = (cstr(target.as_bytes())?, cstr(name.as_bytes())?);
    // SAFETY: valid C strings and dirfd.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) })
}

/// linkat(2) without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
pub fn link_at(old_dir: &File, old: &OsStr, new_dir: &File, new: &OsStr) -> io::Result<()> {
    let (o, n) = (cstr(old.as_bytes())?, cstr(new.as_bytes())?);
    // SAFETY: valid C strings and dirfds.
    check(unsafe { libc::linkat(old_dir.as_raw_fd(), o.as_ptr(), new_dir.as_raw_fd(), n.as_ptr(), 0) })
}

/// fchownat(AT_SYMLINK_NOFOLLOW): a symlink's own owner, never its target's (lchown(2)).
pub fn lchown_at(dir: &File, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::fchownat(dir.as_raw_fd(), c.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) })
}

pub fn fchown(f: &File, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: valid fd.
    check(unsafe { libc::fchown(f.as_raw_fd(), uid, gid) })
}

/// Set the mode after the owner: chown(2) clears set-user-ID and set-group-ID bits.
pub fn fchmod(f: &File, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd.
    check(unsafe { libc::fchmod(f.as_raw_fd(), (mode & 0o7777) as libc::mode_t) })
}

/// Set atime and mtime (seconds) on an open file or directory.
pub fn futimes(f: &File, atime: i64, mtime: i64) -> io::Result<()> {
    let ts = |s: i64| libc::timespec { tv_sec: s as libc::time_t, tv_nsec: 0 };
    // SAFETY: valid fd and a two-element timespec array.
    check(unsafe { libc::futimens(f.as_raw_fd(), [ts(atime), ts(mtime)].as_ptr()) })
}

/// Set the atime and mtime of a symlink itself (utimensat with AT_SYMLINK_NOFOLLOW).
pub fn lutimes_at(dir: &File, name: &OsStr, mtime: i64) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    let ts = libc::timespec { tv_sec: mtime as libc::time_t, tv_nsec: 0 };
    // SAFETY: valid dirfd, C string and timespec array.
    check(unsafe { libc::utimensat(dir.as_raw_fd(), c.as_ptr(), [ts, ts].as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
}

pub fn fsetxattr(f: &File, name: &str, value: &[u8]) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid fd, C string, and a value buffer of the given length.
    check(unsafe { libc::fsetxattr(f.as_raw_fd(), c.as_ptr(), value.as_ptr().cast(), value.len(), 0) })
}

#[cfg(test)]
pub fn fgetxattr(f: &File, name: &str) -> io::Result<Vec<u8>> {
    let c = cstr(name.as_bytes())?;
    let mut buf = vec![0u8; 256];
    // SAFETY: valid fd, C string, and a buffer of the given length.
    let n = unsafe { libc::fgetxattr(f.as_raw_fd(), c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}
