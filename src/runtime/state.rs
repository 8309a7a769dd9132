//! The container's record on disk: `config.json` (what was asked) and `state.json` (what
//! happened), both written atomically (temp file, fsync, rename; no fsync for `--rm` runs) so
//! a crash or a SIGKILL at any point leaves either the old or the new record, never a torn one.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::ContainerConfig;
use super::error::{io_err, Result, RuntimeError};

/// Where one container keeps its files (all under `Roots::container_state(id)`).
#[derive(Debug, Clone)]
pub struct StateDir(pub PathBuf);

impl StateDir {
    /// The id of the state root this dir belongs to, which the container's cgroup name
    /// includes (see `cgroup::name`).
    pub fn root_id(&self) -> &'static str {
        crate::paths::Roots::of_container_state(&self.0).map_or("", |r| r.id())
    }
    pub fn config(&self) -> PathBuf {
        self.0.join("config.json")
    }
    pub fn state(&self) -> PathBuf {
        self.0.join("state.json")
    }
    pub fn upper(&self) -> PathBuf {
        self.0.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.0.join("work")
    }
    /// Mount point of the overlay (only ever mounted inside the container's mount namespace).
    pub fn rootfs(&self) -> PathBuf {
        self.0.join("rootfs")
    }
    pub fn log(&self) -> PathBuf {
        self.0.join("container.log")
    }
    /// Held by the CLI of a foreground `run --rm` (see `autoremove`).
    pub fn attach_lock(&self) -> PathBuf {
        self.0.join("attached.lock")
    }
    /// The monitor's own diagnostics (its stderr).
    pub fn monitor_log(&self) -> PathBuf {
        self.0.join("monitor.log")
    }
    /// Present while the container was started with nobody to hand its terminal or stdin to
    /// (`Runtime::start`): its monitor keeps them and serves [`StateDir::attach_socket`].
    pub fn detached_marker(&self) -> PathBuf {
        self.0.join("detached")
    }
    /// Where `attach` sends its input to a running container's tty or stdin (see
    /// `runtime::console`).
    pub fn attach_socket(&self) -> PathBuf {
        self.0.join(super::console::SOCKET)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Created,
    Running,
    Exited { code: i32, oom: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub id: String,
    #[serde(flatten)]
    pub status: Status,
    /// Host pid of the container's PID 1 (while running).
    pub pid: Option<i32>,
    /// Host pid of the per-container monitor.
    pub monitor_pid: Option<i32>,
    /// RFC 3339 times.
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Why the container could not start, when it could not.
    pub error: Option<String>,
    /// Never stored: set when reading a "running" record whose monitor is gone (killed with
    /// the cgroup of whatever started it, say). Such a container is unsupervised and its exit
    /// status unknowable, so it reads as exited (255, as Docker after losing a shim); whatever
    /// is left of it in its cgroup is killed by the next start, stop or removal.
    #[serde(default, skip_serializing)]
    pub monitor_lost: bool,
    /// Never stored: set when reading a running container whose cgroup is frozen (`berth
    /// pause`); the kernel is the only record of it (see `freeze`).
    #[serde(default, skip_serializing)]
    pub paused: bool,
}

impl ContainerState {
    pub fn new(id: &str, now: String) -> Self {
        ContainerState {
            id: id.to_string(),
            status: Status::Created,
            pid: None,
            monitor_pid: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            error: None,
            monitor_lost: false,
            paused: false,
        }
    }

    /// What is true of this record now: "running" with its monitor gone becomes exited, with
    /// [`ContainerState::monitor_lost`] set (see [`monitor_alive`]).
    pub fn observed(mut self, monitor_alive: impl Fn(i32) -> bool) -> Self {
        if let (Status::Running, Some(m)) = (&self.status, self.monitor_pid) {
            if !monitor_alive(m) {
                self.status = Status::Exited { code: 255, oom: false };
                self.monitor_lost = true;
                self.error = Some(format!("its monitor (pid {m}) is gone; the exit status is unknown"));
            }
        }
        self
    }

    pub fn is_running(&self) -> bool {
        self.status == Status::Running
    }
}

/// Is `pid` a live berth monitor? Its name says so (set by the helper, and kept across the
/// zygote's fork), which also tells a reused pid from ours; a zombie is dead.
pub fn monitor_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { return false };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].split_whitespace().next().unwrap_or("");
    comm == "berth-monitor" && !matches!(state, "Z" | "X" | "x")
}

/// Label of a container whose record goes with its run (`berth run --rm`): its files are
/// replaced atomically but never fsynced (see [`write_json`]).
pub const TRANSIENT_LABEL: &str = "berth.transient";

/// Whether `cfg`'s record needs to survive a power loss (see [`TRANSIENT_LABEL`]).
pub fn durable(cfg: &ContainerConfig) -> bool {
    !cfg.labels.contains_key(TRANSIENT_LABEL)
}

/// Replace `path` with `bytes` atomically (see [`crate::fsutil::replace_file`]): a crash or
/// SIGKILL of any process leaves the old or the new record. `durable`: fsync before the
/// rename, so a power loss does too (DESIGN.md: write temp, fsync, rename). The directory is
/// not fsynced: after a reboot every container is gone, and the reconciler works from what it
/// observes, so the older of two complete records is as good as the newer.
pub fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    crate::fsutil::replace_file(path, bytes, durable).map_err(io_err("write", path))
}

pub fn write_json<T: Serialize>(path: &Path, value: &T, durable: bool) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|source| RuntimeError::Corrupt { path: path.to_path_buf(), source })?;
    write_atomic(path, &bytes, durable)
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(io_err("read", path))?;
    serde_json::from_slice(&bytes).map_err(|source| RuntimeError::Corrupt { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_flat_status() {
        let mut s = ContainerState::new("c1", "2026-01-01T00:00:00Z".into());
        s.status = Status::Exited { code: 137, oom: true };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("\"status\":\"exited\""), "{text}");
        assert!(text.contains("\"oom\":true"), "{text}");
        let back: ContainerState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one", true).unwrap();
        write_atomic(&p, b"two", false).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }
}
