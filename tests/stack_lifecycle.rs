//! End-to-end: keeping a stack converged (restart policies with backoff, on-failure limits,
//! health), `up --wait`, attached mode's exit codes, crash safety, and repeated cycles that
//! leave nothing behind.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use berth::reconciler::HealthStatus;
use support::stack::{assert_clean, containers_of, processes_of, Stack};

#[test]
fn crash_loop_backs_off_and_counts_restarts() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("crash").image("busybox:latest").file(
        r#"
services:
  boom:
    image: busybox:latest
    command: [sh, -c, "exit 3"]
    restart: always
"#,
    );
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(10), "a few restarts", || {
        s.record("boom", 1).is_some_and(|r| r.restart_count >= 3)
    });
    std::thread::sleep(Duration::from_secs(2));
    let rec = s.record("boom", 1).unwrap();
    // 100 ms doubling: ~6 restarts in the first 6 s; without backoff there would be dozens.
    // The upper bound is the backoff's doing; a slow host only restarts less often.
    assert!(rec.restart_count >= 3 && rec.restart_count <= 9, "restart count {}", rec.restart_count);
    assert_eq!(rec.last_exit_code, Some(3));
    let ps = s.berth(&["ps", "-a"]);
    ps.success();
    s.down_clean();
}

#[test]
fn on_failure_gives_up_after_max() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("onfail").image("busybox:latest").file(
        r#"
services:
  flaky:
    image: busybox:latest
    command: [sh, -c, "exit 3"]
    restart: on-failure:3
"#,
    );
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(15), "the policy to give up", || s.record("flaky", 1).is_some_and(|r| r.gave_up));
    std::thread::sleep(Duration::from_millis(1500));
    let rec = s.record("flaky", 1).unwrap();
    assert_eq!(rec.restart_count, 3);
    let st = s.runtime_state("flaky", 1).unwrap();
    assert!(matches!(st.status, berth::runtime::Status::Exited { code: 3, .. }), "{st:?}");
    s.down_clean();
}

#[test]
fn up_wait_fails_fast_on_an_unhealthy_service() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("sickwait").image("busybox:latest").file(
        r#"
services:
  sick:
    image: busybox:latest
    command: [sleep, "600"]
    healthcheck:
      test: [CMD, "false"]
      interval: 100ms
      retries: 2
"#,
    );
    let r = s.up(&["-d", "--wait", "--wait-timeout", "600"]);
    r.failure();
    // Failing fast: on the unhealthy verdict, not at the (long) --wait-timeout. The words say
    // which; no timing here, as the suite also runs on slow emulated hosts.
    assert!(r.stderr().contains("is unhealthy"), "{}", r.stderr());
    assert!(!r.stderr().contains("--wait-timeout"), "{}", r.stderr());
    let rec = s.record("sick", 1).unwrap_or_else(|| panic!("no record; up said:\n{}", r.stderr()));
    assert_eq!(rec.health, HealthStatus::Unhealthy);
    s.down_clean();
}

#[test]
fn up_wait_succeeds_when_healthy() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("healthy").image("busybox:latest").file(
        r#"
services:
  ok:
    image: busybox:latest
    command: [sleep, "600"]
    healthcheck:
      test: [CMD, "true"]
      interval: 100ms
"#,
    );
    s.up(&["--wait"]).success();
    assert_eq!(s.record("ok", 1).unwrap().health, HealthStatus::Healthy);
    s.down_clean();
}

#[test]
fn exit_code_from_passes_on_the_test_containers_code() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("exitcode").image("busybox:latest").file(
        r#"
services:
  app:
    image: busybox:latest
    command: [sh, -c, "echo app running; exec sleep 600"]
  tests:
    image: busybox:latest
    command: [sh, -c, "echo testing; sleep 0.3; exit 7"]
    depends_on: [app]
"#,
    );
    let t0 = Instant::now();
    let r = s.up(&["--abort-on-container-exit", "--exit-code-from", "tests"]);
    assert_eq!(r.code(), 7, "{}", r.text());
    assert!(r.stdout().contains("tests-1 | testing"), "{}", r.stdout());
    assert!(r.stdout().contains("app-1"), "{}", r.stdout());
    // Ended by the test container's exit, not by app's `sleep 600` (no speed claim: slow hosts).
    assert!(t0.elapsed() < Duration::from_secs(300), "took {:?}", t0.elapsed());
    // The stack was stopped on the way out.
    assert!(!s.runtime_state("app", 1).unwrap().is_running());
    s.down_clean();
}

const SLOW_CHAIN: &str = r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, "sleep 1; touch /tmp/ok; exec sleep 600"]
    healthcheck:
      test: [CMD-SHELL, "test -f /tmp/ok"]
      interval: 100ms
      start_period: 10s
      start_interval: 100ms
  web:
    image: busybox:latest
    command: [sleep, "600"]
    depends_on:
      db: {condition: service_healthy}
  worker:
    image: busybox:latest
    command: [sleep, "600"]
    deploy: {replicas: 2}
