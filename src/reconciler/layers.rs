//! The seam to the network and volume layers: every call the reconciler makes into them goes
//! through here (plain data in, plain data out), with their errors named after the service or
//! container involved.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;

use super::error::{ReconcileError, Result};
use super::mounts::{self, volume_manager};
use super::state::PortRecord;
use super::translate;
use crate::network::{Attachment, HostsSpec, NetworkManager, NetworkSpec, Registration};
use crate::paths::Roots;
use crate::planner::actual::labels;
use crate::planner::hash::network_name;
use crate::planner::{FirewallDrift, NetworkState, VolumeState};
use crate::runtime::{ContainerConfig, Mount, NetNs};
use crate::spec::model::{Service, Stack};
use crate::volumes::{anonymous_mounts, ImageMounts};

/// The project's networks that exist.
pub fn list_networks(roots: &Roots, project: &str) -> Result<Vec<NetworkState>> {
    let nets = NetworkManager::new(roots).list_networks(Some(project)).map_err(net_err(project))?;
    Ok(nets
        .into_iter()
        .map(|n| NetworkState { name: n.name, project: Some(project.to_string()), external: false })
        .collect())
}

/// The project's volumes that exist (anonymous ones included).
pub fn list_volumes(roots: &Roots, project: &str) -> Result<Vec<VolumeState>> {
    let vols = volume_manager(roots).list(Some(project)).map_err(vol_err(project))?;
    // A volume listed by project was created by berth for that project: never external.
    Ok(vols.into_iter().map(|v| VolumeState { name: v.name, project: v.project, external: false }).collect())
}

/// Make sure network `name` (key `key` in the stack) exists.
pub fn ensure_network(roots: &Roots, stack: &Stack, key: &str, name: &str) -> Result<()> {
    ensure_network_links(roots, stack, key, name)?;
    install_firewall(roots, name)
}

