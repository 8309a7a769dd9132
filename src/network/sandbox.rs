//! Per-container plumbing: the network namespace (bound at `Roots.run/netns/<id>`), one veth
//! pair per network (host end on the bridge, peer created straight inside the namespace as
//! eth0, eth1, …), addresses (IPv6 too on IPv6 networks), the default routes, and teardown.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::error::{NetworkError, Result};
use super::ipam::{check_address, pick_address};
use super::ipam6;
use super::netlink::{outside_tokio, Netlink};
use super::store::{NetworkRecord, SandboxRecord};
use super::{names, netns, Attachment, Endpoint, NetworkManager};

/// One endpoint being made: what the kernel needs.
struct Plan {
    endpoint: Endpoint,
    veth: String,
    bridge: String,
    ip: Ipv4Addr,
    prefix: u8,
    mac: [u8; 6],
    /// The gateway, when this endpoint carries the default route.
    route_via: Option<Ipv4Addr>,
    /// Its IPv6 address and prefix, on an IPv6 network.
    ip6: Option<(Ipv6Addr, u8)>,
    /// The IPv6 gateway, when this endpoint carries the IPv6 default route.
    route6_via: Option<Ipv6Addr>,
}

impl NetworkManager {
    /// A new network namespace for container `id`, bound at `sandbox_path(id)`, loopback up.
    /// Idempotent.
    pub fn create_sandbox(&self, container_id: &str) -> Result<PathBuf> {
        let path = self.store.netns_path(container_id);
        netns::create(&path)?;
        let _lock = self.store.lock()?;
        if self.store.load_sandbox(container_id)?.is_none() {
            let rec = SandboxRecord { id: container_id.to_string(), netns: path.clone(), ..Default::default() };
            self.store.save_sandbox(&rec)?;
        }
        Ok(path)
    }

    /// Joins the sandbox to each network in order: eth0 for the first, eth1 for the next, …
    /// The default route goes via the first non-internal network's gateway. Networks the
    /// sandbox is already on are returned as they are. The store lock covers the address
    /// reservations and the record updates, not the kernel work between them, so containers
    /// being created in parallel plumb in parallel (only this container's creator touches its
    /// sandbox record meanwhile).
    pub fn attach(&self, container_id: &str, attachments: &[Attachment]) -> Result<Vec<Endpoint>> {
        let (netns, plans) = {
            let _lock = self.store.lock()?;
            let sandbox = self.store.require_sandbox(container_id)?;
            (sandbox.netns.clone(), self.reserve_all(container_id, &sandbox, attachments)?)
        };
        if let Err(e) = outside_tokio(|| plumb(&netns, &plans)) {
            let _lock = self.store.lock();
            self.release(container_id, &plans);
            let _ = outside_tokio(|| delete_veths(&plans));
            return Err(e);
        }
        let _lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(container_id)?;
        sandbox.endpoints.extend(plans.into_iter().map(|p| p.endpoint));
        self.store.save_sandbox(&sandbox)?;
        Ok(sandbox.endpoints)
    }

    /// Reserves an address on each network `sandbox` is not on yet (under the store lock);
    /// on failure the ones reserved so far are given back.
    fn reserve_all(
        &self,
        container_id: &str,
        sandbox: &SandboxRecord,
        attachments: &[Attachment],
    ) -> Result<Vec<Plan>> {
        let mut has_route = sandbox.endpoints.iter().any(|e| self.is_routed(&e.network));
        let mut has_route6 = sandbox.endpoints.iter().any(|e| e.ip6.is_some() && self.is_routed(&e.network));
        let mut plans: Vec<Plan> = Vec::new();
        for att in attachments {
            if sandbox.endpoints.iter().any(|e| e.network == att.network)
                || plans.iter().any(|p| p.endpoint.network == att.network)
            {
                continue;
            }
            let index = sandbox.endpoints.len() + plans.len();
            match self.reserve(container_id, att, index, (!has_route, !has_route6)) {
                Ok(plan) => {
                    has_route |= plan.route_via.is_some();
                    has_route6 |= plan.route6_via.is_some();
                    plans.push(plan);
                }
                Err(e) => {
                    self.release(container_id, &plans);
                    return Err(e);
                }
            }
        }
        Ok(plans)
    }

    fn is_routed(&self, network: &str) -> bool {
        self.store.load_network(network).ok().flatten().is_some_and(|r| !r.internal)
    }

