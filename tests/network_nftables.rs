//! The native nftables firewall driver (issue 14, item 6), forced with BERTH_FIREWALL=nftables
//! on this host (whose `iptables` would otherwise be chosen): berth's own table `ip berth`,
//! the same isolation, masquerade and internal-network rules as the iptables driver, drift
//! repaired by the supervisor, and the table gone with the last network.
//!
//! The kernel's state is read through the driver's own netlink listing and, where the `nft`
//! binary is installed (scripts/install-deps installs it), independently through `nft`, which
//! decodes the rule expressions berth sent. Only this binary's tests use the table; they run
//! one at a time (a lock) so "the table is gone" means this test's networks were the last.
//! Traffic goes only between this test's own containers and to 127.0.0.1.

mod support;

use std::net::TcpListener;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use berth::network::firewall::{self, nftables};
use berth::network::names::bridge_name;
use support::stack::{sh, sh_until_ok, Stack};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Root, the lock, and every berth process of this test on the nftables driver.
fn setup() -> Option<std::sync::MutexGuard<'static, ()>> {
    if !support::require_root() {
        return None;
    }
    if let Err(e) = nftables::in_use() {
        let name = std::thread::current().name().unwrap_or("test").to_string();
        eprintln!("SKIP: {name} needs the kernel's nf_tables: {e}");
        println!("SKIP: {name} needs the kernel's nf_tables: {e}");
        return None;
    }
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Set while holding the lock, the same value by every test of this binary; the berth
    // commands (and the supervisor they start) inherit it.
    std::env::set_var(firewall::DRIVER_ENV, "nftables");
    Some(guard)
}

fn table() -> nftables::Ruleset {
    nftables::Ruleset::read(firewall::Family::V4).expect("list berth's nftables table")
}

/// The rules tagged as `bridge`'s: (chain, rule text without the tag), in chain order, the
/// chains by name (the kernel lists chains in creation order, which depends on which network
/// came first).
fn rules_of(bridge: &str) -> Vec<(String, String)> {
    let prefix = format!("{bridge}: ");
    let mut rules: Vec<(String, String)> = table()
        .rules
        .into_iter()
        .filter_map(|r| Some((r.chain, r.comment?.strip_prefix(&prefix)?.to_string())))
        .collect();
    rules.sort_by(|a, b| a.0.cmp(&b.0));
    rules
}

