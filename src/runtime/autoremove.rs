//! `berth run --rm` when its CLI is gone: who removes the container.
//!
//! While the CLI of a foreground `run --rm` waits for its container it holds an exclusive
//! flock(2) on `attached.lock` in the container's state dir; it reads the exit code, then
//! removes the container itself. A CLI that dies (even by SIGKILL) releases the lock with
//! its last fd, so when the workload exits the monitor finds the lock free and removes the
//! container, as Docker's daemon does for `--rm` (and always for `run -d --rm`, whose CLI
//! holds no lock). A container whose CLI died after the monitor looked is left exited; the next
//! `berth container ls|rm` removes it ([`orphaned`]). A lock, not a pid: a recycled pid cannot
//! pass for a live CLI, and a lock needs no clean-up.

use std::fs::File;
use std::os::fd::AsRawFd;

use super::config::ContainerConfig;
use super::error::{io_err, Result};
use super::state::{durable, ContainerState, StateDir, Status};

/// Hold the container's attach lock (the CLI of `run --rm`, between create and remove).
pub fn hold(dir: &StateDir) -> Result<File> {
    let path = dir.attach_lock();
    let f = File::create(&path).map_err(io_err("create", &path))?;
    // SAFETY: flock on an fd we own; non-blocking, and nobody else has it yet (the container
    // was created by us and has not started).
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(io_err("lock", &path)(std::io::Error::last_os_error()));
    }
    Ok(f)
}

/// Whether no CLI holds the attach lock (none ever did, or it died).
pub fn unattended(dir: &StateDir) -> bool {
    let Ok(f) = File::open(dir.attach_lock()) else { return true };
    // SAFETY: flock on an fd we own; dropping `f` releases a lock we got.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// A `--rm` container (`runtime::state::TRANSIENT_LABEL`) that has exited and has no CLI
/// left to remove it: whoever sees it removes it.
pub fn orphaned(dir: &StateDir, cfg: &ContainerConfig, st: &ContainerState) -> bool {
    !durable(cfg) && matches!(st.status, Status::Exited { .. }) && unattended(dir)
}
