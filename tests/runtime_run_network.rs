//! `berth run IMAGE` and build RUN steps on the default bridge, end to end through the real
//! binary: an address and a default route, /etc/hosts, /etc/hostname, --add-host, -p,
//! `--network none`, egress plumbing (a host listener on the bridge's gateway is reached from
//! a container and from a build step; the masquerade rule is there), the resolution hint of a
//! build without network, and nothing left after rm / exit (veth, address, sandbox files,
//! proxy; the bridge itself once the test removes it).
//!
//! Traffic stays on 127.0.0.1 and on the test's own bridge: nothing is sent anywhere else, and
//! no name is looked up with a network (the one unresolvable name is tried with none).

#[path = "runtime_common/mod.rs"]
mod common;
mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use berth::network::{NetworkManager, DEFAULT_NETWORK};
use berth::paths::Roots;
use berth::runtime::Runtime;

struct Cli {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// A failing test must not leak: containers force-removed, then the default bridge.
impl Drop for Cli {
    fn drop(&mut self) {
        let roots = Roots::new(Some(&self.root));
        let rt = Runtime::new(&roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
        for st in rt.list().unwrap_or_default() {
            let _ = rt.remove(&st.id, true);
            let _ = berth::network::release_container(&roots, &st.id);
        }
        let _ = support::remove_default_network(&self.root);
    }
}

fn cli() -> Cli {
    let dir = tempfile::Builder::new().prefix("berth-runnet-").tempdir().unwrap();
    let root = dir.path().join("root");
    support::import_busybox(&Roots::new(Some(&root)), "busybox:test");
    Cli { _dir: dir, root }
}

impl Cli {
    fn berth(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_berth")).arg("--root").arg(&self.root).args(args).output().unwrap()
    }

    /// Runs `args`, expects success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "berth {args:?}: {:?}\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn nm(&self) -> NetworkManager {
        NetworkManager::new(&Roots::new(Some(&self.root)))
    }

    /// The default bridge: (bridge name, subnet, gateway).
    fn bridge(&self) -> (String, String, Ipv4Addr) {
        let n = self.nm().list_networks(None).unwrap().into_iter().find(|n| n.name == DEFAULT_NETWORK).expect("bridge");
        (n.bridge, n.subnet, n.gateway.parse().unwrap())
    }

    /// Nothing of any container is left in the network layer: no sandbox record, netns,
    /// hosts files, address reservation, proxy; then the bridge goes, with its rules.
    fn assert_clean(&self) {
        let run = self.root.join("run");
        for d in ["sandboxes", "netns", "network"] {
            let left: Vec<_> =
                std::fs::read_dir(run.join(d)).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
            assert!(left.is_empty(), "left in run/{d}: {left:?}");
        }
        let proxies: Vec<_> = std::fs::read_dir(self.root.join("networks/proxy"))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(proxies.is_empty(), "proxy files left: {proxies:?}");
        if let Some(n) = self.nm().list_networks(None).unwrap().into_iter().find(|n| n.name == DEFAULT_NETWORK) {
            assert!(n.containers.is_empty(), "addresses still reserved: {:?}", n.containers);
            support::remove_default_network(&self.root).unwrap();
            assert!(!link_exists(&n.bridge), "bridge {} left", n.bridge);
            let rules = iptables_save();
            assert!(!rules.contains(&n.bridge), "rules of {} left:\n{rules}", n.bridge);
        }
        assert!(Runtime::new(&Roots::new(Some(&self.root))).list().unwrap().is_empty(), "containers left");
    }
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

fn iptables_save() -> String {
    String::from_utf8_lossy(&Command::new("iptables-save").output().unwrap().stdout).into_owned()
}

/// Host veths of the default bridge (its ports).
fn bridge_ports(bridge: &str) -> Vec<String> {
    std::fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
        .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn eventually(what: &str, f: impl FnMut() -> bool) {
    crate::support::eventually(what, Duration::from_secs(10), Duration::from_millis(20), f)
}

/// A free TCP port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn default_bridge_gives_address_route_hosts_and_hostname() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let script = "ip -4 -o addr show eth0; ip route; echo ---; cat /etc/hosts; echo ---; cat /etc/hostname; hostname";
    let out = c.ok(&["run", "--rm", "--add-host", "foo:10.1.2.3", "busybox:test", "sh", "-c", script]);
    let (bridge, subnet, gw) = c.bridge();
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 3, "{out}");
    let prefix = subnet.rsplit_once('.').unwrap().0;
    assert!(parts[0].contains(&format!("inet {prefix}.")), "eth0 has an address of {subnet}: {out}");
    assert!(parts[0].contains(&format!("default via {gw} dev eth0")), "default route via {gw}: {out}");
    let hosts = parts[1];
    let lines: Vec<&str> = parts[2].lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], lines[1], "/etc/hostname is the hostname: {out}");
    let hostname = lines[0];
    assert!(hosts.contains("127.0.0.1\tlocalhost\n"), "{hosts}");
    assert!(hosts.lines().any(|l| l.starts_with(&format!("{prefix}.")) && l.ends_with(hostname)), "own name: {hosts}");
    assert!(hosts.contains("10.1.2.3\tfoo\n"), "--add-host: {hosts}");
    // Egress: masquerade for the subnet, out of any interface but the bridge.
    let rules = iptables_save();
    assert!(rules.contains(&format!("-A POSTROUTING -s {subnet} ! -o {bridge} -j MASQUERADE")), "{rules}");
    assert!(bridge_ports(&bridge).is_empty(), "veth left on {bridge}: {:?}", bridge_ports(&bridge));

    // -h and --name: both in /etc/hosts, -h is the hostname.
    let out = c.ok(&[
        "run",
        "--rm",
        "-h",
        "myhost",
        "--name",
        "mybox",
        "busybox:test",
        "sh",
        "-c",
        "hostname; cat /etc/hosts",
    ]);
    assert!(out.starts_with("myhost\n"), "{out}");
    // One line for the container's address, with each of its names once.
    let own = |name: &str| {
        out.lines().any(|l| l.starts_with(&format!("{prefix}.")) && l.split_whitespace().skip(1).any(|n| n == name))
    };
    assert!(own("myhost") && own("mybox"), "{out}");
    c.assert_clean();
}

