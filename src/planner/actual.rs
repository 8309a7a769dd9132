//! The observed state of the host, as far as one project is concerned. The planner only reads
//! it; the reconciler fills it from the state dir and the live kernel (`observe`), and until
//! the runtime exists `berth plan` plans against [`Actual::default`] (nothing exists).
//!
//! Everything is plain data (serde both ways), so the reconciler can persist what it observed
//! and tests can write an `Actual` as YAML.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Labels berth puts on every container it creates, so that the state dir alone tells which
/// project, service and replica a container belongs to and which config it was made from (the
/// reconciler fills [`ContainerState`] back from them).
pub mod labels {
    pub const PROJECT: &str = "berth.project";
    pub const SERVICE: &str = "berth.service";
    pub const NUMBER: &str = "berth.container-number";
    pub const CONFIG_HASH: &str = "berth.config-hash";
    /// Comma-separated service names (for `down`'s stop order without the stack file).
    pub const DEPENDS_ON: &str = "berth.depends-on";
    /// Id of the image the container was created from.
    pub const IMAGE: &str = "berth.image";
    /// Set (to "true") on one-off containers of `berth run SERVICE`: not part of the stack's
    /// desired state, never an orphan, removed by `down`.
    pub const ONEOFF: &str = "berth.oneoff";
}

/// Everything that exists, observed at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actual {
    /// Containers (of any project; the planner filters by [`ContainerState::project`]).
    #[serde(default)]
    pub containers: Vec<ContainerState>,
    /// Networks that exist, keyed by their real name (`demo_default`).
    #[serde(default)]
    pub networks: IndexMap<String, NetworkState>,
    /// Volumes that exist, keyed by their real name (`demo_data`).
    #[serde(default)]
    pub volumes: IndexMap<String, VolumeState>,
    /// Images present in the local store.
    #[serde(default)]
    pub images: Vec<ImageState>,
    /// Networks of [`Self::networks`] whose firewall rules are not all in place (another tool
    /// flushed the tables), by real name. Empty when every rule is there, or when the rules
    /// could not be read.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub firewall_drift: IndexMap<String, FirewallDrift>,
}

/// What is wrong with a network's firewall rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallDrift {
    /// The missing rules, as `<table>: -A CHAIN spec`.
    #[serde(default)]
    pub missing: Vec<String>,
    /// All present, but out of order (an isolation DROP behind the ACCEPT it must precede).
    #[serde(default)]
    pub misordered: bool,
}

/// One container, as recorded when it was created plus its live status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerState {
    /// `<project>-<service>-<n>`, or the service's `container_name`.
    pub name: String,
    /// The project label.
    pub project: String,
    /// The service label.
    pub service: String,
    /// Replica index, 1-based.
    pub number: u32,
    /// [`super::config_hash`] of the service config the container was created from.
    pub config_hash: String,
    /// [`super::normalized_config`] at creation time, kept so a recreate can name the fields
    /// that changed. None (an old record) makes the plan say "config changed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    pub status: ContainerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Id of the image the container was created from (to notice a re-pulled tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// The services this one depended on when created: `down` orders stops without the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// The anonymous volumes it mounts (image `VOLUME`s, `- /path` entries), target → volume
    /// name: a recreate hands them to the new container (Compose's inheritance).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub anon_volumes: BTreeMap<String, String>,
}

/// Lifecycle status, as `ps` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerStatus {
    /// Created, never started.
    Created,
    Running,
    Paused,
    /// Between an exit and the restart policy's next start.
    Restarting,
    /// Exited with this code.
    Exited(i32),
    /// Half-removed or failed to start; only a recreate helps.
    Dead,
}

impl ContainerStatus {
    pub fn is_running(self) -> bool {
        matches!(self, ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Restarting)
    }
}

/// Result of the container's health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

/// A network or volume that exists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub name: String,
    /// The project label; None for resources berth did not create for a project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default)]
    pub external: bool,
}

/// A network that exists.
pub type NetworkState = ResourceState;

/// A volume that exists.
pub type VolumeState = ResourceState;

/// An image in the local store: its id and the references (tags) pointing at it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageState {
    pub id: String,
    #[serde(default)]
    pub references: Vec<String>,
}

impl Actual {
    /// The containers of one project, in (service, number) order of appearance.
    pub fn project_containers<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a ContainerState> + 'a {
        self.containers.iter().filter(move |c| c.project == project)
    }

    /// The id of the image a reference points at, if present. A reference without a tag
    /// matches `:latest`, as registries do.
    pub fn image_id(&self, reference: &str) -> Option<&str> {
        let full = with_default_tag(reference);
        self.images.iter().find(|i| i.references.iter().any(|r| with_default_tag(r) == full)).map(|i| i.id.as_str())
    }
}

/// `busybox` → `busybox:latest`; refs with a tag or digest are kept.
fn with_default_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') || last.contains('@') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_lookup_defaults_to_latest() {
        let a = Actual {
            images: vec![ImageState { id: "sha256:1".into(), references: vec!["busybox:latest".into()] }],
            ..Actual::default()
        };
        assert_eq!(a.image_id("busybox"), Some("sha256:1"));
        assert_eq!(a.image_id("busybox:1.36"), None);
        assert_eq!(with_default_tag("localhost:5000/x"), "localhost:5000/x:latest");
    }

    #[test]
    fn status_round_trips_as_yaml() {
        let s: ContainerStatus = serde_json::from_str(r#"{"exited": 3}"#).unwrap();
        assert_eq!(s, ContainerStatus::Exited(3));
        assert!(!s.is_running());
        assert!(ContainerStatus::Running.is_running());
    }
}