/// [`ensure_network`] but for its firewall rules: `up` adds those with [`install_firewall`]
/// while it creates the containers (see `Ctx::start_firewall`).
pub fn ensure_network_links(roots: &Roots, stack: &Stack, key: &str, name: &str) -> Result<()> {
    let def = stack.networks.get(key);
    let pools = def.and_then(|n| n.ipam.as_ref()).map(|i| i.config.as_slice()).unwrap_or_default();
    // An IPv6 entry of ipam.config is the network's IPv6 subnet; the first other one its
    // IPv4 subnet (as Docker reads them, whatever their order).
    let is_v6 = |p: &&crate::spec::model::IpamPool| p.subnet.as_deref().is_some_and(|s| s.contains(':'));
    let pool = pools.iter().find(|p| !is_v6(p));
    let pool6 = pools.iter().find(is_v6);
    let mut net_labels: BTreeMap<String, String> =
        def.map(|n| n.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    net_labels.insert(labels::PROJECT.into(), stack.name.clone());
    let spec = NetworkSpec {
        name: name.to_string(),
        project: stack.name.clone(),
        internal: def.is_some_and(|n| n.internal),
        external: def.is_some_and(|n| n.external),
        subnet: pool.and_then(|p| p.subnet.clone()),
        gateway: pool.and_then(|p| p.gateway.clone()),
        enable_ipv6: def.is_some_and(|n| n.enable_ipv6),
        subnet6: pool6.and_then(|p| p.subnet.clone()),
        gateway6: pool6.and_then(|p| p.gateway.clone()),
        labels: net_labels,
    };
    let mut t = crate::timing::Phases::new(format!("network {name}"));
    let r = NetworkManager::new(roots).ensure_network_links(&spec).map(|_| ()).map_err(net_err(name));
    t.mark("ensure");
    r
}

pub fn install_firewall(roots: &Roots, name: &str) -> Result<()> {
    install_firewall_raw(roots, name).map_err(net_err(name))
}

/// [`install_firewall`] with the network layer's own error (for `Ctx::start_firewall`'s
/// background job, whose outcome several waiters share).
pub fn install_firewall_raw(roots: &Roots, name: &str) -> std::result::Result<(), crate::network::NetworkError> {
    let mut t = crate::timing::Phases::new(format!("network {name}"));
    let r = NetworkManager::new(roots).install_firewall(name);
    t.mark("firewall");
    r
}

/// Put back network `name`'s missing firewall rules (the plan's `RepairFirewall`), verified;
/// a WARN line names what was restored.
pub fn repair_firewall(roots: &Roots, name: &str) -> Result<()> {
    let restored = NetworkManager::new(roots).repair_firewall(name).map_err(net_err(name))?;
    if !restored.is_ok() {
        tracing::warn!(network = name, rules = %restored.describe(), "firewall rules restored");
    }
    Ok(())
}

/// The project's networks whose firewall rules drifted (missing or out of order), read with
/// one `iptables-save` for them all.
pub fn firewall_drift(roots: &Roots, project: &str) -> Result<IndexMap<String, FirewallDrift>> {
    let checks = NetworkManager::new(roots).firewall_checks(project).map_err(net_err(project))?;
    Ok(checks
        .into_iter()
        .filter(|(_, c)| !c.is_ok())
        .map(|(name, c)| (name, FirewallDrift { missing: c.missing, misordered: c.misordered }))
        .collect())
}

/// The supervisor's periodic check: restore the missing firewall rules of every network of
/// the project. Returns (network, what was restored or why it could not be) for each network
/// that drifted.
pub fn repair_firewalls(roots: &Roots, project: &str) -> Result<Vec<(String, std::result::Result<String, String>)>> {
    let repairs = NetworkManager::new(roots).repair_firewalls(project).map_err(net_err(project))?;
    Ok(repairs.into_iter().map(|(name, r)| (name, r.map(|c| c.describe()).map_err(|e| e.to_string()))).collect())
}

pub fn remove_network(roots: &Roots, _project: &str, name: &str) -> Result<()> {
    NetworkManager::new(roots).remove_network(name).map_err(net_err(name))
}

/// Make sure volume `name` (key `key` in the stack) exists.
pub fn ensure_volume(roots: &Roots, stack: &Stack, key: &str, name: &str) -> Result<()> {
    let spec = mounts::volume_spec(stack, key, name);
    volume_manager(roots).ensure(&spec).map(|_| ()).map_err(vol_err(name))
}

pub fn remove_volume(roots: &Roots, _project: &str, name: &str) -> Result<()> {
    volume_manager(roots).remove(name).map_err(vol_err(name))
}

/// Fail before anything is created or started when a published port of `service` is taken
/// (ports `project`'s own proxy holds count as free).
pub fn check_ports_free(roots: &Roots, project: &str, service_name: &str, service: &Service) -> Result<()> {
    if service.ports.is_empty() {
        return Ok(());
    }
    NetworkManager::new(roots)
        .check_ports_free(project, service_name, &translate::port_requests(service))
        .map_err(net_err(service_name))
}

/// Withdraw container `id`'s published ports (the project's proxy stops when none remain).
pub fn release_ports(roots: &Roots, id: &str) -> Result<()> {
    NetworkManager::new(roots).unpublish(id).map_err(net_err(id))
}

/// The mounts of `volumes:` and `tmpfs:` and the image's `VOLUME`s (volumes ensured,
/// first-mount copy-up done).
pub fn mounts(
    roots: &Roots,
    stack: &Stack,
    service_name: &str,
    service: &Service,
    container_id: &str,
    image: &ImageMounts<'_>,
) -> Result<Vec<Mount>> {
    let requests = mounts::mount_requests(service_name, service, stack).map_err(vol_err(service_name))?;
    volume_manager(roots)
        .mounts_for(service_name, &requests, &stack.name, container_id, image)
        .map_err(vol_err(service_name))
}

/// The project's anonymous volumes the containers of `containers` mount, per container id:
/// (target, volume name). One listing of the volumes for them all.
pub fn anonymous_volumes<'a>(
    roots: &Roots,
    project: &str,
    containers: impl Iterator<Item = (&'a str, &'a [Mount])>,
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let vols = volume_manager(roots).list(Some(project)).map_err(vol_err(project))?;
    if !vols.iter().any(|v| v.is_anonymous()) {
        return Ok(BTreeMap::new());
    }
    Ok(containers.map(|(id, mounts)| (id.to_string(), anonymous_mounts(&vols, mounts))).collect())
}

/// `up -V`: remove the anonymous volumes of a container that was just removed (refused, and
/// reported, while another container still mounts one).
pub fn remove_volumes(roots: &Roots, names: &[String]) -> Result<()> {
    let vm = volume_manager(roots);
    let errors: Vec<ReconcileError> = names.iter().filter_map(|n| vm.remove(n).err().map(|e| vol_err(n)(e))).collect();
    ReconcileError::collect(errors)
}

