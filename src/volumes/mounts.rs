//! [`VolumeManager::mounts_for`]: a service's `volumes:` and `tmpfs:`, and its image's
//! `VOLUME`s, → the runtime mounts of one container. Named and anonymous volumes are ensured
//! here, and an empty one gets the image's content at its target (Docker's copy-up) unless
//! `volume.nocopy` is set.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use crate::runtime::{Mount, Propagation};
use crate::spec::model::{MountKind, Service, ServiceVolume, Stack};

use super::anonymous::{anonymous_spec, new_anonymous_name, normal_target, uncovered_image_volumes};
use super::binds::{bind_mount, check_target, tmpfs_entry, tmpfs_long};
use super::copyup;
use super::error::{io_err, Result, VolumeError};
use super::manager::{VolumeInfo, VolumeManager, VolumeSpec};
use super::store::bind_device;
use crate::fsat;

impl VolumeSpec {
    /// The spec of top-level volume `key` of `stack` (what `up` ensures before containers).
    pub fn from_stack(stack: &Stack, key: &str) -> Option<VolumeSpec> {
        let vol = stack.volumes.get(key)?;
        let owned = |m: &indexmap::IndexMap<String, String>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Some(VolumeSpec {
            name: vol.name.clone(),
            project: Some(stack.name.clone()),
            external: vol.external,
            driver: vol.driver.clone(),
            driver_opts: owned(&vol.driver_opts),
            labels: owned(&vol.labels),
        })
    }
}

/// What the image and the container being replaced contribute to a container's mounts.
#[derive(Debug, Clone, Copy)]
pub struct ImageMounts<'a> {
    /// The image's unpacked layers, lowest first (the copy-up source).
    pub layers: &'a [PathBuf],
    /// The image's `VOLUME` paths: each gets an anonymous volume unless a service mount
    /// covers it.
    pub volumes: &'a [String],
    /// Anonymous volumes to take over from the container this one replaces, by target.
    pub inherit: &'a BTreeMap<String, String>,
}

static NO_INHERIT: BTreeMap<String, String> = BTreeMap::new();

impl Default for ImageMounts<'_> {
    /// No image content, no image volumes, nothing inherited.
    fn default() -> Self {
        ImageMounts { layers: &[], volumes: &[], inherit: &NO_INHERIT }
    }
}

impl VolumeManager {
    /// Every mount of one container of `service_name`, in the order the stack lists them
    /// (`volumes:` then `tmpfs:`), then an anonymous volume for each image `VOLUME` none of
    /// them covers (Docker's rule: a service mount on the path replaces the image's volume).
    pub fn mounts_for(
        &self,
        service_name: &str,
        service: &Service,
        stack: &Stack,
        container_id: &str,
        image: &ImageMounts<'_>,
    ) -> Result<Vec<Mount>> {
        let image_layers = image.layers;
        let mut out = Vec::with_capacity(service.volumes.len() + service.tmpfs.len() + image.volumes.len());
        for v in &service.volumes {
            check_target(service_name, &v.target)?;
            let m = match v.kind {
                MountKind::Bind => bind_mount(service_name, v)?,
                MountKind::Tmpfs => tmpfs_long(service_name, v)?,
                MountKind::Volume => self.volume_mount(service_name, v, stack, container_id, image)?,
                other => {
                    let kind = serde_json::to_value(other).ok().and_then(|k| k.as_str().map(str::to_string));
                    return Err(VolumeError::UnsupportedMount {
                        service: service_name.into(),
                        kind: kind.unwrap_or_default(),
                        target: v.target.clone(),
                    });
                }
            };
            out.push(m);
        }
        for t in &service.tmpfs {
            out.push(tmpfs_entry(service_name, t)?);
        }
        let covered: Vec<&str> = out
            .iter()
            .map(|m| match m {
                Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target.as_str(),
            })
            .collect();
        for target in uncovered_image_volumes(image.volumes, &covered) {
            let info = self.ensure(&self.anonymous_for(&stack.name, container_id, target, image.inherit)?)?;
            if !image_layers.is_empty() {
                self.copy_up_if_empty(&info, target, image_layers)?;
            }
            let propagation = Propagation::default();
            out.push(Mount::Bind { source: info.path, target: target.to_string(), read_only: false, propagation });
        }
        Ok(out)
    }

