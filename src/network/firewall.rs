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

/// Every rule of every table as `iptables-save` prints it: (table, `-A CHAIN spec`), the form
/// [`listed_form`] builds. One run for all tables (each iptables run costs a few ms: it loads
/// the whole ruleset). None when iptables is not installed.
fn saved_rules() -> Result<Option<Vec<(String, String)>>> {
    match Command::new("iptables-save").output() {
        Ok(out) if out.status.success() => Ok(Some(parse_saved(&String::from_utf8_lossy(&out.stdout)))),
        Ok(out) => Err(NetworkError::Firewall {
            args: "iptables-save".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NetworkError::sys("run iptables-save", e)),
    }
}

fn parse_saved(text: &str) -> Vec<(String, String)> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
        } else if line.starts_with("-A ") {
            out.push((table.clone(), line.trim_end().to_string()));
        }
    }
    out
}

fn listed_form(r: &Rule) -> String {
    format!("-A {} {}", r.chain, r.spec.join(" "))
}

/// `iptables-restore --noflush` input inserting `missing` (in chain order) at the top of their
/// chains: one table block each, rules inserted last first so they keep their order.
fn restore_input(missing: &[&Rule]) -> String {
    let mut text = String::new();
    for table in ["nat", "filter"] {
        let rules: Vec<&&Rule> = missing.iter().filter(|r| r.table == table).collect();
        if rules.is_empty() {
            continue;
        }
        text.push_str(&format!("*{table}\n"));
        for r in rules.iter().rev() {
            text.push_str(&format!("-I {} 1 {}\n", r.chain, r.spec.join(" ")));
        }
        text.push_str("COMMIT\n");
    }
    text
}

/// Installs the rules (idempotent: present ones are left alone). Rules are inserted at the
/// top of their chain, last first, so they keep their order and precede the host's own.
/// Every iptables run costs several ms (it loads the whole ruleset), so the present rules are
/// read with one `iptables-save` and the missing ones inserted with one `iptables-restore
/// --noflush` (atomic per table), instead of a `-C` and an `-I` per rule.
pub fn install(bridge: &str, subnet: Ipv4Net, internal: bool) -> Result<()> {
    let wanted = rules(bridge, subnet, internal);
    let Some(present) = saved_rules()? else {
        tracing::warn!(bridge, "iptables not found: network works, but without egress masquerade or isolation");
        return Ok(());
    };
    if !internal {
        enable_forwarding()?;
    }
    let missing: Vec<&Rule> =
        wanted.iter().filter(|r| !present.iter().any(|(t, l)| t == r.table && *l == listed_form(r))).collect();
    if missing.is_empty() {
        return Ok(());
    }
    restore(&restore_input(&missing))
}

fn restore(input: &str) -> Result<()> {
    use std::io::Write as _;
    let mut child = Command::new("iptables-restore")
        .args(["-w", "--noflush"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::sys("run iptables-restore", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).map_err(|e| NetworkError::sys("write to iptables-restore", e))?;
    }
    let out = child.wait_with_output().map_err(|e| NetworkError::sys("run iptables-restore", e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(NetworkError::Firewall {
        args: format!("iptables-restore --noflush <<< {input:?}"),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Removes every copy of the network's rules (one `iptables-save`, one `iptables-restore`
/// deleting exactly the copies present); returns the failures instead of stopping.
pub fn remove(bridge: &str, subnet: Ipv4Net, internal: bool) -> Vec<String> {
    let present = match saved_rules() {
        Ok(Some(p)) => p,
        Ok(None) => return Vec::new(),
        Err(e) => return vec![e.to_string()],
    };
    let input = delete_input(&rules(bridge, subnet, internal), &present);
    if input.is_empty() {
        return Vec::new();
    }
    match restore(&input) {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.to_string()],
    }
}

/// `iptables-restore --noflush` input deleting each copy of `wanted` found in `present`.
fn delete_input(wanted: &[Rule], present: &[(String, String)]) -> String {
    let mut text = String::new();
    for table in ["nat", "filter"] {
        let mut lines = Vec::new();
        for r in wanted.iter().filter(|r| r.table == table) {
            let form = listed_form(r);
            let copies = present.iter().filter(|(t, l)| t == table && *l == form).count();
            lines.extend(std::iter::repeat_n(format!("-D {} {}", r.chain, r.spec.join(" ")), copies));
        }
        if !lines.is_empty() {
            text.push_str(&format!("*{table}\n{}\nCOMMIT\n", lines.join("\n")));
        }
    }
    text
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

    #[test]
    fn missing_rules_are_inserted_last_first_per_table() {
        let ext = rules("bth-12345678", "10.213.7.0/24".parse().unwrap(), false);
        assert_eq!(listed_form(&ext[1]), "-A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT");
        let missing: Vec<&Rule> = ext.iter().collect();
        let text = restore_input(&missing);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "*nat");
        assert_eq!(lines[1], "-I POSTROUTING 1 -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE");
        assert_eq!(lines[3], "*filter");
        assert!(lines[4].starts_with("-I FORWARD 1 -o bth-12345678 -m conntrack"), "{}", lines[4]);
        assert_eq!(lines[7], "-I FORWARD 1 -i bth-12345678 -o bth-12345678 -j ACCEPT");
        assert_eq!(lines.last(), Some(&"COMMIT"));
    }

    #[test]
    fn saved_rules_are_read_per_table_and_every_copy_is_deleted() {
        let saved = "# Generated by iptables-save\n*nat\n:POSTROUTING ACCEPT [0:0]\n\
            -A POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE\nCOMMIT\n*filter\n\
            -A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n\
            -A FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n-A FORWARD -i other -j ACCEPT\nCOMMIT\n";
        let present = parse_saved(saved);
        assert_eq!(present.len(), 4);
        assert_eq!(present[0].0, "nat");
        let ext = rules("bth-12345678", "10.213.7.0/24".parse().unwrap(), false);
        let text = delete_input(&ext, &present);
        assert_eq!(
            text,
            "*nat\n-D POSTROUTING -s 10.213.7.0/24 ! -o bth-12345678 -j MASQUERADE\nCOMMIT\n*filter\n\
             -D FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\n-D FORWARD -i bth-12345678 -o bth-12345678 -j ACCEPT\nCOMMIT\n"
        );
        assert!(delete_input(&rules("bth-00000000", "10.213.8.0/24".parse().unwrap(), true), &present).is_empty());
    }
}
