//! What each container may resolve: built from the network store's records on every reload,
//! so it is exactly what the hosts files say (the same registrations), per network.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::network::store::{NetworkRecord, SandboxRecord};

/// The names one container can resolve and how it resolves everything else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// Lower-cased name → addresses, each once, in registration order.
    pub names: HashMap<String, Vec<Ipv4Addr>>,
    /// The same names' IPv6 addresses (peers on IPv6 networks), for AAAA.
    pub names6: HashMap<String, Vec<Ipv6Addr>>,
    /// Address → the name a reverse lookup answers (the peer's container name).
    pub ptrs: HashMap<IpAddr, String>,
    /// Unknown names go upstream only when the container is on a network with a route out;
    /// a container only on `internal` networks gets NXDOMAIN.
    pub forward: bool,
    /// The service's `dns:` servers; empty means the host's.
    pub upstreams: Vec<SocketAddr>,
}

/// Container id → its view, for every container that uses the embedded server.
pub type Table = BTreeMap<String, View>;

/// The views of the containers whose resolv.conf points at the embedded server.
pub fn build(sandboxes: &[SandboxRecord], networks: &[NetworkRecord]) -> Table {
    let internal: HashMap<&str, bool> = networks.iter().map(|n| (n.name.as_str(), n.internal)).collect();
    let mut table = Table::new();
    for sb in sandboxes {
        let Some(spec) = sb.hosts.as_ref().filter(|h| h.embedded_dns) else { continue };
        if sb.registration.is_none() || sb.endpoints.is_empty() {
            continue;
        }
        let mut view = View {
            forward: sb.endpoints.iter().any(|e| !internal.get(e.network.as_str()).copied().unwrap_or(false)),
            upstreams: spec.dns.iter().filter_map(|s| parse_server(s)).collect(),
            ..Default::default()
        };
        for ep in &sb.endpoints {
            for peer in sandboxes {
                let Some(reg) = &peer.registration else { continue };
                let hostname = peer.hosts.as_ref().and_then(|h| h.hostname.clone());
                for (ip, aliases) in reg.addresses_on(&ep.network) {
                    let Ok(ip) = ip.parse::<IpAddr>() else { continue };
                    let names = [&reg.service, &reg.container_name].into_iter().chain(aliases).chain(hostname.as_ref());
                    for n in names.filter(|n| !n.is_empty()) {
                        let n = n.to_ascii_lowercase();
                        match ip {
                            IpAddr::V4(v4) => push_once(view.names.entry(n).or_default(), v4),
                            IpAddr::V6(v6) => push_once(view.names6.entry(n).or_default(), v6),
                        }
                    }
                    if !reg.container_name.is_empty() {
                        view.ptrs.entry(ip).or_insert_with(|| reg.container_name.clone());
                    }
                }
            }
        }
        table.insert(sb.id.clone(), view);
    }
    table
}

fn push_once<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// A `dns:` entry or a resolv.conf nameserver: an address, optionally with a port
/// (`127.0.0.1:5353`, `[::1]:53`); port 53 otherwise.
pub fn parse_server(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    // A scoped IPv6 nameserver (fe80::1%eth0) cannot be reached from another netns's view of
    // the interface names: skipped.
    s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::HostsSpec;

    fn sandbox(id: &str, nets: &[(&str, &str)], service: &str, aliases: &[&str], dns: bool) -> SandboxRecord {
        let mut sb = crate::network::hosts::tests::sandbox(id, nets, service, aliases);
        sb.hosts = Some(HostsSpec { embedded_dns: dns, hostname: Some(format!("h-{service}")), ..Default::default() });
        sb
    }

    fn net(name: &str, internal: bool) -> NetworkRecord {
        NetworkRecord {
            name: name.into(),
            project: "p".into(),
            bridge: "b".into(),
            subnet: "10.0.0.0/24".parse().unwrap(),
            gateway: "10.0.0.1".parse().unwrap(),
            internal,
            labels: Default::default(),
            endpoints: Default::default(),
            subnet6: None,
            gateway6: None,
            endpoints6: Default::default(),
        }
    }

    #[test]
    fn names_of_shared_networks_only_and_replicas_together() {
        let web = sandbox("p-web-1", &[("p_front", "10.0.0.2")], "web", &["WWW"], true);
        let web2 = sandbox("p-web-2", &[("p_front", "10.0.0.4")], "web", &[], true);
        let db = sandbox("p-db-1", &[("p_back", "10.0.1.2")], "db", &[], true);
        let api = sandbox("p-api-1", &[("p_front", "10.0.0.3"), ("p_back", "10.0.1.3")], "api", &[], false);
        let t = build(&[web, web2, db, api], &[net("p_front", false), net("p_back", true)]);
        assert!(!t.contains_key("p-api-1"), "api does not use the embedded server");
        let v = &t["p-web-1"];
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(v.names["web"], [ip("10.0.0.2"), ip("10.0.0.4")]);
        assert_eq!(v.names["www"], [ip("10.0.0.2")], "aliases are matched case-insensitively");
        assert_eq!(v.names["api"], [ip("10.0.0.3")]);
        assert_eq!(v.names["h-web"], [ip("10.0.0.2"), ip("10.0.0.4")], "hostnames resolve too");
        assert!(!v.names.contains_key("db"), "db is not on front: {v:?}");
        assert_eq!(v.ptrs[&IpAddr::V4(ip("10.0.0.3"))], "p-api-1");
        assert!(v.forward);
        let d = &t["p-db-1"];
        assert_eq!(d.names["api"], [ip("10.0.1.3")]);
        assert!(!d.forward, "only on an internal network: nothing goes upstream");
    }

    #[test]
    fn servers_parse_with_and_without_port() {
        assert_eq!(parse_server("1.2.3.4"), Some("1.2.3.4:53".parse().unwrap()));
        assert_eq!(parse_server("127.0.0.1:5353"), Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(parse_server("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_server("fe80::1%eth0"), None);
        assert_eq!(parse_server("dns.example"), None);
    }
}
