//! zstd layers (`application/vnd.oci.image.layer.v1.tar+zstd`): an OCI layout and a `docker
//! save` archive whose layer is zstd-compressed import, unpack the right files, and keep the
//! diff id over the uncompressed tar. No root needed.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{open_decompressed, Compression};
use crate::image::ImageStore;
use crate::paths::Roots;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A small layer: a directory, two files, a symlink.
fn layer_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        b.append_data(&mut h, path, data).unwrap();
    };
    add("etc/", tar::EntryType::Directory, b"", None);
    add("etc/motd", tar::EntryType::Regular, b"compressed with zstd\n", None);
    add("hello.txt", tar::EntryType::Regular, &[b'z'; 70_000], None);
    add("motd", tar::EntryType::Symlink, b"", Some("etc/motd"));
    b.into_inner().unwrap()
}

/// `data` as two zstd frames with a skippable frame in front (all valid per RFC 8878; a
/// decoder that stops after one frame would lose the second half of the tar).
fn zstd_multi_frame(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'x', b'y', b'z'];
    let (a, b) = data.split_at(data.len() / 2);
    out.extend(zstd::encode_all(a, 3).unwrap());
    out.extend(zstd::encode_all(b, 19).unwrap());
    out
}

fn config_json(diff_id: &str) -> Vec<u8> {
    serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": { "Cmd": ["sh"] },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{diff_id}")] }
    })
    .to_string()
    .into_bytes()
}

/// An OCI layout with one zstd layer, tagged `zst:oci`; `diff_id` goes into the config.
fn oci_layout(dir: &Path, zst: &[u8], diff_id: &str) -> PathBuf {
    let root = dir.join("oci");
    fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    let config = config_json(diff_id);
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": format!("sha256:{}", sha(&config)), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                     "digest": format!("sha256:{}", sha(zst)), "size": zst.len() }]
    })
    .to_string()
    .into_bytes();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": format!("sha256:{}", sha(&manifest)), "size": manifest.len(),
                        "annotations": { "org.opencontainers.image.ref.name": "zst:oci" } }]
    });
    for blob in [zst, &config[..], &manifest[..]] {
        fs::write(root.join("blobs/sha256").join(sha(blob)), blob).unwrap();
    }
    fs::write(root.join("index.json"), index.to_string()).unwrap();
    fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    root
}

/// A classic `docker save` archive (no media types anywhere) whose layer.tar is zstd.
fn docker_archive(dir: &Path, zst: &[u8], diff_id: &str) -> PathBuf {
    let config = config_json(diff_id);
    let config_name = format!("{}.json", sha(&config));
    let manifest =
        serde_json::json!([{ "Config": config_name, "RepoTags": ["zst:docker"], "Layers": ["v1id/layer.tar"] }]);
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in [(config_name.as_str(), &config[..]), ("v1id/layer.tar", zst)] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data).unwrap();
    }
    let m = manifest.to_string();
    let mut h = tar::Header::new_ustar();
    h.set_size(m.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", m.as_bytes()).unwrap();
    let path = dir.join("docker-save.tar");
    fs::write(&path, b.into_inner().unwrap()).unwrap();
    path
}

fn assert_layer_files(layer: &Path) {
    assert_eq!(fs::read_to_string(layer.join("etc/motd")).unwrap(), "compressed with zstd\n");
    assert_eq!(fs::read(layer.join("hello.txt")).unwrap(), vec![b'z'; 70_000]);
    assert_eq!(fs::read_link(layer.join("motd")).unwrap(), Path::new("etc/motd"));
}

#[test]
fn zstd_is_sniffed_from_the_frame_and_the_skippable_frame_magic() {
    assert_eq!(Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
    assert_eq!(Compression::sniff(&[0x5e, 0x2a, 0x4d, 0x18]), Compression::Zstd);
    assert_eq!(Compression::sniff(&[0x60, 0x2a, 0x4d, 0x18]), Compression::None);
    assert_eq!(Compression::sniff(&[0x28, 0xb5]), Compression::None, "too short to tell");
    assert_eq!(Compression::Zstd.layer_media_type(), "application/vnd.oci.image.layer.v1.tar+zstd");
}

#[test]
fn open_decompressed_reads_every_zstd_frame() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar();
    let path = dir.path().join("blob");
    fs::write(&path, zstd_multi_frame(&tar)).unwrap();
    let mut out = Vec::new();
    open_decompressed(&path).unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(out, tar);
}

#[test]
fn oci_layout_with_a_zstd_layer_imports_and_unpacks_under_its_diff_id() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar();
    let zst = zstd_multi_frame(&tar);
    let store = ImageStore::open(&Roots::new(Some(&dir.path().join("root")))).unwrap();
    // The diff id is the sha256 of the uncompressed tar, not of the blob.
    let bad = oci_layout(&dir.path().join("bad"), &zst, &sha(&zst));
    let err = store.import(&bad, None).unwrap_err().to_string();
    assert!(err.contains("uncompressed layer"), "diff id checked over the uncompressed tar: {err}");
    let good = oci_layout(dir.path(), &zst, &sha(&tar));
    store.import(&good, None).unwrap();
    let img = store.resolve("zst:oci").unwrap();
    assert_eq!(img.layers.len(), 1);
    assert!(img.layers[0].ends_with(sha(&tar)), "cached under the diff id: {:?}", img.layers);
    assert_layer_files(&img.layers[0]);
}

#[test]
fn docker_save_archive_with_a_zstd_layer_is_sniffed_and_unpacked() {
    let dir = tempfile::tempdir().unwrap();
    let tar = layer_tar();
    let archive = docker_archive(dir.path(), &zstd::encode_all(&tar[..], 3).unwrap(), &sha(&tar));
    let store = ImageStore::open(&Roots::new(Some(&dir.path().join("root")))).unwrap();
    store.import(&archive, None).unwrap();
    let img = store.resolve("zst:docker").unwrap();
    assert_layer_files(&img.layers[0]);
}
