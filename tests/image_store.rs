//! Image store integration tests (root): the busybox fixture imported as a rootfs tar, as a
//! `docker save` archive and as an OCI layout (directory and tar), all through the real binary
//! with a private `--root`; the layer they share is unpacked once; `image rm` leaves nothing.

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use berth::image::ImageStore;
use berth::paths::Roots;
use sha2::{Digest, Sha256};

fn berth(root: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_berth")).arg("--root").arg(root).args(args).output().expect("run berth");
    eprintln!("berth {args:?}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = berth(root, args);
    assert!(out.status.success(), "berth {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Nothing of the store is left but its empty skeleton (and lock files).
fn assert_store_empty(root: &Path) {
    let images = root.join("images");
    for sub in ["blobs/sha256", "layers", "tmp"] {
        let left: Vec<_> = fs::read_dir(images.join(sub)).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "left in {sub}: {left:?}");
    }
    let index: serde_json::Value = serde_json::from_slice(&fs::read(images.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 0);
}

fn config_json(diff_id: &str) -> Vec<u8> {
    serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": { "Env": ["PATH=/bin"], "Cmd": ["sh"], "User": "app", "WorkingDir": "/home/app",
                    "ExposedPorts": {"8080/tcp": {}}, "StopSignal": "SIGINT",
                    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000, "Retries": 2} },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{diff_id}")] }
    })
    .to_string()
    .into_bytes()
}

fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

/// A `docker save` archive of the fixture layer, in the classic layout.
fn docker_archive(dir: &Path, layer: &[u8]) -> PathBuf {
    let config = config_json(&sha(layer));
    let config_name = format!("{}.json", sha(&config));
    let manifest =
        serde_json::json!([{ "Config": config_name, "RepoTags": ["busybox:docker"], "Layers": ["v1id/layer.tar"] }]);
    let mut b = tar::Builder::new(Vec::new());
    add(&mut b, &config_name, &config);
    add(&mut b, "v1id/layer.tar", layer);
    add(&mut b, "manifest.json", manifest.to_string().as_bytes());
    let path = dir.join("docker-save.tar");
    fs::write(&path, b.into_inner().unwrap()).unwrap();
    path
}

/// An OCI image layout directory holding the fixture layer gzip-compressed (a different blob
/// with the same diff id, so the unpacked layer is still shared).
fn oci_layout(dir: &Path, layer: &[u8]) -> PathBuf {
    let root = dir.join("oci");
    fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(layer).unwrap();
    let gz = gz.finish().unwrap();
    let config = config_json(&sha(layer));
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", sha(&config)), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": format!("sha256:{}", sha(&gz)), "size": gz.len() }]
    })
    .to_string()
    .into_bytes();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{}", sha(&manifest)),
                        "size": manifest.len(), "annotations": { "org.opencontainers.image.ref.name": "busybox:oci" } }]
    });
    for blob in [&gz, &config, &manifest] {
        fs::write(root.join("blobs/sha256").join(sha(blob)), blob).unwrap();
    }
    fs::write(root.join("index.json"), index.to_string()).unwrap();
    fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    root
}

/// The same layout as a tar archive.
fn tar_dir(src: &Path, dest: &Path) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", src).unwrap();
    fs::write(dest, b.into_inner().unwrap()).unwrap();
    dest.to_path_buf()
}

#[test]
fn fixture_tar_is_bit_identical_across_runs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ta = fs::read(support::busybox_rootfs_tar(a.path())).unwrap();
    let tb = fs::read(support::busybox_rootfs_tar(b.path())).unwrap();
    assert_eq!(ta, tb);
    let root = support::busybox_rootfs(a.path());
    assert!(root.join("bin/busybox").is_file());
    assert_eq!(fs::read_link(root.join("bin/sh")).unwrap(), Path::new("busybox"));
    assert!(fs::read_to_string(root.join("etc/group")).unwrap().contains("extra:x:2000:app"));
}

