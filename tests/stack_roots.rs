//! State roots are independent (two `--root`s, as two CI jobs on one host, running a project
//! of the same name share no cgroup, bridge or veth), and published ports are released when an
//! attached `up` is interrupted; an `up` that fails on a port in use starts nothing.

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth::network::names::bridge_name;
use berth::runtime::cgroup;
use support::stack::{assert_clean, containers_of, sh_until_ok, Stack};

const WAIT: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

/// The memory cgroup dir of `service`-1 of `s`, and the limit it holds.
fn memory_cgroup(s: &Stack, service: &str) -> (PathBuf, Option<i64>) {
    let dir = cgroup::controller_dir(s.roots.id(), &s.name(service, 1), "memory");
    let limit = ["memory.limit_in_bytes", "memory.max"]
        .iter()
        .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .and_then(|t| t.trim().parse().ok());
    (dir, limit)
}

fn stack_with_memory(s: Stack, mem: &str) -> Stack {
    s.image("busybox:latest")
        .file(&format!("services:\n  web: {{image: busybox:latest, mem_limit: {mem}, command: [sleep, \"600\"]}}\n"))
}

#[test]
fn two_roots_with_one_project_name_share_no_kernel_object() {
    if !support::require_root() {
        return;
    }
    let mut a = stack_with_memory(Stack::new("roots"), "64m");
    let mut b = stack_with_memory(Stack::same_project_as("roots", &a), "96m");
    assert_eq!(a.project, b.project);
    assert_ne!(a.roots.id(), b.roots.id(), "each root has its own id");
    a.up(&["-d"]).success();
    b.up(&["-d"]).success();

    let (dir_a, limit_a) = memory_cgroup(&a, "web");
    let (dir_b, limit_b) = memory_cgroup(&b, "web");
    assert_ne!(dir_a, dir_b, "one cgroup for both roots' web-1");
    assert!(dir_a.is_dir() && dir_b.is_dir(), "{} / {}", dir_a.display(), dir_b.display());
    assert_eq!(limit_a, Some(64 << 20), "root a's limit");
    assert_eq!(limit_b, Some(96 << 20), "root b's limit (not a's)");
    let net = format!("{}_default", a.project);
    let (bridge_a, bridge_b) = (bridge_name(a.roots.id(), &net), bridge_name(b.roots.id(), &net));
    assert_ne!(bridge_a, bridge_b);
    assert!(link_exists(&bridge_a) && link_exists(&bridge_b), "bridges {bridge_a} and {bridge_b}");

    // `down` in a leaves b alone.
    a.berth(&["down", "-v", "-t", "1"]).success();
    assert!(!dir_a.exists(), "root a's cgroup left behind");
    assert!(!link_exists(&bridge_a), "root a's bridge left behind");
    assert_eq!(sh_until_ok(&b, "web", "echo alive").trim(), "alive");
    assert!(b.runtime_state("web", 1).is_some_and(|st| st.is_running()), "root b's container was stopped");
    assert_eq!(memory_cgroup(&b, "web"), (dir_b, Some(96 << 20)), "root b's cgroup changed");
    assert!(link_exists(&bridge_b), "root b's bridge went with root a's down");

    b.down_clean();
    a.down_clean();
    assert!(!link_exists(&bridge_b));
}

#[test]
fn interrupted_attached_up_releases_its_published_ports() {
    if !support::require_root() {
        return;
    }
    let port = free_port();
    let mut s = Stack::new("ctrlcport").image("busybox:latest").file(&format!(
        "services:\n  web: {{image: busybox:latest, command: [httpd, -f, -p, \"80\"], ports: [\"127.0.0.1:{port}:80\"]}}\n"
    ));
    let mut child = s.command(&["up", "-t", "1"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    s.eventually(WAIT, "web running with its port published", || {
        s.runtime_state("web", 1).is_some_and(|st| st.is_running()) && !bindable(port)
    });
    let child_pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(child_pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!s.runtime_state("web", 1).unwrap().is_running(), "web still runs");
    assert!(bindable(port), "port {port} still held after the attached up was interrupted");

    // The next `up` starts the stack again and publishes the port.
    s.up(&["-d", "--wait"]).success();
    assert!(!bindable(port), "port {port} not published again");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    s.down_clean();
    assert!(bindable(port));
}

#[test]
fn up_with_a_port_in_use_starts_nothing() {
    if !support::require_root() {
        return;
    }
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let mut s = Stack::new("portbusy").image("busybox:latest").file(&format!(
        "services:\n  db: {{image: busybox:latest, command: [sleep, \"600\"]}}\n  web: {{image: busybox:latest, command: [sleep, \"600\"], ports: [\"127.0.0.1:{port}:80\"], depends_on: [db]}}\n"
    ));
    let r = s.up(&["-d", "--wait"]);
    r.failure();
    assert!(r.stderr().contains(&port.to_string()) && r.stderr().contains("web"), "{}", r.text());
    assert!(
        containers_of(&s.roots, &s.project).is_empty(),
        "containers made: {:?}",
        containers_of(&s.roots, &s.project)
    );
    drop(busy);
    s.down_clean();
}

/// A port another project of the same root publishes is in use for this one (not "ours"):
/// `up` fails naming the port and its holder, and starts nothing.
#[test]
fn a_port_another_projects_proxy_holds_is_in_use() {
    if !support::require_root() {
        return;
    }
    let port = free_port();
    let yaml = format!(
        "services:\n  web: {{image: busybox:latest, command: [sleep, \"600\"], ports: [\"127.0.0.1:{port}:80\"]}}\n"
    );
    let mut s = Stack::new("portother").image("busybox:latest").file(&yaml);
    s.up(&["-d"]).success();
    let other = format!("{}-x", s.project);
    let other_dir = s.tmp.path().join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    std::fs::write(other_dir.join("compose.yaml"), &yaml).unwrap();
    let berth = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("--root")
            .arg(s.tmp.path())
            .args(["-p", &other, "-f"])
            .arg(other_dir.join("compose.yaml"))
            .args(args)
            .env_remove("BERTH_ROOT")
            .output()
            .unwrap()
    };
    let out = berth(&["up", "-d"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "second project started on a taken port");
    assert!(err.contains(&port.to_string()) && err.contains(&s.name("web", 1)), "{err}");
    assert!(containers_of(&s.roots, &other).is_empty(), "the failed up made containers");
    assert!(berth(&["down", "-v", "-t", "1"]).status.success());
    assert_clean(&s.roots, &other);
    s.down_clean();
}
