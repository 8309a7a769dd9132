//! Persistent network state under the state root, written atomically (temp file, fsync,
//! rename) and mutated under an flock(2) lock:
//!
//! - `networks/<name>.json`: one [`NetworkRecord`] per network (bridge, subnet, endpoints);
//! - `networks/sandboxes/<id>.json`: one [`SandboxRecord`] per container;
//! - `networks/lock`: serializes every read-modify-write of the above within one root.
//!
//! Subnets are a host-wide resource, so their allocation also takes [`HOST_LOCK`], shared by
//! every state root: two projects (even under different `--root`s) allocating at once never
//! get the same subnet, because the lock is held until the bridge and its route exist.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};
use super::ipam::Ipv4Net;
use super::ipam6::Ipv6Net;
use super::{Endpoint, HostsSpec, PublishedPort, Registration};
use crate::paths::Roots;

/// Host-wide lock for subnet allocation (see the module doc).
pub const HOST_LOCK: &str = "/run/berth-ipam.lock";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub name: String,
    pub project: String,
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// container id → its address on this network.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Ipv4Addr>,
    /// The IPv6 subnet (`enable_ipv6`, or an IPv6 `ipam.config` entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<Ipv6Net>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<Ipv6Addr>,
    /// container id → its IPv6 address on this network.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints6: BTreeMap<String, Ipv6Addr>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SandboxRecord {
    pub id: String,
    pub netns: PathBuf,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    #[serde(default)]
    pub hosts: Option<HostsSpec>,
    #[serde(default)]
    pub registration: Option<Registration>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    run: PathBuf,
    /// The state root's id, which bridge and veth names include (see `names`).
    root_id: &'static str,
    /// Parsed sandbox records by path, with the stamp of the file they were read from: every
    /// container's create reads every record of the host (to render hosts files), so without
    /// this a burst of n creates parses n² records under the store lock.
    parsed: Arc<Mutex<HashMap<PathBuf, (Stamp, SandboxRecord)>>>,
}

/// What identifies one version of a record file: records are replaced by rename(2), so a new
/// version is a new inode (and a new ctime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    ctime_ns: i128,
    size: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = fs::metadata(path).ok()?;
        Some(Stamp {
            ino: m.ino(),
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
            size: m.len(),
        })
    }
}

impl Store {
    pub fn new(roots: &Roots) -> Self {
        Store { dir: roots.state.join("networks"), run: roots.run.clone(), root_id: roots.id(), parsed: Arc::default() }
    }

