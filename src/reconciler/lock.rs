//! Locks: [`FileLock`], a plain flock(2) held for a short read-modify-write, and
//! [`ProjectLock`], the per-project lock (`Roots.run/locks/<project>.lock`) that keeps two
//! `up`/`down` commands from racing. flock is released by the kernel when the holder dies, so a
//! SIGKILLed berth never leaves a stale lock behind.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{io_err, ReconcileError, Result};
use crate::fsutil::flock;
use crate::paths::Roots;

/// An exclusive flock on a file, released on drop (closing the fd releases it).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Block until the lock is ours.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = open(path)?;
        crate::fsutil::flock_wait(&file, path, libc::LOCK_EX, crate::fsutil::lock_timeout())
            .map_err(io_err("lock", path))?;
        Ok(FileLock { file, path: path.to_path_buf() })
    }

    /// Take the lock if it is free, else None.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = open(path)?;
        match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(FileLock { file, path: path.to_path_buf() })),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(io_err("lock", path)(e)),
        }
    }

    /// Record our pid in the lock file, for the message a waiting command prints.
    pub fn write_pid(&mut self) -> Result<()> {
        let pid = std::process::id().to_string();
        self.file.set_len(0).map_err(io_err("truncate", &self.path))?;
        self.file.rewind().map_err(io_err("rewind", &self.path))?;
        self.file.write_all(pid.as_bytes()).map_err(io_err("write", &self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> Result<File> {
    crate::fsutil::open_lock_file(path).map_err(io_err("open", path))
}

/// The lock of one project, held for the whole of an `up` or `down`.
#[derive(Debug)]
pub struct ProjectLock {
    _lock: FileLock,
}

/// Where the project lock lives.
pub fn project_lock_path(roots: &Roots, project: &str) -> PathBuf {
    roots.run.join("locks").join(format!("{project}.lock"))
}

impl ProjectLock {
    /// Take the project's lock, waiting up to `wait` for another command to finish.
    pub fn acquire(roots: &Roots, project: &str, wait: Duration) -> Result<ProjectLock> {
        let path = project_lock_path(roots, project);
        let deadline = Instant::now() + wait;
        loop {
            if let Some(mut lock) = FileLock::try_acquire(&path)? {
                lock.write_pid()?;
                return Ok(ProjectLock { _lock: lock });
            }
            if Instant::now() >= deadline {
                return Err(ReconcileError::Locked { project: project.to_string(), pid: holder_pid(&path) });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Who holds the lock: the kernel's answer (/proc/locks) first, then the pid the holder wrote.
fn holder_pid(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else { return "unknown".into() };
    if let Some((pid, cmd)) = crate::fsutil::lock_holder(&file) {
        return format!("{pid}: {cmd}");
    }
    let mut s = String::new();
    let _ = file.read_to_string(&mut s);
    let s = s.trim();
    if s.is_empty() {
        "unknown".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_fails_naming_the_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = Roots::new(Some(tmp.path()));
        let first = ProjectLock::acquire(&roots, "demo", Duration::ZERO).unwrap();
        // flock locks belong to the open file description: a second open conflicts even in
        // the same process.
        let err = ProjectLock::acquire(&roots, "demo", Duration::from_millis(100)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("project `demo`"), "{msg}");
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        drop(first);
        ProjectLock::acquire(&roots, "demo", Duration::ZERO).unwrap();
    }
}
