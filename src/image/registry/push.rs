//! `push`: upload an image of the store to its registry: each blob (config, then the layers
//! as stored, compressed or not) unless the registry already has it (HEAD), by a monolithic
//! upload (POST `/blobs/uploads/`, then PUT `?digest=`), then the manifest, byte for byte, so
//! the registry's digest for it is the store's.

use serde::Serialize;

use super::client::{header, Client, Payload, Request};
use super::endpoint::Endpoint;
use super::error::{RegistryError, Result};
use super::manifest::{Manifest, OCI_MANIFEST};
use super::pull::{LayerEvent, LayerStatus};
use crate::image::reference::Reference;
use crate::image::ImageStore;

/// What `push` did.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// The reference pushed, short form.
    pub reference: String,
    /// The manifest digest (the same on the registry as in the store).
    pub digest: String,
    /// Bytes of the manifest.
    pub size: u64,
    /// The manifest's media type (OCI or Docker image manifest).
    pub media_type: String,
    /// Config and layers, in upload order.
    pub blobs: Vec<LayerEvent>,
}

/// Push the local image `reference` to its registry; `on_blob` is called as each blob is done.
pub fn push(store: &ImageStore, reference: &str, on_blob: &dyn Fn(&LayerEvent)) -> Result<PushReport> {
    push_to(store, reference, reference, false, on_blob)
}

/// Push the local image `local` to `target` (a tag, or a digest: then the image's own, as
/// `docker compose publish --app` copies images into the artifact's repository); `insecure`:
/// over plain http.
pub fn push_to(
    store: &ImageStore,
    local: &str,
    target: &str,
    insecure: bool,
    on_blob: &dyn Fn(&LayerEvent),
) -> Result<PushReport> {
    let r = Reference::parse(target)?;
    let idx = store.layout.read_index()?;
    let manifest_digest = store.find(idx.manifests(), local)?;
    let stored = store.load(&manifest_digest)?;
    let bytes = store.layout.read_blob(&manifest_digest)?;
    let client = Client::new(Endpoint::maybe_insecure(&r, insecure), true);
    let media_type = match Manifest::parse(&bytes, None) {
        Ok(Manifest::Image { media_type, .. }) => media_type,
        Ok(_) => return Err(client.invalid("local manifest", format!("{manifest_digest} is not an image manifest"))),
        Err(reason) => return Err(client.invalid("local manifest", reason)),
    };
    let config_size = blob_size(store, &client, &stored.config_digest)?;
    let blobs = std::iter::once((stored.config_digest.clone(), config_size))
        .chain(stored.layers.iter().map(|(d, s, _)| (d.clone(), *s)));
    let mut events = Vec::new();
    for (digest, size) in blobs {
        let status = upload_blob(store, &client, &digest)?;
        let event = LayerEvent { digest, size, status };
        on_blob(&event);
        events.push(event);
    }
    let target = r.digest.clone().or_else(|| r.tag.clone()).unwrap_or_else(|| "latest".into());
    put_manifest(&client, &target, &bytes, &media_type, &manifest_digest)?;
    let media_type = if media_type.is_empty() { OCI_MANIFEST.to_string() } else { media_type };
    Ok(PushReport {
        reference: r.familiar(),
        digest: manifest_digest,
        size: bytes.len() as u64,
        media_type,
        blobs: events,
    })
}

fn blob_size(store: &ImageStore, client: &Client, digest: &str) -> Result<u64> {
    let path = store.layout.blob_path(digest);
    std::fs::metadata(&path).map(|m| m.len()).map_err(|e| client.io(e))
}

/// Upload one blob of the store unless the registry has it.
fn upload_blob(store: &ImageStore, client: &Client, digest: &str) -> Result<LayerStatus> {
    let path = store.layout.blob_path(digest);
    upload(client, digest, Payload::File(&path))
}

/// Upload `body` as blob `digest` unless the registry has it: HEAD, then a monolithic upload.
pub(super) fn upload(client: &Client, digest: &str, body: Payload<'_>) -> Result<LayerStatus> {
    let head = Request::new("HEAD", client.ep.blob_url(digest));
    let mut resp = client.send(&head)?;
    match resp.status().as_u16() {
        200 => return Ok(LayerStatus::AlreadyExists),
        404 => {}
        _ => return Err(client.status(&head, &mut resp)),
    }
    let start = Request::new("POST", client.ep.uploads_url());
    let mut resp = client.send(&start)?;
    if resp.status().as_u16() != 202 {
        return Err(client.status(&start, &mut resp));
    }
    let location = header(&resp, "location")
        .ok_or_else(|| client.invalid("upload session", "the registry sent no Location for the upload"))?;
    let mut url = client.ep.absolute(&location);
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&format!("digest={}", digest.replace(':', "%3A")));
    let put = Request::new("PUT", url).header("Content-Type", "application/octet-stream").body(body);
    let mut resp = client.send(&put)?;
    if resp.status().as_u16() != 201 {
        return Err(client.status(&put, &mut resp));
    }
    Ok(LayerStatus::Pushed)
}

pub(super) fn put_manifest(client: &Client, target: &str, bytes: &[u8], media_type: &str, digest: &str) -> Result<()> {
    let media_type = if media_type.is_empty() { OCI_MANIFEST } else { media_type };
    let req = Request::new("PUT", client.ep.manifest_url(target))
        .header("Content-Type", media_type)
        .body(Payload::Bytes(bytes));
    let mut resp = client.send(&req)?;
    if resp.status().as_u16() != 201 {
        return Err(client.status(&req, &mut resp));
    }
    match header(&resp, "docker-content-digest") {
        Some(d) if d.starts_with("sha256:") && d != digest => Err(RegistryError::DigestMismatch {
            reference: client.ep.reference.clone(),
            registry: client.ep.registry.clone(),
            what: "the pushed manifest".into(),
            expected: digest.to_string(),
            actual: d,
        }),
        _ => Ok(()),
    }
}
