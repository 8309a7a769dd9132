//! `pre_start` hooks as docker compose runs them: containers of their own, in order, before a
//! service's containers start when none of them runs, sharing the service's volumes and
//! networks, with their own user, working directory, privileges and environment (over the
//! service's); a failing one keeps the service from starting and names itself; each hook
//! container is gone afterwards.

mod support;

use std::time::Duration;

use berth::runtime::Runtime;
use support::stack::Stack;

const STACK: &str = r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'while true; do echo pong | nc -l -p 9000; done']
  sample:
    image: busybox:latest
    command: [sh, -c, 'cat /shared/init.txt; sleep 1000']
    depends_on: [db]
    environment:
      SVC: from-service
    volumes: ['data:/shared']
    pre_start:
      - command: [sh, -c, 'chmod 777 /shared; echo "$$SVC $$HOOK $$(pwd)" > /shared/init.txt; chmod 666 /shared/init.txt; echo run >> /shared/runs']
        working_dir: /tmp
        environment:
          HOOK: from-hook
      - image: busybox:latest
        user: '1000'
        command: [sh, -c, 'id -u >> /shared/init.txt']
      - privileged: true
        command: [sh, -c, 'grep CapEff /proc/self/status > /shared/caps']
      - command: [sh, -c, 'for i in 1 2 3 4 5 6 7 8 9 10; do nc db 9000 </dev/null > /shared/pong; grep -q pong /shared/pong && exit 0; sleep 1; done; exit 1']
volumes:
  data: {}
"#;

/// `cat FILE` in the running `sample` container.
fn cat(s: &Stack, file: &str) -> String {
    let r = s.berth(&["exec", "-T", "sample", "cat", file]);
    r.success();
    r.stdout()
}

/// Containers of the test's root that are hook containers.
fn hook_containers(s: &Stack) -> Vec<String> {
    let rt = Runtime::new(&s.roots);
    rt.list().unwrap().into_iter().map(|st| st.id).filter(|id| id.contains("-pre_start-")).collect()
}

fn up(s: &Stack, args: &[&str]) {
    let mut all = vec!["-d", "--pull", "never"];
    all.extend_from_slice(args);
    s.up(&all).success();
    s.eventually(Duration::from_secs(20), "sample running", || {
        s.runtime_state("sample", 1).is_some_and(|st| st.is_running())
    });
}

#[test]
fn pre_start_hooks_run_in_order_before_the_service_with_their_settings() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("prestart").image("busybox:latest").file(STACK);
    up(&s, &[]);
    // The service saw what the hooks wrote: in order, with the hook's working dir and
    // environment over the service's, the second hook as user 1000.
    assert_eq!(cat(&s, "/shared/init.txt"), "from-service from-hook /tmp\n1000\n");
    s.eventually(Duration::from_secs(10), "the service printed the file", || {
        s.berth(&["logs", "sample"]).stdout().contains("from-service from-hook /tmp")
    });
    // The privileged hook had every capability (NET_ADMIN, bit 12, is not in the default set).
    let caps = cat(&s, "/shared/caps");
    let mask = u64::from_str_radix(caps.split_whitespace().nth(1).unwrap_or_default(), 16).unwrap();
    assert_ne!(mask & (1 << 12), 0, "{caps}");
    // It was on the service's network: it reached `db` by name.
    assert_eq!(cat(&s, "/shared/pong"), "pong\n");
    assert_eq!(hook_containers(&s), Vec::<String>::new(), "hook containers are removed");
    // Not again while the service runs: a second up, a scale-up.
    up(&s, &[]);
    up(&s, &["--scale", "sample=2"]);
    assert_eq!(cat(&s, "/shared/runs"), "run\n");
    // Again when no replica runs: a forced recreate, and start after stop.
    up(&s, &["--force-recreate", "-t", "1"]);
    assert_eq!(cat(&s, "/shared/runs"), "run\nrun\n");
    s.berth(&["stop", "-t", "1", "sample"]).success();
    s.berth(&["start", "sample"]).success();
    assert_eq!(cat(&s, "/shared/runs"), "run\nrun\nrun\n");
    s.down_clean();
}

#[test]
fn a_failing_pre_start_hook_keeps_the_service_from_starting() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("prestartfail").image("busybox:latest").file(
        r#"
services:
  sample:
    image: busybox:latest
    command: [sleep, '1000']
    pre_start:
      - command: [sh, -c, 'echo first-ran']
      - command: [sh, -c, 'echo about to fail; echo boom >&2; exit 3']
      - command: [sh, -c, 'echo never']
"#,
    );
    let r = s.up(&["-d", "--pull", "never"]);
    assert_ne!(r.code(), 0, "{}", r.text());
    let err = r.stderr();
    assert!(err.contains("service `sample`: pre_start[1] hook"), "{err}");
    assert!(err.contains("exited with status 3: boom"), "stderr preferred in the tail:\n{err}");
    assert!(!err.contains("never"), "{err}");
    let st = s.runtime_state("sample", 1);
    assert!(st.is_some_and(|st| !st.is_running()), "the service's container is created, not started");
    assert_eq!(hook_containers(&s), Vec::<String>::new(), "the failed hook's container is removed too");
    // Attached, the hooks' output is printed as Compose prints it.
    let r = s.up(&["--pull", "never", "-t", "1"]);
    r.failure();
    assert!(r.stdout().lines().any(|l| l == "sample pre_start[0] -> | first-ran"), "{}", r.text());
    s.down_clean();
}
