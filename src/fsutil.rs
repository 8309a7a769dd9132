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
use std::time::{Duration, Instant};

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
        let mut f = create_private(&tmp)?;
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
        let mut f = create_private(&tmp)?;
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

/// Create (truncating) a file only its owner may read: berth's records hold environment
/// values (API tokens), command lines and paths of its private state.
fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
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
///
/// Mode 0600, and tightened to 0600 if an older berth left it looser: flock(2) needs only an
/// open fd, of any mode, so a lock file other users can open is one they can hold forever and
/// hang every berth command with (the host-wide locks in /run sit outside berth's private
/// roots).
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)?;
    if file.metadata()?.permissions().mode() & 0o077 != 0 {
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
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

/// How long a command waits for a lock before it gives up with an error naming the holder:
/// `BERTH_LOCK_WAIT` seconds, else `default`.
pub fn lock_wait_or(default: Duration) -> Duration {
    std::env::var("BERTH_LOCK_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(default, Duration::from_secs_f64)
}

/// The wait for every lock but a project's (whose wait is the command's own): they are held
/// for a read-modify-write or a copy, not for minutes, so 120 s means a stuck holder.
pub fn lock_timeout() -> Duration {
    lock_wait_or(Duration::from_secs(120))
}

/// [`flock`] with `op` (LOCK_EX or LOCK_SH), waiting at most `timeout`: never a silent hang.
/// Tries at once, then polls with a backoff of 1 to 25 ms. The error (`TimedOut`) names the
/// lock and the pid and command line of a process holding it, from /proc/locks.
pub fn flock_wait(file: &File, path: &Path, op: libc::c_int, timeout: Duration) -> io::Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match flock(file, op | libc::LOCK_NB) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() != Some(libc::EWOULDBLOCK) => return Err(e),
            Err(_) => {}
        }
        if start.elapsed() >= timeout {
            let holder = lock_holder(file)
                .map_or_else(|| "another process".to_string(), |(pid, cmd)| format!("pid {pid} ({cmd})"));
            let msg = format!(
                "lock {} is held by {holder} for more than {:.0} s: if that process is stuck, stop it (BERTH_LOCK_WAIT sets the wait in seconds)",
                path.display(),
                timeout.as_secs_f64()
            );
            return Err(io::Error::new(io::ErrorKind::TimedOut, msg));
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// A process holding a flock on `file` (another than us): its pid and command line, read
/// from /proc/locks (proc(5): `1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF`).
pub fn lock_holder(file: &File) -> Option<(i32, String)> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().ok()?;
    let (major, minor) = (libc::major(meta.dev()) as u64, libc::minor(meta.dev()) as u64);
    let locks = read_file_limited(Path::new("/proc/locks"), 16 << 20, "lock table").ok()?;
    let me = std::process::id() as i32;
    String::from_utf8_lossy(&locks).lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Blocked waiters are listed as `1: -> FLOCK …`: field 1 is then `->`, skipped below.
        let pid: i32 = f.get(4)?.parse().ok()?;
        let mut id = f.get(5)?.split(':');
        let maj = u64::from_str_radix(id.next()?, 16).ok()?;
        let min = u64::from_str_radix(id.next()?, 16).ok()?;
        let ino: u64 = id.next()?.parse().ok()?;
        if f.get(1) != Some(&"FLOCK") || (maj, min, ino) != (major, minor, meta.ino()) || pid == me || pid <= 0 {
            return None;
        }
        let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd: String = String::from_utf8_lossy(&cmd).replace('\0', " ").trim().chars().take(200).collect();
        Some((pid, if cmd.is_empty() { "?".into() } else { cmd }))
    })
}

/// [`open_lock_file`] then [`flock_wait`] with `op` (LOCK_EX or LOCK_SH) and the default
/// [`lock_timeout`]: the returned file holds the lock until dropped.
pub fn lock_file(path: &Path, op: libc::c_int) -> io::Result<File> {
    let file = open_lock_file(path)?;
    flock_wait(&file, path, op, lock_timeout())?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_held_too_long_is_an_error_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        // The holder: another process, so /proc/locks names a pid other than ours.
        // -o: only flock itself holds the lock (its `sleep` child does not inherit the fd).
        let mut holder = std::process::Command::new("flock")
            .arg("-o")
            .arg(&p)
            .args(["sleep", "30"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let f = open_lock_file(&p).unwrap();
        let t0 = Instant::now();
        while lock_holder(&f).is_none() && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let err = flock_wait(&f, &p, libc::LOCK_EX, Duration::from_millis(100)).unwrap_err();
        let _ = holder.kill();
        let _ = holder.wait();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", holder.id())) && msg.contains("flock"), "{msg}");
        assert!(msg.contains(&p.display().to_string()), "{msg}");
        // Released (the holder died): taken at once.
        flock_wait(&f, &p, libc::LOCK_EX, Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn lock_files_and_records_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("old.lock");
        fs::write(&lock, b"").unwrap();
        fs::set_permissions(&lock, fs::Permissions::from_mode(0o666)).unwrap();
        let f = open_lock_file(&lock).unwrap();
        assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600, "an old lock file is tightened");
        let rec = dir.path().join("r.json");
        write_atomic(&rec, b"{}").unwrap();
        replace_file(&dir.path().join("s.json"), b"{}", false).unwrap();
        for p in [rec, dir.path().join("s.json")] {
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600, "{}", p.display());
        }
    }

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
