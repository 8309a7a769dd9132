//! `berth run SERVICE` with `docker compose run`'s flags, as a user calls them: `--cap-add`
//! and `--cap-drop` over the service's, `-v` (the stack file's short syntax: host paths,
//! the stack's named volumes, anonymous volumes removed with `--rm`), `-p/--publish`,
//! `--name`, `-d`, `-T`, stdin passed on, and the container's exit code as berth's own.
//! Also `berth run IMAGE -v`, read by the same rule.

mod support;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use berth::runtime::Runtime;
use support::stack::Stack;

const STACK: &str = r#"
services:
  web:
    image: busybox:latest
    command: [sleep, '1000']
    cap_add: [SYS_TIME]
    volumes: ['data:/data']
volumes:
  data: {}
"#;

/// The effective capability mask of `sh` in a one-off of `web` run with `flags`.
fn cap_eff(s: &Stack, flags: &[&str]) -> u64 {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["web", "sh", "-c", "grep CapEff /proc/self/status"]);
    let r = s.berth(&args);
    r.success();
    let hex = r.stdout().split_whitespace().nth(1).unwrap_or_default().to_string();
    u64::from_str_radix(&hex, 16).unwrap_or_else(|e| panic!("CapEff of {:?}: {e}", r.stdout()))
}

const CHOWN: u64 = 1 << 0;
const NET_ADMIN: u64 = 1 << 12;
const SYS_TIME: u64 = 1 << 25;

#[test]
fn cap_add_and_cap_drop_change_the_service_s_capabilities() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("runcaps").image("busybox:latest").file(STACK);
    let plain = cap_eff(&s, &[]);
    assert_eq!(plain & (CHOWN | SYS_TIME | NET_ADMIN), CHOWN | SYS_TIME, "the service's own: {plain:x}");
    let changed = cap_eff(&s, &["--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "--cap-drop", "SYS_TIME"]);
    assert_eq!(changed & (CHOWN | SYS_TIME | NET_ADMIN), NET_ADMIN, "{changed:x}");
    // The rest of the default set is untouched.
    assert_eq!(changed & !(CHOWN | SYS_TIME | NET_ADMIN), plain & !(CHOWN | SYS_TIME | NET_ADMIN));
    s.down_clean();
}

#[test]
fn volume_flags_add_binds_named_and_anonymous_volumes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("runvols").image("busybox:latest").file(STACK);
    // A relative host path is relative to where berth runs (made when missing, as the
    // short syntax does); the service's own volume stays mounted next to it.
    let r = s.berth(&[
        "run",
        "--rm",
        "-v",
        "./from-run:/host:rw",
        "web",
        "sh",
        "-c",
        "echo hi > /host/f; echo kept > /data/k",
    ]);
    r.success();
    assert_eq!(std::fs::read_to_string(s.dir.join("from-run/f")).unwrap(), "hi\n");
    // The stack's named volume, mounted by the flag somewhere else, read-only.
    let r = s.berth(&["run", "--rm", "-v", "data:/again:ro", "web", "sh", "-c", "cat /again/k; touch /again/x"]);
    assert_eq!(r.stdout(), "kept\n", "{}", r.text());
    assert_ne!(r.code(), 0, "a :ro mount is read-only:\n{}", r.text());
    // A volume the stack does not declare is an error naming it and the service.
    let r = s.berth(&["run", "--rm", "-v", "nope:/x", "web", "true"]);
    r.failure();
    assert!(r.stderr().contains("`nope`") && r.stderr().contains("`web`"), "{}", r.stderr());
    // A malformed one names the flag.
    let r = s.berth(&["run", "--rm", "-v", "a:b:c:d", "web", "true"]);
    r.failure();
    assert!(r.stderr().contains("-v a:b:c:d"), "{}", r.stderr());
    // An anonymous volume goes with `--rm`, as Docker's.
    let r = s.berth(&[
        "run",
        "--rm",
        "-v",
        "/scratch",
        "web",
        "sh",
        "-c",
        "echo x > /scratch/x; grep -c ' /scratch ' /proc/mounts",
    ]);
    assert_eq!(r.stdout().trim(), "1", "{}", r.text());
    let vols = berth::reconciler::mounts::volume_manager(&s.roots).list(Some(&s.project)).unwrap();
    let names: Vec<&str> = vols.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, [format!("{}_data", s.project)], "only the named volume is left");
    s.down_clean();
}

