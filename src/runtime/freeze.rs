//! Pausing a container (`berth pause`): freezing its cgroup, as `docker pause` does.
//!
//! - cgroup v1: the freezer controller's `freezer.state`: write `FROZEN` (or `THAWED`), then
//!   read it back until it says so: the kernel reports `FREEZING` while tasks are still being
//!   stopped (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst).
//! - cgroup v2: `cgroup.freeze` (1 or 0), with the `frozen` key of `cgroup.events` telling
//!   when the whole subtree is in that state (Documentation/admin-guide/cgroup-v2.rst, "Core
//!   Interface Files"). The freezer is built into v2: no controller needs enabling.
//!
//! The paused state lives only in the kernel (read back by [`is_frozen`]), never in a record,
//! so it cannot go stale: a container whose cgroup is gone is not paused.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cgroups_rs::hierarchies::{self, V1};
use cgroups_rs::Controllers;

use super::cgroup;
use super::error::{Result, RuntimeError};

/// How long a freeze or thaw may take to settle before it counts as failed.
const SETTLE: Duration = Duration::from_secs(10);

/// Where the container's freezer files are: the v1 freezer hierarchy, or the v2 cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freezer {
    V1(PathBuf),
    V2(PathBuf),
}

/// The freezer hierarchy of this host: Some(v1 mount point) or None for v2 (cached: `state`
/// reads it for every running container).
fn v1_root() -> &'static Option<Option<PathBuf>> {
    static ROOT: OnceLock<Option<Option<PathBuf>>> = OnceLock::new();
    ROOT.get_or_init(|| {
        if hierarchies::is_cgroup2_unified_mode() {
            None
        } else {
            Some(V1::new().get_mount_point(Controllers::Freezer))
        }
    })
}

/// The freezer of container `id` of state root `root_id`; None on a v1 host without the
/// freezer controller mounted.
pub fn freezer(root_id: &str, id: &str) -> Option<Freezer> {
    let rel = cgroup::name(root_id, id);
    match v1_root() {
        None => Some(Freezer::V2(Path::new(super::cgroup_home::V2_ROOT).join(rel))),
        Some(Some(root)) => Some(Freezer::V1(root.join(rel))),
        Some(None) => None,
    }
}

impl Freezer {
    /// The file to write and the text that asks for `frozen`.
    pub fn request(&self, frozen: bool) -> (PathBuf, &'static str) {
        match self {
            Freezer::V1(d) => (d.join("freezer.state"), if frozen { "FROZEN" } else { "THAWED" }),
            Freezer::V2(d) => (d.join("cgroup.freeze"), if frozen { "1" } else { "0" }),
        }
    }

    /// The file that reports the settled state.
    fn report_file(&self) -> PathBuf {
        match self {
            Freezer::V1(d) => d.join("freezer.state"),
            Freezer::V2(d) => d.join("cgroup.events"),
        }
    }

    /// What the report file's `text` says: Some(true) frozen, Some(false) thawed, None in
    /// between (v1 `FREEZING`) or unreadable.
    pub fn parse_report(&self, text: &str) -> Option<bool> {
        match self {
            Freezer::V1(_) => match text.trim() {
                "FROZEN" => Some(true),
                "THAWED" => Some(false),
                _ => None,
            },
            Freezer::V2(_) => {
                text.lines().filter_map(|l| l.split_once(' ')).find(|(k, _)| *k == "frozen").and_then(|(_, v)| match v
                    .trim()
                {
                    "1" => Some(true),
                    "0" => Some(false),
                    _ => None,
                })
            }
        }
    }

    /// The current state (None: in between, or no cgroup).
    pub fn state(&self) -> Option<bool> {
        fs::read_to_string(self.report_file()).ok().and_then(|t| self.parse_report(&t))
    }

    /// Ask for `frozen` and wait until the cgroup is in that state.
    pub fn set(&self, frozen: bool) -> Result<()> {
        let (file, text) = self.request(frozen);
        let fail = |reason: String| RuntimeError::Cgroup { path: file.display().to_string(), reason };
        let deadline = Instant::now() + SETTLE;
        let mut pause = Duration::from_millis(1);
        loop {
            // v1: a freeze that meets a task in an uninterruptible sleep stays FREEZING;
            // writing FROZEN again retries it (as runc does).
            fs::write(&file, text).map_err(|e| fail(format!("write {text}: {e}")))?;
            if self.state() == Some(frozen) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(fail(format!("still not {} after {SETTLE:?}", if frozen { "frozen" } else { "thawed" })));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// Is the container's cgroup frozen (a `berth pause`)? False when it has none.
pub fn is_frozen(root_id: &str, id: &str) -> bool {
    freezer(root_id, id).and_then(|f| f.state()) == Some(true)
}

/// Thaw the container's cgroup if it is frozen (before or after signalling it: a frozen task
/// acts on a signal only once thawed); quiet when there is nothing to thaw.
pub fn thaw_if_frozen(root_id: &str, id: &str) -> Result<()> {
    match freezer(root_id, id) {
        Some(f) if f.state() == Some(true) => f.set(false),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_uses_freezer_state() {
        let f = Freezer::V1(PathBuf::from("/sys/fs/cgroup/freezer/berth/c1"));
        assert_eq!(f.request(true), (PathBuf::from("/sys/fs/cgroup/freezer/berth/c1/freezer.state"), "FROZEN"));
        assert_eq!(f.request(false).1, "THAWED");
        assert_eq!(f.parse_report("FROZEN\n"), Some(true));
        assert_eq!(f.parse_report("FREEZING\n"), None);
        assert_eq!(f.parse_report("THAWED\n"), Some(false));
    }

    #[test]
    fn v2_uses_cgroup_freeze_and_events() {
        let f = Freezer::V2(PathBuf::from("/sys/fs/cgroup/berth/c1"));
        assert_eq!(f.request(true), (PathBuf::from("/sys/fs/cgroup/berth/c1/cgroup.freeze"), "1"));
        assert_eq!(f.request(false).1, "0");
        assert_eq!(f.parse_report("populated 1\nfrozen 1\n"), Some(true));
        assert_eq!(f.parse_report("populated 1\nfrozen 0\n"), Some(false));
        assert_eq!(f.parse_report("populated 0\n"), None);
    }

    #[test]
    fn v2_set_writes_and_waits_for_events() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        let f = Freezer::V2(dir.path().to_path_buf());
        f.set(true).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("cgroup.freeze")).unwrap(), "1");
        assert_eq!(f.state(), Some(true));
    }
}
