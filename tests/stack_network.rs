//! End-to-end networking through the real `berth` CLI: network modes (host, none,
//! service:NAME), replicas resolving by name, isolation between networks and projects, an
//! internal network without a default route, published TCP/UDP ports (fixed, ranged,
//! ephemeral), and 20 up/down cycles that leave the host as it was.

mod support;

use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::stack::{assert_clean, containers_of, processes_of, sh, sh_until_ok, Stack};

const WAIT: Duration = Duration::from_secs(10);

/// A host TCP port that is free right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Two consecutive free TCP ports.
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

#[track_caller]
fn http_until_ok(s: &Stack, port: u16, path: &str) -> String {
    let mut got = None;
    s.eventually(WAIT, &format!("http on 127.0.0.1:{port}"), || {
        got = support::http::get(port, path);
        got.is_some()
    });
    got.unwrap_or_default()
}

/// A shell command serving `text` as /index.html with busybox httpd on each port.
fn httpd(text: &str, ports: &[u16]) -> String {
    let mut cmd = format!("mkdir -p /www && echo {text} > /www/index.html");
    for p in ports {
        cmd.push_str(&format!(" && httpd -p {p} -h /www"));
    }
    cmd + " && exec sleep 600"
}

fn host_links() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn host_netns() -> String {
    std::fs::read_link("/proc/self/ns/net").unwrap().to_string_lossy().into_owned()
}

#[test]
fn network_mode_host_shares_the_hosts_stack() {
    if !support::require_root() {
        return;
    }
    let port = free_port();
    let mut s = Stack::new("nethost").image("busybox:latest").file(&format!(
        r#"
services:
  h:
    image: busybox:latest
    network_mode: host
    command: [sh, -c, "{}"]
"#,
        httpd("on-the-host", &[port])
    ));
    s.up(&["-d"]).success();
    let ns = sh_until_ok(&s, "h", "readlink /proc/self/ns/net");
    assert_eq!(ns.trim(), host_netns(), "the container is not in the host's netns");
    let inside: BTreeSet<String> =
        sh(&s, "h", "ls /sys/class/net").stdout().split_whitespace().map(String::from).collect();
    let host_only: Vec<_> = host_links().into_iter().filter(|l| l != "lo" && l != "eth0").collect();
    if let Some(name) = host_only.iter().find(|l| !l.starts_with("bv") && !l.starts_with("bth-")) {
        assert!(inside.contains(name), "host link {name} not seen inside: {inside:?}");
    }
    // A listener in the container is the host's listener.
    assert!(http_until_ok(&s, port, "/").contains("on-the-host"));
    s.down_clean();
}

#[test]
fn network_mode_none_has_only_loopback() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("netnone")
        .image("busybox:latest")
        .file("services:\n  n: {image: busybox:latest, network_mode: none, command: [sleep, \"600\"]}\n");
    s.up(&["-d"]).success();
    let links = sh_until_ok(&s, "n", "ls /sys/class/net");
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    assert_ne!(sh(&s, "n", "readlink /proc/self/ns/net").stdout().trim(), host_netns());
    // Nothing is routable (the kernel prints not even the header while the main table is empty).
    let route = sh(&s, "n", "cat /proc/net/route").stdout();
    assert!(route.lines().nth(1).is_none(), "routes in a none-mode container:\n{route}");
    s.down_clean();
}

#[test]
fn network_mode_none_has_loopback_up() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("netnonelo").image("busybox:latest").file(&format!(
        "services:\n  n: {{image: busybox:latest, network_mode: none, command: [sh, -c, \"{}\"]}}\n",
        httpd("loopback-ok", &[8080])
    ));
    s.up(&["-d"]).success();
    let got = sh_until_ok(&s, "n", "timeout 5 wget -qO- http://127.0.0.1:8080/");
    assert_eq!(got.trim(), "loopback-ok");
    s.down_clean();
}

#[test]
fn network_mode_service_shares_one_netns() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("netsvc").image("busybox:latest").file(&format!(
        r#"
services:
  app:
    image: busybox:latest
    command: [sh, -c, "{}"]
  sidecar:
    image: busybox:latest
    network_mode: "service:app"
    depends_on: [app]
    command: [sleep, "600"]
"#,
        httpd("from-app", &[8080])
    ));
    s.up(&["-d"]).success();
    let got = sh_until_ok(&s, "sidecar", "timeout 5 wget -qO- http://127.0.0.1:8080/");
    assert_eq!(got.trim(), "from-app");
    let a = sh(&s, "app", "readlink /proc/self/ns/net").stdout();
    let b = sh(&s, "sidecar", "readlink /proc/self/ns/net").stdout();
    assert_eq!(a, b, "app and sidecar are in different netns");
    s.down_clean();
}

