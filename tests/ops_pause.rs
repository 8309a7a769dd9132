//! `pause`/`unpause` against real containers: a paused container's processes stop where they
//! are (a counter stops advancing) and go on after `unpause`; `ps` says so; `exec` into a
//! paused container fails naming it; `down` of a paused stack leaves nothing behind.

mod support;

use std::time::Duration;

use berth::reconciler::HealthStatus;
use support::stack::{path_in, Stack};

const STACK: &str = r#"
services:
  counter:
    image: busybox:latest
    command: [sh, -c, "i=0; while true; do i=$$((i+1)); echo $$i > /data/n; sleep 0.05; done"]
    volumes: ["./data:/data"]
    healthcheck:
      test: [CMD, "true"]
      interval: 100ms
  idle:
    image: busybox:latest
    command: [sleep, "600"]
"#;

fn count(s: &Stack) -> u64 {
    std::fs::read_to_string(path_in(s, "data/n")).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("pause").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(10), "the counter to count", || count(&s) > 3);

    let said = s.berth(&["pause", "counter"]).success().stderr();
    assert!(said.contains(&s.name("counter", 1)) && said.contains("Paused"), "{said}");
    let st = s.runtime_state("counter", 1).expect("state");
    assert!(st.is_running() && st.paused, "{st:?}");
    let frozen = count(&s);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(count(&s), frozen, "a paused counter must not advance");

    let ps = s.berth(&["ps", "-a"]).success().stdout();
    let line = ps.lines().find(|l| l.contains(&s.name("counter", 1))).unwrap_or_default();
    assert!(line.contains("(Paused)"), "{ps}");
    let ps = s.berth(&["ps", "--status", "paused"]).success().stdout();
    assert!(ps.contains(&s.name("counter", 1)) && !ps.contains(&s.name("idle", 1)), "--status paused: {ps}");

    let exec = s.berth(&["exec", "counter", "true"]);
    exec.failure();
    assert!(exec.stderr().contains("is paused; unpause it first"), "{}", exec.stderr());
    assert!(exec.stderr().contains(&s.name("counter", 1)), "{}", exec.stderr());
    // Pausing twice is an error naming the container; so is unpausing a running one.
    let again = s.berth(&["pause", "counter"]);
    again.failure();
    assert!(again.stderr().contains("already paused"), "{}", again.stderr());
    s.berth(&["unpause", "idle"]).failure();

    // The supervisor leaves it alone: still the same PID 1, still running, a while later.
    std::thread::sleep(Duration::from_millis(500));
    let later = s.runtime_state("counter", 1).expect("state");
    assert!(later.paused && later.pid == st.pid, "{later:?}");
    // No health probes while paused (each would fail, and after 3 the service would read
    // unhealthy): more than ten 100 ms intervals have passed.
    let health = s.record("counter", 1).expect("record").health;
    assert_ne!(health, HealthStatus::Unhealthy, "probes ran against the paused container");

    let said = s.berth(&["unpause"]).failure().stderr();
    assert!(said.contains(&s.name("idle", 1)), "unpausing a running container must say which: {said}");
    // The error for `idle` did not stop `counter` from being unpaused.
    let st = s.runtime_state("counter", 1).expect("state");
    assert!(!st.paused, "{st:?}");
    s.eventually(Duration::from_secs(10), "the counter to go on", || count(&s) > frozen + 3);
    s.berth(&["exec", "counter", "true"]).success();
    s.eventually(Duration::from_secs(10), "healthy after unpause", || {
        s.record("counter", 1).is_some_and(|r| r.health == HealthStatus::Healthy)
    });
    s.down_clean();
}

#[test]
fn down_of_a_paused_stack_is_clean() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("pausedown").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(10), "the counter to count", || count(&s) > 1);
    s.berth(&["pause"]).success();
    assert!(s.runtime_state("idle", 1).expect("state").paused);
    // kill of a paused container ends it (thawed after the signal, as Docker).
    s.berth(&["kill", "idle"]).success();
    s.eventually(Duration::from_secs(10), "the killed container to exit", || {
        s.runtime_state("idle", 1).is_some_and(|st| !st.is_running())
    });
    s.down_clean();
}
