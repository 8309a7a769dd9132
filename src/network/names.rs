//! Kernel object names derived from berth's names. Linux interface names are at most 15 bytes
//! (IFNAMSIZ-1, netdevice(7)), so bridges and veths are named from a short SHA-256 of the full
//! name and the state root's id (`Roots::id`): two projects, two networks of one project, or
//! one project under two state roots never share a bridge or a veth, and the name is
//! recomputable from the state alone. The default root's id is empty, which gives the names
//! earlier versions made (its bridges and veths survive an upgrade).

use std::net::Ipv4Addr;

/// Prefix of every berth bridge; firewall rules match `bth+` to isolate berth bridges from each
/// other, so nothing else berth makes may start with it.
pub const BRIDGE_PREFIX: &str = "bth-";
/// Prefix of the host end of every veth pair.
pub const VETH_PREFIX: &str = "bv";

pub use crate::common::ids::short_hash;

/// What a name's hash covers: `text`, plus the root id when there is one ("" for the default
/// root keeps the names of earlier versions).
fn scoped(root_id: &str, text: &str) -> String {
    if root_id.is_empty() {
        text.to_string()
    } else {
        format!("{text}\0root={root_id}")
    }
}

/// `bth-<8 hex>` (12 bytes) for a network's real name (e.g. `demo_default`) in the state root
/// with id `root_id`.
pub fn bridge_name(root_id: &str, network: &str) -> String {
    format!("{BRIDGE_PREFIX}{}", short_hash(&scoped(root_id, network), 8))
}

/// `bv<12 hex>` (14 bytes): the host end of the veth joining `container` to `network`, in the
/// state root with id `root_id`.
pub fn veth_name(root_id: &str, container: &str, network: &str) -> String {
    format!("{VETH_PREFIX}{}", short_hash(&scoped(root_id, &format!("{container}\0{network}")), 12))
}

/// A locally administered unicast MAC derived from the IPv4 address (as Docker does:
/// 02:42:a.b.c.d), so a container keeps its MAC as long as it keeps its address.
pub fn mac_from_ip(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff`; rejects multicast addresses (bit 0 of the first octet), which
/// the kernel refuses on an ethernet device.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.len() != 2 {
            return None;
        }
        mac[i] = u8::from_str_radix(p, 16).ok()?;
    }
    (mac[0] & 1 == 0).then_some(mac)
}

/// Interface name inside the container for its `n`-th network: eth0, eth1, …
pub fn container_ifname(n: usize) -> String {
    format!("eth{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz_and_differ_per_project() {
        let a = bridge_name("", "alpha_default");
        let b = bridge_name("", "beta_default");
        assert!(a.len() <= 15 && a.starts_with("bth-"));
        assert_ne!(a, b);
        assert_eq!(a, bridge_name("", "alpha_default"));
        let v = veth_name("", "alpha-web-1", "alpha_default");
        assert!(v.len() <= 15);
        assert_ne!(v, veth_name("", "beta-web-1", "beta_default"));
        assert_ne!(v, veth_name("", "alpha-web-1", "alpha_back"));
    }

    #[test]
    fn names_differ_per_root_and_the_default_root_keeps_old_names() {
        assert_eq!(bridge_name("", "alpha_default"), format!("bth-{}", short_hash("alpha_default", 8)));
        assert_eq!(veth_name("", "a-web-1", "a_default"), format!("bv{}", short_hash("a-web-1\0a_default", 12)));
        let (r1, r2) = ("0123456789", "abcdefabcd");
        assert_ne!(bridge_name(r1, "alpha_default"), bridge_name(r2, "alpha_default"));
        assert_ne!(bridge_name(r1, "alpha_default"), bridge_name("", "alpha_default"));
        assert_ne!(veth_name(r1, "a-web-1", "a_default"), veth_name(r2, "a-web-1", "a_default"));
        assert!(bridge_name(r1, "alpha_default").len() <= 15 && veth_name(r1, "a-web-1", "a_default").len() <= 15);
    }

    #[test]
    fn mac_roundtrip_and_derivation() {
        let m = mac_from_ip(Ipv4Addr::new(10, 213, 1, 2));
        assert_eq!(format_mac(&m), "02:42:0a:d5:01:02");
        assert_eq!(parse_mac("02:42:0a:d5:01:02"), Some(m));
        assert_eq!(parse_mac("01:00:00:00:00:00"), None, "multicast refused");
        assert_eq!(parse_mac("02:42"), None);
    }
}