#[test]
fn three_replicas_resolve_by_name_and_are_listed() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("replicas").image("busybox:latest").file(
        r#"
services:
  web: {image: busybox:latest, command: [sleep, "600"], deploy: {replicas: 3}}
  client: {image: busybox:latest, command: [sleep, "600"], depends_on: [web]}
"#,
    );
    s.up(&["-d"]).success();
    let hosts = sh_until_ok(&s, "client", "cat /etc/hosts");
    let web_addrs: BTreeSet<&str> = hosts
        .lines()
        .filter(|l| l.split_whitespace().skip(1).any(|n| n == "web"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(web_addrs.len(), 3, "`web` should name 3 addresses:\n{hosts}");
    for n in 1..=3 {
        let name = s.name("web", n);
        sh_until_ok(&s, "client", &format!("ping -c1 -W2 {name}"));
    }
    sh_until_ok(&s, "client", "ping -c1 -W2 web");
    let ps = s.berth(&["ps"]);
    ps.success();
    let listed = (1..=3).filter(|n| ps.stdout().contains(&s.name("web", *n))).count();
    assert_eq!(listed, 3, "{}", ps.stdout());
    s.down_clean();
}

#[test]
fn other_networks_names_do_not_resolve_and_internal_has_no_default_route() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("netiso").image("busybox:latest").file(
        r#"
services:
  front: {image: busybox:latest, command: [sleep, "600"], networks: [outside]}
  middle: {image: busybox:latest, command: [sleep, "600"], networks: [outside, vault]}
  secret: {image: busybox:latest, command: [sleep, "600"], networks: [vault]}
networks:
  outside: {}
  vault: {internal: true}
"#,
    );
    s.up(&["-d"]).success();
    sh_until_ok(&s, "front", "ping -c1 -W2 middle");
    sh_until_ok(&s, "secret", "ping -c1 -W2 middle");
    for (from, to) in [("front", "secret".to_string()), ("front", s.name("secret", 1)), ("secret", "front".to_string())]
    {
        let r = sh(&s, from, &format!("grep -w {to} /etc/hosts; ping -c1 -W1 {to}"));
        assert_ne!(r.code(), 0, "{from} resolves {to}:\n{}", r.text());
    }
    // /proc/net/route: a default route has destination 00000000.
    let default_route = |svc: &str| {
        sh(&s, svc, "cat /proc/net/route")
            .stdout()
            .lines()
            .skip(1)
            .any(|l| l.split_whitespace().nth(1) == Some("00000000"))
    };
    assert!(default_route("front"), "a normal network has a default route");
    assert!(!default_route("secret"), "an internal network has a default route");
    s.down_clean();
}

/// Echo every datagram on UDP `port` inside the netns of `pid` (a thread of the test in the
/// container's network namespace: busybox's nc has no UDP mode) until `stop`.
fn udp_echo_in(pid: i32, port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("open netns");
    std::thread::spawn(move || {
        // setns(2) moves only this thread.
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let sock = UdpSocket::bind(("0.0.0.0", port)).expect("bind udp in the container");
        sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut buf = [0u8; 512];
        while !stop.load(Ordering::SeqCst) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                let mut reply = b"echo:".to_vec();
                reply.extend_from_slice(&buf[..n]);
                let _ = sock.send_to(&reply, from);
            }
        }
    })
}