    /// The anonymous volume of `container_id` at `target`: the one it inherits from the
    /// container it replaces, else a new one.
    fn anonymous_for(
        &self,
        project: &str,
        container_id: &str,
        target: &str,
        inherit: &BTreeMap<String, String>,
    ) -> Result<VolumeSpec> {
        let name = match inherit.get(normal_target(target)) {
            Some(name) => name.clone(),
            None => new_anonymous_name()?,
        };
        Ok(anonymous_spec(project, container_id, normal_target(target), name))
    }

    /// The spec of the volume a `type: volume` entry names (or of its anonymous volume).
    fn spec_for(
        &self,
        service: &str,
        v: &ServiceVolume,
        stack: &Stack,
        container_id: &str,
        inherit: &BTreeMap<String, String>,
    ) -> Result<VolumeSpec> {
        let Some(key) = v.source.as_deref() else {
            return self.anonymous_for(&stack.name, container_id, &v.target, inherit);
        };
        VolumeSpec::from_stack(stack, key)
            .ok_or_else(|| VolumeError::Undeclared { service: service.into(), volume: key.into() })
    }

    fn volume_mount(
        &self,
        service: &str,
        v: &ServiceVolume,
        stack: &Stack,
        container_id: &str,
        image: &ImageMounts<'_>,
    ) -> Result<Mount> {
        let layers = image.layers;
        if v.volume.as_ref().is_some_and(|o| o.subpath.is_some()) {
            let kind = "volume with subpath".to_string();
            return Err(VolumeError::UnsupportedMount { service: service.into(), kind, target: v.target.clone() });
        }
        let info = self.ensure(&self.spec_for(service, v, stack, container_id, image.inherit)?)?;
        let nocopy = v.volume.as_ref().is_some_and(|o| o.nocopy);
        // A bind volume's device is the user's own directory: never filled from the image.
        if !nocopy && bind_device(&info.driver_opts).is_none() && !layers.is_empty() {
            self.copy_up_if_empty(&info, &v.target, layers)?;
        }
        Ok(Mount::Bind {
            source: info.path,
            target: v.target.clone(),
            read_only: v.read_only,
            propagation: Propagation::default(),
        })
    }

    /// Copy the image's content at `target` into the volume if the volume is empty. Serialized
    /// per volume by an flock(2) on its directory; a failed copy empties the volume again so
    /// the next mount retries rather than finding a half-filled volume "non-empty".
    pub fn copy_up_if_empty(&self, info: &VolumeInfo, target: &str, layers: &[PathBuf]) -> Result<bool> {
        let dir = self.store().dir(&info.name);
        let lock = fsat::open_dir(&dir).map_err(io_err(&dir))?;
        crate::fsutil::flock_wait(&lock, &dir, libc::LOCK_EX, crate::fsutil::lock_timeout()).map_err(io_err(&dir))?;
        if !copyup::is_empty(&info.path).map_err(io_err(&info.path))? {
            return Ok(false);
        }
        let dest = fsat::open_dir(&info.path).map_err(io_err(&info.path))?;
        let copy_err = |source| VolumeError::CopyUp { name: info.name.clone(), target: target.into(), source };
        match copyup::copy_up(layers, target, &dest) {
            Ok(copied) => {
                tracing::debug!(volume = %info.name, target, copied, "copy-up");
                Ok(copied)
            }
            Err(e) => {
                empty_dir(&info.path);
                Err(copy_err(e))
            }
        }
    }
}

/// Best effort: remove everything inside `dir` (never following symlinks).
fn empty_dir(dir: &std::path::Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let r = match e.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
            _ => fs::remove_file(&p),
        };
        if let Err(err) = r {
            tracing::warn!(path = %p.display(), "cleaning up a failed copy-up: {err}");
        }
    }
}