/// `nft list table ip berth`, None when nft is not installed.
fn nft_list() -> Option<String> {
    let out = Command::new("nft").args(["list", "table", "ip", "berth"]).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[track_caller]
fn assert_table_gone() {
    assert!(!table().table, "table ip berth left behind: {:?}", nft_list());
}

#[track_caller]
fn assert_rules_in_place(outside: &str, secret: &str) {
    let q = |s: &str| format!("\"{s}\"");
    assert_eq!(
        rules_of(outside),
        vec![
            ("forward".to_string(), format!("iifname {} oifname {} accept", q(outside), q(outside))),
            ("forward".to_string(), format!("iifname {} oifname \"bth-*\" drop", q(outside))),
            ("forward".to_string(), format!("iifname {} accept", q(outside))),
            ("forward".to_string(), format!("oifname {} ct state established,related accept", q(outside))),
            (
                "postrouting".to_string(),
                format!("ip saddr {} oifname != {} masquerade", subnet_of(outside), q(outside)),
            ),
        ]
    );
    // An internal network: no masquerade, only bridge-local traffic.
    assert_eq!(
        rules_of(secret),
        vec![
            ("forward".to_string(), format!("iifname {} oifname {} accept", q(secret), q(secret))),
            ("forward".to_string(), format!("iifname {} drop", q(secret))),
            ("forward".to_string(), format!("oifname {} drop", q(secret))),
        ]
    );
}

/// The subnet on a bridge (its gateway's /24 or whatever IPAM chose), from the kernel.
fn subnet_of(bridge: &str) -> String {
    let out = Command::new("ip").args(["-4", "-o", "route", "show", "dev", bridge]).output().expect("ip route");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn the_driver_writes_what_nft_reads_and_removes_it_exactly() {
    let Some(_lock) = setup() else { return };
    // Rules for two bridges that need not exist (rules match names): a unique pair per run.
    let a = format!("bth-t{:07x}", std::process::id() & 0xfff_ffff);
    let b = format!("bth-u{:07x}", std::process::id() & 0xfff_ffff);
    let subnet = "10.213.250.0/24".parse().unwrap();
    let before = firewall::ensure(&a, subnet, false).expect("install a's rules");
    assert_eq!(before.missing.len(), 5, "all of a's rules were missing first");
    firewall::ensure(&b, "10.213.251.0/24".parse().unwrap(), true).expect("install b's rules");
    assert!(firewall::ensure(&a, subnet, false).expect("again").is_ok(), "a second ensure finds all in place");
    if let Some(text) = nft_list() {
        for line in [
            "type nat hook postrouting priority srcnat; policy accept;".to_string(),
            "type filter hook forward priority filter; policy accept;".to_string(),
            format!("ip saddr 10.213.250.0/24 oifname != \"{a}\" masquerade comment \"{a}: ip saddr"),
            format!("iifname \"{a}\" oifname \"bth-*\" drop comment"),
            format!("oifname \"{a}\" ct state established,related accept comment"),
            format!("iifname \"{b}\" drop comment \"{b}: iifname \"{b}\" drop\""),
        ] {
            assert!(text.contains(&line), "nft does not list `{line}`:\n{text}");
        }
    }
    let present = firewall::Ruleset::read(firewall::Family::V4).expect("read").expect("a driver");
    assert!(firewall::check(&present, &b, "10.213.251.0/24".parse().unwrap(), true).is_ok());

    assert!(firewall::remove(&a, subnet, false).is_empty());
    assert!(rules_of(&a).is_empty(), "a's rules left: {:?}", rules_of(&a));
    assert_eq!(rules_of(&b).len(), 3, "b's rules were touched by a's removal");
    assert!(table().table, "the table went while b still has rules");
    assert!(firewall::remove(&b, "10.213.251.0/24".parse().unwrap(), true).is_empty());
    assert_table_gone();
    assert!(firewall::remove(&b, "10.213.251.0/24".parse().unwrap(), true).is_empty(), "removal is idempotent");
}

const STACK: &str = r#"
services:
  web: {image: busybox:latest, command: [sleep, "600"], networks: [outside]}
  peer: {image: busybox:latest, command: [sleep, "600"], networks: [outside]}
  other: {image: busybox:latest, command: [sleep, "600"], networks: [elsewhere]}
  vault: {image: busybox:latest, command: [sleep, "600"], networks: [secret]}
networks:
  outside: {}
  elsewhere: {}
  secret: {internal: true}
"#;

fn ip_of(s: &Stack, svc: &str) -> String {
    let ip = sh_until_ok(s, svc, "hostname -i").trim().to_string();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{svc} address: {ip:?}");
    ip
}

fn reaches(s: &Stack, from: &str, ip: &str) -> bool {
    sh(s, from, &format!("ping -c1 -W1 {ip}")).code() == 0
}

#[test]
fn a_stack_on_nftables_talks_within_networks_only() {
    let Some(_lock) = setup() else { return };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = STACK.replace(
        "  peer: {image: busybox:latest, command: [sleep, \"600\"], networks: [outside]}",
        &format!(
            "  peer: {{image: busybox:latest, command: [sh, -c, \"mkdir -p /www && echo nft-ok > /www/index.html && httpd -f -p 80 -h /www\"], networks: [outside], ports: [\"127.0.0.1:{port}:80\"]}}"
        ),
    );
    let mut s = Stack::new("nftnet").image("busybox:latest").file(&file);
    let br = |n: &str| bridge_name(s.roots.id(), &format!("{}_{n}", s.project));
    let (outside, elsewhere, secret) = (br("outside"), br("elsewhere"), br("secret"));
    // The supervisor stays out of the way: here `up` repairs.
    let mut up = s.command(&["up", "-d"]);
    up.env("BERTH_FIREWALL_CHECK_INTERVAL", "3600");
    let out = up.output().expect("run berth up");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_rules_in_place(&outside, &secret);
    assert_eq!(rules_of(&elsewhere).len(), 5);
    let iptables = Command::new("iptables-save").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    assert!(!iptables.unwrap_or_default().contains(&outside), "the nftables driver wrote iptables rules");

    // Within a network, by name; a published port from the host.
    sh_until_ok(&s, "web", "ping -c1 -W2 peer");
    let mut got = String::new();
    s.eventually(Duration::from_secs(10), "the published port answering", || {
        got = support::http::get_any(port, "/").unwrap_or_default();
        got.contains("nft-ok")
    });
    // Across networks, by address: the host would route it; berth's drops stop it.
    let (other_ip, vault_ip, web_ip) = (ip_of(&s, "other"), ip_of(&s, "vault"), ip_of(&s, "web"));
    assert!(!reaches(&s, "web", &other_ip), "web reaches a container on another network");
    assert!(!reaches(&s, "other", &web_ip), "other reaches a container on another network");
    assert!(!reaches(&s, "web", &vault_ip), "web reaches the internal network");
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");

    // Another tool deletes the two normal networks' rules: with nothing else dropping
    // forwarded traffic the host now routes between them (the hole is real); `plan` reports
    // it and `up` closes it.
    for b in [&outside, &elsewhere] {
        assert!(firewall::remove(b, "10.0.0.0/8".parse().unwrap(), false).is_empty());
    }
    assert_eq!(rules_of(&secret).len(), 3, "the internal network's rules were not touched");
    if forward_policy_accepts() {
        s.eventually(Duration::from_secs(10), "web reaching the other network once the rules are gone", || {
            reaches(&s, "web", &other_ip)
        });
    }
    let plan = s.berth(&["plan"]).success().stdout();
    for net in ["outside", "elsewhere"] {
        let line = format!("{}_{net}", s.project);
        assert!(plan.lines().any(|l| l.contains(&line) && l.contains("restore firewall rules: 5 missing")), "{plan}");
    }
    let up = s.up(&["-d"]);
    assert!(up.success().stderr().contains("Firewall restored"), "{}", up.stderr());
    assert_rules_in_place(&outside, &secret);
    assert!(!reaches(&s, "web", &other_ip), "web reaches another network after up restored the rules");
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");

    s.down_clean();
    assert_table_gone();
}

/// Whether forwarded traffic passes when no berth rule drops it (iptables' FORWARD policy;
/// no iptables: nothing else filters here).
fn forward_policy_accepts() -> bool {
    match Command::new("iptables-save").args(["-t", "filter"]).output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with(":FORWARD ACCEPT")),
        Err(_) => true,
    }
}

