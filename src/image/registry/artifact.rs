//! Compose projects as OCI artifacts, in the shape `docker compose publish` writes and
//! `docker compose -f oci://…` reads, so the two tools exchange them:
//!
//! - an OCI image manifest whose layers are the project's files, in order: each Compose file
//!   as `application/vnd.docker.compose.file+yaml`, each env file as
//!   `application/vnd.docker.compose.envfile`, named by a `com.docker.compose.file` (or
//!   `…envfile`) annotation holding the file's base name;
//! - OCI 1.1 (the default): `artifactType: application/vnd.docker.compose.project` and the
//!   empty config `application/vnd.oci.empty.v1+json` (`{}`); OCI 1.0 (registries that refuse
//!   1.1 manifests, or `--oci-version 1.0`): no artifact type, the config's media type
//!   `application/vnd.docker.compose.config.empty.v1+json` says what it is.
//!
//! Fetching is bounded and checked: the manifest's size, each file's size (the loader's own
//! caps), every blob's digest, and each name (a plain base name, no `/`, no `..`: a name is a
//! file written into the artifact's directory).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::{Client, Payload, Request};
use super::endpoint::Endpoint;
use super::error::{RegistryError, Result};
use super::manifest::{OCI_INDEX, OCI_MANIFEST};
use super::pull::{fetch_manifest, mismatch};
use super::push::{put_manifest, upload};
use crate::image::layout::sha256_digest;
use crate::image::reference::Reference;

pub const PROJECT_ARTIFACT: &str = "application/vnd.docker.compose.project";
pub const COMPOSE_FILE: &str = "application/vnd.docker.compose.file+yaml";
pub const ENV_FILE: &str = "application/vnd.docker.compose.envfile";
pub const CONFIG_1_0: &str = "application/vnd.docker.compose.config.empty.v1+json";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const FILE_ANNOTATION: &str = "com.docker.compose.file";
const ENVFILE_ANNOTATION: &str = "com.docker.compose.envfile";
const VERSION_ANNOTATION: &str = "com.docker.compose.version";
/// The most files an artifact may list (a project has a handful).
const MAX_PARTS: usize = 64;
/// The most bytes one file may have (the loader's cap for a stack file, 32 MiB).
const MAX_PART: u64 = 32 << 20;

/// One file of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub kind: PartKind,
    /// Its base name (`compose.yaml`, `.env`).
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    ComposeFile,
    EnvFile,
}

/// The OCI manifest shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciVersion {
    V1_0,
    V1_1,
}

