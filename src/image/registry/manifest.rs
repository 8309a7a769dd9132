//! Manifests as registries serve them (OCI image-spec `manifest.md`, `image-index.md`, and
//! Docker's schema 2 equivalents): what kind a document is, and for a multi-platform index
//! which entry fits this machine (linux, the host's architecture and, on ARM, variant).
//! Parsed with a lenient model of our own: registries add fields, and Docker lists write
//! platform fields `oci_spec` is strict about.

use serde::Deserialize;

use crate::image::config::go_arch;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The `Accept` header of manifest requests: every kind we can use (schema 1 left out, so a
/// registry able to convert answers with schema 2).
pub fn accept_header() -> String {
    [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(", ")
}

#[derive(Debug, Clone, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Raw {
    #[serde(rename = "schemaVersion", default)]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// A manifest document, by kind.
#[derive(Debug)]
pub enum Manifest {
    /// An OCI index or Docker manifest list: one manifest per platform.
    Index { manifests: Vec<Descriptor> },
    /// One image: its config and layers (lowest first), and its media type.
    Image { media_type: String, config: Descriptor, layers: Vec<Descriptor> },
    /// Docker schema 1 (refused).
    Schema1,
}

impl Manifest {
    /// Classify `bytes`, served with `content_type` (the body's own `mediaType` wins; a body
    /// without one is judged by its shape).
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, String> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
        let ct = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_string());
        let media = raw.media_type.clone().or(ct).unwrap_or_default();
        if raw.schema_version == 1 || media == DOCKER_SCHEMA1 || media == DOCKER_SCHEMA1_SIGNED {
            return Ok(Manifest::Schema1);
        }
        if let Some(manifests) = raw.manifests {
            return Ok(Manifest::Index { manifests });
        }
        match (raw.config, raw.layers) {
            (Some(config), Some(layers)) => {
                let media_type = if media.is_empty() { OCI_MANIFEST.to_string() } else { media };
                if media_type != OCI_MANIFEST && media_type != DOCKER_MANIFEST {
                    return Err(format!("unsupported manifest media type `{media_type}`"));
                }
                Ok(Manifest::Image { media_type, config, layers })
            }
            _ => Err(format!("unsupported manifest (media type `{media}`): neither an index nor an image manifest")),
        }
    }
}

/// The platform images are pulled for: linux on this machine's architecture.
pub fn host_platform() -> Platform {
    let architecture = go_arch().to_string();
    let variant = match architecture.as_str() {
        "arm64" => Some("v8".to_string()),
        "arm" => Some("v7".to_string()),
        _ => None,
    };
    Platform { os: "linux".into(), architecture, variant }
}

/// The entry of an index for `want`: same os and architecture; among those, the one with the
/// wanted variant, else one without a variant (arm64's is implied `v8`), else the first.
pub fn select<'a>(manifests: &'a [Descriptor], want: &Platform) -> Option<&'a Descriptor> {
    let fits: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_some_and(|p| p.os == want.os && p.architecture == want.architecture))
        .collect();
    let variant = |d: &&Descriptor| d.platform.as_ref().and_then(|p| p.variant.clone());
    fits.iter()
        .find(|d| want.variant.is_some() && variant(d) == want.variant)
        .or_else(|| fits.iter().find(|d| variant(d).is_none()))
        .or_else(|| fits.first())
        .copied()
}

/// `linux/amd64, linux/arm64/v8` for messages.
pub fn platforms(manifests: &[Descriptor]) -> String {
    let list: Vec<String> = manifests.iter().filter_map(|d| d.platform.as_ref().map(|p| p.to_string())).collect();
    if list.is_empty() {
        "no platforms listed".into()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Docker manifest list in the shape Docker Hub serves (trimmed digests repeated).
    const LIST: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests": [
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
         "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
         "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
         "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
         "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
         "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
         "digest": "sha256:5555555555555555555555555555555555555555555555555555555555555555",
         "platform": {"architecture": "unknown", "os": "unknown"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
         "digest": "sha256:6666666666666666666666666666666666666666666666666666666666666666",
         "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1"}}
      ]
    }"#;

    fn plat(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform { os: os.into(), architecture: arch.into(), variant: variant.map(str::to_string) }
    }

    fn pick(want: &Platform) -> Option<char> {
        let Manifest::Index { manifests } = Manifest::parse(LIST.as_bytes(), None).unwrap() else { panic!("index") };
        select(&manifests, want).map(|d| d.digest.chars().last().unwrap())
    }

    #[test]
    fn manifest_list_selects_the_host_platform() {
        assert_eq!(pick(&plat("linux", "amd64", None)), Some('3'));
        assert_eq!(pick(&plat("linux", "arm64", Some("v8"))), Some('4'));
        assert_eq!(pick(&plat("linux", "arm", Some("v7"))), Some('2'));
        assert_eq!(pick(&plat("linux", "arm", Some("v5"))), Some('1'), "no exact variant: the first arm entry");
        assert_eq!(pick(&plat("linux", "s390x", None)), None);
        assert_eq!(pick(&plat("windows", "amd64", None)), Some('6'));
        let host = host_platform();
        assert_eq!(host.os, "linux");
        if host.architecture == "amd64" {
            assert_eq!(pick(&host), Some('3'));
        }
    }

    #[test]
    fn platforms_are_listed_for_messages() {
        let Manifest::Index { manifests } = Manifest::parse(LIST.as_bytes(), None).unwrap() else { panic!() };
        let text = platforms(&manifests);
        assert!(text.starts_with("linux/arm/v6, linux/arm/v7, linux/amd64, linux/arm64/v8"), "{text}");
    }

    #[test]
    fn kinds_are_recognized() {
        let oci = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
          "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aa","size":2},
          "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bb","size":3}]}"#;
        match Manifest::parse(oci.as_bytes(), None).unwrap() {
            Manifest::Image { media_type, config, layers } => {
                assert_eq!(media_type, OCI_MANIFEST);
                assert_eq!((config.digest.as_str(), layers.len()), ("sha256:aa", 1));
            }
            other => panic!("{other:?}"),
        }
        // No mediaType in the body: the Content-Type header decides (with parameters stripped).
        let bare = r#"{"schemaVersion":2,"config":{"digest":"sha256:aa","size":2},"layers":[]}"#;
        let m = Manifest::parse(bare.as_bytes(), Some(&format!("{DOCKER_MANIFEST}; charset=utf-8"))).unwrap();
        assert!(matches!(m, Manifest::Image { media_type, .. } if media_type == DOCKER_MANIFEST));
        let index = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(Manifest::parse(index.as_bytes(), Some(OCI_INDEX)).unwrap(), Manifest::Index { .. }));
        let v1 = r#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#;
        assert!(matches!(Manifest::parse(v1.as_bytes(), Some(DOCKER_SCHEMA1_SIGNED)).unwrap(), Manifest::Schema1));
        assert!(Manifest::parse(b"[]", None).is_err());
    }

    /// The store loads manifests with oci_spec: a Docker schema 2 manifest must load too.
    #[test]
    fn docker_schema2_manifests_load_in_the_store_model() {
        let docker = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
          "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,
            "digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
          "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2,
            "digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}"#;
        let m: oci_spec::image::ImageManifest = serde_json::from_str(docker).unwrap();
        assert_eq!(m.layers().len(), 1);
    }
}
