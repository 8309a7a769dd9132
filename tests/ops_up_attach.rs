//! Attached `up`: which services' logs it prints (`--attach`, `--no-attach`,
//! `--attach-dependencies`, `attach: false`), `--timestamps`, and
//! `--abort-on-container-failure`, against real containers.

mod support;

use support::stack::Stack;

const TWO: &str = r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'echo db-says-hi']
  web:
    image: busybox:latest
    command: [sh, -c, 'echo web-says-hi']
    depends_on: [db]
  quiet:
    image: busybox:latest
    command: [sh, -c, 'echo quiet-says-hi']
    attach: false
"#;

/// Which of the services' lines attached `up ARGS` printed.
fn printed(s: &Stack, args: &[&str]) -> Vec<&'static str> {
    let mut all = vec!["--force-recreate", "-t", "1"];
    all.extend_from_slice(args);
    let up = s.up(&all);
    up.success();
    let out = up.stdout();
    ["db", "web", "quiet"]
        .into_iter()
        .filter(|svc| out.lines().any(|l| l.starts_with(&format!("{svc}-1 ")) && l.ends_with("-says-hi")))
        .collect()
}

#[test]
fn up_prints_the_logs_of_the_services_it_attaches_to() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("attach").image("busybox:latest").file(TWO);
    assert_eq!(printed(&s, &[]), ["db", "web"], "all but `attach: false`");
    assert_eq!(printed(&s, &["web"]), ["web"], "the named service, not its dependency");
    assert_eq!(printed(&s, &["--attach-dependencies", "web"]), ["db", "web"]);
    assert_eq!(printed(&s, &["--no-attach", "db"]), ["web"]);
    assert_eq!(printed(&s, &["--attach", "quiet", "--attach", "db"]), ["db", "quiet"]);
    let r = s.up(&["--attach", "nope"]);
    r.failure();
    assert!(r.stderr().contains("nope"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn up_timestamps_prefix_each_line_with_its_time() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("attachts").image("busybox:latest").file(TWO);
    let up = s.up(&["--timestamps", "--attach", "web"]);
    up.success();
    let out = up.stdout();
    let line = out.lines().find(|l| l.ends_with(" web-says-hi")).unwrap_or_else(|| panic!("no web line:\n{out}"));
    // `web-1 | 2026-12-04T05:01:02.123456789Z web-says-hi`
    let time = line.split(" | ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_default();
    let parsed = berth::reconciler::ops::human::parse_rfc3339(time);
    assert!(parsed.is_some_and(|n| n > 0), "`{time}` is not an RFC 3339 time in `{line}`");
    let up = s.up(&["--force-recreate", "--attach", "web"]);
    assert!(up.stdout().lines().any(|l| l == "web-1 | web-says-hi"), "no time without --timestamps:\n{}", up.stdout());
    s.down_clean();
}

#[test]
fn abort_on_container_failure_stops_on_a_non_zero_exit_only() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("abortfail").image("busybox:latest").file(
        r#"
services:
  fine:
    image: busybox:latest
    command: [sh, -c, 'exit 0']
  long:
    image: busybox:latest
    command: [sleep, '1000']
  bad:
    image: busybox:latest
    command: [sh, -c, 'sleep 0.5; exit 4']
"#,
    );
    // `fine` exiting 0 does not end it; `bad` exiting 4 does, with its code, and stops `long`.
    let up = s.up(&["--abort-on-container-failure", "-t", "1"]);
    assert_eq!(up.code(), 4, "{}", up.text());
    assert!(!s.runtime_state("long", 1).is_some_and(|st| st.is_running()), "the stack was stopped");
    // Every container exiting 0: `up` ends with 0 once all have exited.
    s.write("services:\n  fine:\n    image: busybox:latest\n    command: [sh, -c, 'exit 0']\n");
    let up = s.up(&["--abort-on-container-failure", "--remove-orphans", "-t", "1"]);
    assert_eq!(up.code(), 0, "{}", up.text());
    s.down_clean();
}