#[derive(Debug, Serialize, Deserialize)]
struct Desc {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArtifactManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(rename = "artifactType", default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    config: Desc,
    layers: Vec<Desc>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// What `publish` wrote.
#[derive(Debug, Clone)]
pub struct Published {
    pub reference: String,
    pub digest: String,
    /// Bytes of the artifact's manifest.
    pub size: u64,
    pub version: OciVersion,
}

/// The manifest for `parts` in the `version` shape, and its config blob.
fn manifest(parts: &[Part], version: OciVersion, created: &str) -> (Vec<u8>, Vec<u8>) {
    let config = b"{}".to_vec();
    let (artifact_type, config_type) = match version {
        OciVersion::V1_1 => (Some(PROJECT_ARTIFACT.to_string()), OCI_EMPTY),
        OciVersion::V1_0 => (None, CONFIG_1_0),
    };
    let layers = parts
        .iter()
        .map(|p| {
            let (media_type, key) = match p.kind {
                PartKind::ComposeFile => (COMPOSE_FILE, FILE_ANNOTATION),
                PartKind::EnvFile => (ENV_FILE, ENVFILE_ANNOTATION),
            };
            let annotations = BTreeMap::from([
                (key.to_string(), p.name.clone()),
                (VERSION_ANNOTATION.to_string(), format!("berth-{}", env!("CARGO_PKG_VERSION"))),
            ]);
            Desc {
                media_type: media_type.into(),
                digest: sha256_digest(&p.bytes),
                size: p.bytes.len() as u64,
                annotations,
            }
        })
        .collect();
    let m = ArtifactManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST.into(),
        artifact_type,
        config: Desc {
            media_type: config_type.into(),
            digest: sha256_digest(&config),
            size: config.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers,
        annotations: BTreeMap::from([("org.opencontainers.image.created".to_string(), created.to_string())]),
    };
    (serde_json::to_vec(&m).unwrap_or_default(), config)
}

/// Push `parts` as a Compose project artifact to `reference` (a tag or a digest). Without a
/// `version`, OCI 1.1 first and OCI 1.0 when the registry refuses the 1.1 manifest with a
/// client error other than an authentication one (as docker compose does). `insecure`: plain
/// http (`--insecure-registry`).
pub fn publish(
    reference: &str,
    parts: &[Part],
    version: Option<OciVersion>,
    created: &str,
    insecure: bool,
) -> Result<Published> {
    let r = Reference::parse(reference)?;
    let client = Client::new(Endpoint::maybe_insecure(&r, insecure), true);
    for p in parts {
        upload(&client, &sha256_digest(&p.bytes), Payload::Bytes(&p.bytes))?;
    }
    let target = r.digest.clone().or_else(|| r.tag.clone()).unwrap_or_else(|| "latest".into());
    let try_one = |v: OciVersion| -> Result<Published> {
        let (bytes, config) = manifest(parts, v, created);
        upload(&client, &sha256_digest(&config), Payload::Bytes(&config))?;
        let digest = sha256_digest(&bytes);
        put_manifest(&client, &target, &bytes, OCI_MANIFEST, &digest)?;
        Ok(Published { reference: r.familiar(), digest, size: bytes.len() as u64, version: v })
    };
    match version {
        Some(v) => try_one(v),
        None => match try_one(OciVersion::V1_1) {
            Err(RegistryError::Status { status, .. })
                if (400..500).contains(&status) && ![401, 403, 407].contains(&status) =>
            {
                try_one(OciVersion::V1_0)
            }
            other => other,
        },
    }
}

/// An image of the application (`publish --app`): a manifest already in the artifact's
/// repository.
#[derive(Debug, Clone)]
pub struct AppImage {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Serialize)]
struct AppIndex<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: Vec<Desc>,
    subject: Desc,
    annotations: BTreeMap<String, String>,
}

/// `publish --app`, as docker compose: an OCI image index in the artifact's repository (by
/// digest, no tag) listing every service's image, its `subject` the project artifact, so the
/// application is one artifact to copy. Returns the index's digest.
pub fn push_app_index(reference: &str, artifact: &Published, images: &[AppImage], insecure: bool) -> Result<String> {
    let r = Reference::parse(reference)?;
    let client = Client::new(Endpoint::maybe_insecure(&r, insecure), true);
    let desc = |media_type: &str, digest: &str, size: u64| Desc {
        media_type: media_type.into(),
        digest: digest.into(),
        size,
        annotations: BTreeMap::new(),
    };
    let index = AppIndex {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests: images.iter().map(|i| desc(&i.media_type, &i.digest, i.size)).collect(),
        subject: desc(OCI_MANIFEST, &artifact.digest, artifact.size),
        annotations: BTreeMap::from([(VERSION_ANNOTATION.to_string(), format!("berth-{}", env!("CARGO_PKG_VERSION")))]),
    };
    let bytes = serde_json::to_vec(&index).map_err(|e| client.invalid("application index", e))?;
    let digest = sha256_digest(&bytes);
    put_manifest(&client, &digest, &bytes, OCI_INDEX, &digest)?;
    Ok(digest)
}