#[test]
fn rules_deleted_behind_berths_back_are_reported_and_restored() {
    let Some(_lock) = setup() else { return };
    let mut s = Stack::new("nftsup").image("busybox:latest").file(STACK);
    let br = |n: &str| bridge_name(s.roots.id(), &format!("{}_{n}", s.project));
    let (outside, elsewhere, secret) = (br("outside"), br("elsewhere"), br("secret"));
    let mut up = s.command(&["up", "-d"]);
    up.env("BERTH_FIREWALL_CHECK_INTERVAL", "2");
    let out = up.output().expect("run berth up");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_rules_in_place(&outside, &secret);
    let other_ip = ip_of(&s, "other");
    assert!(!reaches(&s, "web", &other_ip));

    // Attack 1: one rule, the isolation drop, goes (as `nft delete rule … handle N`).
    let drop = table()
        .rules
        .into_iter()
        .find(|r| r.comment.as_deref() == Some(&format!("{outside}: iifname \"{outside}\" oifname \"bth-*\" drop")))
        .expect("the isolation drop");
    let mut sock_cmd = Command::new("nft");
    let handle = drop.handle.to_string();
    sock_cmd.args(["delete", "rule", "ip", "berth", "forward", "handle", &handle]);
    if sock_cmd.status().is_ok_and(|st| st.success()) {
        let plan = s.berth(&["plan"]).success().stdout();
        let ok = plan.contains("restore firewall rules: 1 missing") || rules_of(&outside).len() == 5;
        assert!(ok, "plan after one rule went: {plan}");
        s.eventually(Duration::from_secs(30), "the supervisor restoring the drop", || rules_of(&outside).len() == 5);
        assert_rules_in_place(&outside, &secret);
    }

    // Attack 2: every rule of the project, and with them the whole table (nobody else has
    // rules in it): the supervisor puts it all back by itself.
    for b in [&outside, &elsewhere, &secret] {
        let net = "10.0.0.0/8".parse().unwrap();
        assert!(firewall::remove(b, net, false).is_empty());
    }
    assert!(rules_of(&outside).is_empty());
    s.eventually(Duration::from_secs(30), "the supervisor restoring the table", || {
        rules_of(&outside).len() == 5 && rules_of(&elsewhere).len() == 5 && rules_of(&secret).len() == 3
    });
    assert_rules_in_place(&outside, &secret);
    assert!(!reaches(&s, "web", &other_ip), "web reaches another network after the repair");
    let log_path = s.roots.run.join("supervisors").join(format!("{}.log", s.project));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let name = format!("{}_outside", s.project);
    assert!(log.lines().any(|l| l.contains("WARN") && l.contains(&name) && l.contains("missing")), "log:\n{log}");
    assert_eq!(s.berth(&["plan"]).success().stdout(), "nothing to do: the stack is up to date\n");

    s.down_clean();
    assert_table_gone();
}

