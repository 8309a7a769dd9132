//! The project state dir: `Roots.projects()/<project>/`, what berth remembers about a project
//! beyond what the runtime records per container.
//!
//! - `project.json`: the project's name, stack files and directory (for `berth ls`).
//! - `containers/<name>.json`: one [`ContainerRecord`] per container (service, replica, config
//!   hash and normalized config, health, restart count, last exit, oom, published ports).
//! - `networks.json` / `volumes.json`: what `up` created while the network/volume layers were
//!   not wired in (the fallback; see `fallback_*` in the executor).
//!
//! Every file is written atomically (temp file, fsync, rename: a SIGKILL leaves the old or the
//! new file, never a torn one), and read-modify-write updates hold `.state.lock` (flock(2)) so
//! the supervisor and a CLI command never lose each other's updates.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{io_err, ReconcileError, Result};
use super::lock::FileLock;
use crate::paths::Roots;

/// Health check status of one container, as `ps` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// No health check configured.
    #[default]
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::None => "",
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// A port published on the host for one container (mirrors the network layer's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRecord {
    pub host_ip: String,
    pub host_port: u16,
    pub target: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// What berth remembers about one container of the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerRecord {
    pub service: String,
    /// Replica number, 1-based.
    pub number: u32,
    /// The runtime's container id.
    pub id: String,
    /// A unique id made at create (64 random hex digits, Docker's form): what `ps -q` prints,
    /// new for every recreate. Empty in records written before berth kept one (see
    /// [`ProjectContainer::container_id`](super::ProjectContainer::container_id)).
    pub uid: String,
    pub name: String,
    pub config_hash: String,
    /// `planner::normalized_config` at creation (so a recreate names the changed fields).
    pub config: Option<serde_json::Value>,
    pub image_id: Option<String>,
    pub health: HealthStatus,
    /// Consecutive failed health checks.
    pub failing_streak: u32,
    /// Restarts done by the restart policy since the container was created.
    pub restart_count: u32,
    pub last_exit_code: Option<i32>,
    pub oom: bool,
    pub ports: Vec<PortRecord>,
    /// Stopped on purpose (`berth stop`, Ctrl-C): the restart policy leaves it alone.
    pub stopped_by_user: bool,
    /// The restart policy gave up (on-failure:N reached).
    pub gave_up: bool,
    /// The restart policy (`no`, `always`, `on-failure[:N]`, `unless-stopped`), recorded so the
    /// supervisor works from the state dir alone.
    pub restart: String,
    /// The effective health check (service over image), if any.
    pub healthcheck: Option<HealthSpec>,
    /// `finished_at` of the last exit reported as an event (see events::exited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_reported: Option<String>,
}

/// A health check, resolved: the argv to exec and its timing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthSpec {
    /// Executed inside the container; exit 0 = healthy.
    pub argv: Vec<String>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub start_period_ms: u64,
    /// Interval during the start period.
    pub start_interval_ms: u64,
}

/// The project's identity, for `berth ls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectMeta {
    pub name: String,
    pub files: Vec<PathBuf>,
    pub project_dir: PathBuf,
    /// The image references of the stack's services at the last `up` (`down --rmi` finds
    /// them here when the containers are already gone).
    pub images: Vec<String>,
}

/// A new container uid: 32 random bytes as 64 hex digits (the form of Docker's ids).
pub fn new_uid(container: &str) -> Result<String> {
    crate::common::ids::hex_id(32)
        .map_err(|e| ReconcileError::container(container, format!("making its id: getrandom: {e}")))
}

/// The state dir of one project.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    pub project: String,
    pub dir: PathBuf,
}

impl ProjectDir {
    pub fn new(roots: &Roots, project: &str) -> Self {
        ProjectDir { project: project.to_string(), dir: roots.projects().join(project) }
    }

    pub fn exists(&self) -> bool {
        self.dir.exists()
    }

    fn containers_dir(&self) -> PathBuf {
        self.dir.join("containers")
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.containers_dir().join(format!("{name}.json"))
    }

    pub fn meta(&self) -> Result<Option<ProjectMeta>> {
        read_opt(&self.dir.join("project.json"))
    }

    pub fn write_meta(&self, meta: &ProjectMeta) -> Result<()> {
        write_file(&self.dir.join("project.json"), meta)
    }

    /// The record of container `name`, if any.
    pub fn record(&self, name: &str) -> Result<Option<ContainerRecord>> {
        read_opt(&self.record_path(name))
    }

