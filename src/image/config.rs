//! The parts of an image config (image-spec `config.md`, plus Docker's Healthcheck extension)
//! that supply a container's defaults when the service does not set them.
//!
//! Parsed with a lenient serde model of our own rather than `oci_spec::image::Config`, which has
//! no Healthcheck and is strict where Docker writes `null`s.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{json_err, Result};

/// Defaults for a container, from the image config's `config` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageConfig {
    /// `KEY=value` entries, in image order.
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// `80/tcp`, `53/udp`, sorted.
    pub exposed_ports: Vec<String>,
    pub healthcheck: Option<Healthcheck>,
    pub stop_signal: Option<String>,
    /// Anonymous volume paths, sorted.
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

/// Docker's `HEALTHCHECK` (durations are nanoseconds in the JSON; zero means "inherit default").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args…]` or `["CMD-SHELL", command]`.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

/// The top of a config blob, as far as the store needs it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawImage {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<RawConfig>,
    #[serde(default)]
    pub rootfs: Option<RawRootFs>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawRootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawConfig {
    user: Option<String>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    env: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    volumes: Option<BTreeMap<String, serde_json::Value>>,
    working_dir: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    stop_signal: Option<String>,
    healthcheck: Option<RawHealthcheck>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    test: Option<Vec<String>>,
    interval: Option<i64>,
    timeout: Option<i64>,
    start_period: Option<i64>,
    start_interval: Option<i64>,
    retries: Option<i64>,
}

impl RawImage {
    pub fn parse(bytes: &[u8], what: &str) -> Result<RawImage> {
        serde_json::from_slice(bytes).map_err(json_err(what))
    }

    pub fn diff_ids(&self) -> Vec<String> {
        self.rootfs.as_ref().map(|r| r.diff_ids.clone()).unwrap_or_default()
    }

    pub fn image_config(&self) -> ImageConfig {
        let Some(c) = &self.config else { return ImageConfig::default() };
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        ImageConfig {
            env: c.env.clone().unwrap_or_default(),
            entrypoint: c.entrypoint.clone(),
            cmd: c.cmd.clone(),
            working_dir: non_empty(&c.working_dir),
            user: non_empty(&c.user),
            exposed_ports: c.exposed_ports.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default(),
            healthcheck: c.healthcheck.as_ref().map(RawHealthcheck::to_healthcheck),
            stop_signal: non_empty(&c.stop_signal),
            volumes: c.volumes.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default(),
            labels: c.labels.clone().unwrap_or_default(),
        }
    }
}

impl RawHealthcheck {
    fn to_healthcheck(&self) -> Healthcheck {
        let dur = |n: Option<i64>| n.filter(|n| *n > 0).map(|n| Duration::from_nanos(n as u64));
        Healthcheck {
            test: self.test.clone().unwrap_or_default(),
            interval: dur(self.interval),
            timeout: dur(self.timeout),
            start_period: dur(self.start_period),
            start_interval: dur(self.start_interval),
            retries: self.retries.filter(|r| *r > 0).and_then(|r| u32::try_from(r).ok()),
        }
    }
}

/// Docker's GOARCH name for this machine (image configs use Go's names).
pub(crate) fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "arm" => "arm",
        other => other,
    }
}

/// The config of an image imported from a plain rootfs tar: one layer, a PATH, no command
/// (like `docker import`). No `created` time, so the same tar always gives the same image id.
pub(crate) fn minimal_config(diff_id: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "architecture": go_arch(),
        "os": "linux",
        "config": { "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
        "history": [{ "created_by": "berth image import", "comment": "imported from a rootfs tar" }]
    });
    v.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_supplies_defaults() {
        let json = br#"{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
          "config":{"User":"app","Env":["PATH=/bin","A=1"],"Entrypoint":["/init"],"Cmd":null,
            "WorkingDir":"/srv","ExposedPorts":{"80/tcp":{},"53/udp":{}},"Volumes":{"/data":{}},
            "StopSignal":"SIGQUIT","Labels":{"k":"v"},
            "Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":3}},
          "rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let raw = RawImage::parse(json, "test").unwrap();
        let c = raw.image_config();
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.entrypoint, Some(vec!["/init".to_string()]));
        assert_eq!(c.cmd, None);
        assert_eq!(c.exposed_ports, vec!["53/udp", "80/tcp"]);
        assert_eq!(c.volumes, vec!["/data"]);
        let h = c.healthcheck.unwrap();
        assert_eq!(h.interval, Some(Duration::from_secs(5)));
        assert_eq!((h.timeout, h.retries), (None, Some(3)));
        assert_eq!(raw.diff_ids(), vec!["sha256:aa"]);
    }

    #[test]
    fn minimal_config_round_trips() {
        let raw = RawImage::parse(&minimal_config("sha256:bb"), "min").unwrap();
        assert_eq!(raw.diff_ids(), vec!["sha256:bb"]);
        assert!(raw.image_config().env[0].starts_with("PATH="));
        assert!(raw.created.is_none());
    }
}
