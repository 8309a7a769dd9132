//! IPv6 dual stack, as root with the busybox fixture: `enable_ipv6` networks get an IPv6
//! subnet (the ipam entry's, or a /64 of berth's ULA pool), every container an address on it
//! (`ipv6_address` honoured) and a default route; peers reach each other over IPv6 by address
//! and by name (AAAA from the embedded DNS server, lines in /etc/hosts); networks stay
//! isolated for IPv6 as for IPv4 (the test pings across and expects silence, with forwarding
//! on); ports published on `[::1]` and `[::]` answer from the host and `berth port` prints
//! them; the ip6tables rules (or nftables' `ip6 berth` table) exist while the stack runs and
//! are gone after `down`. Traffic goes only between the test's containers and to ::1.

mod support;

use std::net::SocketAddr;
use std::process::Command;

use support::stack::{sh, Stack};

const IMAGE: &str = "busybox:latest";

/// The container's IPv6 address on network `key` of the project.
fn ip6_of(s: &Stack, service: &str, key: &str) -> String {
    let net = format!("{}_{key}", s.project);
    let eps = berth::network::NetworkManager::new(&s.roots).endpoints(&s.name(service, 1)).expect("endpoints");
    let ep = eps.into_iter().find(|e| e.network == net).unwrap_or_else(|| panic!("{service} not on {net}"));
    ep.ip6.unwrap_or_else(|| panic!("{service} has no IPv6 address on {net}"))
}

fn bridge(s: &Stack, key: &str) -> String {
    berth::network::names::bridge_name(s.roots.id(), &format!("{}_{key}", s.project))
}

fn reaches6(s: &Stack, from: &str, ip: &str) -> bool {
    sh(s, from, &format!("ping -6 -c1 -W2 {ip}")).code() == 0
}

/// Whether this kernel has IPv6 (booted without `ipv6.disable=1`); a loud SKIP otherwise.
fn has_ipv6() -> bool {
    let ok = std::path::Path::new("/proc/sys/net/ipv6").exists();
    if !ok {
        let name = std::thread::current().name().unwrap_or("test").to_string();
        eprintln!("SKIP: {name}: this kernel has no IPv6 (/proc/sys/net/ipv6 is missing)");
        println!("SKIP: {name}: no IPv6");
    }
    ok
}

fn ip6tables_save() -> String {
    let out = Command::new("ip6tables-save").output().expect("run ip6tables-save");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The host port of a `berth port` line: `[::1]:PORT`.
fn port_of(line: &str) -> u16 {
    line.trim().rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or_else(|| panic!("no port in {line:?}"))
}

const STACK: &str = r#"
services:
  web:
    image: busybox:latest
    command: [sh, -c, "mkdir -p /www && echo hello-v6 > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks:
      front: {ipv6_address: "fd00:b0:1::10", aliases: [site]}
    ports: ["[::1]::80", "[::]::80"]
  client:
    image: busybox:latest
    command: [sleep, "600"]
    networks: [front, auto6]
  other:
    image: busybox:latest
    command: [sleep, "600"]
    networks: [auto6]
  lone:
    image: busybox:latest
    command: [sleep, "600"]
    networks: [apart6]
networks:
  front:
    enable_ipv6: true
    ipam: {config: [{subnet: "fd00:b0:1::/64"}]}
  auto6: {enable_ipv6: true}
  apart6: {enable_ipv6: true}
"#;

#[test]
fn ipv6_networks_work_end_to_end_and_stay_isolated() {
    if !support::require_root() || !has_ipv6() {
        return;
    }
    let mut s = Stack::new("ipv6").image(IMAGE).file(STACK);
    s.up(&["-d"]).success();

    // Addresses: the requested one, and ones from the ULA pool on the other networks.
    let web6 = ip6_of(&s, "web", "front");
    assert_eq!(web6, "fd00:b0:1::10");
    let addr = sh(&s, "web", "ip -6 addr show dev eth0").success().stdout();
    assert!(addr.contains("fd00:b0:1::10/64"), "{addr}");
    let other6 = ip6_of(&s, "other", "auto6");
    assert!(other6.starts_with("fd"), "a ULA address: {other6}");
    assert!(other6.ends_with("::2") || other6.ends_with("::3"), "the pool's first addresses: {other6}");
    let route = sh(&s, "client", "ip -6 route show default").success().stdout();
    assert!(route.contains("via fd00:b0:1::1"), "the first network's gateway carries the default route: {route}");

    // Names: /etc/hosts lines and AAAA answers from the embedded server.
    let hosts = sh(&s, "client", "cat /etc/hosts").success().stdout();
    assert!(hosts.lines().any(|l| l.starts_with("fd00:b0:1::10\t") && l.contains("web")), "{hosts}");
    let aaaa = sh(&s, "client", "nslookup -type=AAAA site").success().stdout();
    assert!(aaaa.contains("fd00:b0:1::10"), "{aaaa}");
    let a = sh(&s, "client", "nslookup -type=A web").success().stdout();
    assert!(!a.contains("fd00:b0:1::10"), "A answers carry IPv4 only: {a}");

    // Traffic over IPv6 between peers, by address, on each shared network.
    let page = sh(&s, "client", &format!("timeout 10 wget -q -O - http://[{web6}]/")).success().stdout();
    assert_eq!(page.trim(), "hello-v6");
    assert!(reaches6(&s, "client", &other6), "client and other share auto6");
    // Isolation: lone's network is another one; the host forwards IPv6 (berth turned it on),
    // so only the isolation rules stand between them.
    assert!(!reaches6(&s, "lone", &other6), "lone reached another network over IPv6");
    assert!(!reaches6(&s, "lone", &web6), "lone reached another network over IPv6");

    // Published on [::1] and [::]: both answer from the host; `berth port` prints [::1]:PORT.
    let line = s.berth(&["port", "web", "80"]).success().stdout();
    assert!(line.starts_with("[::1]:"), "{line}");
    let body = |addr: SocketAddr| support::http::get_any_at(addr, "/").unwrap_or_default();
    let local = port_of(&line);
    assert!(body(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, local))).ends_with("hello-v6\n"));
    let ps = s.berth(&["ps", "--format", "{{.Ports}}"]).success().stdout();
    let any = ps
        .split(", ")
        .find_map(|p| p.trim().strip_prefix("[::]:").and_then(|rest| rest.split("->").next()?.parse::<u16>().ok()))
        .unwrap_or_else(|| panic!("no [::] port in {ps:?}"));
    assert!(body(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, any))).ends_with("hello-v6\n"));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", any)).is_err(),
        "[::] is bound IPv6-only, as Docker binds it (0.0.0.0 is its own binding)"
    );

    // The IPv6 firewall rules while up; none after down.
    let rules = ip6tables_save();
    let front = bridge(&s, "front");
    assert!(rules.contains(&format!("-A POSTROUTING -s fd00:b0:1::/64 ! -o {front} -j MASQUERADE")), "{rules}");
    assert!(rules.contains(&format!("-A FORWARD -i {} -o bth-+ -j DROP", bridge(&s, "apart6"))), "{rules}");
    let bridges: Vec<String> = ["front", "auto6", "apart6"].iter().map(|k| bridge(&s, k)).collect();
    s.down_clean();
    let rules = ip6tables_save();
    for b in &bridges {
        assert!(!rules.contains(b.as_str()), "ip6tables rules of {b} left behind");
        assert!(!std::path::Path::new("/sys/class/net").join(b).exists(), "bridge {b} left behind");
    }
}