#[test]
fn with_no_iptables_binary_nftables_is_chosen_by_itself() {
    let Some(_lock) = setup() else { return };
    let mut s = Stack::new("nftauto")
        .image("busybox:latest")
        .file("services: {web: {image: busybox:latest, command: [sleep, \"600\"]}}\n");
    let bridge = bridge_name(s.roots.id(), &format!("{}_default", s.project));
    // No usable `iptables`, and no override. berth looks in the sbin directories when PATH
    // lacks them, so a PATH alone no longer hides the host's: an `iptables` first on PATH
    // that cannot run stands for a missing one (the probe takes both the same way).
    let fake = tempfile::tempdir().unwrap();
    for tool in ["iptables", "iptables-save", "iptables-restore"] {
        let p = fake.path().join(tool);
        std::fs::write(&p, "#!/bin/sh\nexit 127\n").unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", fake.path().display());
    let mut up = s.command(&["up", "-d"]);
    up.env("PATH", &path).env_remove(firewall::DRIVER_ENV);
    let out = up.output().expect("run berth up");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rules = rules_of(&bridge);
    assert_eq!(rules.len(), 5, "berth's table holds the default network's rules: {rules:?}");
    let saved =
        Command::new(firewall::tool("iptables-save")).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    assert!(!saved.unwrap_or_default().contains(&bridge), "iptables rules written although no iptables was found");
    let mut down = s.command(&["down", "-v", "-t", "1"]);
    down.env("PATH", &path).env_remove(firewall::DRIVER_ENV);
    assert!(down.output().expect("run berth down").status.success());
    s.down_clean();
    assert_table_gone();
}

#[test]
fn concurrent_writers_retry_on_a_moved_generation_and_lose_nothing() {
    let Some(_lock) = setup() else { return };
    // Eight networks written and removed at once (as parallel `up`s of several roots): each
    // batch carries the generation it was computed from, so the kernel refuses the stale
    // ones and the driver reads again; no network loses a rule, the table goes with the last.
    let pid = std::process::id() & 0xff_ffff;
    let bridges: Vec<String> = (0..8).map(|i| format!("bth-c{i}{pid:06x}")).collect();
    let run = |f: fn(&str, usize)| {
        std::thread::scope(|scope| {
            for (i, b) in bridges.iter().enumerate() {
                scope.spawn(move || f(b, i));
            }
        })
    };
    run(|b, i| {
        let subnet = format!("10.213.{}.0/24", 240 + i).parse().unwrap();
        firewall::ensure(b, subnet, i % 2 == 1).expect("ensure under contention");
    });
    for (i, b) in bridges.iter().enumerate() {
        assert_eq!(rules_of(b).len(), if i % 2 == 1 { 3 } else { 5 }, "rules of {b}");
    }
    run(|b, i| {
        let subnet = format!("10.213.{}.0/24", 240 + i).parse().unwrap();
        let errors = firewall::remove(b, subnet, i % 2 == 1);
        assert!(errors.is_empty(), "remove {b}: {errors:?}");
    });
    assert_table_gone();
}
