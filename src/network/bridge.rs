//! Networks: a Linux bridge per network in the host namespace, with the gateway address on it,
//! its subnet from IPAM, and its firewall rules. External networks are only looked up. An
//! IPv6 network (`enable_ipv6`, or an IPv6 `ipam.config` entry) has a second subnet and
//! gateway, on the same bridge, with the same rules for its family.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{NetworkError, Result};
use super::firewall::{Family, RuleCheck, Subnet};
use super::ipam::{pick_subnet, Ipv4Net};
use super::ipam6::{self, Ipv6Net};
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
            let wants6 = spec.enable_ipv6 || spec.subnet6.is_some();
            if wants6 != rec.subnet6.is_some() && !spec.external {
                // As docker compose, an existing network is not changed under its containers.
                tracing::warn!(
                    network = %spec.name,
                    "the network exists {} IPv6 while the stack file now {} it; `berth down` and `up` recreate it",
                    if wants6 { "without" } else { "with" },
                    if wants6 { "enables" } else { "does not enable" },
                );
            }
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
        let mut check = RuleCheck::default();
        for subnet in rec.subnets() {
            let c = firewall::ensure(&rec.bridge, subnet, rec.internal)?;
            check.missing.extend(c.missing);
            check.misordered |= c.misordered;
        }
        Ok(check)
    }

    /// How the firewall rules of each network of `project` stand, with one read of the
    /// driver's rules for them all (none when the project has no network). Empty when there
    /// is no firewall to drive.
    pub fn firewall_checks(&self, project: &str) -> Result<Vec<(String, RuleCheck)>> {
        let recs: Vec<NetworkRecord> = self.store.networks()?.into_iter().filter(|r| r.project == project).collect();
        let Some(present) = Rulesets::read(&recs)? else { return Ok(Vec::new()) };
        Ok(recs
            .into_iter()
            .map(|r| {
                let mut check = RuleCheck::default();
                for subnet in r.subnets() {
                    if let Some(p) = present.of(subnet.family()) {
                        let c = firewall::check(p, &r.bridge, subnet, r.internal);
                        check.missing.extend(c.missing);
                        check.misordered |= c.misordered;
                    }
                }
                (r.name, check)
            })
            .collect())
    }

    /// [`Self::repair_firewall`] for every network of `project`, with one read of the rules
    /// when nothing is amiss (the supervisor's periodic check). Returns each network that needed a
    /// repair with the rules restored, or why they could not be; keeps going past a failure.
    pub fn repair_firewalls(&self, project: &str) -> Result<Vec<(String, Result<RuleCheck>)>> {
        let recs: Vec<NetworkRecord> = self.store.networks()?.into_iter().filter(|r| r.project == project).collect();
        let Some(present) = Rulesets::read(&recs)? else { return Ok(Vec::new()) };
        Ok(recs
            .into_iter()
            .map(|r| {
                let mut result: Result<RuleCheck> = Ok(RuleCheck::default());
                for subnet in r.subnets() {
                    let Some(p) = present.of(subnet.family()) else { continue };
                    match (&mut result, firewall::ensure_in(p, &r.bridge, subnet, r.internal)) {
                        (Ok(check), Ok(c)) => {
                            check.missing.extend(c.missing);
                            check.misordered |= c.misordered;
                        }
                        (Ok(_), Err(e)) => result = Err(e),
                        (Err(_), _) => {}
                    }
                }
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
        let (subnet6, gateway6) = match spec.enable_ipv6 || spec.subnet6.is_some() {
            true => {
                let (s, g) = self.allocate6(&nl, spec)?;
                (Some(s), Some(g))
            }
            false => (None, None),
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
            subnet6,
            gateway6,
            endpoints6: Default::default(),
        })
    }

    /// The IPv6 subnet and gateway: the spec's, checked against the host's and the other
    /// networks' IPv6 subnets, or the first free /64 of the pool (see `ipam6`).
    fn allocate6(&self, nl: &Netlink, spec: &NetworkSpec) -> Result<(Ipv6Net, Ipv6Addr)> {
        let mut taken = nl.host_networks6()?;
        taken.extend(self.store.networks()?.iter().filter_map(|r| r.subnet6));
        let subnet = match &spec.subnet6 {
            Some(s) => {
                let subnet: Ipv6Net = s.parse()?;
                if let Some(other) = taken.iter().find(|t| t.overlaps(&subnet)) {
                    return Err(NetworkError::SubnetOverlap {
                        network: spec.name.clone(),
                        subnet: subnet.to_string(),
                        other: format!("{other}, already in use on this host"),
                    });
                }
                subnet
            }
            None => {
                let pool = ipam6::pool(self.store.root_id())?;
                ipam6::pick_subnet(pool, ipam6::PREFIX, &taken)
                    .ok_or_else(|| NetworkError::PoolExhausted { pool: pool.to_string(), network: spec.name.clone() })?
            }
        };
        let gateway = match &spec.gateway6 {
            Some(g) => {
                let gw: Ipv6Addr = g.parse().map_err(|_| NetworkError::invalid("gateway", g, "not an IPv6 address"))?;
                if !subnet.is_host(gw) {
                    return Err(NetworkError::invalid("gateway", g, format!("not a host address of {subnet}")));
                }
                gw
            }
            None => subnet.first_host(),
        };
        Ok((subnet, gateway))
    }

    /// Removes the bridge, its rules and its allocation. Idempotent; refuses while containers
    /// are attached.
    pub fn remove_network(&self, name: &str) -> Result<()> {
        let _lock = self.store.lock()?;
        let Some(rec) = self.store.load_network(name)? else { return Ok(()) };
        if !rec.endpoints.is_empty() {
            return Err(NetworkError::InUse { name: name.to_string(), count: rec.endpoints.len() });
        }
        let mut errors: Vec<String> =
            rec.subnets().into_iter().flat_map(|s| firewall::remove(&rec.bridge, s, rec.internal)).collect();
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

/// Bridge up with its gateway addresses (each step idempotent).
fn bring_up(rec: &NetworkRecord) -> Result<()> {
    let nl = Netlink::connect()?;
    let index = nl.ensure_bridge(&rec.bridge)?;
    nl.add_address(index, rec.gateway, rec.subnet.prefix())?;
    if let (Some(subnet6), Some(gateway6)) = (rec.subnet6, rec.gateway6) {
        super::netlink::enable_ipv6(&rec.bridge)?;
        nl.add_address6(index, gateway6, subnet6.prefix())?;
    }
    nl.set_up(index)
}

/// The live rules of each family a set of networks uses, read once each (IPv6 only when one
/// of them has an IPv6 subnet); None when there is no firewall to drive.
struct Rulesets {
    v4: firewall::Ruleset,
    v6: Option<firewall::Ruleset>,
}

impl Rulesets {
    fn read(recs: &[NetworkRecord]) -> Result<Option<Rulesets>> {
        if recs.is_empty() {
            return Ok(None);
        }
        let Some(v4) = firewall::Ruleset::read(Family::V4)? else { return Ok(None) };
        let v6 = match recs.iter().any(|r| r.subnet6.is_some()) {
            true => firewall::Ruleset::read(Family::V6)?,
            false => None,
        };
        Ok(Some(Rulesets { v4, v6 }))
    }

    fn of(&self, family: Family) -> Option<&firewall::Ruleset> {
        match family {
            Family::V4 => Some(&self.v4),
            Family::V6 => self.v6.as_ref(),
        }
    }
}

impl NetworkRecord {
    /// Its subnets, IPv4 first: one set of firewall rules each.
    pub fn subnets(&self) -> Vec<Subnet> {
        std::iter::once(Subnet::V4(self.subnet)).chain(self.subnet6.map(Subnet::V6)).collect()
    }
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
        subnet6: rec.subnet6.map(|s| s.to_string()),
        gateway6: rec.gateway6.map(|g| g.to_string()),
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