#[test]
fn rootfs_tar_import_lists_resolves_and_removes_cleanly() {
    if !support::require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, work) = (tmp.path().join("state"), tmp.path().join("work"));
    let tar = support::busybox_rootfs_tar(&work);
    let id = ok(&root, &["image", "import", tar.to_str().unwrap(), "busybox:test"]).trim().to_string();
    assert!(id.starts_with("sha256:"));
    let table = ok(&root, &["image", "ls"]);
    assert!(table.lines().any(|l| l.starts_with("busybox") && l.contains("test") && l.contains(&id[7..19])), "{table}");
    let json: serde_json::Value = serde_json::from_str(&ok(&root, &["image", "ls", "--format", "json"])).unwrap();
    assert_eq!(json[0]["references"][0], "busybox:test");

    let store = ImageStore::open(&Roots::new(Some(&root))).unwrap();
    let img = store.resolve("docker.io/library/busybox:test").unwrap();
    assert_eq!(img.id, id);
    assert_eq!(img.layers.len(), 1);
    assert!(img.layers[0].join("bin/busybox").is_file());
    assert_eq!(fs::read_link(img.layers[0].join("bin/sh")).unwrap(), Path::new("busybox"));
    let err = store.resolve("busybox").unwrap_err().to_string();
    assert!(err.contains("`busybox:latest` not found"), "{err}");
    assert_eq!(store.resolve(&id[7..19]).unwrap().id, id, "a short id resolves");

    let inspect: serde_json::Value = serde_json::from_str(&ok(&root, &["image", "inspect", "busybox:test"])).unwrap();
    assert_eq!(inspect["Id"], id.as_str());
    ok(&root, &["image", "rm", "busybox:test"]);
    assert_store_empty(&root);
}

#[test]
fn docker_archive_and_oci_layouts_share_one_unpacked_layer() {
    if !support::require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, work) = (tmp.path().join("state"), tmp.path().join("work"));
    let layer = fs::read(support::busybox_rootfs_tar(&work)).unwrap();
    let docker = docker_archive(&work, &layer);
    let oci_dir = oci_layout(&work, &layer);
    let oci_tar = tar_dir(&oci_dir, &work.join("oci.tar"));

    support::import_busybox(&Roots::new(Some(&root)), "busybox:rootfs");
    ok(&root, &["image", "import", docker.to_str().unwrap()]);
    ok(&root, &["image", "import", oci_dir.to_str().unwrap()]);
    ok(&root, &["image", "import", oci_tar.to_str().unwrap(), "registry:5000/ns/busybox:ocitar"]);

    let store = ImageStore::open(&Roots::new(Some(&root))).unwrap();
    assert_eq!(store.cached_layers().unwrap(), vec![format!("sha256:{}", sha(&layer))], "the layer is unpacked once");
    let table = ok(&root, &["image", "ls"]);
    for tag in ["rootfs", "docker", "oci", "ocitar"] {
        assert!(table.lines().any(|l| l.contains(&format!(" {tag} "))), "missing tag {tag}:\n{table}");
    }
    let img = store.resolve("busybox:docker").unwrap();
    assert_eq!(img.config.user.as_deref(), Some("app"));
    assert_eq!(img.config.healthcheck.as_ref().unwrap().retries, Some(2));
    assert_eq!(store.resolve("busybox:oci").unwrap().layers, img.layers);
    // Removing one of two tags of the same image only untags; the layer stays.
    ok(&root, &["image", "rm", "busybox:docker"]);
    assert_eq!(store.cached_layers().unwrap().len(), 1);
    ok(&root, &["image", "rm", "busybox:rootfs", "busybox:oci", "registry:5000/ns/busybox:ocitar"]);
    assert_store_empty(&root);
}

