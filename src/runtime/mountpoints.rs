//! Mount points for the files bound under /etc (hosts, hostname, resolv.conf), made in the
//! container's upper dir at create time when no image layer has them.
//!
//! Why: made later, from inside the container, each goes through overlayfs: a temp file in
//! the work dir, a rename into the upper dir, and a copy-up of /etc first, several times the
//! cost of a plain create in the upper dir, on every container start. What the container sees
//! is the same: an empty regular file under the bind mount, in an /etc whose mode and owner
//! are the image's (copied from the top-most layer that has it, as a copy-up would).
//!
//! Left to the container's own setup (nothing made here): user namespaces (the upper dir must
//! belong to the mapped root), and any layer whose `etc` is not a plain directory (a symlink,
//! a whiteout) or whose `etc/NAME` exists or is whited out.

use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::config::{ContainerConfig, Mount};

/// Make `upper/etc/NAME` for each file bind under /etc that the layers lack. Best effort: on
/// any doubt or error it makes nothing more, and the container's setup makes what is missing.
pub fn precreate(upper: &Path, cfg: &ContainerConfig) {
    if cfg.namespaces.user.is_some() {
        return;
    }
    let names: Vec<&str> = cfg
        .mounts
        .iter()
        .filter_map(|m| match m {
            Mount::Bind { source, target, .. } if source.is_file() => target.strip_prefix("/etc/"),
            _ => None,
        })
        .filter(|n| !n.is_empty() && !n.contains('/') && *n != "." && *n != "..")
        .collect();
    if names.is_empty() {
        return;
    }
    let Some(etc_meta) = plain_etc(&cfg.layers) else { return };
    let etc = upper.join("etc");
    if fs::create_dir(&etc).is_err() {
        return;
    }
    if let Some(m) = etc_meta {
        let _ = fs::set_permissions(&etc, fs::Permissions::from_mode(m.mode() & 0o7777));
        let _ = std::os::unix::fs::chown(&etc, Some(m.uid()), Some(m.gid()));
    }
    for name in names {
        if cfg.layers.iter().any(|l| present_or_whited_out(&l.join("etc"), name)) {
            continue;
        }
        let _ = fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(etc.join(name));
    }
}

/// Every layer's `etc` is absent or a real directory: Some(metadata of the top-most one, if
/// any); None when one is anything else (then nothing is made here).
fn plain_etc(layers: &[PathBuf]) -> Option<Option<fs::Metadata>> {
    let mut top = None;
    for l in layers {
        match fs::symlink_metadata(l.join("etc")) {
            Ok(m) if m.is_dir() => top = Some(m),
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
        if fs::symlink_metadata(l.join(".wh.etc")).is_ok() {
            return None;
        }
    }
    Some(top)
}

fn present_or_whited_out(dir: &Path, name: &str) -> bool {
    fs::symlink_metadata(dir.join(name)).is_ok() || fs::symlink_metadata(dir.join(format!(".wh.{name}"))).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::config::UserNs;

    fn cfg(layers: Vec<PathBuf>, source: &Path) -> ContainerConfig {
        let bind = |t: &str| Mount::Bind {
            source: source.to_path_buf(),
            target: t.to_string(),
            read_only: false,
            propagation: Default::default(),
        };
        ContainerConfig {
            layers,
            mounts: vec![bind("/etc/hosts"), bind("/etc/resolv.conf"), bind("/data/x"), bind("/etc/a/b")],
            ..Default::default()
        }
    }

    fn made(upper: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(upper.join("etc"))
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn makes_missing_etc_files_with_the_images_etc_mode() {
        let t = tempfile::tempdir().unwrap();
        let (low, high, upper, src) =
            (t.path().join("l0"), t.path().join("l1"), t.path().join("up"), t.path().join("src"));
        fs::create_dir_all(low.join("etc")).unwrap();
        fs::set_permissions(low.join("etc"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(low.join("etc/resolv.conf"), "").unwrap(); // the image has this one
        fs::create_dir_all(&high).unwrap();
        fs::create_dir_all(&upper).unwrap();
        fs::write(&src, "x").unwrap();
        precreate(&upper, &cfg(vec![low, high], &src));
        assert_eq!(made(&upper), ["hosts"], "only /etc files the layers lack, one level deep");
        let m = fs::metadata(upper.join("etc")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o750, "upper etc takes the image's mode");
        assert_eq!(fs::metadata(upper.join("etc/hosts")).unwrap().len(), 0);
    }

    #[test]
    fn leaves_odd_images_and_user_namespaces_to_the_container_setup() {
        let t = tempfile::tempdir().unwrap();
        let (layer, upper, src) = (t.path().join("l0"), t.path().join("up"), t.path().join("src"));
        fs::create_dir_all(&layer).unwrap();
        fs::create_dir_all(&upper).unwrap();
        fs::write(&src, "x").unwrap();
        std::os::unix::fs::symlink("private/etc", layer.join("etc")).unwrap();
        precreate(&upper, &cfg(vec![layer.clone()], &src));
        assert!(!upper.join("etc").exists(), "etc is a symlink in the image");
        fs::remove_file(layer.join("etc")).unwrap();
        let mut c = cfg(vec![layer], &src);
        c.namespaces.user = Some(UserNs::default());
        precreate(&upper, &c);
        assert!(!upper.join("etc").exists(), "user namespace");
    }
}
