//! The actions of a plan: what the reconciler does, one step each.

use std::collections::BTreeMap;

use serde::Serialize;

/// One container of a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ContainerRef {
    pub service: String,
    /// Replica index, 1-based.
    pub number: u32,
    /// `<project>-<service>-<n>` or the service's `container_name`.
    pub name: String,
}

/// Why a container is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoveReason {
    /// Its service is no longer in the stack (`--remove-orphans`).
    Orphan,
    /// The service has fewer replicas now.
    ScaleDown,
    /// `down`.
    Down,
}

/// One step. Container actions carry everything the reconciler needs to find the service in
/// the desired stack; creates carry the config hash to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Pull `image` if it is missing (or always, for `pull_policy: always`).
    EnsureImage {
        image: String,
        services: Vec<String>,
    },
    /// Build the image of `service` and tag it `image`.
    BuildImage {
        service: String,
        image: String,
    },
    CreateNetwork {
        key: String,
        name: String,
    },
    CreateVolume {
        key: String,
        name: String,
    },
    /// Put back the firewall rules of an existing network that are missing or out of order
    /// (observed; the reconciler restores whatever is missing when it runs).
    RepairFirewall {
        name: String,
        missing: Vec<String>,
        misordered: bool,
    },
    /// Create (not start) a container.
    CreateContainer {
        container: ContainerRef,
        image: String,
        config_hash: String,
    },
    /// Stop and remove the existing container, create a new one (not started).
    RecreateContainer {
        container: ContainerRef,
        /// The existing container, when the new one is named otherwise (`container_name:`
        /// changed); else it is `container`'s name.
        #[serde(skip_serializing_if = "Option::is_none")]
        replaces: Option<String>,
        image: String,
        config_hash: String,
        changed: Vec<String>,
        /// The old container's anonymous volumes the new one mounts at the same targets
        /// (target → volume), so their data survives the recreate as in Compose.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        inherit_volumes: BTreeMap<String, String>,
        /// `up -V`: the old container's anonymous volumes, removed with it (target → volume);
        /// the new container gets fresh ones.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        renew_volumes: BTreeMap<String, String>,
    },
    StartContainer {
        container: ContainerRef,
    },
    /// Stop, then start again (a dependency with `restart: true` was recreated or restarted).
    RestartContainer {
        container: ContainerRef,
        cause: String,
    },
    /// Wait until every container of `service` reports healthy.
    AwaitHealthy {
        service: String,
    },
    /// Wait until every container of `service` has exited with status 0.
    AwaitCompleted {
        service: String,
    },
    StopContainer {
        container: ContainerRef,
    },
    /// Remove a container (stopping it first if it runs).
    RemoveContainer {
        container: ContainerRef,
        reason: RemoveReason,
    },
    RemoveNetwork {
        name: String,
    },
    RemoveVolume {
        name: String,
    },
}

impl Action {
    /// The snake_case kind, as in the JSON rendering.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::EnsureImage { .. } => "ensure_image",
            Action::BuildImage { .. } => "build_image",
            Action::CreateNetwork { .. } => "create_network",
            Action::CreateVolume { .. } => "create_volume",
            Action::RepairFirewall { .. } => "repair_firewall",
            Action::CreateContainer { .. } => "create_container",
            Action::RecreateContainer { .. } => "recreate_container",
            Action::StartContainer { .. } => "start_container",
            Action::RestartContainer { .. } => "restart_container",
            Action::AwaitHealthy { .. } => "await_healthy",
            Action::AwaitCompleted { .. } => "await_completed",
            Action::StopContainer { .. } => "stop_container",
            Action::RemoveContainer { .. } => "remove_container",
            Action::RemoveNetwork { .. } => "remove_network",
            Action::RemoveVolume { .. } => "remove_volume",
        }
    }

    /// What the action acts on: an image, a network, a volume, a container or a service name.
    pub fn target(&self) -> &str {
        match self {
            Action::EnsureImage { image, .. } | Action::BuildImage { image, .. } => image,
            Action::CreateNetwork { name, .. }
            | Action::CreateVolume { name, .. }
            | Action::RepairFirewall { name, .. }
            | Action::RemoveNetwork { name }
            | Action::RemoveVolume { name } => name,
            Action::AwaitHealthy { service } | Action::AwaitCompleted { service } => service,
            Action::CreateContainer { container, .. }
            | Action::RecreateContainer { container, .. }
            | Action::StartContainer { container }
            | Action::RestartContainer { container, .. }
            | Action::StopContainer { container }
            | Action::RemoveContainer { container, .. } => &container.name,
        }
    }

    /// The container acted on, if any.
    pub fn container(&self) -> Option<&ContainerRef> {
        match self {
            Action::CreateContainer { container, .. }
            | Action::RecreateContainer { container, .. }
            | Action::StartContainer { container }
            | Action::RestartContainer { container, .. }
            | Action::StopContainer { container }
            | Action::RemoveContainer { container, .. } => Some(container),
            _ => None,
        }
    }
}