#[test]
fn in_use_images_are_kept_and_concurrent_imports_are_safe() {
    if !support::require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let roots = Roots::new(Some(&tmp.path().join("state")));
    let tar = support::busybox_rootfs_tar(&tmp.path().join("work"));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (roots, tar) = (roots.clone(), tar.clone());
            std::thread::spawn(move || {
                ImageStore::open(&roots).unwrap().import_rootfs_tar(&tar, &format!("bb:{i}")).unwrap()
            })
        })
        .collect();
    let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "same content, same id");
    let store = ImageStore::open(&roots).unwrap();
    assert_eq!(store.cached_layers().unwrap().len(), 1);
    assert!(matches!(store.remove(&ids[0], false, &|_| false), Err(berth::image::ImageError::MultipleTags { .. })));
    for i in 0..3 {
        store.remove(&format!("bb:{i}"), false, &|_| false).unwrap();
    }
    assert!(matches!(store.remove("bb:3", false, &|_| true), Err(berth::image::ImageError::InUse { .. })));
    let r = store.remove("bb:3", true, &|_| true).unwrap();
    assert!(r.deleted.is_empty(), "an in-use image keeps its files");
    assert_eq!(store.resolve(&ids[0]).unwrap().references, Vec::<String>::new());
    store.remove(&ids[0], false, &|_| false).unwrap();
    assert_store_empty(&roots.state);
}

/// Crafted layers through the real import path: nothing lands outside the store.
#[test]
fn crafted_layers_cannot_write_outside_the_store() {
    if !support::require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("sentinel"), "original").unwrap();
    let raw = |kind: tar::EntryType, name: &str, link: &str, b: &mut tar::Builder<Vec<u8>>| {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(if kind == tar::EntryType::Regular { 5 } else { 0 });
        h.set_cksum();
        let data: &[u8] = if kind == tar::EntryType::Regular { b"pwned" } else { b"" };
        b.append(&h, data).unwrap();
    };
    let out = outside.display().to_string();
    let attacks: Vec<Vec<(tar::EntryType, String, String)>> = vec![
        vec![(tar::EntryType::Regular, "../../../outside/sentinel".into(), String::new())],
        vec![(tar::EntryType::Link, "x".into(), format!("{out}/sentinel"))],
        vec![(tar::EntryType::Link, "x".into(), "../../../../outside/sentinel".into())],
        vec![
            (tar::EntryType::Symlink, "a".into(), out.clone()),
            (tar::EntryType::Regular, "a/evil".into(), String::new()),
        ],
        vec![
            (tar::EntryType::Symlink, "a".into(), out.clone()),
            (tar::EntryType::Link, "b".into(), "a/sentinel".into()),
        ],
    ];
    for (i, entries) in attacks.iter().enumerate() {
        let mut b = tar::Builder::new(Vec::new());
        for (kind, name, link) in entries {
            raw(*kind, name, link, &mut b);
        }
        let path = tmp.path().join(format!("attack{i}.tar"));
        fs::write(&path, b.into_inner().unwrap()).unwrap();
        let res = berth(&root, &["image", "import", path.to_str().unwrap(), &format!("evil:{i}")]);
        assert!(!res.status.success(), "attack {i} was imported");
    }
    // An absolute path is neutralised: it lands inside the layer.
    let mut b = tar::Builder::new(Vec::new());
    raw(tar::EntryType::Regular, &format!("{out}/sentinel"), "", &mut b);
    let path = tmp.path().join("abs.tar");
    fs::write(&path, b.into_inner().unwrap()).unwrap();
    ok(&root, &["image", "import", path.to_str().unwrap(), "evil:abs"]);
    let store = ImageStore::open(&Roots::new(Some(&root))).unwrap();
    let layer = &store.resolve("evil:abs").unwrap().layers[0];
    assert_eq!(fs::read_to_string(layer.join(out.trim_start_matches('/')).join("sentinel")).unwrap(), "pwned");

    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(outside.join("sentinel")).unwrap(), "original");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(outside.join("sentinel")).unwrap().nlink(), 1);
    ok(&root, &["image", "rm", "evil:abs"]);
    assert_store_empty(&root);
}
