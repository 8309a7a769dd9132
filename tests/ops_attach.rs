//! Issue 18: `berth attach SERVICE` against a real container: it shows the container's output
//! from now on (stdout and stderr), passes a SIGTERM sent to it on to the container, and exits
//! with the container's exit code once it ends.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use support::stack::Stack;

const STACK: &str = r#"
services:
  talker:
    image: busybox:latest
    command: [sh, -c, "trap 'echo got-term; echo bye >&2; exit 7' TERM; i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.2; done"]
"#;

#[test]
fn attach_follows_output_proxies_signals_and_exits_with_the_container() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("attach").image("busybox:latest").file(STACK);
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(10), "output", || s.berth(&["logs", "talker"]).stdout().contains("tick 2"));

    let mut child = s.command(&["attach", "talker"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // New output arrives; what was written before attaching does not.
    let first = rx.recv_timeout(support::patience(Duration::from_secs(10))).expect("attach printed nothing");
    assert!(first.starts_with("tick ") && first != "tick 0", "{first}");

    // SIGTERM to attach reaches the container, whose trap ends it with 7.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let lines: Vec<String> = rx.try_iter().collect();
    assert_eq!(out.status.code(), Some(7), "attach exits with the container's code; saw {lines:?}");
    assert!(lines.iter().any(|l| l == "got-term"), "{lines:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bye"), "stderr is relayed too");
    let st = s.runtime_state("talker", 1).expect("state");
    assert!(!st.is_running(), "{st:?}");

    // A stopped container cannot be attached to: an error naming it.
    let r = s.berth(&["attach", "talker"]);
    assert!(r.failure().stderr().contains(&s.name("talker", 1)), "{}", r.stderr());
    s.down_clean();
}