    /// Picks (or checks) the addresses and records them in the network's endpoints; the
    /// endpoint carries the IPv4 (IPv6) default route when `wants_route` says so.
    fn reserve(&self, id: &str, att: &Attachment, index: usize, wants_route: (bool, bool)) -> Result<Plan> {
        let mut net: NetworkRecord =
            self.store.load_network(&att.network)?.ok_or_else(|| NetworkError::NotFound(att.network.clone()))?;
        let used: BTreeSet<Ipv4Addr> =
            net.endpoints.iter().filter(|(c, _)| c.as_str() != id).map(|(_, ip)| *ip).collect();
        let ip = match &att.ipv4_address {
            Some(s) => {
                let unavailable = |reason: String| NetworkError::AddressUnavailable {
                    container: id.to_string(),
                    network: att.network.clone(),
                    ip: s.clone(),
                    reason,
                };
                let ip: Ipv4Addr = s.parse().map_err(|_| unavailable("not an IPv4 address".into()))?;
                check_address(net.subnet, net.gateway, &used, ip).map_err(unavailable)?;
                ip
            }
            None => pick_address(net.subnet, net.gateway, &used).ok_or_else(|| NetworkError::AddressesExhausted {
                network: att.network.clone(),
                container: id.to_string(),
            })?,
        };
        let ip6 = self.reserve6(id, att, &net)?;
        let mac = match &att.mac_address {
            Some(m) => names::parse_mac(m)
                .ok_or_else(|| NetworkError::invalid("mac_address", m, "expected a unicast aa:bb:cc:dd:ee:ff"))?,
            None => names::mac_from_ip(ip),
        };
        net.endpoints.insert(id.to_string(), ip);
        if let Some(ip6) = ip6 {
            net.endpoints6.insert(id.to_string(), ip6);
        }
        self.store.save_endpoints(&net)?;
        Ok(Plan {
            endpoint: Endpoint {
                network: att.network.clone(),
                ifname: names::container_ifname(index),
                ip: ip.to_string(),
                mac: names::format_mac(&mac),
                ip6: ip6.map(|ip| ip.to_string()),
            },
            veth: names::veth_name(self.store.root_id(), id, &att.network),
            bridge: net.bridge.clone(),
            ip,
            prefix: net.subnet.prefix(),
            mac,
            route_via: (wants_route.0 && !net.internal).then_some(net.gateway),
            ip6: ip6.zip(net.subnet6.map(|s| s.prefix())),
            route6_via: net.gateway6.filter(|_| wants_route.1 && !net.internal && ip6.is_some()),
        })
    }

    /// The container's IPv6 address on `net` (None on an IPv4-only network): `ipv6_address`,
    /// checked, or the subnet's next free one. An `ipv6_address` on an IPv4-only network is
    /// an error naming it (Docker refuses it too).
    fn reserve6(&self, id: &str, att: &Attachment, net: &super::store::NetworkRecord) -> Result<Option<Ipv6Addr>> {
        let unavailable = |ip: &str, reason: String| NetworkError::AddressUnavailable {
            container: id.to_string(),
            network: att.network.clone(),
            ip: ip.to_string(),
            reason,
        };
        let (Some(subnet), Some(gateway)) = (net.subnet6, net.gateway6) else {
            return match &att.ipv6_address {
                Some(s) => Err(unavailable(s, "not available: the network has no IPv6 (set enable_ipv6: true)".into())),
                None => Ok(None),
            };
        };
        let used: BTreeSet<Ipv6Addr> =
            net.endpoints6.iter().filter(|(c, _)| c.as_str() != id).map(|(_, ip)| *ip).collect();
        match &att.ipv6_address {
            Some(s) => {
                let ip: Ipv6Addr = s.parse().map_err(|_| unavailable(s, "not an IPv6 address".into()))?;
                check_address(subnet, gateway, &used, ip).map_err(|r| unavailable(s, r))?;
                Ok(Some(ip))
            }
            None => ipam6::pick_address(subnet, gateway, &used).map(Some).ok_or_else(|| {
                NetworkError::AddressesExhausted { network: att.network.clone(), container: id.to_string() }
            }),
        }
    }

    /// Gives back the addresses of `plans` (on failure, or at teardown).
    fn release(&self, id: &str, plans: &[Plan]) {
        for p in plans {
            let _ = self.forget_endpoint(id, &p.endpoint.network);
        }
    }

    pub(super) fn forget_endpoint(&self, id: &str, network: &str) -> Result<()> {
        if let Some(mut net) = self.store.load_network(network)? {
            let v4 = net.endpoints.remove(id).is_some();
            if net.endpoints6.remove(id).is_some() || v4 {
                self.store.save_endpoints(&net)?;
            }
        }
        Ok(())
    }

