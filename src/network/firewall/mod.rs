//! The firewall rules of bridge networks, through one of two drivers, with the same rules,
//! the same drift check and the same repair:
//!
//! - `iptables` (iptables.rs): `iptables-save`/`iptables-restore` on the host's tables;
//! - `nftables` (nftables.rs): berth's own nf_tables tables `ip berth` and `ip6 berth` over
//!   netlink.
//!
//! A network with an IPv6 subnet gets the same rules for it (`ip6tables`, `ip6 berth`): one
//! [`Subnet`] per address family, each with its own [`Ruleset`].
//!
//! The driver is chosen once per process: `BERTH_FIREWALL=iptables|nftables` when set;
//! otherwise iptables when the `iptables` binary is the nf_tables variant, or the legacy one
//! on a host that does not use nf_tables (today's behaviour where it works); nftables when
//! there is no `iptables`, or when it is legacy while nf_tables holds a ruleset (legacy rules
//! there would be a second, unseen firewall). No iptables and no nf_tables: no rules, a warning.
//!
//! Setup fails fast; removal keeps going and reports every failure.

use std::process::Command;
use std::sync::OnceLock;

use super::error::{NetworkError, Result};
use super::ipam::Ipv4Net;
use super::ipam6::Ipv6Net;

pub mod iptables;
mod nfnl;
pub mod nftables;

/// The variable that overrides the driver choice.
pub const DRIVER_ENV: &str = "BERTH_FIREWALL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Iptables,
    Nftables,
}

/// An address family's rules: IPv4 or IPv6.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    #[default]
    V4,
    V6,
}

/// One subnet of a network, which decides the family of its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subnet {
    V4(Ipv4Net),
    V6(Ipv6Net),
}

impl Subnet {
    pub fn family(&self) -> Family {
        match self {
            Subnet::V4(_) => Family::V4,
            Subnet::V6(_) => Family::V6,
        }
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subnet::V4(n) => n.fmt(f),
            Subnet::V6(n) => n.fmt(f),
        }
    }
}

impl std::str::FromStr for Subnet {
    type Err = NetworkError;
    /// `10.1.0.0/24` or `fd00:1::/64`.
    fn from_str(s: &str) -> Result<Self> {
        if s.contains(':') {
            s.parse().map(Subnet::V6)
        } else {
            s.parse().map(Subnet::V4)
        }
    }
}

impl From<Ipv4Net> for Subnet {
    fn from(n: Ipv4Net) -> Self {
        Subnet::V4(n)
    }
}

impl From<Ipv6Net> for Subnet {
    fn from(n: Ipv6Net) -> Self {
        Subnet::V6(n)
    }
}

/// What the host's `iptables` binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IptablesKind {
    Missing,
    NfTables,
    Legacy,
}

/// The driver for `env` (the value of [`DRIVER_ENV`]), the host's iptables, and whether the
/// kernel's nf_tables holds any table (None: nf_tables unusable).
pub fn choose(
    env: Option<&str>,
    iptables: IptablesKind,
    nft_in_use: impl FnOnce() -> Option<bool>,
) -> Result<Option<Driver>> {
    match env.map(str::trim) {
        Some("iptables") => return Ok(Some(Driver::Iptables)),
        Some("nftables") => return Ok(Some(Driver::Nftables)),
        None | Some("") | Some("auto") => {}
        Some(other) => {
            return Err(NetworkError::invalid("BERTH_FIREWALL", other, "use `iptables`, `nftables` or `auto`"));
        }
    }
    Ok(match iptables {
        IptablesKind::NfTables => Some(Driver::Iptables),
        IptablesKind::Missing => nft_in_use().map(|_| Driver::Nftables),
        IptablesKind::Legacy if nft_in_use() == Some(true) => Some(Driver::Nftables),
        IptablesKind::Legacy => Some(Driver::Iptables),
    })
}

