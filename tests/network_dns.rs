//! The embedded DNS server, as root with the busybox fixture: containers resolve their peers'
//! service names, aliases, hostnames and replicas over DNS (busybox `nslookup` asks the
//! server in resolv.conf directly, never /etc/hosts), only on networks they share; names of
//! containers added later resolve at once and removed ones stop resolving; other names go to
//! the upstream — a responder of this test on 127.0.0.1, never the machine's resolver — except
//! from containers only on internal networks. The packet path is attacked from inside a
//! container's namespace: garbage, a TCP connection flood and idle connections.

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use support::stack::Stack;

/// A DNS responder on 127.0.0.1 (UDP and TCP, one port): `upstream.test` is 192.0.2.7,
/// everything else NXDOMAIN. Counts the queries and remembers their names.
struct Upstream {
    port: u16,
    queries: Arc<AtomicUsize>,
    names: Arc<Mutex<Vec<String>>>,
}

fn respond(query: &[u8]) -> Option<Vec<u8>> {
    let q = Message::from_vec(query).ok()?;
    let mut m = Message::new();
    m.set_id(q.id()).set_message_type(MessageType::Response).set_recursion_available(true);
    let question = q.queries().first()?.clone();
    let ours = question.name().to_ascii().eq_ignore_ascii_case("upstream.test.");
    if ours && question.query_type() == RecordType::A {
        m.add_answer(Record::from_rdata(question.name().clone(), 60, RData::A(A(Ipv4Addr::new(192, 0, 2, 7)))));
    } else if !ours {
        m.set_response_code(ResponseCode::NXDomain);
    }
    m.add_query(question);
    m.to_vec().ok()
}

