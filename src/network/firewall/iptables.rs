//! The iptables driver: the few firewall rules a bridge network truly needs, added through
//! `iptables-save`/`iptables-restore` (either backend) and only ever naming the network's own
//! bridge, so no rule of the host or of another project is touched:
//!
//! - non-internal: masquerade egress from the subnet, accept forwarding off the bridge (the
//!   host's FORWARD policy may be DROP, as Docker sets it) and replies back, drop forwarding to
//!   any other berth bridge (networks are isolated, as Docker's ISOLATION chains do);
//! - internal: accept bridge-local traffic (br_netfilter may send it through FORWARD), drop
//!   everything in or out of the bridge.
//!
//! IPv6 subnets get the same rules through `ip6tables` (Docker masquerades its IPv6 ULA
//! subnets too).
//!
//! Setup fails fast; removal keeps going and reports every failure.

use std::process::Command;

use super::{enable_forwarding, Family, RuleCheck, Subnet};
use crate::network::error::{NetworkError, Result};
use crate::network::names::BRIDGE_PREFIX;

/// The family's tool: `iptables-save` or `ip6tables-save`, …
fn tool(family: Family, what: &str) -> String {
    match family {
        Family::V4 => format!("iptables{what}"),
        Family::V6 => format!("ip6tables{what}"),
    }
}

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
pub fn rules(bridge: &str, subnet: Subnet, internal: bool) -> Vec<Rule> {
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

/// The live ruleset, read with one `iptables-save` for all tables and networks (each iptables
/// run costs a few ms: it loads the whole ruleset): (table, `-A CHAIN spec`) in chain order,
/// the form [`listed_form`] builds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    family: Family,
    lines: Vec<(String, String)>,
}

impl Ruleset {
    /// The live ruleset of one family; None when iptables (ip6tables) is not installed.
    pub fn read(family: Family) -> Result<Option<Ruleset>> {
        let save = tool(family, "-save");
        match Command::new(super::tool(&save)).output() {
            Ok(out) if out.status.success() => {
                Ok(Some(Ruleset { family, ..Ruleset::parse(&String::from_utf8_lossy(&out.stdout)) }))
            }
            Ok(out) => Err(NetworkError::Firewall {
                args: save,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NetworkError::sys(format!("run {save}"), e)),
        }
    }

    fn parse(text: &str) -> Ruleset {
        let mut table = String::new();
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_string();
            } else if line.starts_with("-A ") {
                out.push((table.clone(), line.trim_end().to_string()));
            }
        }
        Ruleset { family: Family::V4, lines: out }
    }

    /// The lines of one chain, in order.
    fn chain<'a>(&'a self, table: &'a str, chain: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = format!("-A {chain} ");
        self.lines.iter().filter(move |(t, l)| t == table && l.starts_with(&prefix)).map(|(_, l)| l.as_str())
    }

    /// Whether `wanted` (one network's rules) are all present, in their order.
    pub fn check(&self, wanted: &[Rule]) -> RuleCheck {
        let mut check = RuleCheck::default();
        for group in chains(wanted) {
            let pos = self.positions(&group);
            check.missing.extend(
                group
                    .iter()
                    .zip(&pos)
                    .filter(|(_, p)| p.is_none())
                    .map(|(r, _)| format!("{}: {}", r.table, listed_form(r))),
            );
            check.misordered |= !increasing(&pos);
        }
        check
    }

    /// Where the first copy of each rule of one chain stands in it.
    fn positions(&self, group: &[&Rule]) -> Vec<Option<usize>> {
        let Some(first) = group.first() else { return Vec::new() };
        let lines: Vec<&str> = self.chain(first.table, first.chain).collect();
        group.iter().map(|r| lines.iter().position(|l| *l == listed_form(r))).collect()
    }

    /// `iptables-restore --noflush` input putting `wanted` back (empty when nothing is amiss),
    /// per chain: when the missing rules all come before the present ones (a flushed chain, the
    /// usual case), only they are inserted at the top, last first; otherwise (a rule missing
    /// between two present ones, or rules out of order) every copy of the network's rules in
    /// that chain is deleted and the whole set inserted again in order, in the same
    /// transaction (atomic per table), so no packet ever sees a half-ordered set and an
    /// internal network's DROPs never end up behind an ACCEPT. Positions are never used:
    /// another process may insert rules between our read and our write.
    fn repair_input(&self, wanted: &[Rule]) -> String {
        let mut text = String::new();
        for table in ["nat", "filter"] {
            let (mut deletes, mut inserts) = (Vec::new(), Vec::new());
            for group in chains(wanted).into_iter().filter(|g| g[0].table == table) {
                let pos = self.positions(&group);
                let missing_first = pos.iter().skip_while(|p| p.is_none()).all(Option::is_some);
                let reinsert: Vec<&Rule> = if increasing(&pos) && missing_first {
                    group.iter().zip(&pos).filter(|(_, p)| p.is_none()).map(|(r, _)| *r).collect()
                } else {
                    let lines: Vec<&str> = self.chain(table, group[0].chain).collect();
                    for r in &group {
                        let copies = lines.iter().filter(|l| **l == listed_form(r)).count();
                        deletes.extend(std::iter::repeat_n(format!("-D {} {}", r.chain, r.spec.join(" ")), copies));
                    }
                    group.clone()
                };
                inserts.extend(reinsert.iter().rev().map(|r| format!("-I {} 1 {}", r.chain, r.spec.join(" "))));
            }
            if !deletes.is_empty() || !inserts.is_empty() {
                deletes.extend(inserts);
                text.push_str(&format!("*{table}\n{}\nCOMMIT\n", deletes.join("\n")));
            }
        }
        text
    }
}