    /// Removes everything of container `id`: published ports, registration (peers' hosts
    /// files are updated), addresses, the namespace (and with it the veth peers: the kernel
    /// deletes a namespace's devices when it dies, so no veth is deleted one by one), files.
    /// Keeps going past errors and reports them all. Idempotent.
    pub fn teardown_sandbox(&self, container_id: &str) -> Result<()> {
        let mut t = crate::timing::Phases::new(format!("teardown {container_id}"));
        let mut errors = Vec::new();
        if let Err(e) = self.unpublish(container_id) {
            errors.push(e.to_string());
        }
        if let Err(e) = self.unregister(container_id) {
            errors.push(e.to_string());
        }
        let lock = self.store.lock();
        let sandbox = self.store.load_sandbox(container_id).ok().flatten();
        let veths: Vec<String> = sandbox
            .iter()
            .flat_map(|s| &s.endpoints)
            .map(|ep| names::veth_name(self.store.root_id(), container_id, &ep.network))
            .collect();
        for ep in sandbox.iter().flat_map(|s| &s.endpoints) {
            if let Err(e) = self.forget_endpoint(container_id, &ep.network) {
                errors.push(e.to_string());
            }
        }
        t.mark("ports, names, addresses");
        if let Err(e) = netns::delete(&self.store.netns_path(container_id)) {
            errors.push(e.to_string());
        }
        t.mark("netns");
        let files = self.store.files_dir(container_id);
        match std::fs::remove_dir_all(&files) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => errors.push(NetworkError::io(&files, e).to_string()),
            _ => {}
        }
        if let Err(e) = self.store.delete_sandbox(container_id) {
            errors.push(e.to_string());
        }
        // The last container that used the DNS server gone: the server goes too.
        let dns_users = self.store.sandboxes().map(|all| {
            all.iter().any(|s| s.registration.is_some() && s.hosts.as_ref().is_some_and(|h| h.embedded_dns))
        });
        drop(lock);
        if matches!(dns_users, Ok(false)) {
            if let Err(e) = self.dns().stop_idle() {
                errors.push(e.to_string());
            }
        }
        wait_gone(&veths);
        t.mark("veths gone");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown { what: format!("sandbox of {container_id}"), errors })
        }
    }
}

/// Kernel side of `attach`: veths from the host, then addresses and routes from inside.
fn plumb(netns_path: &Path, plans: &[Plan]) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    let ns = File::open(netns_path).map_err(|e| NetworkError::io(netns_path, e))?;
    let nl = Netlink::connect()?;
    for p in plans {
        let bridge = nl.link_index(&p.bridge)?.ok_or_else(|| NetworkError::NotFound(p.bridge.clone()))?;
        // A veth of the same name is stale: a previous incarnation's namespace still being
        // destroyed by the kernel (teardown does not wait for it), or a crash mid-attach.
        if let Some(stale) = nl.link_index(&p.veth)? {
            nl.delete_link(stale)?;
        }
        nl.create_veth(&p.veth, bridge, &p.endpoint.ifname, ns.as_raw_fd(), p.mac)?;
    }
    type Inside = (String, Ipv4Addr, u8, Option<Ipv4Addr>, Option<(Ipv6Addr, u8)>, Option<Ipv6Addr>);
    let inside: Vec<Inside> =
        plans.iter().map(|p| (p.endpoint.ifname.clone(), p.ip, p.prefix, p.route_via, p.ip6, p.route6_via)).collect();
    netns::run_in(netns_path, move || {
        let nl = Netlink::connect()?;
        for (ifname, ip, prefix, route_via, ip6, route6_via) in inside {
            let index = nl.link_index(&ifname)?.ok_or_else(|| NetworkError::NotFound(ifname.clone()))?;
            nl.add_address(index, ip, prefix)?;
            if let Some((ip6, prefix6)) = ip6 {
                super::netlink::enable_ipv6(&ifname)?;
                nl.add_address(index, ip6, prefix6)?;
            }
            nl.set_up(index)?;
            if let Some(gw) = route_via {
                nl.add_default_route(index, gw)?;
            }
            if let Some(gw6) = route6_via {
                nl.add_default_route(index, gw6)?;
            }
        }
        Ok(())
    })
}

/// Waits (briefly) until the host ends of the veths are gone. The kernel destroys an unbound
/// namespace, and with it the veth pairs, asynchronously (cleanup_net); `down` returning while
/// the host still lists them would be a footprint left, however briefly. Outside the store lock,
/// so parallel teardowns wait together. A namespace some process still holds keeps its veths:
/// after the cap, stop waiting (the link goes with that process).
fn wait_gone(veths: &[String]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    for v in veths {
        while matches!(super::netlink::link_index(v), Ok(Some(_))) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

fn delete_veths(plans: &[Plan]) -> Result<()> {
    let nl = Netlink::connect()?;
    for p in plans {
        if let Some(i) = nl.link_index(&p.veth)? {
            nl.delete_link(i)?;
        }
    }
    Ok(())
}
