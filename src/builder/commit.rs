//! The finished image into the store: config and manifest blobs written next to the layer
//! blobs the build already stored, then tagged through the store's own OCI-layout import (a
//! temporary layout under the store's tmp/ whose blobs are hard links), so tagging, digests
//! and layer checks go through exactly one code path. The import finds every blob and layer
//! already present and copies nothing.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndexBuilder, ImageManifestBuilder, MediaType};

use super::error::{io_err, BuildError, Result};
use super::state::ImageState;
use crate::image::{ImageStore, Reference};

const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Store `state` as an image tagged with every one of `tags`; returns the image id.
pub fn commit(store: &ImageStore, state: &ImageState, tags: &[String]) -> Result<String> {
    let refs = tags.iter().map(|t| Reference::parse(t)).collect::<std::result::Result<Vec<_>, _>>()?;
    let config = state.config_json()?;
    let (config_digest, config_size) = store.layout.put_blob_bytes(&config, None, "built image config")?;
    let layers = state
        .layers
        .iter()
        .map(|l| descriptor(MediaType::from(l.media_type.as_str()), l.size, &l.digest))
        .collect::<Result<Vec<_>>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, config_size, &config_digest)?)
        .layers(layers)
        .build()
        .map_err(|e| BuildError::Invalid(format!("manifest: {e}")))?;
    let bytes = serde_json::to_vec(&manifest).map_err(|e| BuildError::Invalid(format!("manifest: {e}")))?;
    let (manifest_digest, manifest_size) = store.layout.put_blob_bytes(&bytes, None, "built image manifest")?;
    let mut descs = Vec::new();
    for r in &refs {
        let mut d = descriptor(MediaType::ImageManifest, manifest_size, &manifest_digest)?;
        d.set_annotations(Some(HashMap::from([(CONTAINERD_NAME.to_string(), r.to_string())])));
        descs.push(d);
    }
    if descs.is_empty() {
        descs.push(descriptor(MediaType::ImageManifest, manifest_size, &manifest_digest)?);
    }
    let blobs: Vec<&str> = [manifest_digest.as_str(), config_digest.as_str()]
        .into_iter()
        .chain(state.layers.iter().map(|l| l.digest.as_str()))
        .collect();
    let dir = store.layout.tmp_path("build-commit");
    let result = import_layout(store, &dir, &descs, &blobs);
    let _ = fs::remove_dir_all(&dir);
    result?;
    Ok(config_digest)
}

fn descriptor(media: MediaType, size: u64, digest: &str) -> Result<Descriptor> {
    let d: oci_spec::image::Digest = digest.parse().map_err(|_| BuildError::Invalid(format!("bad digest {digest}")))?;
    Ok(Descriptor::new(media, size, d))
}

fn import_layout(store: &ImageStore, dir: &Path, descs: &[Descriptor], blobs: &[&str]) -> Result<()> {
    let blob_dir = dir.join("blobs/sha256");
    fs::create_dir_all(&blob_dir).map_err(io_err(&blob_dir))?;
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io_err(dir))?;
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(descs.to_vec())
        .build()
        .map_err(|e| BuildError::Invalid(format!("index: {e}")))?;
    let bytes = serde_json::to_vec(&index).map_err(|e| BuildError::Invalid(format!("index: {e}")))?;
    fs::write(dir.join("index.json"), bytes).map_err(io_err(dir))?;
    for digest in blobs {
        let from = store.layout.blob_path(digest);
        let to = blob_dir.join(digest.trim_start_matches("sha256:"));
        if !to.exists() {
            fs::hard_link(&from, &to).map_err(io_err(&from))?;
        }
    }
    store.import_oci_layout(dir, None)?;
    Ok(())
}
