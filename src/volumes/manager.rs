//! [`VolumeManager`]: named volumes' lifecycle (ensure, create, inspect, list, remove, prune).
//! Volumes are labelled with the project that created them; external volumes are only ever
//! looked up, so they never carry a project label and no project-scoped removal touches them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::common::Mount;
use crate::paths::Roots;

use super::error::{Result, VolumeError};
use super::store::{bind_device, validate_name, VolumeMeta, VolumeStore};

/// Labels berth puts on volumes it creates for containers.
pub mod labels {
    /// `true` on an anonymous volume (removed with its container by `down -v` / `rm -v`).
    pub const ANONYMOUS: &str = "berth.volume.anonymous";
    /// The container an anonymous volume belongs to.
    pub const CONTAINER: &str = "berth.volume.container";
    /// The path an anonymous volume is mounted at in its container.
    pub const TARGET: &str = "berth.volume.target";
}

/// What the caller wants to exist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeSpec {
    /// The real name (`demo_data`, or the volume's `name:`).
    pub name: String,
    /// The project label (None for `berth volume create`).
    pub project: Option<String>,
    /// Look up only; never create (or remove).
    pub external: bool,
    /// None or `local`.
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A volume that exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeInfo {
    pub name: String,
    /// The host directory mounted into containers.
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    pub created: String,
}

impl VolumeInfo {
    pub fn is_anonymous(&self) -> bool {
        self.labels.get(labels::ANONYMOUS).is_some_and(|v| v == "true")
    }
}

/// Who bind-mounts a path, asked before a volume is removed. The runtime knows (its
/// containers' configs); the volumes layer never reads the runtime's state itself. Any
/// `Fn(&Path) -> Vec<String>` is one (tests pass a fake).
pub trait MountUsers: Send + Sync {
    /// Ids of the containers (running or not) that bind-mount `path` or anything inside it.
    fn users_of(&self, path: &Path) -> Vec<String>;
}

impl<F: Fn(&Path) -> Vec<String> + Send + Sync> MountUsers for F {
    fn users_of(&self, path: &Path) -> Vec<String> {
        self(path)
    }
}

pub struct VolumeManager {
    store: VolumeStore,
    users: Box<dyn MountUsers>,
}

impl VolumeManager {
    /// The volumes under `roots`, with `users` telling which containers mount a volume.
    pub fn new(roots: &Roots, users: impl MountUsers + 'static) -> Self {
        VolumeManager { store: VolumeStore::new(roots.volumes()), users: Box::new(users) }
    }

    fn info(&self, meta: VolumeMeta) -> VolumeInfo {
        VolumeInfo {
            path: self.store.host_path(&meta),
            name: meta.name,
            project: meta.project,
            labels: meta.labels,
            driver_opts: meta.driver_opts,
            created: meta.created,
        }
    }

    /// The volume, created on first use (idempotent); an external one is only looked up.
    pub fn ensure(&self, spec: &VolumeSpec) -> Result<VolumeInfo> {
        validate_name(&spec.name)?;
        if let Some(meta) = self.store.read(&spec.name)? {
            check_device(&meta.name, &meta.driver_opts)?;
            return Ok(self.info(meta));
        }
        if spec.external {
            return Err(VolumeError::ExternalNotFound(spec.name.clone()));
        }
        self.create_new(spec)
    }

    /// `berth volume create`: a new volume; an error if it exists.
    pub fn create(&self, spec: &VolumeSpec) -> Result<VolumeInfo> {
        if self.store.read(&spec.name)?.is_some() {
            return Err(VolumeError::AlreadyExists(spec.name.clone()));
        }
        self.create_new(spec)
    }

    fn create_new(&self, spec: &VolumeSpec) -> Result<VolumeInfo> {
        if let Some(d) = spec.driver.as_deref().filter(|d| *d != "local") {
            return Err(VolumeError::UnsupportedDriver { name: spec.name.clone(), driver: d.into() });
        }
        if !spec.driver_opts.is_empty() && bind_device(&spec.driver_opts).is_none() {
            let opts = format!("{:?}", spec.driver_opts);
            return Err(VolumeError::UnsupportedDriverOpts { name: spec.name.clone(), opts });
        }
        check_device(&spec.name, &spec.driver_opts)?;
        let meta = VolumeMeta {
            name: spec.name.clone(),
            project: spec.project.clone(),
            labels: spec.labels.clone(),
            driver_opts: spec.driver_opts.clone(),
            created: crate::timefmt::rfc3339_now(),
        };
        self.store.create(&meta)?;
        tracing::debug!(volume = %meta.name, "volume created");
        Ok(self.info(meta))
    }

    pub fn get(&self, name: &str) -> Result<VolumeInfo> {
        let meta = self.store.read(name)?.ok_or_else(|| VolumeError::NotFound(name.into()))?;
        Ok(self.info(meta))
    }

    /// Volumes, all or those labelled with `project`, by name.
    pub fn list(&self, project: Option<&str>) -> Result<Vec<VolumeInfo>> {
        let all = self.store.list()?;
        Ok(all
            .into_iter()
            .filter(|m| project.is_none() || m.project.as_deref() == project)
            .map(|m| self.info(m))
            .collect())
    }

    /// Remove a volume and its data (idempotent: a missing volume is fine). Refused while any
    /// container record (running or not) mounts it, as Docker does. The device of a bind
    /// volume is the user's directory and is never touched.
    pub fn remove(&self, name: &str) -> Result<()> {
        let Some(meta) = self.store.read(name)? else { return Ok(()) };
        if let Some(container) = self.users(&self.store.host_path(&meta)).into_iter().next() {
            return Err(VolumeError::InUse { name: name.into(), container });
        }
        self.store.delete(&meta)?;
        tracing::debug!(volume = name, "volume removed");
        Ok(())
    }

    /// Remove every volume (of `project`, or all) that no container uses; returns their names.
    pub fn prune(&self, project: Option<&str>) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for v in self.list(project)? {
            if self.users(&v.path).is_empty() {
                self.remove(&v.name)?;
                removed.push(v.name);
            }
        }
        Ok(removed)
    }

    /// Remove the anonymous volumes of `project` that `mounts` (a removed container's) name
    /// (`rm -v`). Keeps going past a failure and reports the first.
    pub fn remove_anonymous(&self, project: &str, mounts: &[Mount]) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        let mut first_err = None;
        for (_, name) in super::anonymous::anonymous_mounts(&self.list(Some(project))?, mounts) {
            match self.remove(&name) {
                Ok(()) => removed.push(name),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        first_err.map_or(Ok(removed), Err)
    }

    /// Ids of the containers (running or not) that bind-mount `path` or anything inside it.
    fn users(&self, path: &Path) -> Vec<String> {
        self.users.users_of(path)
    }

    pub(crate) fn store(&self) -> &VolumeStore {
        &self.store
    }
}

/// A bind volume's device must exist (and be a directory) whenever the volume is used.
fn check_device(name: &str, opts: &BTreeMap<String, String>) -> Result<()> {
    match bind_device(opts) {
        Some(dev) if !dev.is_absolute() || !dev.is_dir() => {
            Err(VolumeError::MissingDevice { name: name.into(), path: dev })
        }
        _ => Ok(()),
    }
}
