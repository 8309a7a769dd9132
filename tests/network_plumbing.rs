//! Network plumbing as root without containers: bridges, IPAM, sandboxes, veths, routes,
//! published ports through the proxy, port-in-use errors, cleanup, and a timing of 10 sandboxes.

#[path = "network_common/mod.rs"]
mod common;
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use berth::common::{PortRequest, Protocol};
use berth::network::{Attachment, NetworkSpec};
use common::*;

fn port(target: u16, published: Option<String>, host_ip: Option<&str>, protocol: Protocol) -> PortRequest {
    PortRequest { target, published, host_ip: host_ip.map(String::from), protocol }
}

#[test]
fn two_sandboxes_talk_over_a_bridge_and_networks_isolate() {
    if !support::require_root() {
        return;
    }
    let env = env("talk");
    let front = env.ensure("front", false);
    let back = env.ensure("back", false);
    assert_ne!(front.subnet, back.subnet);
    assert!(front.bridge.len() <= 15 && common::link_exists(&front.bridge));
    let a = env.sandbox("a", &["front"]);
    let b = env.sandbox("b", &["front"]);
    let c = env.sandbox("c", &["back"]);
    let listen = a.clone();
    let server = std::thread::spawn({
        let nm = env.nm.clone();
        let id = env.id("a");
        move || {
            in_ns(&nm, &id, move || {
                let l = TcpListener::bind((listen.as_str(), 8080)).unwrap();
                let (mut s, _) = l.accept().unwrap();
                s.write_all(b"hello").unwrap();
            })
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    let target = format!("{a}:8080");
    let got = in_ns(&env.nm, &env.id("b"), move || {
        let mut s = TcpStream::connect_timeout(&target.parse().unwrap(), Duration::from_secs(5)).unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        buf
    });
    server.join().unwrap();
    assert_eq!(got, "hello");
    assert!(b.starts_with(front.subnet.rsplit_once('.').unwrap().0));
    // c is on another network: forwarding between berth bridges is dropped.
    let target = format!("{a}:8081");
    let refused = in_ns(&env.nm, &env.id("c"), move || {
        TcpStream::connect_timeout(&target.parse().unwrap(), Duration::from_millis(500)).is_err()
    });
    assert!(refused, "a container on `back` reached one on `front`");
    let route = in_ns(&env.nm, &env.id("c"), || std::fs::read_to_string("/proc/thread-self/net/route").unwrap());
    assert!(route.lines().any(|l| l.split_whitespace().nth(1) == Some("00000000")), "default route missing: {route}");
    let _ = c;
    teardown_and_check(&env, &["a", "b", "c"], &["front", "back"]);
}

#[test]
fn internal_network_has_no_default_route_and_no_masquerade() {
    if !support::require_root() {
        return;
    }
    let env = env("int");
    let info = env.ensure("priv", true);
    env.sandbox("x", &["priv"]);
    let route = in_ns(&env.nm, &env.id("x"), || std::fs::read_to_string("/proc/thread-self/net/route").unwrap());
    assert!(!route.lines().any(|l| l.split_whitespace().nth(1) == Some("00000000")), "default route: {route}");
    assert!(route.contains("eth0"), "{route}");
    let rules = iptables_rules();
    assert!(!rules.lines().any(|l| l.contains(&info.bridge) && l.contains("MASQUERADE")), "{rules}");
    assert!(rules.contains(&format!("-A FORWARD -i {} -j DROP", info.bridge)), "{rules}");
    teardown_and_check(&env, &["x"], &["priv"]);
}

#[test]
fn ipam_honours_custom_subnets_addresses_and_refuses_overlaps() {
    if !support::require_root() {
        return;
    }
    let env = env("ipam");
    let spec = NetworkSpec {
        name: env.net("fixed"),
        project: env.project.clone(),
        subnet: Some("10.214.77.0/24".into()),
        gateway: Some("10.214.77.254".into()),
        ..Default::default()
    };
    let info = env.nm.ensure_network(&spec).unwrap();
    assert_eq!((info.subnet.as_str(), info.gateway.as_str()), ("10.214.77.0/24", "10.214.77.254"));
    assert_eq!(env.nm.ensure_network(&spec).unwrap(), info, "idempotent");
    // Another root (another project) cannot take an overlapping subnet: the host routes it.
    let other = common::env("ipam2");
    let clash = NetworkSpec { name: other.net("x"), subnet: Some("10.214.77.128/25".into()), ..Default::default() };
    let err = other.nm.ensure_network(&clash).unwrap_err().to_string();
    assert!(err.contains("overlaps"), "{err}");
    // Pool allocation in the other root skips it too.
    let pooled = other.nm.clone().with_pool("10.214.76.0/23", 24).unwrap();
    let p = pooled.ensure_network(&NetworkSpec { name: other.net("p"), ..Default::default() }).unwrap();
    assert_eq!(p.subnet, "10.214.76.0/24");
    let ext = NetworkSpec { name: other.net("nope"), external: true, ..Default::default() };
    assert_eq!(
        other.nm.ensure_network(&ext).unwrap_err().to_string(),
        format!("external network `{}` not found; create it first", other.net("nope"))
    );
    // ipv4_address honoured and checked.
    let id = env.id("s");
    env.nm.create_sandbox(&id).unwrap();
    let att = |ip: &str| Attachment { network: env.net("fixed"), ipv4_address: Some(ip.into()), ..Default::default() };
    assert!(env.nm.attach(&id, &[att("10.214.78.5")]).unwrap_err().to_string().contains("outside subnet"));
    assert!(env.nm.attach(&id, &[att("10.214.77.254")]).unwrap_err().to_string().contains("gateway"));
    let eps = env.nm.attach(&id, &[att("10.214.77.9")]).unwrap();
    assert_eq!(
        (eps[0].ip.as_str(), eps[0].ifname.as_str(), eps[0].mac.as_str()),
        ("10.214.77.9", "eth0", "02:42:0a:d6:4d:09")
    );
    let id2 = env.id("t");
    env.nm.create_sandbox(&id2).unwrap();
    assert!(env.nm.attach(&id2, &[att("10.214.77.9")]).unwrap_err().to_string().contains("in use"));
    assert!(env.nm.remove_network(&env.net("fixed")).unwrap_err().to_string().contains("attached"));
    teardown_and_check(&env, &["s", "t"], &["fixed"]);
    pooled.remove_network(&other.net("p")).unwrap();
    assert_clean(&other, &[], &["p"]);
}

#[test]
fn published_tcp_and_udp_ports_answer_on_localhost() {
    if !support::require_root() {
        return;
    }
    let env = env("pub");
    env.ensure("default", false);
    let ip = env.sandbox("web", &["default"]);
    let id = env.id("web");
    // A port without a host ip is on [::] too where the host has IPv6: one more connection.
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let tcp_conns = if v6 { 3 } else { 2 };
    // Servers inside the sandbox: TCP echo-once on 80, UDP echo on 53. Each says when it is
    // bound, so no connection races its listener (the proxy would see a refusal: "").
    let (tip, uip) = (ip.clone(), ip.clone());
    let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
    let udp_ready = ready_tx.clone();
    let tcp = {
        let nm = env.nm.clone();
        let id = id.clone();
        std::thread::spawn(move || {
            in_ns(&nm, &id, move || {
                let l = TcpListener::bind((tip.as_str(), 80)).unwrap();
                let _ = ready_tx.send(());
                for _ in 0..tcp_conns {
                    let (mut s, _) = l.accept().unwrap();
                    s.write_all(b"tcp-ok").unwrap();
                }
            })
        })
    };
    let udp = {
        let nm = env.nm.clone();
        let id = id.clone();
        std::thread::spawn(move || {
            in_ns(&nm, &id, move || {
                let s = UdpSocket::bind((uip.as_str(), 53)).unwrap();
                let _ = udp_ready.send(());
                let mut buf = [0u8; 64];
                let (n, from) = s.recv_from(&mut buf).unwrap();
                s.send_to(&buf[..n], from).unwrap();
            })
        })
    };
    for _ in 0..2 {
        ready.recv_timeout(Duration::from_secs(10)).expect("servers bound in the sandbox");
    }
    // A port that was free a moment ago may be taken by a parallel test before we publish
    // it: pick another then.
    let (free, ports) = (0..10)
        .find_map(|_| {
            let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let ports = [
                port(80, Some(free.to_string()), Some("127.0.0.1"), Protocol::Tcp),
                port(80, None, None, Protocol::Tcp),
                port(53, None, Some("127.0.0.1"), Protocol::Udp),
            ];
            env.nm.check_ports_free(&env.project, "web", &ports).is_ok().then_some((free, ports))
        })
        .expect("a free port to publish");
    let published = env.nm.publish(&id, &env.project, &ports).unwrap();
    assert_eq!(published[0].host_port, free);
    assert!(published[1].host_port > 0 && published[1].host_ip == "0.0.0.0");
    // No host ip: on [::] too, with the same port, as Docker publishes it (where the host has
    // IPv6; without it, only on 0.0.0.0).
    if v6 {
        assert_eq!((published[2].host_ip.as_str(), published[2].host_port), ("::", published[1].host_port));
    }
    assert_eq!(env.nm.published_ports(&id).unwrap(), published);
    for p in &published[..tcp_conns] {
        // The [::] side from ::1, forwarded to the container's (IPv4) address.
        let at: std::net::IpAddr =
            if p.host_ip == "::" { "::1".parse().unwrap() } else { "127.0.0.1".parse().unwrap() };
        let mut s = TcpStream::connect((at, p.host_port)).unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        assert_eq!(buf, "tcp-ok");
    }
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.send_to(b"udp-ok", ("127.0.0.1", published[tcp_conns].host_port)).unwrap();
    let mut buf = [0u8; 64];
    let n = u.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"udp-ok");
    tcp.join().unwrap();
    udp.join().unwrap();
    // The port is ours now: the check passes for a replacement, a stranger's bind fails.
    env.nm.check_ports_free(&env.project, "web", &ports[..1]).unwrap();
    assert!(TcpListener::bind(("127.0.0.1", free)).is_err());
    // Another project of this root may not take it; the error names who holds it.
    let other = env.nm.check_ports_free("someone-else", "web", &ports[..1]).unwrap_err().to_string();
    assert!(other.contains(&format!("port {free}/tcp")) && other.contains(&format!("`{id}`")), "{other}");
    teardown_and_check(&env, &["web"], &["default"]);
    assert!(TcpListener::bind(("127.0.0.1", free)).is_ok(), "port still held after teardown");
}

#[test]
fn port_in_use_is_reported_before_anything_is_made() {
    if !support::require_root() {
        return;
    }
    let env = env("busy");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = busy.local_addr().unwrap().port();
    let err = env
        .nm
        .check_ports_free(&env.project, "web", &[port(80, Some(p.to_string()), None, Protocol::Tcp)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("port {p}/tcp of service `web` is already in use on 0.0.0.0; choose another host port")
    );
    // A range with one free port is fine.
    let range = format!("{p}-{}", p.saturating_add(1));
    let ok = env.nm.check_ports_free(&env.project, "web", &[port(80, Some(range), Some("127.0.0.1"), Protocol::Tcp)]);
    assert!(ok.is_ok() || TcpListener::bind(("127.0.0.1", p + 1)).is_err());
    assert!(env.nm.list_networks(None).unwrap().is_empty());
    assert_clean(&env, &[], &[]);
}

#[test]
fn two_projects_with_the_same_names_side_by_side() {
    if !support::require_root() {
        return;
    }
    let one = env("pa");
    let two = env("pb");
    let a = one.ensure("default", false);
    let b = two.ensure("default", false);
    assert_ne!(a.bridge, b.bridge);
    assert_ne!(a.subnet, b.subnet);
    one.sandbox("web", &["default"]);
    two.sandbox("web", &["default"]);
    teardown_and_check(&one, &["web"], &["default"]);
    assert!(common::link_exists(&b.bridge), "tearing down one project touched the other");
    teardown_and_check(&two, &["web"], &["default"]);
}

/// Plumbing cost per container (ensure_network + create_sandbox + attach + teardown), printed
/// for the report; the target is well under 10 ms per container.
#[test]
fn plumbing_for_ten_containers_is_fast() {
    if !support::require_root() {
        return;
    }
    let env = env("perf");
    let t0 = Instant::now();
    env.ensure("default", false);
    let t_net = t0.elapsed();
    let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    let (mut t_ns, mut t_attach) = (Duration::ZERO, Duration::ZERO);
    for n in &names {
        let t = Instant::now();
        env.nm.create_sandbox(&env.id(n)).unwrap();
        t_ns += t.elapsed();
        let t = Instant::now();
        env.nm.attach(&env.id(n), &[Attachment { network: env.net("default"), ..Default::default() }]).unwrap();
        t_attach += t.elapsed();
    }
    let t_setup = t_ns + t_attach;
    let t2 = Instant::now();
    for n in &names {
        env.nm.teardown_sandbox(&env.id(n)).unwrap();
    }
    let t_down = t2.elapsed();
    env.nm.remove_network(&env.net("default")).unwrap();
    eprintln!(
        "PERF network: ensure_network {:.1} ms; setup {:.2} ms/container (netns {:.2}, attach {:.2}); teardown {:.2} ms/container",
        t_net.as_secs_f64() * 1e3,
        t_setup.as_secs_f64() * 1e3 / 10.0,
        t_ns.as_secs_f64() * 1e3 / 10.0,
        t_attach.as_secs_f64() * 1e3 / 10.0,
        t_down.as_secs_f64() * 1e3 / 10.0
    );
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_clean(&env, &refs, &["default"]);
}
