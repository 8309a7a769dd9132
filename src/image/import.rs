//! Imports: a plain rootfs tar (one layer, minimal config), a `docker save` archive
//! (manifest.json + config + layer tars), and an OCI image layout (directory or archive).
//! Every digest the source states is verified: blob digests, manifest/config digests named in
//! paths or descriptors, and each layer's diff id (checked while unpacking).

use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, ImageManifestBuilder, MediaType};
use serde::Deserialize;

use super::config::{go_arch, minimal_config, RawImage};
use super::error::{json_err, ImageError, Result};
use super::index;
use super::layers::{self, Compression};
use super::layout::{check_digest, sha256_digest};
use super::limits::{MAX_CONFIG, MAX_MANIFEST};
use super::reference::Reference;
use super::source::Source;
use super::store::{ImageId, ImageStore};

const CONTAINERD_NAME: &str = "io.containerd.image.name";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// One image of a `docker save` manifest.json.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

impl ImageStore {
    /// Import whatever `path` is: an OCI layout or `docker save` archive (dir or tar, plain or
    /// gzip), else a plain rootfs tar (which needs a `reference`).
    pub fn import(&self, path: &Path, reference: Option<&str>) -> Result<Vec<ImageId>> {
        // Shared gc lock before staging anything in tmp/ (see Layout::gc_lock).
        let _gc = self.layout.gc_lock(false)?;
        let src = Source::open(path, &self.layout)?;
        if src.exists("manifest.json") {
            self.import_docker(&src, path, reference)
        } else if src.exists("index.json") {
            self.import_oci(&src, path, reference)
        } else if path.is_dir() {
            Err(invalid(
                path,
                "a directory to import must be an OCI layout (index.json) or a docker save tree (manifest.json)",
            ))
        } else {
            let reference = reference
                .ok_or_else(|| invalid(path, "a rootfs tar needs a name: berth image import FILE NAME:TAG"))?;
            Ok(vec![self.import_rootfs_tar(path, reference)?])
        }
    }

    /// Import a plain rootfs tar (gzip or not) as a one-layer image named `reference`.
    pub fn import_rootfs_tar(&self, path: &Path, reference: &str) -> Result<ImageId> {
        let r = Reference::parse(reference)?;
        let _gc = self.layout.gc_lock(false)?;
        let mut file = std::fs::File::open(path).map_err(super::error::io_err(path))?;
        let (digest, size) = self.layout.put_blob(&mut file, None, &path.display().to_string())?;
        let (diff_id, _) = layers::unpack(&self.layout, &digest, None)?;
        let media = self.layer_media_type(&digest)?;
        let config = minimal_config(&diff_id);
        let (config_digest, config_size) = self.layout.put_blob_bytes(&config, None, "config")?;
        self.commit(&config_digest, config_size, vec![(digest, size, media)], &[r])?;
        Ok(config_digest)
    }

    /// Import a `docker save` archive (tar, optionally gzip, or its unpacked directory).
    pub fn import_docker_archive(&self, path: &Path, reference: Option<&str>) -> Result<Vec<ImageId>> {
        let _gc = self.layout.gc_lock(false)?;
        self.import_docker(&Source::open(path, &self.layout)?, path, reference)
    }

    /// Import an OCI image layout (directory or tar archive).
    pub fn import_oci_layout(&self, path: &Path, reference: Option<&str>) -> Result<Vec<ImageId>> {
        let _gc = self.layout.gc_lock(false)?;
        self.import_oci(&Source::open(path, &self.layout)?, path, reference)
    }

    fn import_docker(&self, src: &Source, path: &Path, reference: Option<&str>) -> Result<Vec<ImageId>> {
        let entries: Vec<DockerArchiveEntry> =
            serde_json::from_slice(&src.read("manifest.json", MAX_MANIFEST, "image manifest")?)
                .map_err(json_err(format!("{}: manifest.json", path.display())))?;
        let given = single_reference(path, reference, entries.len())?;
        let mut ids = Vec::new();
        for e in &entries {
            let config = src.read(&e.config, MAX_CONFIG, "image config")?;
            let config_digest = sha256_digest(&config);
            check_digest(
                &format!("{}: {}", path.display(), e.config),
                digest_in_path(&e.config).as_deref(),
                &config_digest,
            )?;
            let raw = RawImage::parse(&config, &format!("{}: {}", path.display(), e.config))?;
            let diff_ids = raw.diff_ids();
            if diff_ids.len() != e.layers.len() {
                return Err(invalid(
                    path,
                    &format!(
                        "{} lists {} layers but its config has {} diff ids",
                        e.config,
                        e.layers.len(),
                        diff_ids.len()
                    ),
                ));
            }
            let mut layer_descs = Vec::new();
            for (layer, diff_id) in e.layers.iter().zip(&diff_ids) {
                let what = format!("{}: {layer}", path.display());
                let (digest, size) =
                    self.layout.put_blob(&mut src.open_file(layer)?, digest_in_path(layer).as_deref(), &what)?;
                layers::ensure_unpacked(&self.layout, &digest, diff_id)?;
                layer_descs.push((digest.clone(), size, self.layer_media_type(&digest)?));
            }
            let (config_digest, config_size) = self.layout.put_blob_bytes(&config, Some(&config_digest), "config")?;
            let refs = match &given {
                Some(r) => vec![r.clone()],
                None => e.repo_tags.iter().flatten().map(|t| Reference::parse(t)).collect::<Result<_>>()?,
            };
            self.commit(&config_digest, config_size, layer_descs, &refs)?;
            ids.push(config_digest);
        }
        Ok(ids)
    }