"#;

#[test]
fn sigkill_mid_up_then_up_converges_without_duplicates() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("killed").image("busybox:latest").file(SLOW_CHAIN);
    let mut child = s.command(&["up", "-d"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    // Kill the supervisor too: nothing may depend on it surviving.
    for (pid, cmd) in processes_of(&s.project) {
        if cmd.contains("__supervise") {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
    s.up(&["-d"]).success();
    let want: Vec<String> = vec![s.name("db", 1), s.name("web", 1), s.name("worker", 1), s.name("worker", 2)];
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(containers_of(&s.roots, &s.project), want_sorted);
    for name in &want {
        let st = berth::runtime::Runtime::new(&s.roots).state(name).unwrap();
        assert!(st.is_running(), "{name} is not running: {st:?}");
    }
    // The new `up` started a new supervisor.
    s.eventually(Duration::from_secs(5), "a supervisor", || {
        processes_of(&s.project).iter().any(|(_, cmd)| cmd.contains("__supervise"))
    });
    // Again: nothing to do.
    let again = s.up(&["-d"]);
    again.success();
    assert!(again.text().contains("nothing to do"), "{}", again.text());
    s.down_clean();
}

#[test]
fn five_up_down_cycles_leave_nothing() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("cycles").image("busybox:latest").file(
        r#"
services:
  a: {image: busybox:latest, command: [sleep, "600"], ports: ["127.0.0.1::80"]}
  b: {image: busybox:latest, command: [sleep, "600"], depends_on: [a], tmpfs: [/scratch]}
"#,
    );
    let links_before = links();
    for _ in 0..5 {
        s.up(&["-d"]).success();
        assert_eq!(containers_of(&s.roots, &s.project).len(), 2);
        s.berth(&["down", "-v"]).success();
        assert_clean(&s.roots, &s.project);
    }
    let leaked: Vec<_> = links().into_iter().filter(|l| !links_before.contains(l)).collect();
    // Other tests run in parallel: only links that carry this test's names count.
    let ours: Vec<_> = leaked
        .iter()
        .filter(|l| **l == berth::network::names::bridge_name(s.roots.id(), &format!("{}_default", s.project)))
        .collect();
    assert!(ours.is_empty(), "links left behind: {ours:?}");
    s.down_clean();
}

fn links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn down_works_without_the_stack_file() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("nofile")
        .image("busybox:latest")
        .file("services:\n  a: {image: busybox:latest, command: [sleep, \"600\"]}\n");
    s.up(&["-d"]).success();
    std::fs::remove_file(s.dir.join("compose.yaml")).unwrap();
    s.down_clean();
}

#[test]
fn a_second_up_waits_for_the_lock_then_fails_clearly() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("locked").image("busybox:latest").file(SLOW_CHAIN);
    let first = s.command(&["up", "-d"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Until the first holds the project lock (a fixed sleep was too short on a slow host).
    let lock = berth::reconciler::lock::project_lock_path(&s.roots, &s.project);
    s.eventually(Duration::from_secs(30), "the first up to take the project lock", || {
        std::fs::File::open(&lock)
            .ok()
            .and_then(|f| berth::fsutil::lock_holder(&f))
            .is_some_and(|(pid, _)| pid == first.id() as i32)
    });
    let second = s.command(&["up", "-d"]).env("BERTH_LOCK_WAIT", "0").output().unwrap();
    let text = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(!second.status.success());
    assert!(
        // The holder as the kernel knows it (/proc/locks): its pid, then its command line.
        text.contains(&format!("another berth command is working on project `{}` (pid {}: ", s.project, first.id())),
        "{text}"
    );
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success());
    s.down_clean();
}

#[test]
fn ctrl_c_stops_an_attached_stack() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("ctrlc").image("busybox:latest").file(
        r#"
services:
  a: {image: busybox:latest, command: [sh, -c, "echo hi from a; exec sleep 600"], restart: always}
  b: {image: busybox:latest, command: [sh, -c, "trap 'echo bye; exit 0' TERM; echo hi from b; while true; do sleep 0.1; done"]}
"#,
    );
    let child = s.command(&["up", "-t", "5"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id() as i32;
    s.eventually(Duration::from_secs(10), "both running", || {
        ["a", "b"].iter().all(|svc| s.runtime_state(svc, 1).is_some_and(|st| st.is_running()))
    });
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("hi from a") && stdout.contains("bye"), "{stdout}");
    for svc in ["a", "b"] {
        assert!(!s.runtime_state(svc, 1).unwrap().is_running(), "{svc} still runs");
    }
    // `restart: always` does not bring back a container stopped on purpose.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!s.runtime_state("a", 1).unwrap().is_running());
    s.down_clean();
}