/// Fetch the Compose project artifact `reference`: its files in manifest order, each checked
/// against its digest. An image (or any other artifact) is refused, naming what it is.
pub fn fetch(reference: &str, insecure: bool) -> Result<(String, Vec<Part>)> {
    let r = Reference::parse(reference)?;
    let client = Client::new(Endpoint::maybe_insecure(&r, insecure), false);
    let wanted = r.digest.clone().or_else(|| r.tag.clone()).unwrap_or_else(|| "latest".into());
    let (bytes, _) = fetch_manifest(&client, &wanted, r.digest.as_deref())?;
    let digest = sha256_digest(&bytes);
    let m: ArtifactManifest =
        serde_json::from_slice(&bytes).map_err(|e| client.invalid("Compose project artifact", e))?;
    let is_project = m.artifact_type.as_deref() == Some(PROJECT_ARTIFACT) || m.config.media_type == CONFIG_1_0;
    if !is_project {
        let what = m.artifact_type.unwrap_or(m.config.media_type);
        return Err(client.invalid("Compose project artifact", format!("it is not one (it is {what})")));
    }
    if m.layers.len() > MAX_PARTS {
        return Err(client.invalid("Compose project artifact", format!("{} files, over {MAX_PARTS}", m.layers.len())));
    }
    let mut parts = Vec::new();
    for layer in &m.layers {
        let (kind, key) = match layer.media_type.as_str() {
            COMPOSE_FILE => (PartKind::ComposeFile, FILE_ANNOTATION),
            ENV_FILE => (PartKind::EnvFile, ENVFILE_ANNOTATION),
            other => {
                tracing::warn!(reference, media_type = other, "a layer of an unknown kind in the artifact: skipped");
                continue;
            }
        };
        let name = layer.annotations.get(key).cloned().unwrap_or_default();
        if !plain_name(&name) {
            return Err(
                client.invalid("Compose project artifact", format!("file name {name:?} is not a plain file name"))
            );
        }
        if layer.size > MAX_PART {
            return Err(client.invalid(&name, format!("{} bytes, over the {MAX_PART}-byte limit", layer.size)));
        }
        let bytes = blob(&client, &layer.digest, MAX_PART)?;
        if bytes.len() as u64 != layer.size || sha256_digest(&bytes) != layer.digest {
            return Err(mismatch(&client.ep, &name, &layer.digest, &sha256_digest(&bytes)));
        }
        parts.push(Part { kind, name, bytes });
    }
    if !parts.iter().any(|p| p.kind == PartKind::ComposeFile) {
        return Err(client.invalid("Compose project artifact", "it holds no Compose file"));
    }
    Ok((digest, parts))
}

fn blob(client: &Client, digest: &str, limit: u64) -> Result<Vec<u8>> {
    let req = Request::new("GET", client.ep.blob_url(digest));
    let mut resp = client.send(&req)?;
    if !resp.status().is_success() {
        return Err(client.status(&req, &mut resp));
    }
    client.read_document(&mut resp, digest, limit, "Compose file")
}

/// A base name a file may be written under: not empty, no `/` or NUL, not `.` or `..`.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Vec<Part> {
        vec![
            Part { kind: PartKind::ComposeFile, name: "compose.yaml".into(), bytes: b"services: {}\n".to_vec() },
            Part { kind: PartKind::EnvFile, name: ".env".into(), bytes: b"A=1\n".to_vec() },
        ]
    }

    #[test]
    fn the_manifest_has_compose_s_shape() {
        let (bytes, config) = manifest(&parts(), OciVersion::V1_1, "2026-12-04T00:00:00Z");
        assert_eq!(config, b"{}");
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], PROJECT_ARTIFACT);
        assert_eq!(v["mediaType"], OCI_MANIFEST);
        assert_eq!(v["config"]["mediaType"], OCI_EMPTY);
        assert_eq!(
            v["config"]["digest"], "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "the OCI empty descriptor"
        );
        assert_eq!(v["layers"][0]["mediaType"], COMPOSE_FILE);
        assert_eq!(v["layers"][0]["annotations"][FILE_ANNOTATION], "compose.yaml");
        assert_eq!(v["layers"][1]["mediaType"], ENV_FILE);
        assert_eq!(v["layers"][1]["annotations"][ENVFILE_ANNOTATION], ".env");
        let (old, _) = manifest(&parts(), OciVersion::V1_0, "x");
        let v: serde_json::Value = serde_json::from_slice(&old).unwrap();
        assert!(v.get("artifactType").is_none());
        assert_eq!(v["config"]["mediaType"], CONFIG_1_0);
    }

    #[test]
    fn names_are_plain_file_names() {
        for ok in ["compose.yaml", ".env", "a..b"] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "../x", "/etc/passwd", "a/b", "a\\b", "a\0"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }
}
