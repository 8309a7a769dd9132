//! IP address management, the pure part: IPv4 subnets, the pool they are carved from, overlap
//! checks against what the host already routes, and address allocation inside a subnet. The
//! persistence and locking around it live in `store.rs`; the host's routes come from netlink.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};

/// Default pool: 10.213.0.0/16 in /24s. Docker takes 172.17-31/16 and 192.168/16, podman
/// 10.88-89/16, libvirt 192.168.122/24; 10.213 is rarely anyone's. Overlaps are skipped anyway.
pub const DEFAULT_POOL: &str = "10.213.0.0/16";
pub const DEFAULT_PREFIX: u8 = 24;

/// An IPv4 network (host bits cleared), on the `ipnet` crate's type; stored as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Ipv4Net(ipnet::Ipv4Net);

impl Ipv4Net {
    /// The network containing `addr` (host bits cleared).
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self> {
        ipnet::Ipv4Net::new(addr, prefix)
            .map(|n| Ipv4Net(n.trunc()))
            .map_err(|_| NetworkError::invalid("subnet", format!("{addr}/{prefix}"), "prefix longer than 32"))
    }

    pub fn addr(&self) -> Ipv4Addr {
        self.0.network()
    }

    pub fn prefix(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.0.contains(&ip)
    }

    /// Two CIDR blocks overlap exactly when one holds the other's network address.
    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }

    /// The conventional gateway: the first host address.
    pub fn first_host(&self) -> Ipv4Addr {
        self.0.hosts().next().unwrap_or_else(|| self.0.network())
    }

    /// Whether `ip` may be given to a container (not the network or broadcast address).
    pub fn is_host(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && (self.prefix() >= 31 || (ip != self.0.network() && ip != self.0.broadcast()))
    }

    /// The `/prefix` subnets of this network, in order (none for a shorter or invalid prefix).
    pub fn subnets(&self, prefix: u8) -> impl Iterator<Item = Ipv4Net> {
        self.0.subnets(prefix).into_iter().flatten().map(Ipv4Net)
    }

    /// Host addresses in order (all of a /31 or /32; the network and broadcast addresses
    /// excluded otherwise).
    fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> {
        self.0.hosts()
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.prefix())
    }
}

impl FromStr for Ipv4Net {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |r: &str| NetworkError::invalid("subnet", s, r);
        let (a, p) = s.split_once('/').ok_or_else(|| bad("expected ADDRESS/PREFIX, e.g. 10.1.0.0/24"))?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = p.parse().map_err(|_| bad("prefix is not a number"))?;
        Ipv4Net::new(addr, prefix)
    }
}

impl From<Ipv4Net> for String {
    fn from(n: Ipv4Net) -> String {
        n.to_string()
    }
}

impl TryFrom<String> for Ipv4Net {
    type Error = NetworkError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

/// The first `/prefix` subnet of `pool` overlapping nothing in `taken` (host routes and
/// addresses, other berth networks).
pub fn pick_subnet(pool: Ipv4Net, prefix: u8, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    pool.subnets(prefix).find(|s| !taken.iter().any(|t| t.overlaps(s)))
}

/// The first host address of `subnet` that is neither the gateway nor in `used`.
pub fn pick_address(subnet: Ipv4Net, gateway: Ipv4Addr, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    subnet.hosts().find(|ip| *ip != gateway && !used.contains(ip))
}

/// Checks a requested `ipv4_address`: inside the subnet, a host address, not the gateway, free.
pub fn check_address(
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    used: &BTreeSet<Ipv4Addr>,
    ip: Ipv4Addr,
) -> std::result::Result<(), String> {
    if !subnet.contains(ip) {
        Err(format!("outside subnet {subnet}"))
    } else if !subnet.is_host(ip) {
        Err("the network or broadcast address".into())
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

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parse_normalizes_and_rejects() {
        assert_eq!(net("10.1.2.3/24").to_string(), "10.1.2.0/24");
        assert!("10.1.2.0".parse::<Ipv4Net>().is_err());
        assert!("10.1.2.0/33".parse::<Ipv4Net>().is_err());
        assert!("fd00::/64".parse::<Ipv4Net>().is_err());
    }

    #[test]
    fn overlap_and_contains() {
        assert!(net("10.0.0.0/8").overlaps(&net("10.213.4.0/24")));
        assert!(!net("10.213.3.0/24").overlaps(&net("10.213.4.0/24")));
        assert!(net("10.213.4.0/24").contains("10.213.4.255".parse().unwrap()));
        assert!(!net("10.213.4.0/24").is_host("10.213.4.255".parse().unwrap()));
    }

    #[test]
    fn pick_subnet_skips_host_routes_and_taken() {
        let pool = net(DEFAULT_POOL);
        let taken = [net("10.213.0.0/23"), net("10.213.2.7/32")];
        assert_eq!(pick_subnet(pool, 24, &taken), Some(net("10.213.3.0/24")));
        assert_eq!(pick_subnet(net("10.0.0.0/24"), 24, &[net("10.0.0.0/8")]), None);
        assert_eq!(pool.subnets(24).count(), 256);
        assert_eq!(pool.subnets(8).count(), 0, "a shorter prefix has no subnets");
    }

    #[test]
    fn point_to_point_and_single_address_networks() {
        let p2p = net("10.9.0.0/31");
        assert_eq!(p2p.first_host().to_string(), "10.9.0.0");
        assert!(p2p.is_host("10.9.0.1".parse().unwrap()));
        assert_eq!(net("10.9.0.7/32").first_host().to_string(), "10.9.0.7");
        assert!(net("10.9.0.0/16").overlaps(&net("10.9.3.0/24")) && net("10.9.3.0/24").overlaps(&net("10.9.0.0/16")));
    }

    #[test]
    fn addresses_skip_gateway_used_and_broadcast() {
        let s = net("10.213.5.0/30");
        let gw = s.first_host();
        assert_eq!(gw.to_string(), "10.213.5.1");
        let mut used = BTreeSet::new();
        assert_eq!(pick_address(s, gw, &used), Some("10.213.5.2".parse().unwrap()));
        used.insert("10.213.5.2".parse().unwrap());
        assert_eq!(pick_address(s, gw, &used), None);
        assert!(check_address(s, gw, &used, "10.213.5.1".parse().unwrap()).unwrap_err().contains("gateway"));
        assert!(check_address(s, gw, &used, "10.213.6.1".parse().unwrap()).unwrap_err().contains("outside"));
        assert!(check_address(s, gw, &used, "10.213.5.2".parse().unwrap()).unwrap_err().contains("in use"));
    }
}