    pub fn root_id(&self) -> &'static str {
        self.root_id
    }

    pub fn network_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Sandbox records live in the run dir: they describe kernel objects that a reboot ends.
    pub fn sandbox_path(&self, id: &str) -> PathBuf {
        self.run.join("sandboxes").join(format!("{id}.json"))
    }

    /// Where earlier versions of berth kept them (still read, so containers started by an
    /// older berth can be torn down; moved on their next write).
    fn legacy_sandboxes(&self) -> PathBuf {
        self.dir.join("sandboxes")
    }

    /// Where the netns of container `id` is bound.
    pub fn netns_path(&self, id: &str) -> PathBuf {
        self.run.join("netns").join(id)
    }

    /// Per-container managed files (hosts, resolv.conf, hostname).
    pub fn files_dir(&self, id: &str) -> PathBuf {
        self.run.join("network").join(id)
    }

    /// The embedded DNS server's files (see `dns::Files`).
    pub fn dns_dir(&self) -> PathBuf {
        self.run.join("dns")
    }

    pub fn proxy_dir(&self) -> PathBuf {
        self.dir.join("proxy")
    }

    /// Takes the per-root lock; released when the guard drops.
    pub fn lock(&self) -> Result<LockGuard> {
        LockGuard::take(&self.dir.join("lock"))
    }

    pub fn load_network(&self, name: &str) -> Result<Option<NetworkRecord>> {
        read_json(&self.network_path(name))
    }

    /// A new or changed network (its subnet, bridge, options: configuration): the content is
    /// fsynced before the rename, so a power loss leaves the old or the new record.
    pub fn save_network(&self, rec: &NetworkRecord) -> Result<()> {
        self.write_network(rec, true)
    }

    /// The same record after an address reservation or release, on every container create and
    /// removal, under the store lock: replaced by rename(2) (atomic against any process crash)
    /// without fsync, which serialised parallel creates. The endpoints belong to containers,
    /// which a power loss ends anyway; the configuration part was made durable when the
    /// network was saved, and ext4 writes a file replaced by rename before the rename itself.
    pub fn save_endpoints(&self, rec: &NetworkRecord) -> Result<()> {
        self.write_network(rec, false)
    }

    fn write_network(&self, rec: &NetworkRecord, fsync: bool) -> Result<()> {
        let path = self.network_path(&rec.name);
        let bytes =
            serde_json::to_vec_pretty(rec).map_err(|e| NetworkError::State { path: path.clone(), source: e })?;
        fs::create_dir_all(&self.dir).map_err(|e| NetworkError::io(&self.dir, e))?;
        crate::fsutil::replace_file(&path, &bytes, fsync).map_err(|e| NetworkError::io(&path, e))
    }

    pub fn delete_network(&self, name: &str) -> Result<()> {
        remove_file(&self.network_path(name))
    }

    pub fn networks(&self) -> Result<Vec<NetworkRecord>> {
        let mut out = Vec::new();
        for path in json_files(&self.dir)? {
            if let Some(rec) = read_json::<NetworkRecord>(&path)? {
                out.push(rec);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn load_sandbox(&self, id: &str) -> Result<Option<SandboxRecord>> {
        match self.read_sandbox(&self.sandbox_path(id))? {
            Some(rec) => Ok(Some(rec)),
            None => self.read_sandbox(&self.legacy_sandboxes().join(format!("{id}.json"))),
        }
    }

    /// The sandbox of a container that must have one (made by `create_sandbox`).
    pub fn require_sandbox(&self, id: &str) -> Result<SandboxRecord> {
        self.load_sandbox(id)?.ok_or_else(|| NetworkError::NoSandbox { container: id.to_string() })
    }

    /// Sandbox records describe kernel objects (a netns, its veths, published ports) that do
    /// not outlive a reboot, so they are replaced by rename(2) — atomic against any process
    /// crash — without fsync: durability across a power loss would only preserve records of
    /// namespaces that are gone, and each fsync under the store lock serialised parallel
    /// container creation. A record left empty or torn by a power loss reads as absent.
    pub fn save_sandbox(&self, rec: &SandboxRecord) -> Result<()> {
        let path = self.sandbox_path(&rec.id);
        let bytes = serde_json::to_vec(rec).map_err(|e| NetworkError::State { path: path.clone(), source: e })?;
        let parent = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| NetworkError::io(parent, e))?;
        crate::fsutil::replace_file(&path, &bytes, false).map_err(|e| NetworkError::io(&path, e))?;
        if let Some(stamp) = Stamp::of(&path) {
            self.cache().insert(path, (stamp, rec.clone()));
        }
        remove_file(&self.legacy_sandboxes().join(format!("{}.json", rec.id)))
    }

    pub fn delete_sandbox(&self, id: &str) -> Result<()> {
        let path = self.sandbox_path(id);
        self.cache().remove(&path);
        remove_file(&path)?;
        remove_file(&self.legacy_sandboxes().join(format!("{id}.json")))
    }

    /// Every sandbox record of this state root.
    pub fn sandboxes(&self) -> Result<Vec<SandboxRecord>> {
        let mut out: Vec<SandboxRecord> = Vec::new();
        for path in json_files(&self.run.join("sandboxes"))? {
            if let Some(rec) = self.read_sandbox(&path)? {
                out.push(rec);
            }
        }
        for path in json_files(&self.legacy_sandboxes())? {
            if let Some(rec) = self.read_sandbox(&path)? {
                if !out.iter().any(|r| r.id == rec.id) {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (Stamp, SandboxRecord)>> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A sandbox record, from the cache when its file has not changed since it was parsed.
    fn read_sandbox(&self, path: &Path) -> Result<Option<SandboxRecord>> {
        let Some(stamp) = Stamp::of(path) else {
            self.cache().remove(path);
            return Ok(None);
        };
        if let Some((s, rec)) = self.cache().get(path) {
            if *s == stamp {
                return Ok(Some(rec.clone()));
            }
        }
        let rec = read_sandbox(path)?;
        match &rec {
            // Stamp again: a record replaced between the stat and the read is not cached.
            Some(r) if Stamp::of(path) == Some(stamp) => {
                self.cache().insert(path.to_path_buf(), (stamp, r.clone()));
            }
            _ => {}
        }
        Ok(rec)
    }
}

/// An exclusive flock(2) on a lock file, held until drop (closing the fd releases it).
pub struct LockGuard {
    _file: File,
}

impl LockGuard {
    pub fn take(path: &Path) -> Result<Self> {
        let file = crate::fsutil::lock_file(path, libc::LOCK_EX).map_err(|e| NetworkError::io(path, e))?;
        Ok(LockGuard { _file: file })
    }
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(NetworkError::io(dir, e)),
    };
    Ok(entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect())
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| NetworkError::State { path: path.into(), source: e })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NetworkError::io(path, e)),
    }
}

/// A sandbox record, or None when it is missing or unreadable (see `save_sandbox`: after a
/// power loss its namespace is gone too, so there is nothing left for it to describe).
fn read_sandbox(path: &Path) -> Result<Option<SandboxRecord>> {
    match read_json(path) {
        Err(NetworkError::State { path, source }) => {
            tracing::warn!("ignoring unreadable sandbox record {}: {source}", path.display());
            Ok(None)
        }
        other => other,
    }
}

/// Write-temp, fsync, rename: a crash leaves the old or the new file, never half of one.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| NetworkError::State { path: path.into(), source: e })?;
    write_atomic(path, &bytes)
}