impl Upstream {
    fn start() -> Upstream {
        let (udp, tcp) = loop {
            let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
            let port = tcp.local_addr().unwrap().port();
            if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)) {
                break (udp, tcp);
            }
        };
        let port = udp.local_addr().unwrap().port();
        let queries = Arc::new(AtomicUsize::new(0));
        let names = Arc::new(Mutex::new(Vec::new()));
        let note = {
            let (queries, names) = (queries.clone(), names.clone());
            move |q: &[u8]| {
                queries.fetch_add(1, Ordering::SeqCst);
                if let Some(n) =
                    Message::from_vec(q).ok().and_then(|m| m.queries().first().map(|q| q.name().to_ascii()))
                {
                    names.lock().unwrap().push(n);
                }
            }
        };
        let udp_note = note.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf) {
                udp_note(&buf[..n]);
                if let Some(r) = respond(&buf[..n]) {
                    let _ = udp.send_to(&r, peer);
                }
            }
        });
        std::thread::spawn(move || {
            for mut s in tcp.incoming().flatten() {
                let mut len = [0u8; 2];
                if s.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                if s.read_exact(&mut q).is_err() {
                    continue;
                }
                note(&q);
                if let Some(r) = respond(&q) {
                    let mut framed = (r.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&r);
                    let _ = s.write_all(&framed);
                }
            }
        });
        Upstream { port, queries, names }
    }

    fn count(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

fn stack(name: &str, yaml: &str, up: &Upstream) -> Stack {
    let mut s = Stack::new(name).image("busybox:latest").file(yaml);
    s.dns_upstream = format!("127.0.0.1:{}", up.port);
    s.up(&["-d"]).success();
    s
}

/// The container's address on `network` (the project's `<project>_<key>`).
fn ip_of(s: &Stack, service: &str, n: u32, key: &str) -> String {
    let net = format!("{}_{key}", s.project);
    let eps = berth::network::NetworkManager::new(&s.roots).endpoints(&s.name(service, n)).expect("endpoints");
    eps.into_iter().find(|e| e.network == net).map(|e| e.ip).unwrap_or_else(|| panic!("{service} not on {net}"))
}

fn nslookup(s: &Stack, svc: &str, name: &str) -> support::stack::Run {
    s.berth(&["exec", svc, "nslookup", name])
}

#[test]
fn names_resolve_over_dns_on_shared_networks_only() {
    if !support::require_root() {
        return;
    }
    let up = Upstream::start();
    let mut s = stack(
        "dnsnames",
        r#"
services:
  web:
    image: busybox:latest
    command: [sleep, "600"]
    networks: [front]
    deploy: {replicas: 2}
  api:
    image: busybox:latest
    command: [sleep, "600"]
    networks:
      front: {aliases: [backend-api]}
      back: {}
  db:
    image: busybox:latest
    command: [sleep, "600"]
    hostname: database
    networks: [back]
  lone:
    image: busybox:latest
    command: [sleep, "600"]
    networks: [inner]
networks:
  front: {}
  back: {}
  inner: {internal: true}
"#,
        &up,
    );
    let resolv = s.berth(&["exec", "api", "cat", "/etc/resolv.conf"]);
    assert!(resolv.success().stdout().starts_with("nameserver 127.0.0.11\n"), "{}", resolv.stdout());

    // Both replicas of web, from api (front).
    let out = nslookup(&s, "api", "web");
    let text = out.success().stdout();
    for n in [1, 2] {
        let ip = ip_of(&s, "web", n, "front");
        assert!(text.contains(&ip), "web-{n} ({ip}) missing: {text}");
    }
    // An alias, a hostname and a name on the other shared network.
    assert!(nslookup(&s, "web", "backend-api").success().stdout().contains(&ip_of(&s, "api", 1, "front")));
    assert!(nslookup(&s, "api", "database").success().stdout().contains(&ip_of(&s, "db", 1, "back")));
    assert!(nslookup(&s, "api", "DB").success().stdout().contains(&ip_of(&s, "db", 1, "back")));
    // Reverse: db's address names db's container.
    let rev = nslookup(&s, "api", &ip_of(&s, "db", 1, "back"));
    assert!(rev.success().stdout().contains(&s.name("db", 1)), "{}", rev.text());

    // web is not on back: db is not answered locally; it went upstream, which said NXDOMAIN.
    let before = up.count();
    let miss = nslookup(&s, "web", "db");
    miss.failure();
    assert!(!miss.stdout().contains(&ip_of(&s, "db", 1, "back")), "{}", miss.text());
    assert!(up.count() > before, "the unknown name was not forwarded");
    assert!(up.names.lock().unwrap().iter().any(|n| n.starts_with("db.")), "{:?}", up.names.lock().unwrap());

    // Other names are forwarded (to this test's upstream).
    assert!(nslookup(&s, "web", "upstream.test").success().stdout().contains("192.0.2.7"));
    // Not from a container only on an internal network: NXDOMAIN, and nothing reaches upstream.
    let before = up.count();
    nslookup(&s, "lone", "upstream.test").failure();
    assert_eq!(up.count(), before, "a query left an internal network");
    // Its own network's names still resolve there.
    assert!(nslookup(&s, "lone", "lone").success().stdout().contains(&ip_of(&s, "lone", 1, "inner")));
    s.down_clean();
}

#[test]
fn late_containers_resolve_at_once_and_removed_ones_stop() {
    if !support::require_root() {
        return;
    }
    let up = Upstream::start();
    let two = "services:\n  a: {image: busybox:latest, command: [sleep, '600']}\n  b: {image: busybox:latest, command: [sleep, '600']}\n";
    let mut s = stack("dnslate", two, &up);
    let a_pid = s.runtime_state("a", 1).and_then(|st| st.pid).expect("a's pid");
    assert!(nslookup(&s, "a", "b").success().stdout().contains(&ip_of(&s, "b", 1, "default")));
    nslookup(&s, "a", "c").failure();

    s.write(&format!("{two}  c: {{image: busybox:latest, command: [sleep, '600']}}\n"));
    s.up(&["-d"]).success();
    // At once: the first query after `up` returns, from a container that was not restarted.
    let c_ip = ip_of(&s, "c", 1, "default");
    let found = nslookup(&s, "a", "c");
    assert!(found.success().stdout().contains(&c_ip), "{}", found.text());
    assert_eq!(s.runtime_state("a", 1).and_then(|st| st.pid), Some(a_pid), "a was restarted");

    s.write(two);
    s.up(&["-d", "--remove-orphans"]).success();
    let gone = nslookup(&s, "a", "c");
    gone.failure();
    assert!(!gone.stdout().contains(&c_ip), "{}", gone.text());

    // A killed server is back after the next `up`, even one with nothing else to do.
    let pid: i32 = std::fs::read_to_string(s.roots.run.join("dns/pid")).expect("pid file").trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    s.eventually(Duration::from_secs(10), "the server gone", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    nslookup(&s, "a", "b").failure();
    s.up(&["-d"]).success();
    assert!(nslookup(&s, "a", "b").success().stdout().contains(&ip_of(&s, "b", 1, "default")));
    s.down_clean();
}

/// Runs `f` on a thread inside the network namespace of `container` (as the container's own
/// processes would be), so the test can talk to 127.0.0.11 with raw packets.
fn in_netns<T: Send + 'static>(s: &Stack, container: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = berth::network::NetworkManager::new(&s.roots).sandbox_path(container);
    let ns = std::fs::File::open(&path).expect("open netns");
    std::thread::spawn(move || {
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("netns thread")
}

fn query(name: &str) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(0x4242).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    m.to_vec().unwrap()
}

fn udp_ask(q: &[u8]) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(q, "127.0.0.11:53").unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    Message::from_vec(&buf[..n]).ok()
}

fn tcp_ask(s: &mut TcpStream, q: &[u8]) -> Option<Message> {
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(q);
    s.write_all(&framed).ok()?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut body).ok()?;
    Message::from_vec(&body).ok()
}