    fn import_oci(&self, src: &Source, path: &Path, reference: Option<&str>) -> Result<Vec<ImageId>> {
        let index: ImageIndex = serde_json::from_slice(&src.read("index.json", MAX_MANIFEST, "image index")?)
            .map_err(json_err(format!("{}: index.json", path.display())))?;
        let given = single_reference(path, reference, index.manifests().len())?;
        let mut ids = Vec::new();
        for desc in index.manifests() {
            let manifest_desc = self.pick_platform(src, path, desc)?;
            let refs = match &given {
                Some(r) => vec![r.clone()],
                None => names_of(desc),
            };
            ids.push(self.import_oci_manifest(src, path, &manifest_desc, &refs)?);
        }
        Ok(ids)
    }

    /// For an image index (multi-platform), the manifest for linux on this machine's arch.
    fn pick_platform(&self, src: &Source, path: &Path, desc: &Descriptor) -> Result<Descriptor> {
        let is_index =
            matches!(desc.media_type(), MediaType::ImageIndex) || desc.media_type().to_string() == DOCKER_MANIFEST_LIST;
        if !is_index {
            return Ok(desc.clone());
        }
        let bytes = read_verified(src, path, desc, MAX_MANIFEST, "image index")?;
        let nested: ImageIndex =
            serde_json::from_slice(&bytes).map_err(json_err(format!("{}: index {}", path.display(), desc.digest())))?;
        let fits = |d: &&Descriptor| {
            d.platform()
                .as_ref()
                .is_none_or(|p| p.os().to_string() == "linux" && p.architecture().to_string() == go_arch())
        };
        match nested.manifests().iter().find(fits) {
            Some(d) => self.pick_platform(src, path, d),
            None => Err(invalid(path, &format!("index {} has no image for linux/{}", desc.digest(), go_arch()))),
        }
    }

    fn import_oci_manifest(&self, src: &Source, path: &Path, desc: &Descriptor, refs: &[Reference]) -> Result<ImageId> {
        let bytes = read_verified(src, path, desc, MAX_MANIFEST, "image manifest")?;
        let manifest: ImageManifest = serde_json::from_slice(&bytes).map_err(json_err(format!(
            "{}: manifest {}",
            path.display(),
            desc.digest()
        )))?;
        let config = read_verified(src, path, manifest.config(), MAX_CONFIG, "image config")?;
        let raw = RawImage::parse(&config, &format!("{}: config {}", path.display(), manifest.config().digest()))?;
        let diff_ids = raw.diff_ids();
        if diff_ids.len() != manifest.layers().len() {
            return Err(invalid(
                path,
                &format!(
                    "manifest {} has {} layers but {} diff ids",
                    desc.digest(),
                    manifest.layers().len(),
                    diff_ids.len()
                ),
            ));
        }
        for (layer, diff_id) in manifest.layers().iter().zip(&diff_ids) {
            let digest = layer.digest().to_string();
            let what = format!("{}: layer {digest}", path.display());
            self.layout.put_blob(&mut src.open_file(&blob_path(layer))?, Some(&digest), &what)?;
            layers::ensure_unpacked(&self.layout, &digest, diff_id)?;
        }
        let (config_digest, _) =
            self.layout.put_blob_bytes(&config, Some(manifest.config().digest().as_ref()), "config")?;
        let (manifest_digest, size) = self.layout.put_blob_bytes(&bytes, Some(desc.digest().as_ref()), "manifest")?;
        let media = manifest.media_type().clone().unwrap_or(MediaType::ImageManifest);
        self.tag_manifest(&media, &manifest_digest, size, refs)?;
        Ok(config_digest)
    }

    fn layer_media_type(&self, digest: &str) -> Result<MediaType> {
        let path = self.layout.blob_path(digest);
        let mut head = [0u8; 4];
        let mut f = std::fs::File::open(&path).map_err(super::error::io_err(&path))?;
        let n = std::io::Read::read(&mut f, &mut head).map_err(super::error::io_err(&path))?;
        Ok(MediaType::from(Compression::sniff(&head[..n]).layer_media_type()))
    }

