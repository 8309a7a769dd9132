//! The image being built, step by step: its config (image-spec `config.md` plus Docker's
//! Healthcheck, Shell and OnBuild), layers and history. A stage starts from its base image's
//! state (read from the store), `scratch`, or another stage's; every step yields a new state,
//! which is also what the build cache stores.

use std::collections::BTreeMap;

use oci_spec::image::ImageManifest;
use serde::{Deserialize, Serialize};

use super::error::{BuildError, Result};
use super::layer::LayerRef;
use crate::image::ImageStore;

/// Docker's PATH for images that set none (RUN gets it, and BuildKit writes it into the config).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// An image (or a stage) as it stands after a step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageState {
    pub config: Config,
    pub layers: Vec<LayerRef>,
    pub history: Vec<History>,
    /// Id of the base image or the cache key chain this state descends from (cache keys).
    pub origin: String,
    /// The image's `author` (`commit -a`); none for builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

#[derive(Deserialize)]
struct RawConfigBlob {
    #[serde(default)]
    config: Option<Config>,
    #[serde(default)]
    rootfs: Option<RawRootFs>,
    #[serde(default)]
    history: Vec<History>,
}

#[derive(Deserialize)]
struct RawRootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl ImageState {
    /// The state of image `reference` in the local store (its layers unpacked).
    pub fn from_store(store: &ImageStore, reference: &str) -> Result<ImageState> {
        let resolved = store.resolve(reference)?;
        let manifest: ImageManifest = serde_json::from_slice(&store.layout.read_blob(&resolved.manifest_digest)?)
            .map_err(|e| BuildError::Invalid(format!("manifest of {reference}: {e}")))?;
        let raw: RawConfigBlob = serde_json::from_slice(&store.layout.read_blob(&resolved.id)?)
            .map_err(|e| BuildError::Invalid(format!("config of {reference}: {e}")))?;
        let diff_ids = raw.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        if diff_ids.len() != manifest.layers().len() {
            return Err(BuildError::Invalid(format!("image {reference}: layer count does not match its config")));
        }
        let layers = manifest
            .layers()
            .iter()
            .zip(diff_ids)
            .map(|(d, diff_id)| LayerRef {
                digest: d.digest().to_string(),
                size: d.size(),
                diff_id,
                media_type: d.media_type().to_string(),
            })
            .collect();
        Ok(ImageState {
            config: raw.config.unwrap_or_default(),
            layers,
            history: raw.history,
            origin: resolved.id,
            author: None,
        })
    }

    /// `FROM scratch`.
    pub fn scratch() -> ImageState {
        ImageState { origin: "scratch".into(), ..Default::default() }
    }

    /// The value of ENV `name`, if set.
    pub fn env(&self, name: &str) -> Option<String> {
        self.config.env.iter().find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    /// Set ENV `name` (replacing an earlier value in place, as Docker does).
    pub fn set_env(&mut self, name: &str, value: &str) {
        let kv = format!("{name}={value}");
        match self.config.env.iter_mut().find(|e| e.split_once('=').is_some_and(|(k, _)| k == name)) {
            Some(e) => *e = kv,
            None => self.config.env.push(kv),
        }
    }

    /// The shell for shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        self.config.shell.clone().unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The time of the newest history entry: metadata-only steps reuse it, so a fully cached
    /// rebuild writes the very same config (and so the same image id).
    pub fn last_created(&self) -> Option<String> {
        self.history.iter().rev().find_map(|h| h.created.clone())
    }

    pub fn record(&mut self, created_by: &str, layer: Option<LayerRef>, created: Option<String>) {
        let empty_layer = layer.is_none();
        self.layers.extend(layer);
        let created = created.or_else(|| self.last_created());
        self.history.push(History {
            created,
            created_by: Some(created_by.into()),
            comment: Some("berth build".into()),
            empty_layer,
        });
    }

    /// The image config blob (JSON).
    pub fn config_json(&self) -> Result<Vec<u8>> {
        let mut config = self.config.clone();
        if !config.env.iter().any(|e| e.starts_with("PATH=")) {
            config.env.insert(0, DEFAULT_PATH.into());
        }
        let mut v = serde_json::json!({
            "created": self.last_created(),
            "architecture": go_arch(),
            "os": "linux",
            "config": config,
            "rootfs": { "type": "layers", "diff_ids": self.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>() },
            "history": self.history,
        });
        if let Some(author) = &self.author {
            v["author"] = author.clone().into();
        }
        serde_json::to_vec(&v).map_err(|e| BuildError::Invalid(format!("image config: {e}")))
    }

    /// EXPOSE: `80` means `80/tcp`; `7000-7002/udp` exposes each port of the range (as
    /// Docker's nat.ParsePortSpecs); protocols tcp, udp and sctp.
    pub fn add_port(&mut self, spec: &str) -> std::result::Result<(), String> {
        let (ports, proto) = match spec.split_once('/') {
            Some((p, proto)) => (p, proto.to_ascii_lowercase()),
            None => (spec, "tcp".to_string()),
        };
        if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
            return Err(format!("EXPOSE {spec}: unknown protocol `{proto}` (tcp, udp or sctp)"));
        }
        let num = |p: &str| p.parse::<u16>().map_err(|_| format!("EXPOSE {spec}: invalid port `{p}`"));
        let (lo, hi) = match ports.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(ports)?, num(ports)?),
        };
        if lo > hi {
            return Err(format!("EXPOSE {spec}: invalid port range"));
        }
        for p in lo..=hi {
            self.config.exposed_ports.insert(format!("{p}/{proto}"), serde_json::json!({}));
        }
        Ok(())
    }

    pub fn add_volume(&mut self, path: &str) {
        self.config.volumes.insert(path.to_string(), serde_json::json!({}));
    }
}

/// Docker's GOARCH name for this machine.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Now as RFC 3339 UTC.
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    crate::timefmt::rfc3339(secs, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_replaces_in_place_and_config_gets_a_path() {
        let mut s = ImageState::scratch();
        s.set_env("A", "1");
        s.set_env("B", "2");
        s.set_env("A", "3");
        assert_eq!(s.config.env, ["A=3", "B=2"]);
        assert_eq!(s.env("A").as_deref(), Some("3"));
        s.record("ENV A=3", None, Some("2024-01-01T00:00:00Z".into()));
        s.record("ENV B=2", None, None);
        assert_eq!(s.history[1].created.as_deref(), Some("2024-01-01T00:00:00Z"));
        let v: serde_json::Value = serde_json::from_slice(&s.config_json().unwrap()).unwrap();
        assert_eq!(v["config"]["Env"][0], DEFAULT_PATH);
        assert_eq!(v["rootfs"]["diff_ids"], serde_json::json!([]));
        assert_eq!(v["history"][0]["empty_layer"], true);
    }

    #[test]
    fn expose_forms() {
        let mut s = ImageState::scratch();
        s.add_port("80").unwrap();
        s.add_port("53/UDP").unwrap();
        s.add_port("7000-7002/udp").unwrap();
        let ports: Vec<&str> = s.config.exposed_ports.keys().map(String::as_str).collect();
        assert_eq!(ports, ["53/udp", "7000/udp", "7001/udp", "7002/udp", "80/tcp"]);
        assert!(s.add_port("http").unwrap_err().contains("invalid port `http`"));
        assert!(s.add_port("80/icmp").unwrap_err().contains("unknown protocol"));
        assert!(s.add_port("9-3").is_err());
    }
}