/// The rules grouped by (table, chain), each group in rule order.
fn chains(wanted: &[Rule]) -> Vec<Vec<&Rule>> {
    let mut groups: Vec<Vec<&Rule>> = Vec::new();
    for r in wanted {
        match groups.iter_mut().find(|g| g[0].table == r.table && g[0].chain == r.chain) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

/// The positions of the present rules rise in rule order.
fn increasing(pos: &[Option<usize>]) -> bool {
    let present: Vec<usize> = pos.iter().flatten().copied().collect();
    present.windows(2).all(|w| w[0] < w[1])
}

fn listed_form(r: &Rule) -> String {
    format!("-A {} {}", r.chain, r.spec.join(" "))
}

/// Installs the rules, or repairs them after another tool deleted some, against a ruleset
/// already read (the supervisor checks every network of a project with one read), then reads
/// them back: the rules are verified, not only installed. Returns what was wrong before (ok
/// when nothing was); a network whose rules are all there, in order, costs nothing more.
///
/// Every iptables run costs several ms (it loads the whole ruleset), so the present rules are
/// read with one `iptables-save` and the repair written with one `iptables-restore --noflush`
/// (atomic per table), instead of a `-C` and an `-I` per rule.
pub fn ensure_in(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> Result<RuleCheck> {
    let family = subnet.family();
    if !internal {
        enable_forwarding(family)?;
    }
    let wanted = rules(bridge, subnet, internal);
    let input = present.repair_input(&wanted);
    if input.is_empty() {
        return Ok(RuleCheck::default());
    }
    let before = present.check(&wanted);
    restore(family, &input)?;
    let after = Ruleset::read(family)?.unwrap_or_default().check(&wanted);
    if !after.is_ok() {
        return Err(NetworkError::FirewallUnverified { bridge: bridge.to_string(), missing: after.missing });
    }
    Ok(before)
}

/// How the network's rules stand in `present`.
pub fn check(present: &Ruleset, bridge: &str, subnet: Subnet, internal: bool) -> RuleCheck {
    present.check(&rules(bridge, subnet, internal))
}

fn restore(family: Family, input: &str) -> Result<()> {
    use std::io::Write as _;
    let restore = tool(family, "-restore");
    let mut child = Command::new(super::tool(&restore))
        .args(["-w", "--noflush"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::sys(format!("run {restore}"), e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).map_err(|e| NetworkError::sys(format!("write to {restore}"), e))?;
    }
    let out = child.wait_with_output().map_err(|e| NetworkError::sys(format!("run {restore}"), e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(NetworkError::Firewall {
        args: format!("{restore} --noflush <<< {input:?}"),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Removes every copy of the network's rules (one `iptables-save`, one `iptables-restore`
/// deleting exactly the copies present); returns the failures instead of stopping.
pub fn remove(bridge: &str, subnet: Subnet, internal: bool) -> Vec<String> {
    let family = subnet.family();
    let present = match Ruleset::read(family) {
        Ok(Some(p)) => p,
        Ok(None) => return Vec::new(),
        Err(e) => return vec![e.to_string()],
    };
    let input = delete_input(&rules(bridge, subnet, internal), &present);
    if input.is_empty() {
        return Vec::new();
    }
    match restore(family, &input) {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.to_string()],
    }
}

/// `iptables-restore --noflush` input deleting each copy of `wanted` found in `present`.
fn delete_input(wanted: &[Rule], present: &Ruleset) -> String {
    let mut text = String::new();
    for table in ["nat", "filter"] {
        let mut lines = Vec::new();
        for r in wanted.iter().filter(|r| r.table == table) {
            let form = listed_form(r);
            let copies = present.lines.iter().filter(|(t, l)| t == table && *l == form).count();
            lines.extend(std::iter::repeat_n(format!("-D {} {}", r.chain, r.spec.join(" ")), copies));
        }
        if !lines.is_empty() {
            text.push_str(&format!("*{table}\n{}\nCOMMIT\n", lines.join("\n")));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_only_name_their_bridge() {
        let subnet = Subnet::V4("10.213.7.0/24".parse().unwrap());
        let ext = rules("bth-12345678", subnet, false);
        assert_eq!(ext[0].spec.join(" "), "-s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE");
        assert!(ext.iter().all(|r| r.spec.iter().any(|w| w == "bth-12345678")));
        assert!(ext.iter().any(|r| r.spec.join(" ") == "-i bth-12345678 -o bth-+ -j DROP"));
        let int = rules("bth-12345678", subnet, true);
        assert!(int.iter().all(|r| r.table == "filter"), "no NAT for internal networks");
        assert_eq!(int[1].spec.join(" "), "-i bth-12345678 -j DROP");
    }

    fn saved(filter: &[&str], nat: &[&str]) -> Ruleset {
        let mut text = String::from("# Generated by iptables-save\n*nat\n:POSTROUTING ACCEPT [0:0]\n");
        nat.iter().for_each(|l| text.push_str(&format!("{l}\n")));
        text.push_str("COMMIT\n*filter\n:FORWARD DROP [0:0]\n");
        filter.iter().for_each(|l| text.push_str(&format!("{l}\n")));
        text.push_str("COMMIT\n");
        Ruleset::parse(&text)
    }

    const BR: &str = "bth-12345678";

    fn ext() -> Vec<Rule> {
        rules(BR, Subnet::V4("10.213.7.0/24".parse().unwrap()), false)
    }

    fn forms(r: &[Rule], table: &str) -> Vec<String> {
        r.iter().filter(|r| r.table == table).map(listed_form).collect()
    }

    #[test]
    fn missing_rules_are_inserted_last_first_per_table() {
        let ext = ext();
        assert_eq!(listed_form(&ext[1]), "-A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT");
        let empty = Ruleset::default();
        let check = empty.check(&ext);
        assert_eq!(check.missing.len(), 5);
        assert_eq!(check.missing[0], "nat: -A POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE");
        assert!(!check.misordered);
        let text = empty.repair_input(&ext);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "*nat");
        assert_eq!(lines[1], "-I POSTROUTING 1 -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE");
        assert_eq!(lines[3], "*filter");
        assert!(lines[4].starts_with("-I FORWARD 1 -o bth-12345678 -m conntrack"), "{}", lines[4]);
        assert_eq!(lines[7], "-I FORWARD 1 -i bth-12345678 -o bth-12345678 -j ACCEPT");
        assert_eq!(lines.last(), Some(&"COMMIT"));
    }

    #[test]
    fn rules_all_present_in_order_need_nothing() {
        let ext = ext();
        let f = forms(&ext, "filter");
        let mut filter: Vec<&str> = vec!["-A FORWARD -i other -j ACCEPT"];
        filter.extend(f.iter().map(String::as_str));
        let nat = forms(&ext, "nat");
        let present = saved(&filter, &[nat[0].as_str()]);
        assert!(present.check(&ext).is_ok());
        assert_eq!(present.repair_input(&ext), "");
    }

    #[test]
    fn a_flushed_table_gets_only_its_rules_back() {
        // Another tool flushed nat: only the masquerade rule is missing, filter is left alone.
        let ext = ext();
        let f = forms(&ext, "filter");
        let present = saved(&f.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        let check = present.check(&ext);
        assert_eq!(check.missing, vec!["nat: -A POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE"]);
        assert_eq!(
            present.repair_input(&ext),
            "*nat\n-I POSTROUTING 1 -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE\nCOMMIT\n"
        );
    }

    #[test]
    fn leading_rules_missing_are_inserted_above_the_rest() {
        // The first two FORWARD rules went; the two after them stay, the new ones go on top.
        let ext = ext();
        let f = forms(&ext, "filter");
        let nat = forms(&ext, "nat");
        let present = saved(&[f[2].as_str(), f[3].as_str()], &[nat[0].as_str()]);
        assert_eq!(present.check(&ext).missing.len(), 2);
        assert_eq!(
            present.repair_input(&ext),
            "*filter\n-I FORWARD 1 -i bth-12345678 -o bth-+ -j DROP\n\
             -I FORWARD 1 -i bth-12345678 -o bth-12345678 -j ACCEPT\nCOMMIT\n"
        );
    }

    #[test]
    fn a_rule_missing_behind_present_ones_rewrites_the_set_in_order() {
        // Internal network whose DROPs vanished but whose ACCEPT stayed: inserting the DROPs
        // on top would drop bridge-local traffic; the set is rewritten in one transaction.
        let int = rules(BR, Subnet::V4("10.213.7.0/24".parse().unwrap()), true);
        let f = forms(&int, "filter");
        let present = saved(&["-A FORWARD -i other -j ACCEPT", f[0].as_str()], &[]);
        let check = present.check(&int);
        assert_eq!(check.missing.len(), 2);
        assert!(!check.misordered);
        assert_eq!(
            present.repair_input(&int),
            "*filter\n-D FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n\
             -I FORWARD 1 -o bth-12345678 -j DROP\n-I FORWARD 1 -i bth-12345678 -j DROP\n\
             -I FORWARD 1 -i bth-12345678 -o bth-12345678 -j ACCEPT\nCOMMIT\n"
        );
    }

    #[test]
    fn rules_out_of_order_are_rewritten() {
        // The isolation DROP behind the ACCEPT it must precede lets traffic to other networks by.
        let ext = ext();
        let f = forms(&ext, "filter");
        let nat = forms(&ext, "nat");
        let present = saved(&[f[0].as_str(), f[2].as_str(), f[1].as_str(), f[3].as_str()], &[nat[0].as_str()]);
        let check = present.check(&ext);
        assert!(check.missing.is_empty() && check.misordered);
        let text = present.repair_input(&ext);
        assert_eq!(text.matches("-D FORWARD").count(), 4, "{text}");
        assert_eq!(text.matches("-I FORWARD 1").count(), 4, "{text}");
        assert!(!text.contains("*nat"), "{text}");
    }

    #[test]
    fn saved_rules_are_read_per_table_and_every_copy_is_deleted() {
        let saved = "# Generated by iptables-save\n*nat\n:POSTROUTING ACCEPT [0:0]\n\
            -A POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE\nCOMMIT\n*filter\n\
            -A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n\
            -A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n-A FORWARD -i other -j ACCEPT\nCOMMIT\n";
        let present = Ruleset::parse(saved);
        assert_eq!(present.lines.len(), 4);
        assert_eq!(present.lines[0].0, "nat");
        let text = delete_input(&ext(), &present);
        assert_eq!(
            text,
            "*nat\n-D POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE\nCOMMIT\n*filter\n\
             -D FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n-D FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\nCOMMIT\n"
        );
        assert!(delete_input(&rules("bth-00000000", Subnet::V4("10.213.8.0/24".parse().unwrap()), true), &present)
            .is_empty());
    }

    #[test]
    fn an_ipv6_subnet_gets_the_same_rules_for_ip6tables() {
        let v6 = rules(BR, Subnet::V6("fd00:1:2:3::/64".parse().unwrap()), false);
        assert_eq!(v6[0].spec.join(" "), "-s fd00:1:2:3::/64 ! -o bth-12345678 -j MASQUERADE");
        assert_eq!(v6[1..], ext()[1..], "isolation and forwarding name interfaces only");
        assert_eq!(tool(Family::V6, "-save"), "ip6tables-save");
    }
}
