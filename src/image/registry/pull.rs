//! `pull`: resolve a reference to an image manifest on its registry (through an index to the
//! host's platform when it is multi-platform), fetch the config and every layer not already in
//! the store, verify each (digest and size; the layer's diff id again while unpacking), then
//! store the manifest and tag it. Nothing is tagged unless everything verified, so a failed pull
//! leaves at most unreferenced blobs that the store's garbage collection removes.

use std::io::{self, Read};

use oci_spec::image::MediaType;
use serde::Serialize;

use super::client::{header, Client, Request};
use super::endpoint::Endpoint;
use super::error::{RegistryError, Result};
use super::manifest::{self, accept_header, Descriptor, Manifest};
use crate::fsutil::TooLarge;
use crate::image::config::RawImage;
use crate::image::layers;
use crate::image::layout::{sha256_digest, Layout};
use crate::image::limits::{MAX_CONFIG, MAX_MANIFEST};
use crate::image::reference::Reference;
use crate::image::{ImageError, ImageStore};

/// What happened to one blob of a pull or push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerStatus {
    /// Already in the store (pull) or on the registry (push): not transferred.
    AlreadyExists,
    /// Downloaded and verified.
    Downloaded,
    /// Uploaded.
    Pushed,
}

impl LayerStatus {
    /// Docker's words for it.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerStatus::AlreadyExists => "Already exists",
            LayerStatus::Downloaded => "Pull complete",
            LayerStatus::Pushed => "Pushed",
        }
    }
}

/// One blob's progress, reported as soon as it is done.
#[derive(Debug, Clone, Serialize)]
pub struct LayerEvent {
    pub digest: String,
    pub size: u64,
    pub status: LayerStatus,
}

/// What `pull` did.
#[derive(Debug, Clone, Serialize)]
pub struct PullReport {
    /// The reference pulled, short form (`busybox:latest`).
    pub reference: String,
    /// Digest of what the reference names on the registry: the index for a multi-platform
    /// image, else the manifest (Docker's "Digest:").
    pub digest: String,
    /// The manifest stored (the platform's, for an index).
    pub manifest_digest: String,
    /// The image id (config digest).
    pub id: String,
    pub layers: Vec<LayerEvent>,
    /// False when the reference already pointed at this manifest locally.
    pub updated: bool,
}

/// Pull `reference` into `store`; `on_layer` is called as each layer is done.
pub fn pull(store: &ImageStore, reference: &str, on_layer: &dyn Fn(&LayerEvent)) -> Result<PullReport> {
    let r = Reference::parse(reference)?;
    let client = Client::new(Endpoint::new(&r), false);
    // Shared gc lock for the whole pull: our blobs are not referenced by index.json until the end.
    let _gc = store.layout.gc_lock(false)?;
    let wanted = r.digest.clone().or_else(|| r.tag.clone()).unwrap_or_else(|| "latest".into());
    let (bytes, ctype) = fetch_manifest(&client, &wanted, r.digest.as_deref())?;
    let top_digest = sha256_digest(&bytes);
    let (bytes, parsed) = match parse(&client, &bytes, ctype.as_deref())? {
        Manifest::Index { manifests } => {
            let want = manifest::host_platform();
            let Some(d) = manifest::select(&manifests, &want) else {
                return Err(RegistryError::NoPlatform {
                    reference: client.ep.reference.clone(),
                    registry: client.ep.registry.clone(),
                    platform: want.to_string(),
                    available: manifest::platforms(&manifests),
                });
            };
            let (b, ct) = fetch_manifest(&client, &d.digest, Some(&d.digest))?;
            check_size(&client, &format!("manifest {}", d.digest), d.size, b.len() as u64)?;
            let m = parse(&client, &b, ct.as_deref())?;
            (b, m)
        }
        m => (bytes, m),
    };
    let Manifest::Image { media_type, config, layers } = parsed else {
        return Err(client.invalid("manifest", "an index inside an index is not supported"));
    };
    let manifest_digest = sha256_digest(&bytes);
    let config_bytes = fetch_config(&client, &store.layout, &config)?;
    let raw = RawImage::parse(&config_bytes, &format!("config {} of {}", config.digest, client.ep.reference))?;
    let diff_ids = raw.diff_ids();
    if diff_ids.len() != layers.len() {
        let reason = format!("{} layers but {} diff ids in its config", layers.len(), diff_ids.len());
        return Err(client.invalid("manifest", reason));
    }
    let mut events = Vec::new();
    for (layer, diff_id) in layers.iter().zip(&diff_ids) {
        let status = fetch_layer(&client, &store.layout, layer)?;
        layers::ensure_unpacked(&store.layout, &layer.digest, diff_id)?;
        let event = LayerEvent { digest: layer.digest.clone(), size: layer.size, status };
        on_layer(&event);
        events.push(event);
    }
    store.layout.put_blob_bytes(&config_bytes, Some(&config.digest), "config")?;
    let (_, size) = store.layout.put_blob_bytes(&bytes, Some(&manifest_digest), "manifest")?;
    let updated = !already_tagged(store, &r, &manifest_digest)?;
    store.tag_manifest(&MediaType::from(media_type.as_str()), &manifest_digest, size, std::slice::from_ref(&r))?;
    Ok(PullReport {
        reference: r.familiar(),
        digest: top_digest,
        manifest_digest,
        id: config.digest.clone(),
        layers: events,
        updated,
    })
}

