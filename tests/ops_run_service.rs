//! `berth run SERVICE` as `docker compose run`: the service's ports are published only with
//! `-P/--service-ports` (and freed when the one-off exits), the service's name and network
//! aliases are the one-off's only with `--use-aliases`.

mod support;

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

use berth::network::NetworkManager;
use berth::runtime::Runtime;
use support::stack::Stack;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn stack(port: u16) -> String {
    format!(
        r#"
services:
  web:
    image: busybox:latest
    command: [sleep, '1000']
    ports: ['127.0.0.1:{port}:8080']
    networks:
      default:
        aliases: [www-alias]
"#
    )
}

/// `berth run ARGS` in the background, its output discarded.
fn spawn(s: &Stack, args: &[&str]) -> Child {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    s.command(&all).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn berth")
}

/// The running one-off container of `service`.
fn running_oneoff(s: &Stack, service: &str) -> Option<String> {
    let rt = Runtime::new(&s.roots);
    let prefix = format!("{}-{service}-run-", s.project);
    rt.list().ok()?.into_iter().find(|st| st.id.starts_with(&prefix) && st.is_running()).map(|st| st.id)
}

/// What 127.0.0.1:`port` says when connected to (None when nothing answers).
fn read_from(port: u16) -> Option<String> {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    Some(text)
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[test]
fn service_ports_are_published_only_with_dash_big_p() {
    if !support::require_root() {
        return;
    }
    let port = free_port();
    let mut s = Stack::new("runports").image("busybox:latest").file(&stack(port));
    // Without -P: the one-off runs, and nothing is published for it.
    let mut quiet = spawn(&s, &["web", "sh", "-c", "echo nope | nc -l -p 8080"]);
    let mut name = None;
    s.eventually(Duration::from_secs(20), "the one-off running", || {
        name = running_oneoff(&s, "web");
        name.is_some()
    });
    let name = name.unwrap_or_default();
    assert_eq!(NetworkManager::new(&s.roots).published_ports(&name).unwrap(), [], "no ports without -P");
    assert!(port_is_free(port), "the service's host port is not taken");
    Runtime::new(&s.roots).kill(&name, nix::sys::signal::Signal::SIGKILL).unwrap();
    quiet.wait().unwrap();
    // With -P: the service's port mapping, until the one-off exits (it is kept: no --rm).
    let mut served = spawn(&s, &["-P", "web", "sh", "-c", "echo hello-from-oneoff | nc -l -p 8080"]);
    s.eventually(Duration::from_secs(20), "the one-off answering on the service's port", || {
        read_from(port).is_some_and(|t| t.contains("hello-from-oneoff"))
    });
    let status = served.wait().unwrap();
    let mut err = String::new();
    served.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{status}: {err}");
    // The port proxy lets go of the port once told (a wait, for a slow guest).
    s.eventually(Duration::from_secs(10), "its ports released when it exited", || port_is_free(port));
    let r = s.berth(&["run", "-P", "busybox:latest", "true"]);
    r.failure();
    assert!(r.stderr().contains("--service-ports needs a service"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn use_aliases_gives_the_one_off_the_service_aliases() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("runalias").image("busybox:latest").file(&stack(free_port()));
    // Its own hosts file lists the names it is known by on the project network (no replica
    // of `web` runs: any `web` or alias entry is the one-off's).
    let names = r"grep -E '[[:space:]](web|www-alias)([[:space:]]|$)' /etc/hosts";
    let with = s.berth(&["run", "--rm", "--use-aliases", "web", "sh", "-c", names]);
    with.success();
    assert!(with.stdout().contains("www-alias") && with.stdout().contains(" web"), "{}", with.stdout());
    let without = s.berth(&["run", "--rm", "web", "sh", "-c", names]);
    assert_eq!(without.code(), 1, "neither the service name nor its alias without --use-aliases:\n{}", without.text());
    // Its container name it answers to either way.
    let own = format!("grep -E '[[:space:]]{}-web-run-[0-9a-f]{{6}}([[:space:]]|$)' /etc/hosts", s.project);
    s.berth(&["run", "--rm", "web", "sh", "-c", &own]).success();
    s.down_clean();
}