    /// Every container record, by container name.
    pub fn records(&self) -> Result<BTreeMap<String, ContainerRecord>> {
        let mut out = BTreeMap::new();
        let Ok(entries) = fs::read_dir(self.containers_dir()) else { return Ok(out) };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            if let Some(rec) = read_opt::<ContainerRecord>(&path)? {
                out.insert(rec.name.clone(), rec);
            }
        }
        Ok(out)
    }

    pub fn write_record(&self, rec: &ContainerRecord) -> Result<()> {
        let _guard = self.state_lock()?;
        write_file(&self.record_path(&rec.name), rec)
    }

    /// Read-modify-write one record under the state lock; a missing record is not created
    /// (the container was removed meanwhile). Returns the updated record.
    pub fn update_record(&self, name: &str, f: impl FnOnce(&mut ContainerRecord)) -> Result<Option<ContainerRecord>> {
        let _guard = self.state_lock()?;
        let Some(mut rec) = read_opt::<ContainerRecord>(&self.record_path(name))? else { return Ok(None) };
        let before = rec.clone();
        f(&mut rec);
        // Most updates (start of a fresh container, a health status that holds) change nothing.
        if rec != before {
            write_file(&self.record_path(name), &rec)?;
        }
        Ok(Some(rec))
    }

    pub fn remove_record(&self, name: &str) -> Result<()> {
        let _guard = self.state_lock()?;
        remove_file(&self.record_path(name))
    }

    /// Names recorded in `networks.json` / `volumes.json` (the fallback bookkeeping).
    pub fn names(&self, kind: &str) -> Result<Vec<String>> {
        Ok(read_opt(&self.dir.join(format!("{kind}.json")))?.unwrap_or_default())
    }

    /// Add or remove one name in `networks.json` / `volumes.json`.
    pub fn set_name(&self, kind: &str, name: &str, present: bool) -> Result<()> {
        let _guard = self.state_lock()?;
        let path = self.dir.join(format!("{kind}.json"));
        let mut names: Vec<String> = read_opt(&path)?.unwrap_or_default();
        names.retain(|n| n != name);
        if present {
            names.push(name.to_string());
        }
        if names.is_empty() {
            remove_file(&path)
        } else {
            write_file(&path, &names)
        }
    }

    /// Remove the whole state dir (after `down`).
    pub fn remove_all(&self) -> Result<()> {
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &self.dir)(e)),
        }
    }

    fn state_lock(&self) -> Result<FileLock> {
        fs::create_dir_all(&self.dir).map_err(io_err("create", &self.dir))?;
        FileLock::acquire(&self.dir.join(".state.lock"))
    }
}

/// Every project with a state dir under `roots`, sorted.
pub fn list_projects(roots: &Roots) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(roots.projects()) else { return Ok(out) };
    for e in entries.flatten() {
        if e.path().is_dir() {
            if let Some(name) = e.file_name().to_str() {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_opt<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| ReconcileError::Corrupt { path: path.to_path_buf(), source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

fn write_file<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    }
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|source| ReconcileError::Corrupt { path: path.to_path_buf(), source })?;
    // rename(2) of a fsynced temp file: a crash of any process leaves the old or the new
    // record, and so does a power loss (the content is on disk before the rename; at worst
    // the rename itself is lost and the previous record comes back, which `up`/`down`
    // reconcile like any other drift). The directory fsync of `write_atomic` is skipped: it
    // ran under the project's state lock and serialised parallel container creation.
    crate::fsutil::replace_file(path, &bytes, true)
        .map_err(|e| ReconcileError::State { path: path.to_path_buf(), reason: e.to_string() })
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_update() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = Roots::new(Some(tmp.path()));
        let pd = ProjectDir::new(&roots, "demo");
        let rec = ContainerRecord {
            service: "web".into(),
            number: 1,
            id: "demo-web-1".into(),
            name: "demo-web-1".into(),
            health: HealthStatus::Starting,
            ..Default::default()
        };
        pd.write_record(&rec).unwrap();
        assert_eq!(pd.record("demo-web-1").unwrap(), Some(rec));
        let up = pd.update_record("demo-web-1", |r| r.restart_count += 1).unwrap().unwrap();
        assert_eq!(up.restart_count, 1);
        assert!(pd.update_record("nope", |r| r.restart_count += 1).unwrap().is_none());
        assert_eq!(pd.records().unwrap().len(), 1);
        assert_eq!(list_projects(&roots).unwrap(), ["demo"]);
        pd.remove_record("demo-web-1").unwrap();
        assert!(pd.records().unwrap().is_empty());
        pd.remove_all().unwrap();
        assert!(list_projects(&roots).unwrap().is_empty());
    }

    #[test]
    fn names_add_and_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let pd = ProjectDir::new(&Roots::new(Some(tmp.path())), "demo");
        pd.set_name("networks", "demo_default", true).unwrap();
        pd.set_name("networks", "demo_default", true).unwrap();
        assert_eq!(pd.names("networks").unwrap(), ["demo_default"]);
        pd.set_name("networks", "demo_default", false).unwrap();
        assert!(pd.names("networks").unwrap().is_empty());
        assert_eq!(serde_json::to_string(&HealthStatus::Unhealthy).unwrap(), "\"unhealthy\"");
    }
}