/// The digest `reference`'s registry gives its manifest (for a multi-platform image, the
/// index's own, as `docker compose config --resolve-image-digests` pins it), fetched and
/// verified, nothing stored. A reference with a digest is its own answer.
pub fn remote_digest(reference: &str) -> Result<String> {
    let r = Reference::parse(reference)?;
    if let Some(d) = &r.digest {
        return Ok(d.clone());
    }
    let client = Client::new(Endpoint::new(&r), false);
    let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
    let (bytes, _) = fetch_manifest(&client, &tag, None)?;
    Ok(sha256_digest(&bytes))
}

fn parse(client: &Client, bytes: &[u8], ctype: Option<&str>) -> Result<Manifest> {
    match Manifest::parse(bytes, ctype).map_err(|reason| client.invalid("manifest", reason))? {
        Manifest::Schema1 => {
            Err(RegistryError::Schema1 { reference: client.ep.reference.clone(), registry: client.ep.registry.clone() })
        }
        m => Ok(m),
    }
}

/// GET a manifest by tag or digest; verify it against `expected` (a digest reference) or the
/// registry's own `Docker-Content-Digest`.
pub(super) fn fetch_manifest(
    client: &Client,
    wanted: &str,
    expected: Option<&str>,
) -> Result<(Vec<u8>, Option<String>)> {
    let req = Request::new("GET", client.ep.manifest_url(wanted)).header("Accept", accept_header());
    let mut resp = client.send(&req)?;
    if resp.status() == 404 {
        return Err(RegistryError::NotFound {
            reference: client.ep.reference.clone(),
            registry: client.ep.registry.clone(),
            detail: super::client::error_detail(&mut resp),
        });
    }
    if !resp.status().is_success() {
        return Err(client.status(&req, &mut resp));
    }
    let ctype = header(&resp, "content-type");
    let stated = header(&resp, "docker-content-digest").filter(|d| d.starts_with("sha256:"));
    let bytes = client.read_document(&mut resp, "manifest", MAX_MANIFEST, "image manifest")?;
    let actual = sha256_digest(&bytes);
    if let Some(exp) = expected.map(str::to_string).or(stated) {
        if exp != actual {
            return Err(mismatch(&client.ep, &format!("manifest {wanted}"), &exp, &actual));
        }
    }
    Ok((bytes, ctype))
}

/// The config blob: from the store when present, else fetched and verified.
fn fetch_config(client: &Client, layout: &Layout, d: &Descriptor) -> Result<Vec<u8>> {
    if layout.blob_path(&d.digest).exists() {
        return Ok(layout.read_blob(&d.digest)?);
    }
    if d.size > MAX_CONFIG {
        let reason =
            format!("its descriptor says {} bytes: {}", d.size, TooLarge { what: "image config", limit: MAX_CONFIG });
        return Err(client.invalid("config", reason));
    }
    let req = Request::new("GET", client.ep.blob_url(&d.digest));
    let mut resp = client.send(&req)?;
    if !resp.status().is_success() {
        return Err(client.status(&req, &mut resp));
    }
    let bytes = client.read_document(&mut resp, "config", MAX_CONFIG, "image config")?;
    let what = format!("config {}", d.digest);
    check_size(client, &what, d.size, bytes.len() as u64)?;
    let actual = sha256_digest(&bytes);
    if actual != d.digest {
        return Err(mismatch(&client.ep, &what, &d.digest, &actual));
    }
    Ok(bytes)
}

/// A layer blob: skipped when the store has it, else streamed into the store while hashing.
fn fetch_layer(client: &Client, layout: &Layout, d: &Descriptor) -> Result<LayerStatus> {
    if layout.blob_path(&d.digest).exists() {
        return Ok(LayerStatus::AlreadyExists);
    }
    let req = Request::new("GET", client.ep.blob_url(&d.digest));
    let mut resp = client.send(&req)?;
    if !resp.status().is_success() {
        return Err(client.status(&req, &mut resp));
    }
    let mut body = resp.into_body().into_reader();
    store_verified(layout, &client.ep, &mut body, d)?;
    Ok(LayerStatus::Downloaded)
}

