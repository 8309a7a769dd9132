//! Firewall drift is repaired (issue 12, item 10): when another tool deletes a project's
//! masquerade and isolation rules, `plan` reports it, `up` restores them (in their order, the
//! internal network's isolation included) and the supervisor restores them by itself within
//! its period; `down` leaves no rule behind.
//!
//! Only this test's own rules are ever deleted (lines of `iptables-save` naming its bridges,
//! removed with `iptables-restore --noflush`): the host's tables are never flushed, since other
//! tests and other users' stacks run on this machine at the same time. Traffic goes only
//! between this test's own containers.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth::network::names::bridge_name;
use support::stack::{sh, sh_until_ok, Run, Stack};

/// The supervisor checks every 10 s; allow for a slow, shared machine.
const SUPERVISOR_WAIT: Duration = Duration::from_secs(45);

fn iptables_save() -> String {
    let out = Command::new("iptables-save").output().expect("run iptables-save");
    assert!(out.status.success(), "iptables-save: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rules naming `bridge`, as (table, `-A …` line), in the order the tables list them.
fn rules_of(bridge: &str) -> Vec<(String, String)> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in iptables_save().lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.to_string();
        } else if line.starts_with("-A ") && line.split_whitespace().any(|w| w == bridge) {
            out.push((table.clone(), line.to_string()));
        }
    }
    out
}