fn addresses(m: &Message) -> Vec<String> {
    m.answers().iter().map(|r| r.data().to_string()).collect()
}

#[test]
fn the_packet_path_survives_garbage_floods_and_idle_connections() {
    if !support::require_root() {
        return;
    }
    let up = Upstream::start();
    let mut s = stack(
        "dnsattack",
        "services:\n  a: {image: busybox:latest, command: [sleep, '600']}\n  b: {image: busybox:latest, command: [sleep, '600']}\n",
        &up,
    );
    let b_ip = ip_of(&s, "b", 1, "default");
    let idle_limit = support::patience(Duration::from_secs(30));
    let (garbage, flood, idle_closed, tcp_forward, after) = in_netns(&s, &s.name("a", 1), move || {
        // Garbage of every size, and a "response" (which must never be answered).
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        for len in [0usize, 1, 11, 12, 13, 100, 512, 1500, 4000] {
            let junk: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let _ = sock.send_to(&junk, "127.0.0.11:53");
        }
        let mut resp = query("b");
        resp[2] |= 0x80;
        let _ = sock.send_to(&resp, "127.0.0.11:53");
        let garbage = udp_ask(&query("b")).map(|m| addresses(&m));

        // 40 TCP connections held open: the server serves at most 16 at once and closes the
        // rest; every query on a served connection is answered.
        let mut conns: Vec<TcpStream> = (0..40).filter_map(|_| TcpStream::connect("127.0.0.11:53").ok()).collect();
        let mut answered = 0;
        for c in conns.iter_mut() {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            if tcp_ask(c, &query("b")).is_some() {
                answered += 1;
            }
        }
        drop(conns);

        // An idle connection is closed by the server (read returns 0), well before our limit.
        let mut idle = TcpStream::connect("127.0.0.11:53").unwrap();
        idle.set_read_timeout(Some(idle_limit)).unwrap();
        let t0 = std::time::Instant::now();
        let closed = matches!(idle.read(&mut [0u8; 1]), Ok(0)) && t0.elapsed() < idle_limit;

        // Forwarding over TCP, then a normal query still answered.
        std::thread::sleep(Duration::from_millis(200));
        let mut c = TcpStream::connect("127.0.0.11:53").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let fwd = tcp_ask(&mut c, &query("upstream.test")).map(|m| addresses(&m));
        let after = udp_ask(&query("b")).map(|m| addresses(&m));
        (garbage, answered, closed, fwd, after)
    });
    assert_eq!(garbage, Some(vec![b_ip.clone()]), "after garbage, b still resolves");
    assert!((1..=16).contains(&flood), "{flood} of 40 held TCP connections were served (limit 16)");
    assert!(idle_closed, "an idle TCP connection was not closed by the server");
    assert_eq!(tcp_forward, Some(vec!["192.0.2.7".to_string()]), "forwarding over TCP");
    assert_eq!(after, Some(vec![b_ip]), "the server still answers");
    s.down_clean();
}

