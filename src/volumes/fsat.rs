//! Directory-fd-relative file operations for writing into a volume. A volume may be shared
//! with a running container that can plant symlinks in it at any moment, so every write is a
//! single name relative to an open directory with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW and
//! O_EXCL: nothing berth writes can be redirected onto the host (openat(2), symlink(7)).

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cstr(b: &[u8]) -> io::Result<CString> {
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

/// Open a directory by path, refusing a symlink as the last component.
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

/// Open the subdirectory `name` of `dir` (ELOOP/ENOTDIR if it is a symlink or a file).
pub fn open_dir_at(dir: &File, name: &OsStr) -> io::Result<File> {
    let c = cstr(name.as_bytes())?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid dirfd and C string.
    wrap(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) })
}

/// Create a new regular file `name` in `dir` (fails if anything is already there).
pub fn create_at(dir: &File, name: &OsStr) -> io::Result<File> {
    let c = cstr(name.as_bytes())?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid dirfd and C string.
    wrap(unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags, 0o600 as libc::c_uint) })
}

pub fn mkdir_at(dir: &File, name: &OsStr) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o700) })
}

pub fn mkfifo_at(dir: &File, name: &OsStr, mode: u32) -> io::Result<()> {
    let c = cstr(name.as_bytes())?;
    // SAFETY: valid dirfd and C string.
    check(unsafe { libc::mkfifoat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) })
}

pub fn symlink_at(target: &OsStr, dir: &File, name: &OsStr) -> io::Result<()> {
    let (t, n) = (cstr(target.as_bytes())?, cstr(name.as_bytes())?);
    // SAFETY: valid C strings and dirfd.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) })
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

/// Set atime and mtime on an open file or directory.
pub fn futimes(f: &File, atime: i64, mtime: i64) -> io::Result<()> {
    let ts = |s: i64| libc::timespec { tv_sec: s as libc::time_t, tv_nsec: 0 };
    // SAFETY: valid fd and a two-element timespec array.
    check(unsafe { libc::futimens(f.as_raw_fd(), [ts(atime), ts(mtime)].as_ptr()) })
}

/// Copy the extended attributes of `src` (a path inside an image layer, not followed) onto
/// the open `dst`, where the file system allows; overlayfs' own `trusted.overlay.*` never.
pub fn copy_xattrs(src: &Path, dst: &File) {
    let Ok(p) = cstr(src.as_os_str().as_bytes()) else { return };
    let mut names = vec![0u8; 4096];
    // SAFETY: valid C string and a buffer of the given length.
    let n = unsafe { libc::llistxattr(p.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return;
    }
    names.truncate(n as usize);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(b"trusted.overlay.") {
            continue;
        }
        let Ok(cname) = cstr(name) else { continue };
        let mut value = vec![0u8; 65536];
        // SAFETY: valid C strings and a buffer of the given length.
        let len = unsafe { libc::lgetxattr(p.as_ptr(), cname.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if len < 0 {
            continue;
        }
        // SAFETY: valid fd, C string, and a value buffer of `len` bytes.
        let rc = unsafe { libc::fsetxattr(dst.as_raw_fd(), cname.as_ptr(), value.as_ptr().cast(), len as usize, 0) };
        if rc < 0 {
            tracing::debug!(file = %src.display(), xattr = %String::from_utf8_lossy(name), "xattr not copied: {}",
                io::Error::last_os_error());
        }
    }
}

/// Is there an overlay opaque marker (`trusted.overlay.opaque=y`) on this layer directory?
pub fn is_opaque(dir: &Path) -> bool {
    let (Ok(p), Ok(name)) = (cstr(dir.as_os_str().as_bytes()), cstr(b"trusted.overlay.opaque")) else {
        return false;
    };
    let mut v = [0u8; 4];
    // SAFETY: valid C strings and a buffer of the given length.
    let n = unsafe { libc::lgetxattr(p.as_ptr(), name.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
    n == 1 && v[0] == b'y'
}

/// Take an exclusive flock(2) on an open file; released when the file is closed.
pub fn lock_exclusive(f: &File) -> io::Result<()> {
    // SAFETY: valid fd.
    check(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) })
}
