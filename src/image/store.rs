//! The image store's queries and removal: resolve a reference or id to layers and defaults,
//! list images, remove (untag, then garbage-collect what no image references any more).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::PathBuf;

use oci_spec::image::{Descriptor, ImageManifest};
use serde::Serialize;

use super::config::{ImageConfig, RawImage};
use super::error::{io_err, json_err, ImageError, Result};
use super::index::{self, ref_name};
use super::layers;
use super::layout::Layout;
use super::reference::Reference;

/// An image id: the digest of its config blob, `sha256:<hex>`.
pub type ImageId = String;

/// The local image store (see layout.rs for the files).
pub struct ImageStore {
    pub(crate) layout: Layout,
}

/// What a container needs of an image.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The config digest, `sha256:…`.
    pub id: String,
    /// Every tag of the image, short form (`busybox:latest`).
    pub references: Vec<String>,
    /// Unpacked layer directories, lowest first (overlay `lowerdir` wants them reversed).
    pub layers: Vec<PathBuf>,
    pub config: ImageConfig,
    /// The manifest digest, `sha256:…`.
    pub manifest_digest: String,
}

/// One image, as `berth images` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSummary {
    pub id: String,
    /// Short forms (`busybox:latest`); empty for an untagged image.
    pub references: Vec<String>,
    /// The image's own creation time (from its config), if it has one.
    pub created: Option<String>,
    /// When it was imported into this store.
    pub imported: Option<String>,
    /// Bytes of its layer blobs.
    pub size: u64,
    /// Layer blob digests, lowest first.
    pub layers: Vec<String>,
    /// The digests of the manifests in the store with this config (`name@sha256:…` names it).
    #[serde(skip)]
    pub manifest_digests: Vec<String>,
}

/// What `remove` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveReport {
    pub untagged: Vec<String>,
    /// Blob digests and layer diff ids deleted from disk.
    pub deleted: Vec<String>,
}

/// An image as stored: its manifest and config, loaded and verified.
pub(crate) struct Stored {
    pub manifest_digest: String,
    pub config_digest: String,
    /// (blob digest, blob size, diff id), lowest first.
    pub layers: Vec<(String, u64, String)>,
    pub raw: RawImage,
}

impl ImageStore {
    /// Open the store under `roots.images()`, creating its directories if needed.
    pub fn open(roots: &crate::paths::Roots) -> Result<ImageStore> {
        Ok(ImageStore { layout: Layout::open(&roots.images())? })
    }

    /// Load a manifest (and its config) from the store, verifying both digests.
    pub(crate) fn load(&self, manifest_digest: &str) -> Result<Stored> {
        let bytes = self.layout.read_blob(manifest_digest)?;
        let manifest: ImageManifest =
            serde_json::from_slice(&bytes).map_err(json_err(format!("manifest {manifest_digest}")))?;
        let config_digest = manifest.config().digest().to_string();
        let raw = RawImage::parse(&self.layout.read_blob(&config_digest)?, &format!("config {config_digest}"))?;
        let diff_ids = raw.diff_ids();
        if diff_ids.len() != manifest.layers().len() {
            return Err(ImageError::InvalidArchive {
                path: self.layout.blob_path(manifest_digest),
                reason: format!(
                    "{} layers but {} diff ids in config {config_digest}",
                    manifest.layers().len(),
                    diff_ids.len()
                ),
            });
        }
        let layers =
            manifest.layers().iter().zip(diff_ids).map(|(l, d)| (l.digest().to_string(), l.size(), d)).collect();
        Ok(Stored { manifest_digest: manifest_digest.to_string(), config_digest, layers, raw })
    }

