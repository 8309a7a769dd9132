//! Named volumes on disk, without containers: create on first use, idempotence, project
//! scoping, external volumes (looked up, never created or removed), bind volumes, copy-up from
//! layered images (owners, modes, whiteouts, opaque dirs), nocopy and non-empty volumes.

#[path = "volumes_common/mod.rs"]
mod common;
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use berth::runtime::Mount;
use berth::volumes::{VolumeError, VolumeSpec};
use common::*;

fn spec(name: &str, project: Option<&str>) -> VolumeSpec {
    VolumeSpec { name: name.into(), project: project.map(str::to_string), ..VolumeSpec::default() }
}

#[test]
fn named_volumes_are_created_once_and_scoped_by_project() {
    if !support::require_root() {
        return;
    }
    let env = env("scope");
    let p = env.project.clone();
    let a = env.vm.ensure(&spec(&format!("{p}_data"), Some(&p))).unwrap();
    assert!(a.path.is_dir() && a.path.ends_with("_data"), "{}", a.path.display());
    fs::write(a.path.join("keep"), b"1").unwrap();
    let again = env.vm.ensure(&spec(&format!("{p}_data"), Some(&p))).unwrap();
    assert_eq!(again, a, "ensure is idempotent and keeps the data");
    assert!(a.path.join("keep").exists());
    env.vm.ensure(&spec("other_data", Some("other"))).unwrap();
    let names = |proj: Option<&str>| env.vm.list(proj).unwrap().into_iter().map(|v| v.name).collect::<Vec<_>>();
    assert_eq!(names(Some(&p)), vec![format!("{p}_data")]);
    assert_eq!(names(None).len(), 2);
    assert_eq!(env.vm.prune(Some(&p)).unwrap(), vec![format!("{p}_data")]);
    assert!(!a.path.exists(), "removing the volume removes its data");
    assert_eq!(names(None), vec!["other_data".to_string()]);
    env.vm.remove("other_data").unwrap();
    env.vm.remove("other_data").unwrap();
    assert!(matches!(env.vm.get("other_data"), Err(VolumeError::NotFound(_))));
    assert!(matches!(env.vm.ensure(&spec("../x", None)), Err(VolumeError::InvalidName(_))));
}

#[test]
fn external_volumes_are_looked_up_never_created_or_removed() {
    if !support::require_root() {
        return;
    }
    let env = env("external");
    let name = format!("{}-shared", env.project);
    let stack = env.stack("proj", &format!(
        "services:\n  app:\n    image: busybox\n    volumes: [shared:/data]\nvolumes:\n  shared:\n    external: true\n    name: {name}\n"
    ));
    let err = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap_err().to_string();
    assert_eq!(err, format!("external volume `{name}` not found; create it with `berth volume create {name}`"));
    assert!(env.vm.list(None).unwrap().is_empty(), "an external volume is never created");

    let created = env.vm.create(&spec(&name, None)).unwrap();
    fs::write(created.path.join("precious"), b"x").unwrap();
    let mounts = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap();
    assert_eq!(
        mounts,
        vec![Mount::Bind {
            source: created.path.clone(),
            target: "/data".into(),
            read_only: false,
            propagation: Default::default()
        }]
    );
    // `down -v` removes the project's volumes: the external one carries no project label.
    assert!(env.vm.prune(Some(&env.project)).unwrap().is_empty());
    assert!(created.path.join("precious").exists());
    assert!(matches!(env.vm.create(&spec(&name, None)), Err(VolumeError::AlreadyExists(_))));
    env.vm.remove(&name).unwrap();
}

#[test]
fn bind_volumes_use_their_device_and_never_delete_it() {
    if !support::require_root() {
        return;
    }
    let env = env("binddev");
    let dev = env.dir.path().join("device");
    let opts = |d: &std::path::Path| {
        BTreeMap::from([
            ("type".to_string(), "none".to_string()),
            ("o".to_string(), "bind".to_string()),
            ("device".to_string(), d.to_string_lossy().into_owned()),
        ])
    };
    let mut s = spec(&format!("{}_dev", env.project), Some(&env.project));
    s.driver_opts = opts(&dev);
    let e = env.vm.ensure(&s).unwrap_err().to_string();
    assert!(e.contains("does not exist") && e.contains(dev.to_str().unwrap()), "{e}");
    fs::create_dir(&dev).unwrap();
    fs::write(dev.join("mine"), b"x").unwrap();
    let v = env.vm.ensure(&s).unwrap();
    assert_eq!(v.path, dev);
    env.vm.remove(&v.name).unwrap();
    assert!(dev.join("mine").exists(), "the device of a bind volume is the user's directory");
    s.driver_opts = BTreeMap::from([("type".to_string(), "nfs".to_string())]);
    assert!(matches!(env.vm.ensure(&s), Err(VolumeError::UnsupportedDriverOpts { .. })));
}