fn udp_ask(port: u16) -> Option<String> {
    let c = UdpSocket::bind("127.0.0.1:0").ok()?;
    c.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
    c.send_to(b"ping", ("127.0.0.1", port)).ok()?;
    let mut buf = [0u8; 512];
    let (n, _) = c.recv_from(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn published_tcp_and_udp_ports_answer_on_loopback() {
    if !support::require_root() {
        return;
    }
    let tcp = free_port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut s = Stack::new("ports").image("busybox:latest").file(&format!(
        r#"
services:
  web:
    image: busybox:latest
    command: [sh, -c, "{}"]
    ports: ["127.0.0.1:{tcp}:80", "127.0.0.1:{udp}:5000/udp"]
"#,
        httpd("tcp-ok", &[80])
    ));
    s.up(&["-d"]).success();
    assert!(http_until_ok(&s, tcp, "/").contains("tcp-ok"));
    let pid = s.runtime_state("web", 1).and_then(|st| st.pid).expect("web's pid");
    let stop = Arc::new(AtomicBool::new(false));
    let echo = udp_echo_in(pid, 5000, stop.clone());
    let mut got = None;
    s.eventually(WAIT, "a udp answer", || {
        got = udp_ask(udp);
        got.is_some()
    });
    assert_eq!(got.as_deref(), Some("echo:ping"));
    stop.store(true, Ordering::SeqCst);
    echo.join().unwrap();
    s.down_clean();
}

#[test]
fn a_published_port_range_maps_each_port() {
    if !support::require_root() {
        return;
    }
    let p = free_port_pair();
    let mut s = Stack::new("range").image("busybox:latest").file(&format!(
        r#"
services:
  web:
    image: busybox:latest
    command: [sh, -c, "{}"]
    ports: ["127.0.0.1:{p}-{}:80-81"]
"#,
        httpd("ranged", &[80, 81]),
        p + 1
    ));
    s.up(&["-d"]).success();
    assert!(http_until_ok(&s, p, "/").contains("ranged"));
    assert!(http_until_ok(&s, p + 1, "/").contains("ranged"));
    let port = s.berth(&["port", "web", "81"]);
    port.success();
    assert!(port.stdout().trim().ends_with(&format!(":{}", p + 1)), "{}", port.stdout());
    s.down_clean();
}

#[test]
fn a_port_without_a_host_side_gets_an_ephemeral_port() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("ephemeral").image("busybox:latest").file(&format!(
        "services:\n  web: {{image: busybox:latest, command: [sh, -c, \"{}\"], ports: [\"80\"]}}\n",
        httpd("ephemeral-ok", &[80])
    ));
    s.up(&["-d"]).success();
    let r = s.berth(&["port", "web", "80"]);
    r.success();
    let out = r.stdout();
    let host_port: u16 = out.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    assert_ne!(host_port, 0);
    assert_ne!(host_port, 80);
    assert!(http_until_ok(&s, host_port, "/").contains("ephemeral-ok"));
    let ps = s.berth(&["ps"]);
    assert!(ps.stdout().contains(&host_port.to_string()), "ps does not show the port:\n{}", ps.stdout());
    s.down_clean();
}

const TWIN: &str = r#"
services:
  web: {image: busybox:latest, command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && httpd -p 80 -h /www && exec sleep 600"]}
  client: {image: busybox:latest, command: [sleep, "600"]}
"#;

#[test]
fn two_projects_with_the_same_service_names_stay_apart() {
    if !support::require_root() {
        return;
    }
    let mut a = Stack::new("twina").image("busybox:latest").file(TWIN);
    let mut b = Stack::new("twinb").image("busybox:latest").file(TWIN);
    a.up(&["-d"]).success();
    b.up(&["-d"]).success();
    for (me, other) in [(&a, &b), (&b, &a)] {
        let mine = sh_until_ok(me, "client", "timeout 5 wget -qO- http://web/");
        let my_host = sh(me, "web", "hostname").stdout();
        assert_eq!(mine.trim(), my_host.trim(), "{} reached another project's web", me.project);
        let theirs = other.name("web", 1);
        let r = sh(me, "client", &format!("grep -w {theirs} /etc/hosts; ping -c1 -W1 {theirs}"));
        assert_ne!(r.code(), 0, "{} resolves {theirs}:\n{}", me.project, r.text());
    }
    a.down_clean();
    assert!(sh(&b, "client", "timeout 5 wget -qO- http://web/").code() == 0, "b broke with a's down");
    b.down_clean();
}

/// What of this stack is on the host: mounts under its root, its links, cgroup dirs, processes.
fn footprint(s: &Stack, links: &[String]) -> BTreeSet<String> {
    let root = s.tmp.path().to_string_lossy().into_owned();
    let mut out: BTreeSet<String> = std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&root) || l.contains(&s.project))
        .map(|l| format!("mount {l}"))
        .collect();
    out.extend(host_links().into_iter().filter(|l| links.contains(l)).map(|l| format!("link {l}")));
    for cg in support::berth_cgroups() {
        if cg.file_name().unwrap_or_default().to_string_lossy().starts_with(&s.project) {
            out.insert(format!("cgroup {}", cg.display()));
        }
    }
    out.extend(processes_of(&s.project).into_iter().map(|(pid, cmd)| format!("pid {pid} {cmd}")));
    out
}