    /// Find the manifest digest for a reference (`busybox`, `name@sha256:…`) or an image id
    /// (`sha256:…` or a unique hex prefix of one).
    pub(crate) fn find(&self, descs: &[Descriptor], wanted: &str) -> Result<String> {
        let parsed = Reference::parse(wanted).ok();
        if let Some(r) = &parsed {
            let full = r.to_string();
            let hit = match &r.digest {
                // The manifest itself; or, for a digest of an index (a multi-platform image),
                // the platform's manifest a pull of that reference stored and tagged with it.
                Some(d) => descs
                    .iter()
                    .find(|x| x.digest().to_string() == *d)
                    .or_else(|| descs.iter().find(|x| ref_name(x) == Some(full.as_str()))),
                None => descs.iter().find(|x| ref_name(x) == Some(full.as_str())),
            };
            if let Some(d) = hit {
                return Ok(d.digest().to_string());
            }
        }
        let hex = wanted.strip_prefix("sha256:").unwrap_or(wanted);
        if !hex.is_empty() && hex.len() <= 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut hits: BTreeMap<String, String> = BTreeMap::new();
            for d in descs {
                let m = d.digest().to_string();
                let stored = self.load(&m)?;
                if stored.config_digest.trim_start_matches("sha256:").starts_with(hex) {
                    hits.entry(stored.config_digest).or_insert(m);
                }
            }
            match hits.len() {
                1 => return Ok(hits.into_values().next().unwrap_or_default()),
                0 => {}
                count => return Err(ImageError::Ambiguous { reference: wanted.to_string(), count }),
            }
        }
        let reference = parsed.map_or_else(|| wanted.to_string(), |r| r.familiar());
        Err(ImageError::NotFound { reference })
    }

    /// Resolve a reference or id to the image's unpacked layers and config defaults, unpacking
    /// any layer not cached yet.
    pub fn resolve(&self, reference_or_id: &str) -> Result<ResolvedImage> {
        let _gc = self.layout.gc_lock(false)?;
        let idx = self.layout.read_index()?;
        let manifest_digest = self.find(idx.manifests(), reference_or_id)?;
        let stored = self.load(&manifest_digest)?;
        let layers = stored
            .layers
            .iter()
            .map(|(digest, _, diff_id)| layers::ensure_unpacked(&self.layout, digest, diff_id))
            .collect::<Result<Vec<_>>>()?;
        let references = self.tags_of(idx.manifests(), &stored.config_digest)?;
        Ok(ResolvedImage {
            id: stored.config_digest.clone(),
            references,
            layers,
            config: stored.raw.image_config(),
            manifest_digest,
        })
    }

    /// The manifest digest (`sha256:…`) `reference_or_id` names in this store, without
    /// unpacking anything (what `config --resolve-image-digests` pins an image to).
    pub fn manifest_digest(&self, reference_or_id: &str) -> Result<String> {
        let idx = self.layout.read_index()?;
        self.find(idx.manifests(), reference_or_id)
    }

    /// When `reference` was last tagged in this store (imported, pulled, built), as RFC 3339;
    /// None when no such tag exists. A pull re-tags even an unchanged image, so for pulled
    /// images this is the last pull (what `pull_policy: every_<d>` compares against).
    pub fn tagged_at(&self, reference: &str) -> Result<Option<String>> {
        let want = Reference::parse(reference).map(|r| r.to_string()).unwrap_or_else(|_| reference.to_string());
        let idx = self.layout.read_index()?;
        Ok(idx
            .manifests()
            .iter()
            .find(|d| ref_name(d) == Some(want.as_str()))
            .and_then(|d| d.annotations().as_ref()?.get(index::IMPORTED).cloned()))
    }

    /// The short-form tags of every descriptor whose image has config `id`.
    fn tags_of(&self, descs: &[Descriptor], id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for d in descs {
            if let Some(name) = ref_name(d) {
                if self.load(d.digest().as_ref())?.config_digest == id {
                    out.push(Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.familiar()));
                }
            }
        }
        Ok(out)
    }

    /// Every image in the store, one entry per image id.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let idx = self.layout.read_index()?;
        let mut by_id: BTreeMap<String, ImageSummary> = BTreeMap::new();
        for d in idx.manifests() {
            let stored = self.load(d.digest().as_ref())?;
            let entry = by_id.entry(stored.config_digest.clone()).or_insert_with(|| ImageSummary {
                id: stored.config_digest.clone(),
                references: Vec::new(),
                created: stored.raw.created.clone(),
                imported: d.annotations().as_ref().and_then(|a| a.get(index::IMPORTED).cloned()),
                size: stored.layers.iter().map(|l| l.1).sum(),
                layers: stored.layers.iter().map(|l| l.0.clone()).collect(),
                manifest_digests: Vec::new(),
            });
            let digest = d.digest().to_string();
            if !entry.manifest_digests.contains(&digest) {
                entry.manifest_digests.push(digest);
            }
            if let Some(name) = ref_name(d) {
                entry.references.push(Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.familiar()));
            }
        }
        Ok(by_id.into_values().collect())
    }

    /// Bytes of layer blobs on disk, each blob counted once however many images share it.
    pub fn disk_usage(&self) -> Result<u64> {
        let idx = self.layout.read_index()?;
        let mut seen = HashSet::new();
        let mut total = 0;
        for d in idx.manifests() {
            for (blob, size, _) in self.load(d.digest().as_ref())?.layers {
                if seen.insert(blob) {
                    total += size;
                }
            }
        }
        Ok(total)
    }

    /// Unpacked layer directories currently cached (diff id hex names), for tests and `inspect`.
    pub fn cached_layers(&self) -> Result<Vec<String>> {
        let dir = self.layout.layers_dir();
        let rd = fs::read_dir(&dir).map_err(io_err(&dir))?;
        let mut out: Vec<String> =
            rd.flatten().map(|e| format!("sha256:{}", e.file_name().to_string_lossy())).collect();
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_pinned_to_an_index_digest_finds_the_manifest_pulled_for_it() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = crate::paths::Roots::new(Some(&tmp.path().join("root")));
        let tar_path = tmp.path().join("rootfs.tar");
        let mut b = tar::Builder::new(std::fs::File::create(&tar_path).unwrap());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, "hello", &b"hi"[..]).unwrap();
        b.finish().unwrap();
        drop(b);
        let store = ImageStore::open(&roots).unwrap();
        store.import_rootfs_tar(&tar_path, "example.com/app:1").unwrap();
        let manifest = store.manifest_digest("example.com/app:1").unwrap();
        assert_eq!(store.manifest_digest(&format!("example.com/app@{manifest}")).unwrap(), manifest);
        // A pull of `name:tag@<index digest>` stores the platform's manifest under that name.
        let pinned = format!("example.com/app:1@sha256:{}", "ab".repeat(32));
        let size = std::fs::metadata(store.layout.blob_path(&manifest)).unwrap().len();
        let media = oci_spec::image::MediaType::ImageManifest;
        store.tag_manifest(&media, &manifest, size, &[Reference::parse(&pinned).unwrap()]).unwrap();
        assert_eq!(store.manifest_digest(&pinned).unwrap(), manifest);
        let other = format!("example.com/app:1@sha256:{}", "cd".repeat(32));
        assert!(matches!(store.manifest_digest(&other), Err(ImageError::NotFound { .. })));
    }
}