/// Stream `reader` into the store as blob `d`, refusing it (nothing stored) unless it is
/// exactly `d.size` bytes hashing to `d.digest`.
pub(crate) fn store_verified(layout: &Layout, ep: &Endpoint, reader: &mut dyn Read, d: &Descriptor) -> Result<()> {
    let what = format!("layer {}", d.digest);
    let mut counted = SizeLimit { inner: reader, limit: d.size, seen: 0 };
    match layout.put_blob(&mut counted, Some(&d.digest), &what) {
        Ok((_, size)) if size != d.size => Err(size_mismatch(ep, &what, d.size, size)),
        Ok(_) => Ok(()),
        Err(_) if counted.seen > d.size => Err(size_mismatch(ep, &what, d.size, counted.seen)),
        Err(ImageError::DigestMismatch { expected, actual, .. }) => Err(mismatch(ep, &what, &expected, &actual)),
        Err(ImageError::Io { source, .. }) => {
            Err(RegistryError::Io { reference: ep.reference.clone(), registry: ep.registry.clone(), source })
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `r` already points at `manifest_digest` in the store.
fn already_tagged(store: &ImageStore, r: &Reference, manifest_digest: &str) -> Result<bool> {
    let idx = store.layout.read_index()?;
    Ok(store.find(idx.manifests(), &r.to_string()).is_ok_and(|d| d == manifest_digest))
}

fn check_size(client: &Client, what: &str, expected: u64, actual: u64) -> Result<()> {
    if expected != actual {
        return Err(size_mismatch(&client.ep, what, expected, actual));
    }
    Ok(())
}

pub(super) fn mismatch(ep: &Endpoint, what: &str, expected: &str, actual: &str) -> RegistryError {
    RegistryError::DigestMismatch {
        reference: ep.reference.clone(),
        registry: ep.registry.clone(),
        what: what.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

fn size_mismatch(ep: &Endpoint, what: &str, expected: u64, actual: u64) -> RegistryError {
    RegistryError::SizeMismatch {
        reference: ep.reference.clone(),
        registry: ep.registry.clone(),
        what: what.to_string(),
        expected,
        actual,
    }
}

/// Passes at most `limit` bytes; one more is an error (a registry may not send more than the
/// descriptor says, and must not make us store an unbounded stream).
struct SizeLimit<'a> {
    inner: &'a mut dyn Read,
    limit: u64,
    seen: u64,
}

impl Read for SizeLimit<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        if self.seen > self.limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "more bytes than the descriptor's size"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Layout, Endpoint) {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::open(tmp.path()).unwrap();
        let ep = Endpoint::new(&Reference::parse("127.0.0.1:5000/test/busybox:1").unwrap());
        (tmp, layout, ep)
    }

    fn desc(data: &[u8]) -> Descriptor {
        Descriptor { media_type: String::new(), digest: sha256_digest(data), size: data.len() as u64, platform: None }
    }

    #[test]
    fn verified_blobs_are_stored() {
        let (_tmp, layout, ep) = setup();
        let d = desc(b"layer bytes");
        store_verified(&layout, &ep, &mut &b"layer bytes"[..], &d).unwrap();
        assert_eq!(std::fs::read(layout.blob_path(&d.digest)).unwrap(), b"layer bytes");
    }

    #[test]
    fn digest_mismatch_is_refused_and_nothing_is_stored() {
        let (_tmp, layout, ep) = setup();
        let d = desc(b"layer bytes");
        let err = store_verified(&layout, &ep, &mut &b"layer bytez"[..], &d).unwrap_err();
        assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:5000/test/busybox:1") && text.contains("127.0.0.1:5000"), "{text}");
        assert!(!layout.blob_path(&d.digest).exists());
        assert_eq!(std::fs::read_dir(layout.tmp_dir()).unwrap().count(), 0, "no temp file left");
    }

    #[test]
    fn oversized_and_short_blobs_are_refused() {
        let (_tmp, layout, ep) = setup();
        let d = desc(b"abc");
        let err = store_verified(&layout, &ep, &mut &b"abcdef"[..], &d).unwrap_err();
        assert!(matches!(err, RegistryError::SizeMismatch { expected: 3, .. }), "{err:?}");
        let err = store_verified(&layout, &ep, &mut &b"ab"[..], &d).unwrap_err();
        assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err:?}");
        assert!(!layout.blob_path(&d.digest).exists());
    }
}
