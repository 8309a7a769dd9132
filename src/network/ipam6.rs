//! IPv6 address management, the pure part: subnets on the `ipnet` crate's type, the ULA pool
//! `enable_ipv6` networks get a /64 from when `ipam.config` gives none, and addresses inside a
//! subnet. As for IPv4 (`ipam.rs`), persistence and locking live in `store.rs`.
//!
//! The default pool is a /48 of the unique local range (RFC 4193: `fd` and a 40-bit global ID)
//! whose global ID is a hash of the host's machine id and the state root's id, so two hosts,
//! or two state roots of one host, do not pick the same prefixes; `BERTH_IPV6_POOL` sets
//! another pool (any prefix of /64 or shorter). Networks are /64s, as SLAAC and every peer
//! assume.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};

/// The variable naming another pool for automatic IPv6 subnets.
pub const POOL_ENV: &str = "BERTH_IPV6_POOL";
/// Every automatic IPv6 subnet is a /64.
pub const PREFIX: u8 = 64;

/// An IPv6 network (host bits cleared); stored as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Ipv6Net(ipnet::Ipv6Net);

impl Ipv6Net {
    pub fn new(addr: Ipv6Addr, prefix: u8) -> Result<Self> {
        ipnet::Ipv6Net::new(addr, prefix)
            .map(|n| Ipv6Net(n.trunc()))
            .map_err(|_| NetworkError::invalid("subnet", format!("{addr}/{prefix}"), "prefix longer than 128"))
    }

    pub fn addr(&self) -> Ipv6Addr {
        self.0.network()
    }

    pub fn prefix(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        self.0.contains(&ip)
    }

    pub fn overlaps(&self, other: &Ipv6Net) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }

    /// The conventional gateway: `<prefix>::1`.
    pub fn first_host(&self) -> Ipv6Addr {
        self.nth(1).unwrap_or_else(|| self.addr())
    }

    /// Whether `ip` may be given to a container: in the subnet and not its subnet-router
    /// anycast address (the one with all host bits zero), unless the subnet is a /127 or /128.
    pub fn is_host(&self, ip: Ipv6Addr) -> bool {
        self.contains(ip) && (self.prefix() >= 127 || ip != self.addr())
    }

    /// The `/prefix` subnets of this network, in order.
    pub fn subnets(&self, prefix: u8) -> impl Iterator<Item = Ipv6Net> {
        self.0.subnets(prefix).into_iter().flatten().map(Ipv6Net)
    }

    /// The address `n` places above the network address, if inside the subnet.
    fn nth(&self, n: u128) -> Option<Ipv6Addr> {
        let ip = Ipv6Addr::from(u128::from(self.addr()).checked_add(n)?);
        self.contains(ip).then_some(ip)
    }
}

impl fmt::Display for Ipv6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.prefix())
    }
}

impl FromStr for Ipv6Net {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |r: &str| NetworkError::invalid("subnet", s, r);
        let (a, p) = s.split_once('/').ok_or_else(|| bad("expected ADDRESS/PREFIX, e.g. fd00:1::/64"))?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad("not an IPv6 address"))?;
        let prefix: u8 = p.parse().map_err(|_| bad("prefix is not a number"))?;
        Ipv6Net::new(addr, prefix)
    }
}

impl From<Ipv6Net> for String {
    fn from(n: Ipv6Net) -> String {
        n.to_string()
    }
}

