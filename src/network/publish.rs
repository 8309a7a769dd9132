//! Published ports, the manager's side: resolve each Compose port to a host binding (ranges,
//! ephemeral ports), hand the set to the project's proxy, record what was bound.

use std::net::{IpAddr, SocketAddr};

use super::error::{NetworkError, Result};
use super::ports::{self, Proto};
use super::proxy::{ProxyConfig, ProxyEntry};
use super::proxyctl::ProxyCtl;
use super::store::read_json;
use super::{NetworkManager, PublishedPort};
use crate::spec::model::Port;

impl NetworkManager {
    fn proxy<'a>(&'a self, project: &'a str) -> ProxyCtl<'a> {
        ProxyCtl { dir: self.store.proxy_dir(), project, binary: &self.proxy_binary }
    }

    /// Every (host ip, port, proto) some proxy of this state root holds.
    fn held_ports(&self) -> Vec<(IpAddr, u16, Proto)> {
        let Ok(dir) = std::fs::read_dir(self.store.proxy_dir()) else { return Vec::new() };
        dir.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| read_json::<ProxyConfig>(&e.path()).ok().flatten())
            .flat_map(|c| c.entries)
            .map(|e| (e.host_ip, e.host_port, e.proto))
            .collect()
    }

    /// Fails, naming the service and port, when a host port of `ports` cannot be bound (call
    /// before creating anything). Ports already held by berth's own proxy (a container being
    /// replaced) count as free.
    pub fn check_ports_free(&self, service: &str, ports: &[Port]) -> Result<()> {
        let held = self.held_ports();
        for p in ports {
            let w = ports::wanted(p)?;
            if w.host_ports.is_none() {
                continue;
            }
            let ours = |port: u16| held.iter().any(|(ip, hp, pr)| *ip == w.host_ip && *hp == port && *pr == w.proto);
            if ports::pick(&w, ours).is_none() {
                return Err(ports::in_use(service, &w));
            }
        }
        Ok(())
    }

    /// Publishes container `id`'s ports through project `project`'s proxy, forwarding to the
    /// container's address on its first network. Replaces what the container had published.
    pub fn publish(&self, container_id: &str, project: &str, ports: &[Port]) -> Result<Vec<PublishedPort>> {
        let _lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(container_id)?;
        let Some(ep) = sandbox.endpoints.first() else {
            tracing::warn!(container = container_id, "ports not published: the container is on no network");
            return Ok(Vec::new());
        };
        let ip: IpAddr = ep.ip.parse().map_err(|_| NetworkError::invalid("endpoint address", &ep.ip, "not an IP"))?;
        let ctl = self.proxy(project);
        let mut cfg = ctl.load()?;
        cfg.entries.retain(|e| e.container != container_id);
        let service = sandbox.registration.as_ref().map(|r| r.service.clone()).unwrap_or_else(|| container_id.into());
        let mut published = Vec::new();
        for p in ports {
            let w = ports::wanted(p)?;
            let taken = |port: u16| cfg.entries.iter().any(|e| e.host_port == port && e.proto == w.proto);
            let free = |port: u16| !taken(port) && ports::try_bind(w.host_ip, port, w.proto).is_some();
            let host_port = match w.host_ports {
                None => ports::pick(&w, |_| false),
                Some((a, b)) => (a..=b).find(|p| free(*p)),
            }
            .ok_or_else(|| ports::in_use(&service, &w))?;
            cfg.entries.push(ProxyEntry {
                container: container_id.to_string(),
                host_ip: w.host_ip,
                host_port,
                proto: w.proto,
                backend: SocketAddr::new(ip, w.target),
            });
            published.push(PublishedPort {
                host_ip: w.host_ip.to_string(),
                host_port,
                target: w.target,
                protocol: w.proto.as_str().to_string(),
            });
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
