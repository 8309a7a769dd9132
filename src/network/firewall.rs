//! The few firewall rules a bridge network truly needs, added through `iptables` (the nf_tables
//! backend on this host; no `nft` binary is installed) and only ever naming the network's own
//! bridge, so no rule of the host or of another project is touched:
//!
//! - non-internal: masquerade egress from the subnet, accept forwarding off the bridge (the
//!   host's FORWARD policy may be DROP, as Docker sets it) and replies back, drop forwarding to
//!   any other berth bridge (networks are isolated, as Docker's ISOLATION chains do);
//! - internal: accept bridge-local traffic (br_netfilter may send it through FORWARD), drop
//!   everything in or out of the bridge.
//!
//! Setup fails fast; removal keeps going and reports every failure.

use std::process::Command;

use super::error::{NetworkError, Result};
use super::ipam::Ipv4Net;
use super::names::BRIDGE_PREFIX;

const IPTABLES: &str = "iptables";

/// One rule: table, chain, match-and-target arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub table: &'static str,
    pub chain: &'static str,
    pub spec: Vec<String>,
}

fn rule(table: &'static str, chain: &'static str, spec: &str) -> Rule {
    Rule { table, chain, spec: spec.split_whitespace().map(String::from).collect() }
}

/// The rules of one network, in the order they must appear in their chain.
pub fn rules(bridge: &str, subnet: Ipv4Net, internal: bool) -> Vec<Rule> {
    let all_bridges = format!("{BRIDGE_PREFIX}+");
    if internal {
        return vec![
            rule("filter", "FORWARD", &format!("-i {bridge} -o {bridge} -j ACCEPT")),
            rule("filter", "FORWARD", &format!("-i {bridge} -j DROP")),
            rule("filter", "FORWARD", &format!("-o {bridge} -j DROP")),
        ];
    }
    vec![
        rule("nat", "POSTROUTING", &format!("-s {subnet} ! -o {bridge} -j MASQUERADE")),
        rule("filter", "FORWARD", &format!("-i {bridge} -o {bridge} -j ACCEPT")),
        rule("filter", "FORWARD", &format!("-i {bridge} -o {all_bridges} -j DROP")),
        rule("filter", "FORWARD", &format!("-i {bridge} -j ACCEPT")),
        rule("filter", "FORWARD", &format!("-o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")),
    ]
}

fn iptables(args: &[&str]) -> std::io::Result<std::process::Output> {
    // -w: wait for the xtables lock instead of failing when another tool holds it.
    Command::new(IPTABLES).arg("-w").args(args).output()
}

fn run(r: &Rule, op: &str, pos: Option<&str>) -> Result<bool> {
    let mut args = vec!["-t", r.table, op, r.chain];
    args.extend(pos);
    args.extend(r.spec.iter().map(String::as_str));
    match iptables(&args) {
        Ok(out) if out.status.success() => Ok(true),
        Ok(out) if op == "-C" || op == "-D" => {
            let _ = out;
            Ok(false)
        }
        Ok(out) => Err(NetworkError::Firewall {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
        Err(e) => Err(NetworkError::sys(format!("run {IPTABLES}"), e)),
    }
}

/// Whether the firewall tool exists; without it berth still works, minus egress NAT.
fn available() -> bool {
    iptables(&["-V"]).is_ok_and(|o| o.status.success())
}

/// Installs the rules (idempotent: present ones are left alone). Rules are inserted at the
/// top of their chain, last first, so they keep their order and precede the host's own.
pub fn install(bridge: &str, subnet: Ipv4Net, internal: bool) -> Result<()> {
    if !available() {
        tracing::warn!(bridge, "iptables not found: network works, but without egress masquerade or isolation");
        return Ok(());
    }
    if !internal {
        enable_forwarding()?;
    }
    for r in rules(bridge, subnet, internal).iter().rev() {
        if !run(r, "-C", None)? {
            run(r, "-I", Some("1"))?;
        }
    }
    Ok(())
}

/// Removes every copy of the network's rules; returns the failures instead of stopping.
pub fn remove(bridge: &str, subnet: Ipv4Net, internal: bool) -> Vec<String> {
    if !available() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for r in rules(bridge, subnet, internal) {
        for _ in 0..8 {
            match run(&r, "-D", None) {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    errors.push(e.to_string());
                    break;
                }
            }
        }
    }
    errors
}

/// net.ipv4.ip_forward=1, written only when it is not already on.
fn enable_forwarding() -> Result<()> {
    let path = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "1") {
        return Ok(());
    }
    std::fs::write(path, "1").map_err(|e| NetworkError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_only_name_their_bridge() {
        let subnet = "10.213.7.0/24".parse().unwrap();
        let ext = rules("bth-12345678", subnet, false);
        assert_eq!(ext[0].spec.join(" "), "-s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE");
        assert!(ext.iter().all(|r| r.spec.iter().any(|w| w == "bth-12345678")));
        assert!(ext.iter().any(|r| r.spec.join(" ") == "-i bth-12345678 -o bth-+ -j DROP"));
        let int = rules("bth-12345678", subnet, true);
        assert!(int.iter().all(|r| r.table == "filter"), "no NAT for internal networks");
        assert_eq!(int[1].spec.join(" "), "-i bth-12345678 -j DROP");
    }
}
