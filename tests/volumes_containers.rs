//! Volumes, binds and tmpfs in real containers (root): data shared through a named volume and
//! surviving its containers, read-only binds, relative binds from the stack file's directory,
//! tmpfs size limits, copy-up seen from inside, the symlink-at-target attack, anonymous
//! volumes, in-use refusal, and no mount left behind.

#[path = "volumes_common/mod.rs"]
mod common;
mod support;

use std::fs;
use std::path::Path;

use berth::runtime::Mount;
use berth::volumes::VolumeError;
use common::*;

#[test]
fn named_volume_data_outlives_its_containers_until_removed() {
    if !support::require_root() {
        return;
    }
    let env = env("shared");
    let stack = env.stack("proj", "services:\n  writer:\n    image: x\n    volumes: [data:/data]\n  reader:\n    image: x\n    volumes: ['data:/in:ro']\nvolumes:\n  data: {}\n");
    let w = env.mounts(&stack, "writer", &env.id("writer-1"), std::slice::from_ref(&env.busybox)).unwrap();
    let (code, out) = env.sh("writer-1", &[], w.clone(), "echo hello-from-writer > /data/msg");
    assert_eq!(code, 0, "{out}");
    let r = env.mounts(&stack, "reader", &env.id("reader-1"), std::slice::from_ref(&env.busybox)).unwrap();
    let (code, out) = env.sh("reader-1", &[], r, "cat /in/msg; echo x > /in/other");
    assert_ne!(code, 0, "the reader's mount is read-only: {out}");
    assert!(out.starts_with("hello-from-writer\n"), "{out}");
    let vol = env.vm.get(&format!("{}_data", env.project)).unwrap();
    assert_eq!(fs::read_to_string(vol.path.join("msg")).unwrap(), "hello-from-writer\n", "survives both containers");
    env.vm.remove(&vol.name).unwrap();
    assert!(!vol.path.exists() && env.vm.list(None).unwrap().is_empty(), "removing the volume removes the data");
}

#[test]
fn read_only_binds_refuse_writes() {
    if !support::require_root() {
        return;
    }
    let env = env("robind");
    let stack = env.stack("proj", "services:\n  app:\n    image: x\n    volumes: ['./conf:/conf:ro,z']\n");
    let m = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap();
    fs::write(env.dir.path().join("proj/conf/a"), b"cfg").unwrap();
    let (code, out) = env.sh("app-1", &[], m, "cat /conf/a; echo; echo x > /conf/b");
    assert_ne!(code, 0, "{out}");
    assert!(out.starts_with("cfg\n") && out.contains("Read-only file system"), "{out}");
    assert!(!env.dir.path().join("proj/conf/b").exists());
}

#[test]
fn relative_binds_resolve_from_the_stack_file_directory() {
    if !support::require_root() {
        return;
    }
    let env = env("relbind");
    // The loader runs with the working directory at the temp dir, the file one level down.
    let stack = env.stack(
        "deep/proj",
        "services:\n  app:\n    image: x\n    volumes: ['./out:/out', {type: bind, source: ../sibling, target: /s}]\n",
    );
    let err = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap_err().to_string();
    let sibling = env.dir.path().join("deep/sibling");
    assert_eq!(
        err,
        format!(
            "service `app`: bind mount source {} does not exist; create it or set bind.create_host_path: true",
            sibling.display()
        )
    );
    fs::create_dir(&sibling).unwrap();
    let m = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap();
    let (code, out) = env.sh("app-1", &[], m, "echo made-inside > /out/f && echo s > /s/f");
    assert_eq!(code, 0, "{out}");
    let f = env.dir.path().join("deep/proj/out/f");
    assert_eq!(fs::read_to_string(&f).unwrap(), "made-inside\n", "short syntax created ./out next to the file");
    assert!(sibling.join("f").exists());
    assert!(!env.dir.path().join("out").exists(), "nothing resolved against the working directory");
}

#[test]
fn tmpfs_sizes_and_modes_are_enforced() {
    if !support::require_root() {
        return;
    }
    let env = env("tmpfs");
    let stack = env.stack("proj", "services:\n  app:\n    image: x\n    tmpfs: ['/small:size=1m,mode=0700']\n    volumes: [{type: tmpfs, target: /long, tmpfs: {size: 512k}}]\n");
    let m = env.mounts(&stack, "app", &env.id("app-1"), &[]).unwrap();
    assert!(m.contains(&Mount::Tmpfs { target: "/small".into(), size: Some(1 << 20), mode: Some(0o700) }), "{m:?}");
    let script = "stat -c %a /small; dd if=/dev/zero of=/small/ok bs=1k count=512 2>/dev/null && echo fits; \
                  dd if=/dev/zero of=/small/big bs=1k count=2048 2>&1; echo rc=$?; \
                  dd if=/dev/zero of=/long/big bs=1k count=1024 2>/dev/null; echo rc=$?";
    let (code, out) = env.sh("app-1", &[], m, script);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("700\nfits\n"), "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(!out.contains("rc=0"), "writing past the size must fail: {out}");
}

