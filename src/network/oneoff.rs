//! Networks for containers outside any project (`berth run IMAGE`, build RUN steps), as
//! Docker gives them: the state root's default bridge (`bridge`, like docker0) with egress
//! through masquerade, or an existing berth network by name.
//!
//! The default bridge is made on first use and kept (as docker0 is): creating it costs a
//! subnet allocation and two iptables runs (a few ms), reusing it costs one `if_nametoindex`.
//! Its firewall rules are installed and verified whenever its bridge had to be (re)made (first
//! use, after a reboot); `berth network rm bridge` removes it once nothing uses it. Its
//! subnet comes from the pool like any network's, so it never takes a routed subnet.
//!
//! Containers on the default bridge get no name resolution of their peers (as on Docker's
//! default bridge): their /etc/hosts holds localhost, their own address with hostname and
//! name, and `--add-host` entries. On a named network they are registered as peers are.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::error::Result;
use super::store::NetworkRecord;
use super::{Attachment, Endpoint, HostsSpec, NetworkManager, NetworkSpec, Registration};
use crate::common::Mount;

/// The default network's name, as Docker's.
pub const DEFAULT_NETWORK: &str = "bridge";
/// Label on the default network's record.
pub const DEFAULT_LABEL: &str = "io.berth.network.default";

/// What a one-off container asks of the network layer.
#[derive(Debug, Clone, Default)]
pub struct OneoffNet {
    /// The network to join: [`DEFAULT_NETWORK`] or an existing network's name.
    pub network: String,
    /// Its hostname (in /etc/hostname and /etc/hosts).
    pub hostname: String,
    /// Its container name, next to the hostname in /etc/hosts.
    pub name: String,
    /// `--add-host` entries: name → addresses.
    pub extra_hosts: IndexMap<String, Vec<String>>,
    /// Which of /etc/hosts, /etc/resolv.conf, /etc/hostname to bind (all when empty).
    pub files: Vec<&'static str>,
    /// `-p` entries, published through a proxy of the container's own.
    pub ports: Vec<crate::common::PortRequest>,
}

/// What the runtime gets: the namespace to join and the files to bind.
#[derive(Debug, Clone)]
pub struct OneoffSetup {
    pub netns: PathBuf,
    pub mounts: Vec<Mount>,
    pub endpoint: Endpoint,
}

impl NetworkManager {
    /// The default bridge, made (bridge, gateway address, verified firewall rules) when it
    /// does not exist or its bridge is gone.
    pub fn ensure_default_network(&self) -> Result<NetworkRecord> {
        if let Some(rec) = self.store.load_network(DEFAULT_NETWORK)? {
            if super::netlink::link_index(&rec.bridge)?.is_some() {
                return Ok(rec);
            }
        }
        let spec = NetworkSpec {
            name: DEFAULT_NETWORK.to_string(),
            labels: [(DEFAULT_LABEL.to_string(), "true".to_string())].into(),
            ..Default::default()
        };
        // One creator at a time (its firewall rules are installed outside the store lock).
        let _creating =
            super::store::LockGuard::take(&self.store.network_path(DEFAULT_NETWORK).with_extension("lock"))?;
        self.ensure_network(&spec)?;
        self.require_network(DEFAULT_NETWORK)
    }

    fn require_network(&self, name: &str) -> Result<NetworkRecord> {
        self.store.load_network(name)?.ok_or_else(|| super::NetworkError::NotFound(name.to_string()))
    }

    /// A sandbox for one-off container `id` on `req.network` (the default bridge is made if
    /// need be): address, default route, hosts/resolv.conf/hostname files, published ports.
    /// On failure, whatever was made is torn down again.
    pub fn prepare_oneoff(&self, container_id: &str, req: &OneoffNet) -> Result<OneoffSetup> {
        let result = self.prepare_oneoff_inner(container_id, req);
        if result.is_err() {
            let _ = self.teardown_sandbox(container_id);
        }
        result
    }

    fn prepare_oneoff_inner(&self, id: &str, req: &OneoffNet) -> Result<OneoffSetup> {
        let mut t = crate::timing::Phases::new(format!("network {id}"));
        let default = req.network == DEFAULT_NETWORK;
        if default {
            self.ensure_default_network()?;
        } else {
            self.require_network(&req.network)?;
        }
        t.mark("network");
        let netns = self.create_sandbox(id)?;
        t.mark("sandbox");
        let att = Attachment { network: req.network.clone(), ..Default::default() };
        let endpoint =
            self.attach(id, &[att])?.into_iter().next().ok_or_else(|| {
                super::NetworkError::NotFound(format!("{} (no endpoint was made for {id})", req.network))
            })?;
        t.mark("attach");
        let mut extra_hosts = IndexMap::new();
        if !req.name.is_empty() && req.name != req.hostname {
            extra_hosts.insert(req.name.clone(), vec![endpoint.ip.clone()]);
        }
        extra_hosts.extend(req.extra_hosts.clone());
        let spec = HostsSpec { hostname: Some(req.hostname.clone()), extra_hosts, ..Default::default() };
        let mounts = if default {
            self.hosts_files(id, &spec)?
        } else {
            // On a named network it is a peer: resolvable by its name, and resolving theirs.
            let reg = Registration {
                container_id: id.to_string(),
                project: String::new(),
                service: String::new(),
                container_name: req.name.clone(),
                networks: vec![(req.network.clone(), endpoint.ip.clone(), Vec::new())],
                networks6: endpoint.ip6.iter().map(|ip6| (req.network.clone(), ip6.clone())).collect(),
            };
            self.hosts_files_and_register(&spec, &reg)?
        };
        let mounts = mounts
            .into_iter()
            .filter(|m| match m {
                Mount::Bind { target, .. } => {
                    req.files.is_empty() || req.files.iter().any(|f| target.strip_prefix("/etc/") == Some(*f))
                }
                _ => true,
            })
            .collect();
        t.mark("hosts files");
        if !req.ports.is_empty() {
            self.publish(id, &oneoff_proxy(id), &req.ports)?;
            t.mark("publish");
        }
        Ok(OneoffSetup { netns, mounts, endpoint })
    }

    /// The default bridge's record, when it exists.
    pub fn default_network(&self) -> Result<Option<NetworkRecord>> {
        self.store.load_network(DEFAULT_NETWORK)
    }

    /// Whether container `id` has a sandbox (a netns, endpoints) of this state root.
    pub fn has_sandbox(&self, container_id: &str) -> bool {
        self.store.sandbox_path(container_id).exists()
    }
}

/// The proxy key of a one-off container's published ports: a proxy of its own, stopped
/// when its sandbox is torn down.
fn oneoff_proxy(id: &str) -> String {
    format!("run-{id}")
}

/// Everything the network layer holds for container `id` of `roots`, when it has any: the
/// narrow call the runtime's monitor makes when it removes a `run --rm` container whose CLI
/// is gone. Cheap (one stat) for a container without a sandbox.
pub fn release_container(roots: &crate::paths::Roots, container_id: &str) -> Result<()> {
    let nm = NetworkManager::new(roots);
    if !nm.has_sandbox(container_id) && !nm.store.netns_path(container_id).exists() {
        return Ok(());
    }
    nm.teardown_sandbox(container_id)
}
