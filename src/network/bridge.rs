//! Networks: a Linux bridge per network in the host namespace, with the gateway address on it,
//! its subnet from IPAM, and its firewall rules. External networks are only looked up.

use std::net::Ipv4Addr;

use super::error::{NetworkError, Result};
use super::firewall::RuleCheck;
use super::ipam::{pick_subnet, Ipv4Net};
use super::netlink::{outside_tokio, Netlink};
use super::store::{LockGuard, NetworkRecord, HOST_LOCK};
use super::{firewall, names, NetworkInfo, NetworkManager, NetworkSpec};

impl NetworkManager {
    /// Creates the network (bridge, gateway address, rules) or finds it. Idempotent; a
    /// recorded network whose bridge vanished (reboot) gets it back with the same subnet.
    pub fn ensure_network(&self, spec: &NetworkSpec) -> Result<NetworkInfo> {
        let info = self.ensure_network_links(spec)?;
        self.install_firewall(&spec.name)?;
        Ok(info)
    }

    /// [`Self::ensure_network`] without the firewall rules, which [`Self::install_firewall`]
    /// adds: `up` installs them (a few ms) while its containers are being
    /// created, and waits for them before any container process starts.
    pub fn ensure_network_links(&self, spec: &NetworkSpec) -> Result<NetworkInfo> {
        check_name(&spec.name)?;
        let _lock = self.store.lock()?;
        if let Some(rec) = self.store.load_network(&spec.name)? {
            outside_tokio(|| bring_up(&rec))?;
            return Ok(info(&rec));
        }
        if spec.external {
            return Err(NetworkError::ExternalNotFound(spec.name.clone()));
        }
        // Held until the bridge and its route exist, so a concurrent allocation (any project,
        // any state root) sees this subnet as taken.
        let _host = LockGuard::take(std::path::Path::new(HOST_LOCK))?;
        let rec = outside_tokio(|| self.allocate(spec))?;
        if let Err(e) = outside_tokio(|| bring_up(&rec)) {
            let _ = outside_tokio(|| delete_bridge(&rec.bridge));
            return Err(e);
        }
        self.store.save_network(&rec)?;
        tracing::info!(network = %rec.name, bridge = %rec.bridge, subnet = %rec.subnet, "network created");
        Ok(info(&rec))
    }

    /// The network's firewall rules (idempotent; see firewall/). Not under the store lock:
    /// the rules name only this network's bridge, and both drivers write them atomically
    /// (`iptables-restore --noflush` per table, one nftables batch) without touching anyone
    /// else's.
    pub fn install_firewall(&self, name: &str) -> Result<()> {
        self.repair_firewall(name).map(|_| ())
    }

    /// Puts back whatever of the network's rules is missing or out of order (another tool
    /// flushed the tables), and verifies them; returns what was wrong (ok when nothing was).
    pub fn repair_firewall(&self, name: &str) -> Result<RuleCheck> {
        let rec = self.store.load_network(name)?.ok_or_else(|| NetworkError::NotFound(name.to_string()))?;
        firewall::ensure(&rec.bridge, rec.subnet, rec.internal)
    }

    /// How the firewall rules of each network of `project` stand, with one read of the
    /// driver's rules for them all (none when the project has no network). Empty when there
    /// is no firewall to drive.
    pub fn firewall_checks(&self, project: &str) -> Result<Vec<(String, RuleCheck)>> {
        let recs: Vec<NetworkRecord> = self.store.networks()?.into_iter().filter(|r| r.project == project).collect();
        if recs.is_empty() {
            return Ok(Vec::new());
        }
        let Some(present) = firewall::Ruleset::read()? else { return Ok(Vec::new()) };
        Ok(recs
            .into_iter()
            .map(|r| {
                let check = firewall::check(&present, &r.bridge, r.subnet, r.internal);
                (r.name, check)
            })
            .collect())
    }

    /// [`Self::repair_firewall`] for every network of `project`, with one read of the rules
    /// when nothing is amiss (the supervisor's periodic check). Returns each network that needed a
    /// repair with the rules restored, or why they could not be; keeps going past a failure.
    pub fn repair_firewalls(&self, project: &str) -> Result<Vec<(String, Result<RuleCheck>)>> {
        let recs: Vec<NetworkRecord> = self.store.networks()?.into_iter().filter(|r| r.project == project).collect();
        if recs.is_empty() {
            return Ok(Vec::new());
        }
        let Some(present) = firewall::Ruleset::read()? else { return Ok(Vec::new()) };
        Ok(recs
            .into_iter()
            .map(|r| {
                let result = firewall::ensure_in(&present, &r.bridge, r.subnet, r.internal);
                (r.name, result)
            })
            .filter(|(_, result)| result.as_ref().map_or(true, |check| !check.is_ok()))
            .collect())
    }