/// Where the sbin directories are when PATH lacks them (a user's shell, cron, a CI runner's
/// service): the firewall must not silently go missing because of a PATH.
const SBIN: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// The firewall tool `name` (iptables, iptables-save, iptables-restore): from PATH, else from
/// the sbin directories; the bare name when neither has it (running it then fails as missing).
pub fn tool(name: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(SBIN.iter().map(std::path::PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return candidate;
        }
    }
    std::path::PathBuf::from(name)
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `iptables -V`: `iptables v1.8.9 (nf_tables)`, `(legacy)`, or before 1.8 no suffix (legacy).
fn iptables_kind() -> IptablesKind {
    match Command::new(tool("iptables")).arg("-V").output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("nf_tables") => IptablesKind::NfTables,
        Ok(out) if out.status.success() => IptablesKind::Legacy,
        _ => IptablesKind::Missing,
    }
}

/// The driver of this process (the host probe runs once).
pub fn driver() -> Result<Option<Driver>> {
    static HOST: OnceLock<(IptablesKind, Option<bool>)> = OnceLock::new();
    let env = std::env::var(DRIVER_ENV).ok();
    if let Some(e) = env.as_deref().filter(|e| !matches!(e.trim(), "" | "auto")) {
        // An override (or a wrong value) decides without probing the host.
        return choose(Some(e), IptablesKind::Missing, || None);
    }
    let (kind, in_use) = *HOST.get_or_init(|| {
        let kind = iptables_kind();
        let in_use = match kind {
            IptablesKind::NfTables => None,
            _ => nftables::in_use().inspect_err(|e| tracing::debug!(error = %e, "nf_tables unusable")).ok(),
        };
        tracing::debug!(?kind, ?in_use, "firewall host probe");
        (kind, in_use)
    });
    choose(None, kind, || in_use)
}

/// The live rules of the chosen driver, read once for any number of networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruleset {
    Iptables(iptables::Ruleset),
    Nftables(nftables::Ruleset),
}

impl Ruleset {
    /// The live rules of one family; None when there is no firewall to drive.
    pub fn read(family: Family) -> Result<Option<Ruleset>> {
        match driver()? {
            None => Ok(None),
            Some(Driver::Iptables) => Ok(iptables::Ruleset::read(family)?.map(Ruleset::Iptables)),
            Some(Driver::Nftables) => Ok(Some(Ruleset::Nftables(nftables::Ruleset::read(family)?))),
        }
    }
}

/// How one network's rules stand in a [`Ruleset`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCheck {
    /// The missing rules, as `<table or chain>: <rule>`.
    pub missing: Vec<String>,
    /// Every rule there, but not in their order: an isolation DROP after the ACCEPT it must
    /// precede lets the traffic through.
    pub misordered: bool,
}

impl RuleCheck {
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && !self.misordered
    }

    /// `3 missing: filter: -A FORWARD …; …`, `out of order`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("{} missing: {}", self.missing.len(), self.missing.join("; ")));
        }
        if self.misordered {
            parts.push("out of order".to_string());
        }
        parts.join(", ")
    }
}

/// Installs the network's rules, or repairs them after another tool deleted some
/// (idempotent), and verifies them. Returns what was wrong before (ok when nothing was).
pub fn ensure(bridge: &str, subnet: Subnet, internal: bool) -> Result<RuleCheck> {
    let Some(present) = Ruleset::read(subnet.family())? else {
        tracing::warn!(
            bridge,
            "neither iptables nor nf_tables: network works, but without egress masquerade or isolation"
        );
        return Ok(RuleCheck::default());
    };
    ensure_in(&present, bridge, subnet, internal)
}