/// An image with /data/seed.txt owned by 1000:1000, mode 0640, in the top layer, plus lower
/// content that a whiteout and an opaque directory hide.
fn seeded_layers(env: &Env) -> Vec<std::path::PathBuf> {
    let low = env.layer("low", |l| {
        fs::create_dir_all(l.join("data/sub")).unwrap();
        fs::write(l.join("data/gone.txt"), b"hidden by a whiteout").unwrap();
        fs::write(l.join("data/sub/old.txt"), b"hidden by an opaque dir").unwrap();
        fs::write(l.join("data/seed.txt"), b"old seed").unwrap();
    });
    let high = env.layer("high", |l| {
        fs::create_dir_all(l.join("data/sub")).unwrap();
        let seed = l.join("data/seed.txt");
        fs::write(&seed, b"seed").unwrap();
        chown(&seed, 1000, 1000);
        fs::set_permissions(&seed, fs::Permissions::from_mode(0o640)).unwrap();
        chown(&l.join("data"), 1000, 1000);
        fs::set_permissions(l.join("data"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(l.join("data/sub/new.txt"), b"new").unwrap();
        std::os::unix::fs::symlink("seed.txt", l.join("data/link")).unwrap();
        chown(&l.join("data/link"), 1000, 1000);
        // overlayfs(5): a whiteout is a 0/0 character device; an opaque dir has the xattr.
        use nix::sys::stat::{mknod, Mode, SFlag};
        mknod(&l.join("data/gone.txt"), SFlag::S_IFCHR, Mode::from_bits_truncate(0o600), 0).expect("whiteout");
        xattr::set_deref(l.join("data/sub"), "trusted.overlay.opaque", b"y").expect("set opaque xattr");
    });
    vec![low, high]
}

#[test]
fn fresh_volume_gets_the_image_content_with_owner_and_mode() {
    if !support::require_root() {
        return;
    }
    let env = env("copyup");
    let layers = seeded_layers(&env);
    let stack = env.stack("proj", "services:\n  app:\n    image: x\n    volumes: [data:/data, cache:/data2:nocopy]\nvolumes:\n  data: {}\n  cache: {}\n");
    let mounts = env.mounts(&stack, "app", &env.id("app-1"), &layers).unwrap();
    let Mount::Bind { source, .. } = &mounts[0] else { panic!("{mounts:?}") };
    let seed = fs::symlink_metadata(source.join("seed.txt")).unwrap();
    assert_eq!((seed.uid(), seed.gid(), seed.mode() & 0o7777), (1000, 1000, 0o640));
    assert_eq!(fs::read_to_string(source.join("seed.txt")).unwrap(), "seed", "the top-most layer wins");
    let root = fs::metadata(source).unwrap();
    assert_eq!((root.uid(), root.mode() & 0o7777), (1000, 0o750), "the volume root takes the image dir's owner");
    assert!(!source.join("gone.txt").exists(), "whiteouts are respected");
    assert!(source.join("sub/new.txt").exists() && !source.join("sub/old.txt").exists(), "opaque dirs are respected");
    let link = fs::symlink_metadata(source.join("link")).unwrap();
    assert!(link.file_type().is_symlink() && link.uid() == 1000);
    let Mount::Bind { source: cache, .. } = &mounts[1] else { panic!("{mounts:?}") };
    assert_eq!(fs::read_dir(cache).unwrap().count(), 0, "nocopy leaves the volume empty");

    // A non-empty volume is never copied into again.
    fs::remove_file(source.join("seed.txt")).unwrap();
    env.mounts(&stack, "app", &env.id("app-2"), &layers).unwrap();
    assert!(!source.join("seed.txt").exists(), "copy-up happens only into an empty volume");
}

#[test]
fn symlink_at_the_target_copies_nothing_from_outside_the_layer() {
    if !support::require_root() {
        return;
    }
    let env = env("copylink");
    let evil = env.layer("evil", |l| std::os::unix::fs::symlink("/etc", l.join("data")).unwrap());
    let stack = env.stack("proj", "services:\n  app:\n    image: x\n    volumes: [data:/data]\nvolumes:\n  data: {}\n");
    let mounts = env.mounts(&stack, "app", &env.id("app-1"), &[env.busybox.clone(), evil]).unwrap();
    let Mount::Bind { source, .. } = &mounts[0] else { panic!("{mounts:?}") };
    assert_eq!(fs::read_dir(source).unwrap().count(), 0, "nothing of the host's /etc copied");
}
