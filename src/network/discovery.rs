//! Service discovery by managed files (see `hosts.rs` for the why): `hosts_files` makes a
//! container's /etc/hosts, /etc/resolv.conf and /etc/hostname and returns their bind mounts;
//! `register` / `unregister` publish or withdraw its names and rewrite, in place, the hosts
//! file of every container sharing a network with it.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::Result;
use super::hosts::{render_hosts, render_resolv, write_in_place};
use super::store::SandboxRecord;
use super::{HostsSpec, NetworkManager, Registration};
use crate::common::{Mount, Propagation};

const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

impl NetworkManager {
    /// Writes container `id`'s hosts, resolv.conf and hostname files and returns the bind
    /// mounts for them. Call after `attach` (its own address goes next to its hostname).
    pub fn hosts_files(&self, container_id: &str, spec: &HostsSpec) -> Result<Vec<Mount>> {
        let _lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(container_id)?;
        sandbox.hosts = Some(spec.clone());
        self.store.save_sandbox(&sandbox)?;
        self.write_own_files(&sandbox, spec)
    }

    /// `hosts_files` then `register`, under one lock and with one record write: what a new
    /// container needs (half the lock round trips while containers are created in parallel).
    pub fn hosts_files_and_register(&self, spec: &HostsSpec, reg: &Registration) -> Result<Vec<Mount>> {
        let lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(&reg.container_id)?;
        sandbox.hosts = Some(spec.clone());
        let touched = set_registration(&mut sandbox, reg);
        self.store.save_sandbox(&sandbox)?;
        // Its own files first (refresh only rewrites hosts files that exist).
        let mounts = self.write_own_files(&sandbox, spec)?;
        self.refresh(&touched)?;
        drop(lock);
        self.names_changed(spec.embedded_dns)?;
        Ok(mounts)
    }

    /// Registrations changed: the DNS server re-reads them before this returns (started
    /// first when `start` — the container uses it — and none runs).
    fn names_changed(&self, start: bool) -> Result<()> {
        if start {
            self.dns().sync()
        } else {
            self.dns().sync_if_running()
        }
    }

    fn write_own_files(&self, sandbox: &SandboxRecord, spec: &HostsSpec) -> Result<Vec<Mount>> {
        let container_id = sandbox.id.as_str();
        let dir = self.store.files_dir(container_id);
        let all = self.store.sandboxes()?;
        let host_resolv = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
        let hostname = spec.hostname.clone().unwrap_or_else(|| crate::common::ids::hostname_of_id(container_id));
        let files = [
            ("hosts", "/etc/hosts", render_hosts(sandbox, &all)),
            ("resolv.conf", "/etc/resolv.conf", render_resolv(spec, &host_resolv)),
            ("hostname", "/etc/hostname", format!("{hostname}\n")),
        ];
        let mut mounts = Vec::new();
        for (file, target, content) in files {
            let path = dir.join(file);
            write_in_place(&path, &content)?;
            mounts.push(Mount::Bind {
                source: path,
                target: target.to_string(),
                read_only: false,
                propagation: Propagation::Rprivate,
            });
        }
        Ok(mounts)
    }

    /// Makes the container's service name, container name and aliases resolvable by every
    /// container on a network it is on. Re-registering replaces the previous record.
    pub fn register(&self, reg: &Registration) -> Result<()> {
        let lock = self.store.lock()?;
        let mut sandbox = self.store.require_sandbox(&reg.container_id)?;
        let touched = set_registration(&mut sandbox, reg);
        self.store.save_sandbox(&sandbox)?;
        self.refresh(&touched)?;
        drop(lock);
        self.names_changed(sandbox.hosts.as_ref().is_some_and(|h| h.embedded_dns))
    }

    /// Withdraws the container's names. Idempotent.
    pub fn unregister(&self, container_id: &str) -> Result<()> {
        let lock = self.store.lock()?;
        let Some(mut sandbox) = self.store.load_sandbox(container_id)? else { return Ok(()) };
        let Some(old) = sandbox.registration.take() else { return Ok(()) };
        self.store.save_sandbox(&sandbox)?;
        let touched = old.networks.iter().map(|(n, _, _)| n.clone()).collect();
        self.refresh(&touched)?;
        drop(lock);
        // Its sockets close before this returns, so its namespace can die with the teardown.
        self.names_changed(false)
    }

    /// Rewrites the hosts file of every container on one of `networks` whose content changed.
    fn refresh(&self, networks: &BTreeSet<String>) -> Result<()> {
        let all = self.store.sandboxes()?;
        for sb in &all {
            if !sb.endpoints.iter().any(|e| networks.contains(&e.network)) {
                continue;
            }
            let path = self.store.files_dir(&sb.id).join("hosts");
            if !path.exists() {
                continue;
            }
            rewrite_if_changed(&path, &render_hosts(sb, &all))?;
        }
        Ok(())
    }

    /// Make sure the root's DNS server runs and serves every container that uses it (after a
    /// crash or a kill of the server; `up` calls it when it has nothing else to do).
    pub fn ensure_dns(&self) -> Result<()> {
        let uses = |s: &SandboxRecord| s.registration.is_some() && s.hosts.as_ref().is_some_and(|h| h.embedded_dns);
        if self.store.sandboxes()?.iter().any(uses) {
            self.dns().sync()?;
        }
        Ok(())
    }

    /// The registrations of every container in this state root (for `berth ps`, debugging).
    pub fn registrations(&self) -> Result<Vec<Registration>> {
        Ok(self.store.sandboxes()?.into_iter().filter_map(|s: SandboxRecord| s.registration).collect())
    }
}

/// Puts `reg` on the sandbox record; the networks whose hosts files change (those it joins and
/// those its previous registration was on).
fn set_registration(sandbox: &mut SandboxRecord, reg: &Registration) -> BTreeSet<String> {
    let mut touched: BTreeSet<String> = reg.networks.iter().map(|(n, _, _)| n.clone()).collect();
    if let Some(old) = &sandbox.registration {
        touched.extend(old.networks.iter().map(|(n, _, _)| n.clone()));
    }
    sandbox.registration = Some(reg.clone());
    sandbox.project = Some(reg.project.clone());
    touched
}

fn rewrite_if_changed(path: &Path, content: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    write_in_place(path, content)
}
