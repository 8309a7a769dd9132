//! A port to publish, as the network layer takes it: plain data, translated from a service's
//! `ports:` by the reconciler and from `run -p` by the CLI.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

/// One published port: host address and port (or range) as written, the container's port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortRequest {
    /// Host address ("127.0.0.1", "[::1]"); None = every address.
    pub host_ip: Option<String>,
    /// Host port or range ("8080", "8000-8010"); None = an ephemeral host port.
    pub published: Option<String>,
    pub target: u16,
    pub protocol: Protocol,
}
