//! Published ports, the manager's side: resolve each Compose port to a host binding (ranges,
//! ephemeral ports), hand the set to the project's proxy, record what was bound.

use std::net::{IpAddr, SocketAddr};

use super::error::{NetworkError, Result};
use super::ports;
use super::proxy::{ProxyConfig, ProxyEntry};
use super::proxyctl::ProxyCtl;
use super::store::read_json;
use super::{NetworkManager, PublishedPort};
use crate::common::PortRequest;

impl NetworkManager {
    fn proxy<'a>(&'a self, project: &'a str) -> ProxyCtl<'a> {
        ProxyCtl { dir: self.store.proxy_dir(), project, binary: &self.proxy_binary }
    }

    /// Every port some proxy of this state root holds, with the file of that proxy's config.
    fn held_ports(&self) -> Vec<(std::path::PathBuf, ProxyEntry)> {
        let Ok(dir) = std::fs::read_dir(self.store.proxy_dir()) else { return Vec::new() };
        dir.flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| Some((p.clone(), read_json::<ProxyConfig>(&p).ok().flatten()?)))
            .flat_map(|(p, c)| c.entries.into_iter().map(move |e| (p.clone(), e)))
            .collect()
    }

    /// Fails, naming the service, the port and (when it is a berth container of this root)
    /// who holds it, when a host port of `ports` cannot be bound: call before creating or
    /// starting anything, so a failed `up` leaves nothing started. Ports held by `project`'s
    /// own proxy (a container being replaced or started again) count as free; ports another
    /// project's proxy holds do not.
    pub fn check_ports_free(&self, project: &str, service: &str, ports: &[PortRequest]) -> Result<()> {
        let held = self.held_ports();
        let own = self.proxy(project).config_path();
        for p in ports {
            let w = ports::wanted(p)?;
            if w.host_ports.is_none() {
                continue;
            }
            let holds = |e: &ProxyEntry, port: u16| e.host_ip == w.host_ip && e.host_port == port && e.proto == w.proto;
            let ours = |port: u16| held.iter().any(|(cfg, e)| *cfg == own && holds(e, port));
            if ports::pick(&w, ours).is_none() {
                let first = w.host_ports.map_or(0, |(a, _)| a);
                let holder = held
                    .iter()
                    .find(|(_, e)| holds(e, first))
                    .map(|(_, e)| format!(" (published by berth container `{}`)", e.container))
                    .unwrap_or_default();
                return Err(ports::in_use_by(service, &w, holder));
            }
        }
        Ok(())
    }

    /// Publishes container `id`'s ports through project `project`'s proxy, forwarding to the
    /// container's address on its first network. Replaces what the container had published.
    pub fn publish(&self, container_id: &str, project: &str, ports: &[PortRequest]) -> Result<Vec<PublishedPort>> {
        let _lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(container_id)?;
        let Some(ep) = sandbox.endpoints.first() else {
            tracing::warn!(container = container_id, "ports not published: the container is on no network");
            return Ok(Vec::new());
        };
        let parse = |ip: &str| -> Result<IpAddr> {
            ip.parse().map_err(|_| NetworkError::invalid("endpoint address", ip, "not an IP"))
        };
        let ip = parse(&ep.ip)?;
        // An IPv6 host address forwards to the container's IPv6 address when it has one (as
        // Docker's proxy does), else to its IPv4 one.
        let ip6 = ep.ip6.as_deref().map(parse).transpose()?;
        let ctl = self.proxy(project);
        let mut cfg = ctl.load()?;
        // What this container published before (a start after a stop that kept them): the
        // proxy holds those ports for it, so they count as free.
        let before: Vec<ProxyEntry> = cfg.entries.iter().filter(|e| e.container == container_id).cloned().collect();
        cfg.entries.retain(|e| e.container != container_id);
        let service = sandbox.registration.as_ref().map(|r| r.service.clone()).unwrap_or_else(|| container_id.into());
        let mut published = Vec::new();
        for p in ports {
            let w = ports::wanted(p)?;
            let taken = |port: u16| cfg.entries.iter().any(|e| e.host_port == port && e.proto == w.proto);
            let had =
                |port: u16| before.iter().any(|e| e.host_ip == w.host_ip && e.host_port == port && e.proto == w.proto);
            let free = |port: u16| !taken(port) && (had(port) || w.bindable(port));
            let host_port = match w.host_ports {
                None => ports::pick(&w, |_| false),
                Some((a, b)) => (a..=b).find(|p| free(*p)),
            }
            .ok_or_else(|| ports::in_use(&service, &w))?;
            let sides = std::iter::once(w.clone()).chain(w.also6.then(|| w.v6_side()));
            for side in sides {
                cfg.entries.push(ProxyEntry {
                    container: container_id.to_string(),
                    host_ip: side.host_ip,
                    host_port,
                    proto: side.proto,
                    backend: SocketAddr::new(if side.host_ip.is_ipv6() { ip6.unwrap_or(ip) } else { ip }, side.target),
                });
                published.push(PublishedPort {
                    host_ip: side.host_ip.to_string(),
                    host_port,
                    target: side.target,
                    protocol: side.proto.as_str().to_string(),
                });
            }
        }
        ctl.apply(cfg)?;
        sandbox.ports = published.clone();
        sandbox.project = Some(project.to_string());
        self.store.save_sandbox(&sandbox)?;
        Ok(published)
    }

    /// Withdraws container `id`'s published ports (the proxy stops when none remain).
    pub fn unpublish(&self, container_id: &str) -> Result<()> {
        let _lock = self.store.lock()?;
        let Some(mut sandbox) = self.store.load_sandbox(container_id)? else { return Ok(()) };
        let Some(project) = sandbox.project.clone() else { return Ok(()) };
        let ctl = self.proxy(&project);
        let mut cfg = ctl.load()?;
        let before = cfg.entries.len();
        cfg.entries.retain(|e| e.container != container_id);
        if cfg.entries.len() != before || !sandbox.ports.is_empty() {
            ctl.apply(cfg)?;
        }
        if !sandbox.ports.is_empty() {
            sandbox.ports.clear();
            self.store.save_sandbox(&sandbox)?;
        }
        Ok(())
    }

    /// What container `id` has published (for `berth ps` and `berth port`).
    pub fn published_ports(&self, container_id: &str) -> Result<Vec<PublishedPort>> {
        Ok(self.store.load_sandbox(container_id)?.map(|s| s.ports).unwrap_or_default())
    }
}