#[test]
fn fresh_volume_shows_the_image_content_inside_the_container() {
    if !support::require_root() {
        return;
    }
    let env = env("copyin");
    let img = env.layer("img", |l| {
        fs::create_dir_all(l.join("data")).unwrap();
        fs::write(l.join("data/seed.txt"), b"seed\n").unwrap();
        chown(&l.join("data/seed.txt"), 1000, 1000);
        fs::set_permissions(l.join("data/seed.txt"), std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    });
    let layers = vec![env.busybox.clone(), img.clone()];
    let stack =
        env.stack("proj", "services:\n  app:\n    image: x\n    volumes: [data:/data, /anon]\nvolumes:\n  data: {}\n");
    let id = env.id("app-1");
    let m = env.mounts(&stack, "app", &id, &layers).unwrap();
    let (code, out) =
        env.sh("app-1", &[img], m.clone(), "stat -c '%u:%g %a' /data/seed.txt; cat /data/seed.txt; echo > /anon/x");
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "1000:1000 640\nseed\n");
    // The anonymous volume belongs to the container: removed with it (`down -v` / `rm -v`).
    let all = env.vm.list(Some(&env.project)).unwrap();
    let found = berth::volumes::anonymous_mounts(&all, &m);
    assert_eq!(found.len(), 1, "{found:?}");
    let (target, anon) = found[0].clone();
    assert_eq!(target, "/anon");
    let info = env.vm.get(&anon).unwrap();
    assert!(info.is_anonymous());
    assert_eq!(info.labels.get(berth::volumes::labels::CONTAINER), Some(&id));
    assert_eq!(env.vm.remove_anonymous(&env.project, &m).unwrap(), vec![anon.clone()]);
    assert!(env.vm.get(&anon).is_err());
    assert!(env.vm.get(&format!("{}_data", env.project)).is_ok(), "named volumes stay");
}

#[test]
fn a_volume_in_use_is_not_removed() {
    if !support::require_root() {
        return;
    }
    let env = env("inuse");
    let stack = env.stack("proj", "services:\n  app:\n    image: x\n    volumes: [data:/data]\nvolumes:\n  data: {}\n");
    let id = env.id("app-1");
    let m = env.mounts(&stack, "app", &id, &[]).unwrap();
    let cfg = env.config(&id, vec![env.busybox.clone()], m.clone(), "sleep 30");
    env.rt.create(&cfg).unwrap();
    env.rt.start(&id).unwrap();
    let name = format!("{}_data", env.project);
    let err = env.vm.remove(&name).unwrap_err();
    assert!(matches!(&err, VolumeError::InUse { container, .. } if *container == id), "{err}");
    assert!(env.vm.prune(None).unwrap().is_empty(), "prune skips volumes in use");
    env.rt.remove(&id, true).unwrap();
    env.assert_no_container_left(&id, &m);
    env.vm.remove(&name).unwrap();
}

/// An image whose /data is a symlink to /etc: the volume must land inside the container (on
/// its own /etc at worst), never on the host's /etc (CVE-2021-30465 class).
#[test]
fn symlink_at_the_mount_target_cannot_reach_the_host() {
    if !support::require_root() {
        return;
    }
    let env = env("symlink");
    let evil = env.layer("evil", |l| {
        std::os::unix::fs::symlink("/etc", l.join("data")).unwrap();
        std::os::unix::fs::symlink("../../../../../../../../var", l.join("rel")).unwrap();
    });
    let stack = env.stack(
        "proj",
        "services:\n  app:\n    image: x\n    volumes: [data:/data, './b:/rel']\nvolumes:\n  data: {}\n",
    );
    let layers = vec![env.busybox.clone(), evil.clone()];
    let m = env.mounts(&stack, "app", &env.id("app-1"), &layers).unwrap();
    let marker = format!("berth-pwned-{}", env.project);
    let host_before = fs::read_to_string("/etc/passwd").unwrap();
    let script = format!("echo owned > /data/{marker} && echo owned > /rel/{marker} && echo done");
    let (code, out) = env.sh("app-1", &[evil], m.clone(), &script);
    assert!(!Path::new("/etc").join(&marker).exists(), "the host's /etc was written through the symlink: {out}");
    assert!(!Path::new("/var").join(&marker).exists(), "the host's /var was written through the symlink: {out}");
    assert_eq!(fs::read_to_string("/etc/passwd").unwrap(), host_before);
    // Neutralised (mounted inside the rootfs) rather than refused: the writes land in the
    // volume and the bind source.
    assert_eq!(code, 0, "{out}");
    let vol = env.vm.get(&format!("{}_data", env.project)).unwrap();
    assert!(vol.path.join(&marker).exists(), "{out}");
    assert!(env.dir.path().join("proj/b").join(&marker).exists(), "{out}");
}