#[test]
fn run_image_volume_flags_follow_the_same_rule() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("runimgvol").image("busybox:latest").file(STACK);
    let run = |vol: &[&str], script: &str| {
        let mut args = vec!["run", "--rm", "--network", "none"];
        for v in vol {
            args.extend_from_slice(&["-v", v]);
        }
        args.extend_from_slice(&["busybox:latest", "sh", "-c", script]);
        s.berth(&args)
    };
    // A relative host path and a named volume of berth's (made on first use, as docker run's).
    run(&["./img-bind:/b", "scratchvol:/v"], "echo bound > /b/f; echo stored > /v/f").success();
    assert_eq!(std::fs::read_to_string(s.dir.join("img-bind/f")).unwrap(), "bound\n");
    let r = run(&["scratchvol:/again:ro"], "cat /again/f");
    assert_eq!(r.stdout(), "stored\n", "{}", r.text());
    // An anonymous volume would outlive the run: refused, naming the flag.
    let r = run(&["/anon"], "true");
    r.failure();
    assert!(r.stderr().contains("-v /anon"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn name_detach_publish_stdin_and_exit_codes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("runmisc").image("busybox:latest").file(STACK);
    // The container's exit code is berth's; -T is accepted.
    assert_eq!(s.berth(&["run", "--rm", "-T", "web", "sh", "-c", "exit 3"]).code(), 3);
    // --entrypoint is split into words, as Compose splits it, and drops the service's command.
    let r = s.berth(&["run", "--rm", "--entrypoint", "sh -c", "web", "echo split-$((1+1))"]);
    assert_eq!(r.stdout(), "split-2\n", "{}", r.text());
    let r = s.berth(&["run", "--rm", "--entrypoint", "echo only-this", "web"]);
    assert_eq!(r.stdout(), "only-this\n", "the service's command is dropped: {}", r.text());
    // A `docker run` flag the service decides is warned about.
    let r = s.berth(&["run", "--rm", "-m", "64m", "web", "true"]);
    assert!(r.stderr().contains("warning: --memory"), "{}", r.stderr());
    // stdin is the one-off's, as `docker compose run`'s (-i defaults to true).
    let r = s.piped(&["run", "--rm", "-T", "web", "cat"], b"from stdin\n".to_vec());
    assert_eq!(r.stdout(), "from stdin\n", "{}", r.stderr());
    // -d prints its id (a 64-hex id, as ps -q) and returns while it runs; --name names it.
    let name = format!("{}-custom", s.project);
    let r = s.berth(&["run", "-d", "--name", &name, "web", "sleep", "1000"]);
    r.success();
    let id = r.stdout().trim().to_string();
    assert!(id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id:?}");
    let rt = Runtime::new(&s.roots);
    assert!(rt.state(&name).is_ok_and(|st| st.is_running()), "{name} running");
    let r = s.berth(&["run", "-d", "--name", &name, "web", "true"]);
    r.failure();
    assert!(r.stderr().contains("already exists"), "{}", r.stderr());
    // -d --rm: the container goes when it exits (its monitor removes it).
    let gone = format!("{name}-rm");
    s.berth(&["run", "-d", "--rm", "--name", &gone, "web", "sh", "-c", "sleep 1"]).success();
    s.eventually(Duration::from_secs(20), "the -d --rm one-off removed", || rt.state(&gone).is_err());
    // … refused where that would leave an anonymous volume behind.
    let r = s.berth(&["run", "-d", "--rm", "-v", "/anon", "web", "true"]);
    r.failure();
    assert!(r.stderr().contains("anonymous"), "{}", r.stderr());
    // -p publishes what it names (and -P with -p is refused, as Compose).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let publish = format!("127.0.0.1:{port}:8080");
    let mut child = s
        .command(&["run", "--rm", "-p", &publish, "web", "sh", "-c", "echo published | nc -l -p 8080"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    s.eventually(Duration::from_secs(20), "the one-off answering on the -p port", || {
        let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
        let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
        let mut text = String::new();
        let _ = c.read_to_string(&mut text);
        text.contains("published")
    });
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{status}: {err}");
    let r = s.berth(&["run", "-P", "-p", "1:2", "web", "true"]);
    r.failure();
    assert!(r.stderr().contains("incompatible"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn run_starts_the_dependencies_and_waits_for_their_condition() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("rundeps").image("busybox:latest").file(
        r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'sleep 1; (while true; do nc -l -p 7000 </dev/null; done) & touch /tmp/ready; wait']
    healthcheck:
      test: [CMD, test, -f, /tmp/ready]
      interval: 200ms
      retries: 50
  client:
    image: busybox:latest
    depends_on:
      db: {condition: service_healthy}
    command: [sh, -c, 'nc db 7000 </dev/null && echo db-was-ready']
"#,
    );
    // `db` is started, and the one-off runs once it is healthy (listening already).
    let r = s.berth(&["run", "--rm", "client"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert_eq!(r.stdout(), "db-was-ready\n", "{}", r.text());
    assert!(s.runtime_state("db", 1).is_some_and(|st| st.is_running()));
    s.down_clean();
}

/// `run -q` prints nothing but the container's output (no lines about the dependency it
/// starts); `--remove-orphans` removes the containers of services gone from the file, which
/// a plain `run` only reports — as `docker compose run`.
#[test]
fn quiet_and_remove_orphans() {
    if !support::require_root() {
        return;
    }
    let both = "services:\n  db: {image: busybox:latest, command: [sleep, '1000']}\n  old: {image: busybox:latest, command: [sleep, '1000']}\n  client: {image: busybox:latest, depends_on: [db], command: [echo, hi]}\n";
    let mut s = Stack::new("runq").image("busybox:latest").file(both);
    // Quiet: db is started, yet neither stream says so.
    let r = s.berth(&["run", "--rm", "-q", "client"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert_eq!(r.stdout(), "hi\n");
    assert_eq!(r.stderr(), "", "run -q printed progress");
    assert!(s.runtime_state("db", 1).is_some_and(|st| st.is_running()));
    // Not quiet: the same start is reported on stderr.
    s.berth(&["stop", "db"]).success();
    let r = s.berth(&["run", "--rm", "client"]);
    assert_eq!(r.stdout(), "hi\n");
    assert!(r.stderr().contains(&s.name("db", 1)), "{}", r.text());

    // `old` leaves the file: a plain run reports it and keeps it, --remove-orphans removes it.
    s.berth(&["up", "-d", "old"]).success();
    s.write("services:\n  db: {image: busybox:latest, command: [sleep, '1000']}\n  client: {image: busybox:latest, depends_on: [db], command: [echo, hi]}\n");
    let r = s.berth(&["run", "--rm", "client"]);
    assert_eq!(r.stdout(), "hi\n");
    assert!(r.stderr().contains("--remove-orphans"), "{}", r.text());
    assert!(s.runtime_state("old", 1).is_some_and(|st| st.is_running()), "a plain run removed the orphan");
    let r = s.berth(&["run", "--rm", "--remove-orphans", "client"]);
    assert_eq!((r.code(), r.stdout().as_str()), (0, "hi\n"), "{}", r.text());
    assert!(s.runtime_state("old", 1).is_none(), "the orphan is still there");
    assert!(s.runtime_state("db", 1).is_some_and(|st| st.is_running()), "db was touched");
    // COMPOSE_REMOVE_ORPHANS=true is --remove-orphans by default (for up too).
    let both = "services:\n  db: {image: busybox:latest, command: [sleep, '1000']}\n  old: {image: busybox:latest, command: [sleep, '1000']}\n  client: {image: busybox:latest, depends_on: [db], command: [echo, hi]}\n";
    s.write(both);
    s.berth(&["up", "-d", "old"]).success();
    s.write("services:\n  db: {image: busybox:latest, command: [sleep, '1000']}\n  client: {image: busybox:latest, depends_on: [db], command: [echo, hi]}\n");
    let out = s.command(&["run", "--rm", "client"]).env("COMPOSE_REMOVE_ORPHANS", "true").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(s.runtime_state("old", 1).is_none(), "COMPOSE_REMOVE_ORPHANS=true left the orphan");
    // Only with a service.
    let r = s.berth(&["run", "--rm", "--remove-orphans", "busybox:latest", "true"]);
    assert!(r.stderr().contains("--remove-orphans needs a service"), "{}", r.text());
    s.down_clean();
}