/// Creates the directory if needed (network state dirs appear lazily).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| NetworkError::io(parent, e))?;
    crate::fsutil::write_atomic(path, bytes).map_err(|e| NetworkError::io(path, e))
}

pub fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetworkError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_records_roundtrip_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&Roots::new(Some(dir.path())));
        let rec = NetworkRecord {
            name: "demo_default".into(),
            project: "demo".into(),
            bridge: "bth-1".into(),
            subnet: "10.213.0.0/24".parse().unwrap(),
            gateway: "10.213.0.1".parse().unwrap(),
            internal: false,
            labels: BTreeMap::new(),
            endpoints: BTreeMap::from([("c1".to_string(), "10.213.0.2".parse().unwrap())]),
            subnet6: Some("fd00:1::/64".parse().unwrap()),
            gateway6: Some("fd00:1::1".parse().unwrap()),
            endpoints6: BTreeMap::from([("c1".to_string(), "fd00:1::2".parse().unwrap())]),
        };
        let _g = store.lock().unwrap();
        store.save_network(&rec).unwrap();
        assert_eq!(store.load_network("demo_default").unwrap(), Some(rec.clone()));
        assert_eq!(store.networks().unwrap(), vec![rec]);
        store.delete_network("demo_default").unwrap();
        store.delete_network("demo_default").unwrap();
        assert!(store.networks().unwrap().is_empty());
    }

    fn sandbox(id: &str, project: &str) -> SandboxRecord {
        SandboxRecord {
            id: id.into(),
            netns: PathBuf::from("/nonexistent"),
            endpoints: Vec::new(),
            hosts: None,
            registration: None,
            project: Some(project.into()),
            ports: Vec::new(),
        }
    }

    #[test]
    fn sandbox_records_from_an_older_berth_are_read_and_moved() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&Roots::new(Some(dir.path())));
        let legacy = dir.path().join("networks/sandboxes");
        fs::create_dir_all(&legacy).unwrap();
        fs::write(legacy.join("old-1.json"), serde_json::to_vec(&sandbox("old-1", "p")).unwrap()).unwrap();
        store.save_sandbox(&sandbox("new-1", "p")).unwrap();
        assert!(store.sandbox_path("new-1").starts_with(dir.path().join("run")), "records live in the run dir");
        assert_eq!(store.load_sandbox("old-1").unwrap().map(|r| r.id), Some("old-1".to_string()));
        let mut ids: Vec<String> = store.sandboxes().unwrap().into_iter().map(|r| r.id).collect();
        ids.sort();
        assert_eq!(ids, ["new-1", "old-1"]);
        // Its next write moves it: listed once, from the run dir.
        store.save_sandbox(&sandbox("old-1", "q")).unwrap();
        assert!(!legacy.join("old-1.json").exists());
        assert_eq!(store.sandboxes().unwrap().len(), 2);
        assert_eq!(store.load_sandbox("old-1").unwrap().and_then(|r| r.project), Some("q".to_string()));
        store.delete_sandbox("old-1").unwrap();
        store.delete_sandbox("new-1").unwrap();
        assert!(store.sandboxes().unwrap().is_empty());
    }

    #[test]
    fn cached_sandbox_records_follow_writes_by_other_processes() {
        let dir = tempfile::tempdir().unwrap();
        let ours = Store::new(&Roots::new(Some(dir.path())));
        let theirs = Store::new(&Roots::new(Some(dir.path())));
        ours.save_sandbox(&sandbox("c1", "a")).unwrap();
        assert_eq!(ours.sandboxes().unwrap()[0].project.as_deref(), Some("a"));
        theirs.save_sandbox(&sandbox("c1", "b")).unwrap();
        assert_eq!(ours.load_sandbox("c1").unwrap().and_then(|r| r.project), Some("b".to_string()));
        assert_eq!(ours.sandboxes().unwrap()[0].project.as_deref(), Some("b"));
        theirs.delete_sandbox("c1").unwrap();
        assert!(ours.load_sandbox("c1").unwrap().is_none());
        assert!(ours.sandboxes().unwrap().is_empty());
    }
}
