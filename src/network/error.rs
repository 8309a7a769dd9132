//! Errors of the network layer: one enum, lower-case messages naming the network, container,
//! port or file involved and, where there is one, what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("external network `{0}` not found; create it first")]
    ExternalNotFound(String),
    #[error("network `{0}` not found")]
    NotFound(String),
    #[error("network `{name}` still has {count} attached container(s); remove them first")]
    InUse { name: String, count: usize },
    #[error(
        "no free subnet left in pool {pool} for network `{network}`; remove unused networks or set ipam.config.subnet"
    )]
    PoolExhausted { pool: String, network: String },
    #[error("subnet {subnet} of network `{network}` overlaps {other}; choose another subnet")]
    SubnetOverlap { network: String, subnet: String, other: String },
    #[error("invalid {what} `{value}`: {reason}")]
    Invalid { what: &'static str, value: String, reason: String },
    #[error("address {ip} requested by container `{container}` is {reason} on network `{network}`")]
    AddressUnavailable { container: String, network: String, ip: String, reason: String },
    #[error("network `{network}` has no free address left for container `{container}`")]
    AddressesExhausted { network: String, container: String },
    #[error("container `{container}` is not attached to a sandbox; call create_sandbox first")]
    NoSandbox { container: String },
    #[error(
        "port {port}/{proto} of service `{service}` is already in use on {host_ip}{holder}; choose another host port"
    )]
    PortInUse {
        service: String,
        port: u16,
        proto: String,
        host_ip: String,
        /// ` (published by …)` when berth knows who holds it, else empty.
        holder: String,
    },
    #[error("netlink: {op}: {source}")]
    Netlink {
        op: String,
        #[source]
        source: Box<rtnetlink::Error>,
    },
    #[error("{op} failed: {source}")]
    Sys {
        op: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid state file: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("firewall: `iptables {args}` failed: {stderr}")]
    Firewall { args: String, stderr: String },
    #[error("firewall (nftables): {op}: {source}")]
    Nftables {
        op: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "firewall rules of bridge {bridge} still missing after restoring them: {}; is another tool rewriting the tables?",
        .missing.join(", ")
    )]
    FirewallUnverified { bridge: String, missing: Vec<String> },
    #[error("port proxy for project `{project}`: {reason}")]
    Proxy { project: String, reason: String },
    #[error("embedded DNS: {reason}")]
    Dns { reason: String },
    #[error("teardown of `{what}` met {} error(s): {}", .errors.len(), .errors.join("; "))]
    Teardown { what: String, errors: Vec<String> },
}

pub type Result<T> = std::result::Result<T, NetworkError>;

impl NetworkError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NetworkError::Io { path: path.into(), source }
    }

    pub(crate) fn sys(op: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        NetworkError::Sys { op: op.into(), source: source.into() }
    }

    pub(crate) fn invalid(what: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        NetworkError::Invalid { what, value: value.into(), reason: reason.into() }
    }
}