#[test]
fn network_none_has_only_loopback_and_host_is_refused_nothing() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let out = c.ok(&["run", "--rm", "--network", "none", "busybox:test", "sh", "-c", "ls /sys/class/net"]);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["lo"], "{out}");
    assert!(c.nm().list_networks(None).unwrap().is_empty(), "--network none made no bridge");
    let out = c.berth(&["run", "--rm", "--network", "nosuchnet", "busybox:test", "true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("network `nosuchnet` not found"), "{err}");
    c.assert_clean();
}

#[test]
fn published_port_serves_a_page_on_127_0_0_1() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let script = "mkdir /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www";
    let id = c.ok(&["run", "-d", "--name", "web", "-p", &publish, "busybox:test", "sh", "-c", script]);
    let id = id.trim();
    let mut page = String::new();
    eventually("the page on 127.0.0.1", || {
        page.clear();
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").is_err() {
            return false;
        }
        let _ = s.read_to_string(&mut page);
        page.contains("hello-from-berth")
    });
    let (bridge, _, _) = c.bridge();
    assert_eq!(bridge_ports(&bridge).len(), 1, "one veth on the bridge while it runs");
    c.ok(&["container", "rm", "-f", id]);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "port {port} still served after rm");
    eventually("the veth to go", || bridge_ports(&bridge).is_empty());
    c.assert_clean();
}

/// The root's default bridge made as `run` makes it (so a listener can bind its gateway
/// first), and a host listener on the gateway: the bridge, the gateway, the port, and the
/// text of the one connection it accepts.
fn gateway_listener(c: &Cli) -> (String, Ipv4Addr, u16, std::thread::JoinHandle<String>) {
    c.nm().ensure_default_network().unwrap();
    let (bridge, _, gw) = c.bridge();
    let listener = TcpListener::bind((gw, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    });
    (bridge, gw, port, got)
}

#[test]
fn a_container_reaches_a_host_listener_on_the_gateway_and_rm_exit_releases_it() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let (bridge, gw, port, got) = gateway_listener(&c);
    let cmd = format!("echo hello-gateway | nc {gw} {port}");
    // -d --rm: nobody waits for it, so its monitor removes it, network included, as it exits.
    c.ok(&["run", "-d", "--rm", "busybox:test", "sh", "-c", &cmd]);
    assert_eq!(got.join().unwrap().trim(), "hello-gateway");
    eventually("the exited --rm container to go", || {
        Runtime::new(&Roots::new(Some(&c.root))).list().unwrap().is_empty()
            && std::fs::read_dir(c.root.join("run/sandboxes")).map(|d| d.count() == 0).unwrap_or(true)
    });
    eventually("the veth to go", || bridge_ports(&bridge).is_empty());
    c.assert_clean();
}

#[test]
fn build_steps_have_network_by_default_and_none_fails_with_a_hint() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let (bridge, gw, port, got) = gateway_listener(&c);
    let ctx = c.root.parent().unwrap().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let df = format!(
        "FROM busybox:test\nRUN echo from-build | nc {gw} {port} && cat /etc/resolv.conf > /seen-resolv && echo built > /done\n"
    );
    std::fs::write(ctx.join("Dockerfile"), df).unwrap();
    let ctx_s = ctx.to_str().unwrap();
    c.ok(&["image", "build", "-t", "netbuild:1", ctx_s]);
    assert_eq!(got.join().unwrap().trim(), "from-build");
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    // `..` (the container's root, made at run time) is left out: its time differs per run.
    let listing = "(ls -la --full-time /etc 2>/dev/null || ls -la /etc) | grep -v ' \\.\\.$'";
    let out = c.ok(&["run", "--rm", "--network", "none", "netbuild:1", "sh", "-c", &format!("cat /done; {listing}")]);
    let base = c.ok(&["run", "--rm", "--network", "none", "busybox:test", "sh", "-c", listing]);
    assert_eq!(out.strip_prefix("built\n"), Some(base.as_str()), "the step's mount points stay out of its layer");
    if host_resolv.lines().any(|l| l.starts_with("nameserver") && !l.contains(" 127.")) {
        let seen = c.ok(&["run", "--rm", "--network", "none", "netbuild:1", "cat", "/seen-resolv"]);
        assert!(seen.contains("nameserver"), "the step saw the host's resolv.conf: {seen}");
    }
    // No network at all: the name cannot resolve, and no query can leave.
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox:test\nRUN wget -q -O /x http://nonexistent.invalid/\n")
        .unwrap();
    let out = c.berth(&["image", "build", "--network", "none", "-t", "netbuild:2", ctx_s]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("bad address"), "{err}");
    assert!(err.contains("hint: this build's RUN steps have no network (network: none)"), "{err}");
    assert!(bridge_ports(&bridge).is_empty(), "build veth left: {:?}", bridge_ports(&bridge));
    c.ok(&["image", "rm", "netbuild:1"]);
    c.assert_clean();
}