#[test]
fn an_ipv6_address_needs_an_ipv6_network() {
    if !support::require_root() || !has_ipv6() {
        return;
    }
    let yaml = "services:\n  a:\n    image: busybox:latest\n    command: [sleep, '600']\n    networks:\n      plain: {ipv6_address: 'fd00:b0:2::5'}\nnetworks:\n  plain: {}\n";
    let mut s = Stack::new("ipv6need").image(IMAGE).file(yaml);
    let out = s.up(&["-d"]);
    out.failure();
    let err = out.stderr();
    assert!(err.contains("ipv6_address") && err.contains("enable_ipv6"), "{err}");
    assert!(err.contains("fd00:b0:2::5") && err.contains("plain"), "names the address and network: {err}");
    s.down_clean();
}

#[test]
fn the_nftables_driver_has_an_ip6_table_for_ipv6_networks() {
    if !support::require_root() || !has_ipv6() {
        return;
    }
    use berth::network::firewall::{nftables, Family};
    if nftables::Ruleset::read(Family::V6).is_err() {
        eprintln!("SKIP: nf_tables is not usable on this host");
        return;
    }
    let yaml = "services:\n  a: {image: busybox:latest, command: [sleep, '600'], networks: [one]}\n  b: {image: busybox:latest, command: [sleep, '600'], networks: [two]}\nnetworks:\n  one: {enable_ipv6: true}\n  two: {enable_ipv6: true}\n";
    let mut s = Stack::new("ipv6nft").image(IMAGE).file(yaml);
    let run = |args: &[&str]| {
        let out = s.command(args).env("BERTH_FIREWALL", "nftables").output().expect("run berth");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["up", "-d"]);
    let one = bridge(&s, "one");
    let table = nftables::Ruleset::read(Family::V6).expect("list ip6 berth");
    let ours: Vec<String> =
        table.rules.iter().filter_map(|r| r.comment.clone()).filter(|c| c.starts_with(&one)).collect();
    assert_eq!(ours.len(), 5, "{ours:?}");
    assert!(ours[0].contains("ip6 saddr fd") && ours[0].ends_with("masquerade"), "{ours:?}");
    assert!(!ip6tables_save().contains(&one), "the nftables driver wrote ip6tables rules");
    // Isolated over IPv6 as over IPv4.
    let b6 = ip6_of(&s, "b", "two");
    assert!(!reaches6(&s, "a", &b6), "a reached another network over IPv6");
    assert!(reaches6(&s, "b", &b6), "b reaches its own address");
    run(&["down", "-t", "1"]);
    let left = nftables::Ruleset::read(Family::V6).expect("list ip6 berth");
    assert!(!left.rules.iter().any(|r| r.comment.as_deref().is_some_and(|c| c.starts_with(&one))), "{left:?}");
    s.down_clean();
}
