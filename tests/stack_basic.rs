//! End-to-end `up`/`down` through the real binary: ordering with health gating, no-op `up`,
//! recreation of exactly the changed service, fast `down`, nothing left behind.

mod support;

use std::time::{Duration, Instant};

use support::stack::Stack;

const THREE_TIER: &str = r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, "sleep 0.5; touch /tmp/ready; date +%s%N > /tmp/t; exec sleep 600"]
    healthcheck:
      test: [CMD-SHELL, "test -f /tmp/ready"]
      interval: 200ms
      timeout: 2s
      retries: 3
      start_period: 10s
      start_interval: 100ms
  api:
    image: busybox:latest
    command: [sleep, "600"]
    environment:
      MODE: one
    depends_on:
      db: {condition: service_healthy}
  web:
    image: busybox:latest
    command: [sleep, "600"]
    depends_on: [api]
"#;

#[test]
fn three_tier_comes_up_in_order_and_is_idempotent() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("tier").image("busybox:latest").file(THREE_TIER);
    let r = s.up(&["-d"]);
    r.success();
    let text = r.text();
    for svc in ["db", "api", "web"] {
        assert!(text.contains(&format!("{}  Started", s.name(svc, 1))), "{text}");
    }
    // db was healthy before api started: api's start follows db's Healthy line.
    let healthy = text.find("Service db  Healthy").expect("db healthy line");
    let api_started = text.find(&format!("{}  Started", s.name("api", 1))).unwrap();
    assert!(healthy < api_started, "{text}");
    assert_eq!(s.record("db", 1).unwrap().health, berth::reconciler::HealthStatus::Healthy);

    // `config --hash` prints the hash the containers were made from (docker compose's
    // config --hash), one `SERVICE HASH` line each.
    let hashes = s.berth(&["config", "--hash", "*"]);
    hashes.success();
    for svc in ["db", "api", "web"] {
        let want = format!("{svc} {}\n", s.record(svc, 1).unwrap().config_hash);
        assert!(hashes.stdout().contains(&want), "{want} not in {}", hashes.stdout());
    }
    assert_eq!(s.berth(&["config", "--hash", "api"]).stdout().lines().count(), 1);

    // Unchanged: a no-op.
    let again = s.up(&["-d"]);
    again.success();
    assert!(again.text().contains("nothing to do"), "{}", again.text());

    // A changed env var recreates exactly that service.
    let api_before = s.runtime_state("api", 1).unwrap().created_at;
    let db_before = s.runtime_state("db", 1).unwrap().created_at;
    s.write(&THREE_TIER.replace("MODE: one", "MODE: two"));
    let changed = s.up(&["-d"]);
    changed.success();
    assert!(changed.text().contains(&format!("{}  Recreated", s.name("api", 1))), "{}", changed.text());
    assert!(!changed.text().contains(&format!("{}  Recreated", s.name("db", 1))), "{}", changed.text());
    assert_ne!(s.runtime_state("api", 1).unwrap().created_at, api_before);
    assert_eq!(s.runtime_state("db", 1).unwrap().created_at, db_before);

    let t0 = Instant::now();
    s.down_clean();
    assert!(t0.elapsed() < support::patience(Duration::from_secs(5)), "down took {:?}", t0.elapsed());
}

#[test]
fn down_of_three_sleep_services_is_fast() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("fastdown").image("busybox:latest").file(
        r#"
services:
  a: {image: busybox:latest, command: [sleep, "600"], stop_grace_period: 60s}
  b: {image: busybox:latest, command: [sleep, "600"], stop_grace_period: 60s}
  c: {image: busybox:latest, command: [sleep, "600"], stop_grace_period: 60s}
"#,
    );
    s.up(&["-d"]).success();
    let t0 = Instant::now();
    s.berth(&["down", "-v"]).success();
    let took = t0.elapsed();
    s.down_clean();
    // Sleep as PID 1 does not catch SIGTERM: killed at once, not after the 60 s grace (half of
    // it bounds "at once" on a slow emulated host too; the speed itself is benchmarked).
    assert!(took < Duration::from_secs(30), "down took {took:?}: waited for the stop grace period");
}

#[test]
fn a_taken_port_fails_before_anything_is_created() {
    if !support::require_root() {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut s = Stack::new("porttaken").image("busybox:latest").file(&format!(
        r#"
services:
  web: {{image: busybox:latest, command: [sleep, "600"], ports: ["127.0.0.1:{port}:80"]}}
"#
    ));
    let r = s.up(&["-d"]);
    r.failure();
    assert!(r.stderr().contains(&port.to_string()) && r.stderr().contains("web"), "{}", r.stderr());
    assert!(support::stack::containers_of(&s.roots, &s.project).is_empty());
    drop(listener);
    s.down_clean();
}

#[test]
fn invalid_services_fail_together_before_anything_is_created() {
    if !support::require_root() {
        return;
    }
    // Above fs.nr_open: impossible on any host, for a root with CAP_SYS_RESOURCE too (a value
    // merely above this process's hard limit would pass vacuously there).
    let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open").unwrap().trim().parse().unwrap();
    let mut s = Stack::new("preflight").image("busybox:latest").file(&format!(
        r#"
services:
  ok: {{image: busybox:latest, command: [sleep, "600"]}}
  limits: {{image: busybox:latest, command: [sleep, "600"], ulimits: {{nofile: {}}}}}
  sysctl: {{image: busybox:latest, command: [sleep, "600"], sysctls: {{kernel.hostname_bogus: "1"}}}}
  missing: {{image: "nosuch:1", command: [sleep, "600"], pull_policy: never}}
"#,
        nr_open + 1
    ));
    let r = s.up(&["-d"]);
    r.failure();
    let err = r.stderr();
    for needle in ["service `limits`", "nofile", "service `sysctl`", "not namespaced", "`nosuch:1`"] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(support::stack::containers_of(&s.roots, &s.project).is_empty(), "a container was made");
    let networks = s.berth(&["network", "ls"]);
    assert!(!networks.stdout().contains("preflight"), "a network was made:\n{}", networks.stdout());
    s.down_clean();
}

#[test]
fn completed_dependencies_gate_and_fail_with_their_code() {
    if !support::require_root() {
        return;
    }
    let stack = |code: i32| {
        format!(
            r#"
services:
  migrate: {{image: busybox:latest, command: [sh, -c, "sleep 0.2; exit {code}"]}}
  app:
    image: busybox:latest
    command: [sleep, "600"]
    depends_on:
      migrate: {{condition: service_completed_successfully}}
"#
        )
    };
    let mut s = Stack::new("migrate").image("busybox:latest").file(&stack(4));
    let r = s.up(&["-d"]);
    r.failure();
    assert!(r.stderr().contains("migrate") && r.stderr().contains("exit 4"), "{}", r.stderr());
    assert!(!s.runtime_state("app", 1).is_some_and(|st| st.is_running()));
    s.write(&stack(0));
    s.up(&["-d", "--scale", "app=2"]).success();
    assert!(s.runtime_state("app", 2).unwrap().is_running());
    s.down_clean();
}
