//! Shared harness of the network integration tests: a temp state root per test, a unique
//! project name, helpers to run code inside a sandbox, and the leak check every test ends with
//! (no link, netns file, firewall rule, proxy or state entry of the test's project remains).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use berth::network::{names, netns, Attachment, NetworkManager, NetworkSpec};
use berth::paths::Roots;

pub struct NetEnv {
    pub dir: tempfile::TempDir,
    pub roots: Roots,
    pub nm: NetworkManager,
    pub project: String,
}

/// A failing test must not leak either: every sandbox and network of the test's root goes.
impl Drop for NetEnv {
    fn drop(&mut self) {
        if let Ok(rd) = std::fs::read_dir(self.roots.run.join("netns")) {
            for e in rd.flatten() {
                let _ = self.nm.teardown_sandbox(&e.file_name().to_string_lossy());
            }
        }
        for n in self.nm.list_networks(None).unwrap_or_default() {
            for c in &n.containers {
                let _ = self.nm.teardown_sandbox(c);
            }
            let _ = self.nm.remove_network(&n.name);
        }
    }
}

pub fn env(tag: &str) -> NetEnv {
    let dir = tempfile::Builder::new().prefix("berth-net-").tempdir().expect("tempdir");
    let roots = Roots::new(Some(&dir.path().join("root")));
    let nm = NetworkManager::new(&roots).with_proxy_binary(env!("CARGO_BIN_EXE_berth"));
    NetEnv { dir, roots, nm, project: format!("n{}{tag}", std::process::id()) }
}

impl NetEnv {
    pub fn net(&self, key: &str) -> String {
        format!("{}_{key}", self.project)
    }

    pub fn id(&self, name: &str) -> String {
        format!("{}-{name}", self.project)
    }

    pub fn ensure(&self, key: &str, internal: bool) -> berth::network::NetworkInfo {
        let spec = NetworkSpec { name: self.net(key), project: self.project.clone(), internal, ..Default::default() };
        self.nm.ensure_network(&spec).expect("ensure_network")
    }

    /// A sandbox attached to `nets` (keys); returns its eth0 address.
    pub fn sandbox(&self, name: &str, nets: &[&str]) -> String {
        let id = self.id(name);
        self.nm.create_sandbox(&id).expect("create_sandbox");
        let atts: Vec<Attachment> =
            nets.iter().map(|n| Attachment { network: self.net(n), ..Default::default() }).collect();
        let eps = self.nm.attach(&id, &atts).expect("attach");
        eps[0].ip.clone()
    }
}

/// Runs `f` inside the sandbox of container `id` (on a thread that joined its netns).
pub fn in_ns<T: Send + 'static>(nm: &NetworkManager, id: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    netns::run_in(&nm.sandbox_path(id), move || Ok(f())).expect("run in netns")
}

pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// The kernel destroys a namespace (and its veths) asynchronously: allow it a moment.
pub fn wait_gone(name: &str) -> bool {
    let deadline = Instant::now() + crate::support::patience(Duration::from_secs(5));
    while link_exists(name) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

pub fn iptables_rules() -> String {
    let mut all = String::new();
    for table in ["filter", "nat"] {
        if let Ok(out) = Command::new("iptables").args(["-w", "-t", table, "-S"]).output() {
            all.push_str(&String::from_utf8_lossy(&out.stdout));
        }
    }
    all
}

/// Tears down `containers` and removes `nets` (keys), then asserts nothing of them remains.
pub fn teardown_and_check(env: &NetEnv, containers: &[&str], nets: &[&str]) {
    for c in containers {
        env.nm.teardown_sandbox(&env.id(c)).expect("teardown_sandbox");
    }
    for n in nets {
        env.nm.remove_network(&env.net(n)).expect("remove_network");
    }
    assert_clean(env, containers, nets);
}

pub fn assert_clean(env: &NetEnv, containers: &[&str], nets: &[&str]) {
    let rules = iptables_rules();
    for n in nets {
        let bridge = names::bridge_name(env.roots.id(), &env.net(n));
        assert!(wait_gone(&bridge), "bridge {bridge} left behind");
        assert!(!rules.contains(&bridge), "firewall rule for {bridge} left behind:\n{rules}");
        for c in containers {
            let veth = names::veth_name(env.roots.id(), &env.id(c), &env.net(n));
            assert!(wait_gone(&veth), "veth {veth} left behind");
        }
    }
    for c in containers {
        assert!(!env.nm.sandbox_path(&env.id(c)).exists(), "netns file of {c} left behind");
    }
    let state = env.roots.state.join("networks");
    let left: Vec<_> = walk(&state).into_iter().filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    assert!(left.is_empty(), "state entries left behind: {left:?}");
    let netns_dir = env.roots.run.join("netns");
    assert!(walk(&netns_dir).is_empty(), "netns files left behind");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    assert!(!mounts.contains(env.roots.run.to_str().unwrap_or("?")), "netns mount left behind");
    assert!(!proxy_running(env), "port proxy still running");
}

pub fn proxy_running(env: &NetEnv) -> bool {
    let cfgdir = env.roots.state.join("networks/proxy");
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten().any(|e| {
                std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.contains("__proxy") && c.contains(cfgdir.to_str().unwrap_or("?"))
                }) && !std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| s.contains(") Z "))
            })
        })
        .unwrap_or(false)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
