//! Low-level file helpers shared by every layer that keeps state on disk: atomic replacement of
//! a file (write a temp file, fsync, rename, fsync the directory: a crash or SIGKILL leaves the
//! old or the new content, never half of one; rename(2)) and flock(2) locks, and bounded reads
//! of files that come from users or the network. Errors are plain `std::io::Error`s; each layer
//! wraps them in its own error type, naming the path.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// An I/O error with what was being done and to which path: `open /x/y: No such file…`.
/// Layers that report failed file operations this way wrap it in their own error type.
#[derive(Debug, thiserror::Error)]
#[error("{op} {}: {source}", path.display())]
pub struct PathError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// The error of a bounded read: the input holds more than `limit` bytes. `what` says what
/// kind of input it is, so the user learns which limit was hit (`a stack file`, `an image
/// manifest`); the caller's error type adds which file or URL.
#[derive(Debug, thiserror::Error)]
#[error("larger than {} ({what}s are limited to that size)", human_size(*limit))]
pub struct TooLarge {
    pub what: &'static str,
    pub limit: u64,
}

/// Read all of `reader`, but at most `limit` bytes: one byte more is an `io::Error` of kind
/// `FileTooLarge` wrapping a [`TooLarge`]. Memory use is bounded by `limit` whatever the input
/// claims or sends (a file that keeps growing, a stream that never ends, a lying size).
pub fn read_limited(reader: impl Read, limit: u64, what: &'static str) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { what, limit }));
    }
    Ok(buf)
}

/// [`read_limited`] of a file. A regular file that is already too large fails before any
/// byte is read.
pub fn read_file_limited(path: &Path, limit: u64, what: &'static str) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() > limit) {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { what, limit }));
    }
    read_limited(file, limit, what)
}

/// [`read_file_limited`] as UTF-8 text (invalid UTF-8 is an `InvalidData` error, as
/// `fs::read_to_string` has it).
pub fn read_string_limited(path: &Path, limit: u64, what: &'static str) -> io::Result<String> {
    bytes_to_string(read_file_limited(path, limit, what)?)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_reader_string_limited(reader: impl Read, limit: u64, what: &'static str) -> io::Result<String> {
    bytes_to_string(read_limited(reader, limit, what)?)
}

fn bytes_to_string(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

/// `4 MiB`, `64 KiB`, `100 bytes`: limits as people write them.
pub fn human_size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Replace `path` with `bytes` atomically. The temp file sits in the same directory (rename is
/// only atomic within one filesystem) and is unique per process and call, so two threads
/// writing the same file never share one. The directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = temp_name(path);
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Best effort: makes the rename itself durable; the new content is already complete.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Replace `path` with `bytes` by rename(2) of a temp file (atomic against any crash of a
/// process: readers see the old or the new content), without [`write_atomic`]'s directory
/// fsync. With `fsync` the new content is on disk before the rename, so even a power loss
/// leaves the old or the new record, never an empty one; which of the two is the directory's
/// next commit's business. For records that are rebuilt from observation after a reboot (a
/// container's state: every process is gone then anyway). Without `fsync`: for records that
/// are meant to disappear with the run (`berth run --rm`).
pub fn replace_file(path: &Path, bytes: &[u8], fsync: bool) -> io::Result<()> {
    let tmp = temp_name(path);
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if fsync {
            f.sync_data()?;
        }
        fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// A temp file next to `path`, unique per process and call (two threads writing the same file
/// never share one).
fn temp_name(path: &Path) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// [`write_atomic`] of `value` as pretty-printed JSON (a serialization failure is an
/// `InvalidData` error).
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value)?;
    write_atomic(path, &bytes)
}

/// Open (creating it and its directory if needed) a file used only to hold a flock on.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)
}

/// flock(2) `op` (LOCK_EX, LOCK_SH, optionally | LOCK_NB) on an open file, retrying on EINTR.
/// The lock belongs to the open file description and is released when it is closed, so a
/// killed holder never leaves a stale lock.
pub fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on an fd we own; no memory is passed.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// [`open_lock_file`] then [`flock`] with `op`: the returned file holds the lock until dropped.
pub fn lock_file(path: &Path, op: libc::c_int) -> io::Result<File> {
    let file = open_lock_file(path)?;
    flock(&file, op)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_stop_one_byte_past_the_limit() {
        assert_eq!(read_limited(&b"abcd"[..], 4, "thing").unwrap(), b"abcd");
        let e = read_limited(&b"abcde"[..], 4, "thing").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "larger than 4 bytes (things are limited to that size)");
        // An endless stream ends at the limit.
        let e = read_limited(io::repeat(b'x'), 2 << 20, "stack file").unwrap_err();
        assert_eq!(e.to_string(), "larger than 2 MiB (stack files are limited to that size)");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "héllo").unwrap();
        assert_eq!(read_string_limited(&p, 6, "f").unwrap(), "héllo");
        assert_eq!(read_string_limited(&p, 5, "f").unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(human_size(64 << 10), "64 KiB");
    }

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_json_atomic(&p, &vec![1, 2]).unwrap();
        let back: Vec<i32> = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        assert_eq!(back, vec![1, 2]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn replace_file_with_and_without_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        replace_file(&p, b"one", true).unwrap();
        replace_file(&p, b"two", false).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
        fs::create_dir_all(dir.path().join("d/x")).unwrap();
        assert!(replace_file(&dir.path().join("d"), b"x", false).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails.
        let p = dir.path().join("d");
        fs::create_dir_all(p.join("x")).unwrap();
        assert!(write_atomic(&p, b"x").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn second_exclusive_lock_would_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/lock");
        let _held = lock_file(&p, libc::LOCK_EX).unwrap();
        let other = open_lock_file(&p).unwrap();
        let e = flock(&other, libc::LOCK_EX | libc::LOCK_NB).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EWOULDBLOCK));
    }
}