#[test]
fn twenty_up_down_cycles_leave_the_host_as_before() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("twenty").image("busybox:latest").file(
        r#"
services:
  a: {image: busybox:latest, command: [sleep, "600"], ports: ["127.0.0.1::80"], networks: [back]}
  b: {image: busybox:latest, command: [sleep, "600"], depends_on: [a], networks: [back]}
networks:
  back: {}
"#,
    );
    let net = format!("{}_back", s.project);
    let links: Vec<String> = vec![
        berth::network::names::bridge_name(s.roots.id(), &net),
        berth::network::names::veth_name(s.roots.id(), &s.name("a", 1), &net),
        berth::network::names::veth_name(s.roots.id(), &s.name("b", 1), &net),
    ];
    let before = footprint(&s, &links);
    assert!(before.is_empty(), "{before:?}");
    // BERTH_TEST_CYCLES lowers the count where each cycle is slow (scripts/test-v2's
    // emulated guest); 20 here, where leaks that show only now and then get their chances.
    let cycles = std::env::var("BERTH_TEST_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    for i in 0..cycles {
        s.up(&["-d"]).success();
        assert_eq!(containers_of(&s.roots, &s.project).len(), 2);
        if i == 0 {
            // The footprint sees the stack while it is up, so an empty one after means gone.
            let up = footprint(&s, &links);
            for kind in ["mount ", "cgroup ", "pid "] {
                assert!(up.iter().any(|l| l.starts_with(kind)), "no {kind}seen while up: {up:?}");
            }
            assert!(up.contains(&format!("link {}", links[0])), "bridge not seen while up: {up:?}");
        }
        s.berth(&["down", "-v"]).success();
        assert_clean(&s.roots, &s.project);
        let after = footprint(&s, &links);
        assert_eq!(after, before, "cycle {i} left things behind");
    }
    s.down_clean();
}

/// The address `name` has in `s`'s client's hosts file.
fn address_of(s: &Stack, name: &str) -> String {
    let hosts = sh_until_ok(s, "client", "cat /etc/hosts");
    let line = hosts.lines().find(|l| l.split_whitespace().skip(1).any(|n| n == name));
    line.and_then(|l| l.split_whitespace().next()).unwrap_or_else(|| panic!("no {name} in:\n{hosts}")).to_string()
}

#[test]
fn one_projects_containers_cannot_reach_anothers_by_address() {
    if !support::require_root() {
        return;
    }
    let mut a = Stack::new("isoa").image("busybox:latest").file(TWIN);
    let mut b = Stack::new("isob").image("busybox:latest").file(TWIN);
    a.up(&["-d"]).success();
    b.up(&["-d"]).success();
    let b_web = address_of(&b, "web");
    sh_until_ok(&b, "client", &format!("timeout 5 wget -qO- http://{b_web}/"));
    let r = sh(&a, "client", &format!("timeout 3 wget -qO- http://{b_web}/"));
    assert_ne!(r.code(), 0, "{} reached {}'s web at {b_web}: {}", a.project, b.project, r.text());
    a.down_clean();
    b.down_clean();
}

#[test]
fn a_path_without_sbin_keeps_the_same_firewall() {
    if !support::require_root() {
        return;
    }
    use berth::network::firewall::{self, Driver};
    // The driver berth picks with this process's PATH (which has the sbin directories).
    let Ok(Some(Driver::Iptables)) = firewall::driver() else {
        eprintln!("SKIP: the iptables driver is not this host's choice");
        return;
    };
    let mut s = Stack::new("sbinpath")
        .image("busybox:latest")
        .file("services: {a: {image: busybox:latest, command: [sleep, '600']}}\n");
    // A cron job's or a user's PATH: no /usr/sbin, no /sbin.
    let out = s.command(&["up", "-d"]).env("PATH", "/usr/bin:/bin").output().expect("run berth");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bridge = berth::network::names::bridge_name(s.roots.id(), &format!("{}_default", s.project));
    let rules = std::process::Command::new(firewall::tool("iptables-save")).output().expect("iptables-save");
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(rules.contains(&bridge), "no iptables rule names {bridge}: the firewall went missing with the PATH");
    s.down_clean();
}