/// What another tool flushing the tables does to this project (and to nothing else): every
/// rule in `tables` naming one of `bridges` is deleted.
fn delete_rules(bridges: &[&str], tables: &[&str]) -> usize {
    let mut input = String::new();
    let mut count = 0;
    for table in tables {
        let doomed: Vec<String> = bridges
            .iter()
            .flat_map(|b| rules_of(b))
            .filter(|(t, _)| t == table)
            .map(|(_, l)| l.replacen("-A ", "-D ", 1))
            .collect();
        if !doomed.is_empty() {
            count += doomed.len();
            input.push_str(&format!("*{table}\n{}\nCOMMIT\n", doomed.join("\n")));
        }
    }
    if input.is_empty() {
        return 0;
    }
    let mut child = Command::new("iptables-restore")
        .args(["-w", "--noflush"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run iptables-restore");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write rules");
    assert!(child.wait().expect("wait iptables-restore").success(), "iptables-restore failed on:\n{input}");
    count
}

/// The rules berth installs, in order: 1 nat + 4 filter for a normal network, 3 filter (and
/// no NAT) for an internal one, the isolation DROPs after the bridge-local ACCEPT.
#[track_caller]
fn assert_rules_in_place(outside: &str, secret: &str) {
    let o = rules_of(outside);
    let nat: Vec<&String> = o.iter().filter(|(t, _)| t == "nat").map(|(_, l)| l).collect();
    assert_eq!(nat.len(), 1, "masquerade of {outside}: {o:?}");
    assert!(nat[0].ends_with(&format!("! -o {outside} -j MASQUERADE")), "{o:?}");
    let filter: Vec<&str> = o.iter().filter(|(t, _)| t == "filter").map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        filter,
        vec![
            format!("-A FORWARD -i {outside} -o {outside} -j ACCEPT"),
            "-A FORWARD -i {outside} -o bth-+ -j DROP".replace("{outside}", outside),
            format!("-A FORWARD -i {outside} -j ACCEPT"),
            format!("-A FORWARD -o {outside} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        ],
        "filter rules of {outside}"
    );
    let s: Vec<(String, String)> = rules_of(secret);
    assert_eq!(
        s,
        vec![
            ("filter".to_string(), format!("-A FORWARD -i {secret} -o {secret} -j ACCEPT")),
            ("filter".to_string(), format!("-A FORWARD -i {secret} -j DROP")),
            ("filter".to_string(), format!("-A FORWARD -o {secret} -j DROP")),
        ],
        "rules of the internal network's bridge {secret}"
    );
}

fn forward_policy_accepts() -> bool {
    iptables_save().lines().any(|l| l.starts_with(":FORWARD ACCEPT"))
}

fn iptables_present() -> bool {
    if Command::new("iptables-save").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    eprintln!("SKIP: firewall drift test needs iptables (scripts/install-deps installs it)");
    println!("SKIP: firewall drift test needs iptables (scripts/install-deps installs it)");
    false
}

const STACK: &str = r#"
services:
  web: {image: busybox:latest, command: [sleep, "600"], networks: [outside]}
  vault: {image: busybox:latest, command: [sleep, "600"], networks: [secret]}
networks:
  outside: {}
  secret: {internal: true}
"#;

/// `berth up -d` with the supervisor's firewall check at `interval` seconds.
fn up_with_interval(s: &Stack, interval: &str) -> Run {
    let mut cmd = s.command(&["up", "-d"]);
    cmd.env("BERTH_FIREWALL_CHECK_INTERVAL", interval);
    Run { out: cmd.output().expect("run berth up") }
}

/// Whether web (on the normal network) gets an answer from the vault (on the internal one):
/// with the masquerade rule in place and the FORWARD rules gone, the host routes and NATs
/// web's packets to the internal network, whose replies then find their way back.
fn web_reaches_vault(s: &Stack, vault_ip: &str) -> bool {
    sh(s, "web", &format!("ping -c1 -W1 {vault_ip}")).code() == 0
}

#[test]
fn deleted_rules_are_reported_and_restored_by_up_in_order() {
    if !support::require_root() || !iptables_present() {
        return;
    }
    let mut s = Stack::new("fwup").image("busybox:latest").file(STACK);
    let outside = bridge_name(s.roots.id(), &format!("{}_outside", s.project));
    let secret = bridge_name(s.roots.id(), &format!("{}_secret", s.project));
    // The supervisor would repair on its own: keep it out of this test's way.
    up_with_interval(&s, "3600").success();
    assert_rules_in_place(&outside, &secret);
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");
    let vault_ip = sh_until_ok(&s, "vault", "hostname -i").trim().to_string();
    assert!(vault_ip.parse::<std::net::Ipv4Addr>().is_ok(), "vault address: {vault_ip:?}");
    assert!(!web_reaches_vault(&s, &vault_ip), "web reaches the internal network with the rules in place");

    // Attack 1: the FORWARD rules go (an `iptables -F FORWARD`, limited to this test's
    // bridges), masquerade stays. With the host's FORWARD policy at ACCEPT the internal
    // network is now open to the other one: the hole is real.
    assert_eq!(delete_rules(&[&outside, &secret], &["filter"]), 7);
    if forward_policy_accepts() {
        s.eventually(Duration::from_secs(10), "web reaching the vault once the rules are gone", || {
            web_reaches_vault(&s, &vault_ip)
        });
    }
    let text = s.berth(&["plan"]).success().stdout();
    let expected = format!(
        "~ network  {p}_outside (restore firewall rules: 4 missing)\n~ network  {p}_secret (restore firewall rules: 3 missing)\n",
        p = s.project
    );
    assert_eq!(squeeze(&text), expected, "{text}");
    let json = s.berth(&["plan", "--format", "json"]);
    assert!(json.success().stdout().contains(r#""kind": "repair_firewall""#), "{}", json.stdout());

    let up = s.up(&["-d"]);
    assert!(up.success().stderr().contains("Firewall restored"), "{}", up.stderr());
    assert_rules_in_place(&outside, &secret);
    assert!(!web_reaches_vault(&s, &vault_ip), "web reaches the internal network after up restored the rules");
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");

    // Attack 2: only the internal network's isolation DROPs go, its ACCEPT stays: putting the
    // DROPs back on top of it would cut bridge-local traffic, so the set is rewritten in order.
    let drops: Vec<String> = rules_of(&secret).into_iter().map(|(_, l)| l).filter(|l| l.ends_with("DROP")).collect();
    assert_eq!(drops.len(), 2);
    delete_rules_exact(&drops);
    let text = s.berth(&["plan"]).success().stdout();
    assert_eq!(squeeze(&text), format!("~ network  {}_secret (restore firewall rules: 2 missing)\n", s.project));
    s.up(&["-d"]).success();
    assert_rules_in_place(&outside, &secret);
    assert!(!web_reaches_vault(&s, &vault_ip), "web reaches the internal network after the DROPs were restored");

    s.down_clean();
    assert_no_rules_of(&[&outside, &secret]);
}

#[test]
fn the_supervisor_restores_deleted_rules_within_its_period() {
    if !support::require_root() || !iptables_present() {
        return;
    }
    let mut s = Stack::new("fwsup").image("busybox:latest").file(STACK);
    let outside = bridge_name(s.roots.id(), &format!("{}_outside", s.project));
    let secret = bridge_name(s.roots.id(), &format!("{}_secret", s.project));
    s.up(&["-d"]).success();
    assert_rules_in_place(&outside, &secret);
    let vault_ip = sh_until_ok(&s, "vault", "hostname -i").trim().to_string();

    // Every rule of the project, both tables; nobody runs berth: the supervisor (default
    // period, 10 s) puts them back and says so in its log.
    assert_eq!(delete_rules(&[&outside, &secret], &["nat", "filter"]), 8);
    s.eventually(SUPERVISOR_WAIT, "the supervisor restoring the rules", || {
        rules_of(&outside).len() == 5 && rules_of(&secret).len() == 3
    });
    assert_rules_in_place(&outside, &secret);
    assert!(!web_reaches_vault(&s, &vault_ip), "web reaches the internal network after the supervisor's repair");
    let log_path = s.roots.run.join("supervisors").join(format!("{}.log", s.project));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let warned = |net: &str, n: usize| {
        let name = format!("{}_{net}", s.project);
        log.lines().any(|l| l.contains("WARN") && l.contains(&name) && l.contains(&format!("{n} missing")))
    };
    assert!(warned("outside", 5) && warned("secret", 3), "supervisor log:\n{log}");
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");

    s.down_clean();
    assert_no_rules_of(&[&outside, &secret]);
}

/// A plan line with its column padding squeezed to one space.
fn squeeze(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n")
        .collect::<String>()
        .replace("~ network ", "~ network  ")
}

#[track_caller]
fn assert_no_rules_of(bridges: &[&str]) {
    let left: Vec<String> = iptables_save()
        .lines()
        .filter(|l| l.split_whitespace().any(|w| bridges.contains(&w)))
        .map(String::from)
        .collect();
    assert!(left.is_empty(), "rules of the project left behind by down: {left:?}");
}

/// Delete exactly these filter rules (`-A …` lines).
fn delete_rules_exact(lines: &[String]) {
    let input = format!(
        "*filter\n{}\nCOMMIT\n",
        lines.iter().map(|l| l.replacen("-A ", "-D ", 1)).collect::<Vec<_>>().join("\n")
    );
    let mut child = Command::new("iptables-restore")
        .args(["-w", "--noflush"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run iptables-restore");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write rules");
    assert!(child.wait().expect("wait iptables-restore").success(), "iptables-restore failed on:\n{input}");
}