    /// Write an OCI manifest for (config, layers) and tag it.
    fn commit(
        &self,
        config_digest: &str,
        config_size: u64,
        layers: Vec<(String, u64, MediaType)>,
        refs: &[Reference],
    ) -> Result<()> {
        let desc = |m: MediaType, size: u64, d: &str| -> Result<Descriptor> {
            let digest: oci_spec::image::Digest =
                d.parse().map_err(|_| ImageError::Unsupported { what: "digest".into(), value: d.to_string() })?;
            Ok(Descriptor::new(m, size, digest))
        };
        let layer_descs = layers.iter().map(|(d, s, m)| desc(m.clone(), *s, d)).collect::<Result<Vec<_>>>()?;
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(desc(MediaType::ImageConfig, config_size, config_digest)?)
            .layers(layer_descs)
            .build()
            .map_err(|e| ImageError::Unsupported { what: "manifest".into(), value: e.to_string() })?;
        let bytes = serde_json::to_vec(&manifest).map_err(json_err("manifest"))?;
        let (digest, size) = self.layout.put_blob_bytes(&bytes, None, "manifest")?;
        self.tag_manifest(&MediaType::ImageManifest, &digest, size, refs)
    }

    pub(crate) fn tag_manifest(&self, media: &MediaType, digest: &str, size: u64, refs: &[Reference]) -> Result<()> {
        let desc = index::new_descriptor(media, digest, size, None)
            .ok_or_else(|| ImageError::Unsupported { what: "digest".into(), value: digest.to_string() })?;
        let _lock = self.layout.lock()?;
        let mut idx = self.layout.read_index()?;
        index::tag(&mut idx, &desc, refs);
        self.layout.write_index(&idx)
    }
}

fn invalid(path: &Path, reason: &str) -> ImageError {
    ImageError::InvalidArchive { path: path.to_path_buf(), reason: reason.to_string() }
}

/// A name given on the command line applies to a single image only.
fn single_reference(path: &Path, reference: Option<&str>, count: usize) -> Result<Option<Reference>> {
    match reference {
        Some(_) if count != 1 => {
            Err(invalid(path, &format!("it holds {count} images; import it without a name to keep their own tags")))
        }
        Some(r) => Ok(Some(Reference::parse(r)?)),
        None => Ok(None),
    }
}

/// The digest a `docker save` path names: `blobs/sha256/<hex>`, `<hex>.json`, `<hex>/layer.tar`
/// is not a content digest (it is a v1 layer id), so only the first two count.
fn digest_in_path(p: &str) -> Option<String> {
    let hex = p.strip_prefix("blobs/sha256/").or_else(|| p.strip_suffix(".json"))?;
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

fn blob_path(d: &Descriptor) -> String {
    format!("blobs/{}/{}", d.digest().algorithm(), d.digest().digest())
}

/// Read a blob named by a descriptor from an OCI layout (at most `limit` bytes, a `kind` of
/// document) and check its digest and size.
fn read_verified(src: &Source, path: &Path, d: &Descriptor, limit: u64, kind: &'static str) -> Result<Vec<u8>> {
    let bytes = src.read(&blob_path(d), limit, kind)?;
    let what = format!("{}: {}", path.display(), blob_path(d));
    check_digest(&what, Some(d.digest().as_ref()), &sha256_digest(&bytes))?;
    if bytes.len() as u64 != d.size() {
        return Err(invalid(
            path,
            &format!("{} is {} bytes, its descriptor says {}", blob_path(d), bytes.len(), d.size()),
        ));
    }
    Ok(bytes)
}

/// Names an OCI layout gives an image: containerd's full-name annotation, else
/// `org.opencontainers.image.ref.name` when it is a full reference (a bare tag has no name).
fn names_of(d: &Descriptor) -> Vec<Reference> {
    let Some(ann) = d.annotations() else { return Vec::new() };
    if let Some(r) = ann.get(CONTAINERD_NAME).and_then(|n| Reference::parse(n).ok()) {
        return vec![r];
    }
    ann.get(index::REF_NAME)
        .filter(|n| n.contains(['/', ':', '@']))
        .and_then(|n| Reference::parse(n).ok())
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::image::ImageStore;
    use crate::paths::Roots;

    #[test]
    fn oversized_archive_documents_are_refused_naming_them() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&Roots::new(Some(&tmp.path().join("root")))).unwrap();
        let archive = tmp.path().join("saved");
        std::fs::create_dir_all(&archive).unwrap();
        // Sparse: a 5 MiB manifest.json costs no disk, and must cost no memory either.
        std::fs::File::create(archive.join("manifest.json")).unwrap().set_len(5 << 20).unwrap();
        let err = store.import_docker_archive(&archive, None).unwrap_err();
        let text = crate::errchain::chain(&err);
        assert!(text.contains("manifest.json") && text.contains("larger than 4 MiB"), "{text}");
    }
}
