//! Anonymous volumes, as Docker makes them: one per `VOLUME` of the image (unless a service
//! mount covers the path) and per `- /path` entry in a service's `volumes:`, each named by a
//! fresh 64-hex id and labelled with its project, its container and its target.
//!
//! The names are random, not derived from the container, so that a container created after a
//! `down` gets new volumes (the old ones stay, orphaned, until `down -v` or `volume prune`,
//! as with Compose), while a recreate hands its predecessor's volumes over explicitly (the
//! planner's `inherit` map). Which volume a container uses is read back from its own mounts
//! ([`anonymous_mounts`]), never from a label alone: an orphan and its successor share the
//! container label.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::Mount;

use super::error::{Result, VolumeError};
use super::manager::{labels, VolumeInfo, VolumeSpec};

/// A new anonymous volume name: 32 random bytes as 64 hex digits (Docker's form).
pub fn new_anonymous_name() -> Result<String> {
    crate::common::ids::hex_id(32).map_err(VolumeError::Random)
}

/// The spec of anonymous volume `name` of `container_id` at `target`.
pub fn anonymous_spec(project: &str, container_id: &str, target: &str, name: String) -> VolumeSpec {
    let labels = BTreeMap::from([
        (labels::ANONYMOUS.to_string(), "true".to_string()),
        (labels::CONTAINER.to_string(), container_id.to_string()),
        (labels::TARGET.to_string(), target.to_string()),
    ]);
    VolumeSpec { name, project: Some(project.to_string()), labels, ..VolumeSpec::default() }
}

/// A mount target without its trailing slashes (`/data/` and `/data` are the same path).
pub fn normal_target(target: &str) -> &str {
    let t = target.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

/// The image `VOLUME` paths that get an anonymous volume: those no service mount (volume,
/// bind, tmpfs) targets, each once, in the image's order.
pub fn uncovered_image_volumes<'a>(image_volumes: &'a [String], covered: &[&str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in image_volumes {
        let t = normal_target(v);
        if t.starts_with('/') && !covered.iter().any(|c| normal_target(c) == t) && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The anonymous volumes among `volumes` that `mounts` bind-mount: (target, volume name).
pub fn anonymous_mounts(volumes: &[VolumeInfo], mounts: &[Mount]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in mounts {
        let Mount::Bind { source, target, .. } = m else { continue };
        let found = volumes.iter().find(|v| v.is_anonymous() && Path::new(&v.path) == source.as_path());
        if let Some(v) = found {
            out.push((normal_target(target).to_string(), v.name.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Propagation;

    #[test]
    fn names_are_fresh_64_hex_and_valid() {
        let a = new_anonymous_name().unwrap();
        let b = new_anonymous_name().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        super::super::store::validate_name(&a).unwrap();
    }

    #[test]
    fn service_mounts_cover_image_volumes() {
        let image = vec!["/data".to_string(), "/logs/".to_string(), "/cache".to_string(), "/data".to_string()];
        assert_eq!(uncovered_image_volumes(&image, &[]), ["/data", "/logs", "/cache"]);
        assert_eq!(uncovered_image_volumes(&image, &["/data/", "/cache"]), ["/logs"]);
    }

    #[test]
    fn a_container_uses_the_volume_its_mounts_name() {
        let vol = |name: &str, anon: bool| VolumeInfo {
            name: name.into(),
            path: format!("/v/{name}/_data").into(),
            project: Some("p".into()),
            labels: if anon { anonymous_spec("p", "c", "/data", name.into()).labels } else { BTreeMap::new() },
            driver_opts: BTreeMap::new(),
            created: String::new(),
        };
        let bind = |name: &str, target: &str| Mount::Bind {
            source: format!("/v/{name}/_data").into(),
            target: target.into(),
            read_only: false,
            propagation: Propagation::default(),
        };
        let vols = [vol("old", true), vol("new", true), vol("named", false)];
        let mounts = [bind("new", "/data/"), bind("named", "/n")];
        assert_eq!(anonymous_mounts(&vols, &mounts), [("/data".to_string(), "new".to_string())]);
    }
}
