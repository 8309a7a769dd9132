//! [`VolumeManager::mounts_for`]: a container's [`MountRequest`]s (its service's `volumes:`
//! and `tmpfs:`), and its image's `VOLUME`s, → the runtime mounts of one container. Named and anonymous volumes are ensured
//! here, and an empty one gets the image's content at its target (Docker's copy-up) unless
//! `volume.nocopy` is set.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use crate::common::{Mount, Propagation};

use super::anonymous::{anonymous_spec, new_anonymous_name, normal_target, uncovered_image_volumes};
use super::binds::{bind_mount, check_target};
use super::copyup;
use super::error::{io_err, Result, VolumeError};
use super::manager::{VolumeInfo, VolumeManager, VolumeSpec};
use super::request::MountRequest;
use super::store::bind_device;
use crate::fsat;

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
    /// Every mount of one container of `service_name` of project `project`, in the order
    /// asked (the service's `volumes:` then `tmpfs:`), then an anonymous volume for each image
    /// `VOLUME` none of them covers (Docker's rule: a service mount on the path replaces the
    /// image's volume).
    pub fn mounts_for(
        &self,
        service_name: &str,
        requests: &[MountRequest],
        project: &str,
        container_id: &str,
        image: &ImageMounts<'_>,
    ) -> Result<Vec<Mount>> {
        let image_layers = image.layers;
        let mut out = Vec::with_capacity(requests.len() + image.volumes.len());
        for r in requests {
            check_target(service_name, r.target())?;
            let m = match r {
                MountRequest::Bind { .. } => bind_mount(service_name, r)?,
                MountRequest::Tmpfs { target, size, mode } => {
                    Mount::Tmpfs { target: target.clone(), size: *size, mode: *mode }
                }
                MountRequest::Volume { volume, target, read_only, nocopy, subpath } => {
                    if subpath.is_some() {
                        let kind = "volume with subpath".to_string();
                        return Err(VolumeError::UnsupportedMount {
                            service: service_name.into(),
                            kind,
                            target: target.clone(),
                        });
                    }
                    let spec = match volume {
                        Some(spec) => spec.clone(),
                        None => self.anonymous_for(project, container_id, target, image.inherit)?,
                    };
                    self.volume_mount(&spec, target, *read_only, *nocopy, image)?
                }
                MountRequest::Unsupported { kind, target } => {
                    return Err(VolumeError::UnsupportedMount {
                        service: service_name.into(),
                        kind: kind.clone(),
                        target: target.clone(),
                    });
                }
            };
            out.push(m);
        }
        let covered: Vec<&str> = out
            .iter()
            .map(|m| match m {
                Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target.as_str(),
            })
            .collect();
        for target in uncovered_image_volumes(image.volumes, &covered) {
            let info = self.ensure(&self.anonymous_for(project, container_id, target, image.inherit)?)?;
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

    fn volume_mount(
        &self,
        spec: &VolumeSpec,
        target: &str,
        read_only: bool,
        nocopy: bool,
        image: &ImageMounts<'_>,
    ) -> Result<Mount> {
        let layers = image.layers;
        let info = self.ensure(spec)?;
        // A bind volume's device is the user's own directory: never filled from the image.
        if !nocopy && bind_device(&info.driver_opts).is_none() && !layers.is_empty() {
            self.copy_up_if_empty(&info, target, layers)?;
        }
        Ok(Mount::Bind {
            source: info.path,
            target: target.to_string(),
            read_only,
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