/// [`ensure`] against a ruleset of the subnet's family already read (the supervisor checks
/// every network of a project with one read).
pub fn ensure_in(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> Result<RuleCheck> {
    match present {
        Ruleset::Iptables(p) => iptables::ensure_in(p, bridge, subnet, internal),
        Ruleset::Nftables(p) => nftables::ensure_in(p, bridge, subnet, internal),
    }
}

/// How the network's rules stand in `present`.
pub fn check(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> RuleCheck {
    match present {
        Ruleset::Iptables(p) => iptables::check(p, bridge, subnet, internal),
        Ruleset::Nftables(p) => nftables::check(p, bridge, subnet, internal),
    }
}

/// Removes the network's rules from both drivers' places (the driver may have been another
/// when the network was made), reporting the chosen driver's failures; the other one is
/// best effort (it may not exist on this host).
pub fn remove(bridge: &str, subnet: Subnet, internal: bool) -> Vec<String> {
    let (chosen, mut errors) = match driver() {
        Ok(d) => (d, Vec::new()),
        Err(e) => (None, vec![e.to_string()]),
    };
    for d in [Driver::Iptables, Driver::Nftables] {
        let result = match d {
            Driver::Iptables => iptables::remove(bridge, subnet, internal),
            Driver::Nftables => {
                nftables::remove(bridge, subnet.family()).err().map(|e| e.to_string()).into_iter().collect()
            }
        };
        if chosen == Some(d) {
            errors.extend(result);
        } else if !result.is_empty() {
            tracing::debug!(bridge, driver = ?d, errors = ?result, "firewall cleanup by the other driver failed");
        }
    }
    errors
}

/// Routing between the bridge and the host's other links, written only when it is not
/// already on: net.ipv4.ip_forward=1, or net.ipv6.conf.all.forwarding=1 as Docker sets it.
/// IPv6 forwarding also makes the kernel ignore router advertisements (with accept_ra=1): on
/// a host whose routes came from them it is left off with a warning, since turning it on would
/// lose the host's own IPv6 routes when they expire (containers keep their IPv6 among
/// themselves and through published ports; only egress needs forwarding).
fn enable_forwarding(family: Family) -> Result<()> {
    let path = match family {
        Family::V4 => "/proc/sys/net/ipv4/ip_forward",
        Family::V6 => "/proc/sys/net/ipv6/conf/all/forwarding",
    };
    if std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "1") {
        return Ok(());
    }
    if family == Family::V6 && super::netlink::has_ra_routes().unwrap_or(false) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "IPv6 egress from containers needs net.ipv6.conf.all.forwarding=1; not set, because this host's \
                 IPv6 routes come from router advertisements (set accept_ra=2 on its uplink, then forwarding=1)"
            )
        });
        return Ok(());
    }
    std::fs::write(path, "1").map_err(|e| NetworkError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_stays_a_bare_name() {
        assert_eq!(tool("no-such-firewall-tool"), std::path::PathBuf::from("no-such-firewall-tool"));
        assert!(!is_executable(std::path::Path::new("/proc/self/status")));
    }

    #[test]
    fn the_override_wins_and_bad_values_are_refused() {
        let never = || -> Option<bool> { panic!("no probe with an override") };
        assert_eq!(choose(Some("nftables"), IptablesKind::NfTables, never).unwrap(), Some(Driver::Nftables));
        assert_eq!(choose(Some(" iptables"), IptablesKind::Missing, never).unwrap(), Some(Driver::Iptables));
        let err = choose(Some("pf"), IptablesKind::NfTables, never).unwrap_err().to_string();
        assert!(err.contains("BERTH_FIREWALL") && err.contains("nftables"), "{err}");
    }

    #[test]
    fn automatic_choice_keeps_iptables_where_it_works() {
        let no_probe = || -> Option<bool> { panic!("nf_tables iptables needs no probe") };
        assert_eq!(choose(None, IptablesKind::NfTables, no_probe).unwrap(), Some(Driver::Iptables));
        assert_eq!(choose(Some("auto"), IptablesKind::Legacy, || Some(false)).unwrap(), Some(Driver::Iptables));
        assert_eq!(choose(None, IptablesKind::Legacy, || None).unwrap(), Some(Driver::Iptables));
        // Legacy iptables on a host whose firewall lives in nf_tables: berth's own table.
        assert_eq!(choose(None, IptablesKind::Legacy, || Some(true)).unwrap(), Some(Driver::Nftables));
        assert_eq!(choose(None, IptablesKind::Missing, || Some(false)).unwrap(), Some(Driver::Nftables));
        assert_eq!(choose(None, IptablesKind::Missing, || None).unwrap(), None);
    }
}