    /// Chooses the subnet and gateway: the spec's, checked, or the pool's first free one.
    fn allocate(&self, spec: &NetworkSpec) -> Result<NetworkRecord> {
        let nl = Netlink::connect()?;
        let mut taken = nl.host_networks()?;
        taken.extend(self.store.networks()?.iter().map(|r| r.subnet));
        let subnet = match &spec.subnet {
            Some(s) => {
                let subnet: Ipv4Net = s.parse()?;
                if let Some(other) = taken.iter().find(|t| t.overlaps(&subnet)) {
                    return Err(NetworkError::SubnetOverlap {
                        network: spec.name.clone(),
                        subnet: subnet.to_string(),
                        other: format!("{other}, already in use on this host"),
                    });
                }
                subnet
            }
            None => pick_subnet(self.pool, self.prefix, &taken).ok_or_else(|| NetworkError::PoolExhausted {
                pool: self.pool.to_string(),
                network: spec.name.clone(),
            })?,
        };
        let gateway = match &spec.gateway {
            Some(g) => {
                let gw: Ipv4Addr = g.parse().map_err(|_| NetworkError::invalid("gateway", g, "not an IPv4 address"))?;
                if !subnet.is_host(gw) {
                    return Err(NetworkError::invalid("gateway", g, format!("not a host address of {subnet}")));
                }
                gw
            }
            None => subnet.first_host(),
        };
        Ok(NetworkRecord {
            name: spec.name.clone(),
            project: spec.project.clone(),
            bridge: names::bridge_name(self.store.root_id(), &spec.name),
            subnet,
            gateway,
            internal: spec.internal,
            labels: spec.labels.clone(),
            endpoints: Default::default(),
        })
    }

    /// Removes the bridge, its rules and its allocation. Idempotent; refuses while containers
    /// are attached.
    pub fn remove_network(&self, name: &str) -> Result<()> {
        let _lock = self.store.lock()?;
        let Some(rec) = self.store.load_network(name)? else { return Ok(()) };
        if !rec.endpoints.is_empty() {
            return Err(NetworkError::InUse { name: name.to_string(), count: rec.endpoints.len() });
        }
        let mut errors = firewall::remove(&rec.bridge, rec.subnet, rec.internal);
        if let Err(e) = outside_tokio(|| delete_bridge(&rec.bridge)) {
            errors.push(e.to_string());
        }
        if let Err(e) = self.store.delete_network(name) {
            errors.push(e.to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown { what: format!("network {name}"), errors })
        }
    }

    /// Networks of `project` (all when None), by name.
    pub fn list_networks(&self, project: Option<&str>) -> Result<Vec<NetworkInfo>> {
        let all = self.store.networks()?;
        Ok(all.iter().filter(|r| project.is_none_or(|p| r.project == p)).map(info).collect())
    }
}

/// Bridge up with its gateway address (each step idempotent).
fn bring_up(rec: &NetworkRecord) -> Result<()> {
    let nl = Netlink::connect()?;
    let index = nl.ensure_bridge(&rec.bridge)?;
    nl.add_address(index, rec.gateway, rec.subnet.prefix())?;
    nl.set_up(index)
}

fn delete_bridge(bridge: &str) -> Result<()> {
    let nl = Netlink::connect()?;
    match nl.link_index(bridge)? {
        Some(i) => nl.delete_link(i),
        None => Ok(()),
    }
}

fn info(rec: &NetworkRecord) -> NetworkInfo {
    NetworkInfo {
        name: rec.name.clone(),
        bridge: rec.bridge.clone(),
        subnet: rec.subnet.to_string(),
        gateway: rec.gateway.to_string(),
        project: rec.project.clone(),
        internal: rec.internal,
        labels: rec.labels.clone(),
        containers: rec.endpoints.keys().cloned().collect(),
    }
}

/// Network names become file names: letters, digits, `_`, `-`, `.`, not starting with `.`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(NetworkError::invalid("network name", name, "use letters, digits, `_`, `-` and `.`"))
    }
}
