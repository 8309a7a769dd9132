//! Networking: per-project bridge networks, IPAM, container sandboxes (a network namespace
//! bound to a file, veth pairs), service discovery through managed /etc/hosts files, and
//! published ports through a per-project userland proxy.
//!
//! The API is synchronous, plain data in and out, and never calls the runtime: the reconciler
//! creates a sandbox, attaches it, hands `sandbox_path` to the runtime as `NetNs::Path`, adds the
//! `hosts_files` mounts, then registers the container once it exists. Modes host / none /
//! service:NAME / container:NAME need nothing here but [`NetworkManager::sandbox_path`] (or
//! /proc/PID/ns/net) and `NetNs::Host` / `NetNs::New`.
//!
//! Files: `error` (errors), `names` (interface names from hashes), `ipam` + `ipam6` (subnets and
//! addresses), `store` (state files and locks), `netlink` (the rtnetlink seam), `netns`
//! (namespaces bound to files), `bridge` (networks), `sandbox` (per-container plumbing),
//! `hosts` + `discovery` (service discovery), `dns` (the embedded DNS server), `ports` + `publish` + `proxy` + `proxyctl`
//! (published ports), `firewall` (masquerade and isolation rules), `oneoff` (the default
//! bridge and the sandboxes of containers outside projects).

mod bridge;
mod discovery;
pub mod dns;
pub mod error;
pub mod firewall;
mod hosts;
pub mod ipam;
pub mod ipam6;
pub mod names;
mod netlink;
pub mod netns;
pub mod oneoff;
pub mod ports;
pub mod proxy;
mod proxyctl;
mod publish;
mod sandbox;
mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use error::{NetworkError, Result};
pub use firewall::RuleCheck;
pub use ipam::Ipv4Net;
pub use ipam6::Ipv6Net;
pub use oneoff::{release_container, OneoffNet, OneoffSetup, DEFAULT_NETWORK};
pub use store::HOST_LOCK;

use crate::paths::Roots;

/// What the reconciler asks for: one network of a stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// The real name, e.g. `demo_default`.
    pub name: String,
    pub project: String,
    pub internal: bool,
    pub external: bool,
    /// ipam.config[0].subnet, e.g. `10.5.0.0/24`.
    pub subnet: Option<String>,
    /// ipam.config[0].gateway.
    pub gateway: Option<String>,
    /// `enable_ipv6`: the network gets an IPv6 subnet too (`subnet6`, else one of the pool's).
    #[serde(default)]
    pub enable_ipv6: bool,
    /// The IPv6 entry of ipam.config (implies `enable_ipv6`).
    #[serde(default)]
    pub subnet6: Option<String>,
    #[serde(default)]
    pub gateway6: Option<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub name: String,
    pub bridge: String,
    pub subnet: String,
    pub gateway: String,
    pub project: String,
    pub internal: bool,
    /// The IPv6 subnet and gateway, on an IPv6 network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Ids of the containers attached.
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub network: String,
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    /// Honoured on a network with an IPv6 subnet.
    pub ipv6_address: Option<String>,
    pub mac_address: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network: String,
    /// Interface name inside the container (eth0, eth1, …).
    pub ifname: String,
    pub ip: String,
    pub mac: String,
    /// Its IPv6 address, on a network with an IPv6 subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostsSpec {
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// host name → addresses (the spec model's form).
    pub extra_hosts: IndexMap<String, Vec<String>>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    /// resolv.conf points at the embedded DNS server (127.0.0.11), which forwards what is not
    /// the project's to `dns` (or the host's resolvers). Containers on project networks.
    #[serde(default)]
    pub embedded_dns: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    pub container_id: String,
    pub project: String,
    pub service: String,
    pub container_name: String,
    /// (network, ip, aliases) for each network the container is on.
    pub networks: Vec<(String, String, Vec<String>)>,
    /// (network, IPv6 address) for each IPv6 network it is on (the names are `networks`').
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks6: Vec<(String, String)>,
}

impl Registration {
    /// Its IPv4 and IPv6 addresses on `network`, with the aliases it has there.
    pub fn addresses_on<'a>(&'a self, network: &'a str) -> impl Iterator<Item = (&'a str, &'a [String])> + 'a {
        self.networks.iter().filter(move |(n, _, _)| n == network).flat_map(move |(_, ip, aliases)| {
            let v6 = self.networks6.iter().filter(move |(n, _)| n == network).map(move |(_, ip6)| ip6.as_str());
            std::iter::once(ip.as_str()).chain(v6).map(move |ip| (ip, aliases.as_slice()))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub host_ip: String,
    pub host_port: u16,
    pub target: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// The network layer's entry point; cheap to create, holds no kernel resources itself.
#[derive(Debug, Clone)]
pub struct NetworkManager {
    store: store::Store,
    roots: Roots,
    pool: Ipv4Net,
    prefix: u8,
    proxy_binary: PathBuf,
}

impl NetworkManager {
    pub fn new(roots: &Roots) -> Self {
        NetworkManager {
            store: store::Store::new(roots),
            roots: roots.clone(),
            pool: ipam::DEFAULT_POOL.parse().unwrap_or_else(|_| unreachable!("the default pool parses")),
            prefix: ipam::DEFAULT_PREFIX,
            proxy_binary: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("berth")),
        }
    }

    /// Allocate subnets of length `prefix` from `pool` (e.g. `10.213.0.0/16`, 24).
    pub fn with_pool(mut self, pool: &str, prefix: u8) -> Result<Self> {
        self.pool = pool.parse()?;
        if prefix < self.pool.prefix() || prefix > 30 {
            return Err(NetworkError::invalid("subnet size", format!("/{prefix}"), format!("must be within {pool}")));
        }
        self.prefix = prefix;
        Ok(self)
    }

    /// The `berth` binary run as `berth __proxy` (default: the current executable).
    pub fn with_proxy_binary(mut self, path: impl AsRef<Path>) -> Self {
        self.proxy_binary = path.as_ref().to_path_buf();
        self
    }

    /// The root's embedded DNS server.
    fn dns(&self) -> dns::DnsCtl<'_> {
        dns::DnsCtl { files: dns::Files::new(&self.store), roots: &self.roots, binary: &self.proxy_binary }
    }

    /// Make the root's DNS server match the network store now: started when a container uses
    /// it and none runs, told of every change, gone (waited for) when no container uses it.
    pub fn sync_dns(&self) -> Result<()> {
        self.dns().sync()
    }

    /// Where container `id`'s network namespace is bound (for `NetNs::Path`, and for
    /// `network_mode: service:NAME` / `container:NAME`, which join another container's).
    pub fn sandbox_path(&self, container_id: &str) -> PathBuf {
        self.store.netns_path(container_id)
    }

    /// The endpoints container `id` has, as `attach` made them.
    pub fn endpoints(&self, container_id: &str) -> Result<Vec<Endpoint>> {
        Ok(self.store.load_sandbox(container_id)?.map(|s| s.endpoints).unwrap_or_default())
    }
}