#[test]
fn a_services_dns_servers_and_search_domains_are_used() {
    if !support::require_root() {
        return;
    }
    let up = Upstream::start();
    // The host's upstream is the discard port: only `ext`'s own server answers.
    let yaml = format!(
        "services:\n  ext:\n    image: busybox:latest\n    command: [sleep, '600']\n    dns: ['127.0.0.1:{}']\n    dns_search: [corp.test]\n    dns_opt: [timeout:2]\n  plain:\n    image: busybox:latest\n    command: [sleep, '600']\n",
        up.port
    );
    let mut s = Stack::new("dnsext").image("busybox:latest").file(&yaml);
    s.up(&["-d"]).success();
    let resolv = s.berth(&["exec", "ext", "cat", "/etc/resolv.conf"]).success().stdout();
    assert!(resolv.starts_with("nameserver 127.0.0.11\n"), "{resolv}");
    assert!(resolv.contains("search corp.test\n") && resolv.contains("options ndots:0 timeout:2\n"), "{resolv}");
    assert!(nslookup(&s, "ext", "upstream.test").success().stdout().contains("192.0.2.7"));
    let before = up.count();
    nslookup(&s, "plain", "upstream.test").failure();
    assert_eq!(up.count(), before, "plain's queries must go to the host's upstream, not ext's server");
    // Peers still resolve locally for ext (absolute: busybox's nslookup only tries the
    // search domains with one set, whatever ndots says; glibc tries the bare name first).
    assert!(nslookup(&s, "ext", "plain.").success().stdout().contains(&ip_of(&s, "plain", 1, "default")));
    s.down_clean();
}

/// A container's default hostname resolves to its own address (`hostname -i`, the glibc
/// lookup of busybox), even for a container whose name hashes to twelve decimal digits —
/// glibc takes such a name for a number — as Docker never gives an all-digit short id.
/// (The v2 guest's pids once made such a name: `hostname -i` failed with "Unknown host".)
#[test]
fn a_default_hostname_is_never_all_digits_and_resolves() {
    if !support::require_root() {
        return;
    }
    let up = Upstream::start();
    let s = Stack::new("dnsnum").image("busybox:latest");
    // A service name whose container name hashes to 12 digits (about one in 280).
    let numeric = (0..50_000)
        .map(|i| format!("s{i}"))
        .find(|svc| berth::common::ids::short_hash(&s.name(svc, 1), 12).bytes().all(|b| b.is_ascii_digit()))
        .expect("a service name whose container name hashes to digits");
    let mut s = s.file(&format!("services:\n  {numeric}: {{image: busybox:latest, command: [sleep, '600']}}\n"));
    s.dns_upstream = format!("127.0.0.1:{}", up.port);
    s.up(&["-d"]).success();
    let ip = ip_of(&s, &numeric, 1, "default");
    let hostname = s.berth(&["exec", &numeric, "hostname"]).success().stdout().trim().to_string();
    assert_eq!(hostname.len(), 12, "{hostname}");
    assert!(!hostname.bytes().all(|b| b.is_ascii_digit()), "an all-digit hostname: {hostname}");
    let own = s.berth(&["exec", &numeric, "hostname", "-i"]);
    assert_eq!(own.success().stdout().trim(), ip, "{}", own.text());
    s.down_clean();
}

/// Many clients at once find no server and need one (parallel teardowns and starts do): one
/// server runs at a time, each client is answered, and none is left once nothing uses it.
/// Before the spawn lock, two clients each started a server; one was answered by the other's,
/// and its own, slow to start, took over after the first exited and waited for ever (a server
/// left behind by `down` in the v2 guest).
#[test]
fn racing_clients_leave_no_dns_server_behind() {
    if !support::require_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let roots = berth::paths::Roots::new(Some(tmp.path()));
    let nm = berth::network::NetworkManager::new(&roots).with_proxy_binary(env!("CARGO_BIN_EXE_berth"));
    let servers = || {
        let args = format!("__dns --state {} ", roots.state.display());
        support::stack::processes_of(&roots.state.to_string_lossy())
            .into_iter()
            .filter(|(_, c)| c.contains(&args))
            .count()
    };
    for round in 0..10 {
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| nm.sync_dns().expect("sync"));
            }
        });
        assert_eq!(servers(), 0, "round {round}: a DNS server with nothing to serve is left");
    }
}