impl TryFrom<String> for Ipv6Net {
    type Error = NetworkError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

/// The pool for automatic IPv6 subnets: [`POOL_ENV`] when set, else the ULA /48 of this host
/// and state root (`root_id`).
pub fn pool(root_id: &str) -> Result<Ipv6Net> {
    match std::env::var(POOL_ENV) {
        Ok(text) if !text.trim().is_empty() => {
            let pool: Ipv6Net = text.trim().parse()?;
            if pool.prefix() > PREFIX {
                return Err(NetworkError::invalid(POOL_ENV, text, format!("needs room for /{PREFIX} subnets")));
            }
            Ok(pool)
        }
        _ => Ok(ula_pool(&machine_id(), root_id)),
    }
}

fn machine_id() -> String {
    ["/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().filter(|s| !s.trim().is_empty()))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `fdXX:XXXX:XXXX::/48`, the 40-bit global ID taken from a hash of the two ids.
pub fn ula_pool(machine_id: &str, root_id: &str) -> Ipv6Net {
    let hash = crate::common::ids::short_hash(&format!("berth ula\0{machine_id}\0{root_id}"), 10);
    let id = u64::from_str_radix(&hash, 16).unwrap_or(0x00be_47f0);
    let g = id & 0xff_ffff_ffff;
    let segs = [0xfd00 | (g >> 32) as u16, (g >> 16) as u16, g as u16, 0, 0, 0, 0, 0];
    Ipv6Net(ipnet::Ipv6Net::new(Ipv6Addr::from(segs), 48).unwrap_or_default())
}

/// The first `/prefix` subnet of `pool` overlapping nothing in `taken`.
pub fn pick_subnet(pool: Ipv6Net, prefix: u8, taken: &[Ipv6Net]) -> Option<Ipv6Net> {
    pool.subnets(prefix).find(|s| !taken.iter().any(|t| t.overlaps(s)))
}

/// The first host address of `subnet` that is neither the gateway nor in `used` (at most
/// `used.len() + 2` candidates are looked at, however large the subnet).
pub fn pick_address(subnet: Ipv6Net, gateway: Ipv6Addr, used: &BTreeSet<Ipv6Addr>) -> Option<Ipv6Addr> {
    (1..=used.len() as u128 + 2).map_while(|n| subnet.nth(n)).find(|ip| *ip != gateway && !used.contains(ip))
}

/// Checks a requested `ipv6_address`: inside the subnet, a host address, not the gateway, free.
pub fn check_address(
    subnet: Ipv6Net,
    gateway: Ipv6Addr,
    used: &BTreeSet<Ipv6Addr>,
    ip: Ipv6Addr,
) -> std::result::Result<(), String> {
    if !subnet.contains(ip) {
        Err(format!("outside subnet {subnet}"))
    } else if !subnet.is_host(ip) {
        Err("the subnet-router anycast address".into())
    } else if ip == gateway {
        Err("the gateway address".into())
    } else if used.contains(&ip) {
        Err("already in use".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn parse_normalizes_and_rejects() {
        assert_eq!(net("fd00:1:2::5/64").to_string(), "fd00:1:2::/64");
        assert!("fd00::".parse::<Ipv6Net>().is_err());
        assert!("fd00::/129".parse::<Ipv6Net>().is_err());
        assert!("10.0.0.0/8".parse::<Ipv6Net>().is_err());
    }

    #[test]
    fn the_ula_pool_is_a_48_per_host_and_root() {
        let a = ula_pool("m1", "");
        assert_eq!(a.prefix(), 48);
        assert_eq!(a.addr().segments()[0] & 0xff00, 0xfd00, "{a}");
        assert_eq!(a, ula_pool("m1", ""), "the same ids give the same pool");
        assert_ne!(a, ula_pool("m1", "other-root"));
        assert_ne!(a, ula_pool("m2", ""));
        assert_eq!(pick_subnet(a, PREFIX, &[]).map(|s| s.prefix()), Some(64));
    }

    #[test]
    fn subnets_skip_taken_and_host_networks() {
        let pool = net("fd12:3456:789a::/48");
        let taken = [net("fd12:3456:789a::/63"), net("fd12:3456:789a:2::1/128")];
        assert_eq!(pick_subnet(pool, 64, &taken), Some(net("fd12:3456:789a:3::/64")));
        assert_eq!(pick_subnet(net("fd00::/64"), 64, &[net("fd00::/16")]), None);
    }

    #[test]
    fn addresses_skip_gateway_used_and_anycast() {
        let s = net("fd00:aa::/64");
        let gw = s.first_host();
        assert_eq!(gw.to_string(), "fd00:aa::1");
        let mut used = BTreeSet::new();
        assert_eq!(pick_address(s, gw, &used), Some("fd00:aa::2".parse().unwrap()));
        used.insert("fd00:aa::2".parse().unwrap());
        used.insert("fd00:aa::4".parse().unwrap());
        assert_eq!(pick_address(s, gw, &used), Some("fd00:aa::3".parse().unwrap()));
        assert!(check_address(s, gw, &used, "fd00:aa::".parse().unwrap()).unwrap_err().contains("anycast"));
        assert!(check_address(s, gw, &used, "fd00:aa::1".parse().unwrap()).unwrap_err().contains("gateway"));
        assert!(check_address(s, gw, &used, "fd00:bb::9".parse().unwrap()).unwrap_err().contains("outside"));
        assert!(check_address(s, gw, &used, "fd00:aa::4".parse().unwrap()).unwrap_err().contains("in use"));
        assert!(check_address(s, gw, &used, "fd00:aa::ffff".parse().unwrap()).is_ok());
        let tiny = net("fd00:aa::/127");
        assert_eq!(pick_address(tiny, tiny.first_host(), &BTreeSet::new()), None);
    }
}