/// The container's network namespace and the files (hosts, resolv.conf, hostname) to mount,
/// for the default (bridge) network mode: a sandbox attached to the service's networks and
/// registered for service discovery.
pub struct NetSetup {
    pub net: NetNs,
    pub mounts: Vec<Mount>,
}

pub fn prepare_network(
    roots: &Roots,
    stack: &Stack,
    service_name: &str,
    service: &Service,
    cfg: &ContainerConfig,
) -> Result<NetSetup> {
    let nm = NetworkManager::new(roots);
    let id = cfg.id.as_str();
    let result = (|| {
        let mut t = crate::timing::Phases::new(format!("network {id}"));
        let path = nm.create_sandbox(id)?;
        t.mark("sandbox");
        let mut attachments = Vec::new();
        for (key, sn) in &service.networks {
            attachments.push(Attachment {
                network: network_name(stack, key),
                aliases: sn.aliases.clone(),
                ipv4_address: sn.ipv4_address.clone(),
                ipv6_address: sn.ipv6_address.clone(),
                mac_address: sn.mac_address.clone().or_else(|| service.mac_address.clone()),
            });
        }
        let endpoints = if attachments.is_empty() { Vec::new() } else { nm.attach(id, &attachments)? };
        t.mark("attach");
        let hosts = HostsSpec {
            hostname: cfg.hostname.clone(),
            domainname: cfg.domainname.clone(),
            extra_hosts: service.extra_hosts.clone(),
            dns: service.dns.clone(),
            dns_search: service.dns_search.clone(),
            dns_opt: service.dns_opt.clone(),
            embedded_dns: !endpoints.is_empty(),
        };
        let networks = endpoints
            .iter()
            .map(|e| {
                let aliases = attachments.iter().find(|a| a.network == e.network).map(|a| a.aliases.clone());
                (e.network.clone(), e.ip.clone(), aliases.unwrap_or_default())
            })
            .collect();
        let registration = Registration {
            container_id: id.to_string(),
            project: stack.name.clone(),
            service: service_name.to_string(),
            container_name: cfg.name.clone(),
            networks,
            networks6: endpoints.iter().filter_map(|e| Some((e.network.clone(), e.ip6.clone()?))).collect(),
        };
        let mounts = nm.hosts_files_and_register(&hosts, &registration)?;
        t.mark("hosts files + register");
        Ok(NetSetup { net: NetNs::Path(path), mounts })
    })();
    result.map_err(|e: crate::network::NetworkError| {
        let _ = nm.teardown_sandbox(id);
        ReconcileError::Network { what: format!("service `{service_name}`"), error: std::sync::Arc::new(e) }
    })
}

/// The network namespace of an existing container (for `network_mode: service:X`).
pub fn sandbox_path(roots: &Roots, container_id: &str) -> Option<PathBuf> {
    let p = NetworkManager::new(roots).sandbox_path(container_id);
    p.exists().then_some(p)
}

/// After start: publish the service's ports; returns what was published.
pub fn after_start(
    roots: &Roots,
    stack: &Stack,
    service_name: &str,
    service: &Service,
    container: &str,
) -> Result<Vec<PortRecord>> {
    if service.ports.is_empty() || service.network_mode.is_some() {
        return Ok(Vec::new());
    }
    let published = NetworkManager::new(roots)
        .publish(container, &stack.name, &translate::port_requests(service))
        .map_err(net_err(service_name))?;
    Ok(published
        .into_iter()
        .map(|p| PortRecord { host_ip: p.host_ip, host_port: p.host_port, target: p.target, protocol: p.protocol })
        .collect())
}

/// The root's DNS server runs and serves every container that uses it.
pub fn ensure_dns(roots: &Roots) -> Result<()> {
    NetworkManager::new(roots).ensure_dns().map_err(net_err("the embedded DNS server"))
}

/// Remove everything the network layer holds for a container (veths, netns, ports, names).
pub fn teardown_container(roots: &Roots, container: &str) -> Result<()> {
    NetworkManager::new(roots).teardown_sandbox(container).map_err(net_err(container))
}

fn net_err(what: &str) -> impl FnOnce(crate::network::NetworkError) -> ReconcileError + '_ {
    move |e| ReconcileError::Network { what: what.to_string(), error: std::sync::Arc::new(e) }
}

fn vol_err(what: &str) -> impl FnOnce(crate::volumes::VolumeError) -> ReconcileError + '_ {
    move |e| ReconcileError::Volume { what: what.to_string(), error: e }
}
