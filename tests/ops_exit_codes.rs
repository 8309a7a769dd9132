//! Exit codes scripts rely on, as `docker compose` returns them: `exec` (the command's code;
//! 127 for a command that does not exist, 126 for one that cannot be executed), `run` (the
//! container's code; 1 when its command cannot start), `up --abort-on-container-exit` (the code of the first container to
//! exit), `up --exit-code-from` (the named service's code, also when the abort stopped it), and
//! `wait` (one `container "ID" exited with status code N` line each, the last one's code).

mod support;

use support::stack::Stack;

const EXITS: &str = r#"
services:
  quick:
    image: busybox:latest
    command: [sh, -c, 'sleep 0.3; exit 3']
  slow:
    image: busybox:latest
    command: [sh, -c, 'sleep 2; exit 5']
  long:
    image: busybox:latest
    command: [sh, -c, 'trap "exit 143" TERM; while true; do sleep 0.1; done']
"#;

#[test]
fn exec_and_run_return_the_command_s_code() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("codesexec")
        .image("busybox:latest")
        .file("services:\n  web:\n    image: busybox:latest\n    command: [sleep, '1000']\n");
    s.up(&["-d", "--pull", "never"]).success();
    assert_eq!(s.berth(&["exec", "-T", "web", "sh", "-c", "exit 9"]).code(), 9);
    let missing = s.berth(&["exec", "-T", "web", "no-such-command"]);
    assert_eq!(missing.code(), 127, "{}", missing.text());
    assert!(missing.stderr().contains("no-such-command"), "{}", missing.stderr());
    let not_exec = s.berth(&["exec", "-T", "web", "/etc/passwd"]);
    assert_eq!(not_exec.code(), 126, "{}", not_exec.text());
    assert_eq!(s.berth(&["run", "--rm", "-T", "web", "sh", "-c", "exit 7"]).code(), 7);
    // A one-off whose command cannot start: `docker compose run` fails with the start's error
    // (exit 1; `docker run IMAGE` maps it to 127/126, and so does `berth run IMAGE`).
    let r = s.berth(&["run", "--rm", "-T", "web", "no-such-command"]);
    assert_eq!(r.code(), 1, "{}", r.text());
    assert!(r.stderr().contains("`no-such-command` not found"), "{}", r.stderr());
    let r = s.berth(&["run", "--rm", "-T", "--network", "none", "busybox:latest", "no-such-command"]);
    assert_eq!(r.code(), 127, "{}", r.text());
    assert_eq!(support::stack::containers_of(&s.roots, &s.project), [s.name("web", 1)], "--rm removed the one-off");
    s.down_clean();
}

#[test]
fn up_abort_and_exit_code_from_return_compose_s_codes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("codesup").image("busybox:latest").file(EXITS);
    // The first container to exit ends it, with its code.
    let up = s.up(&["--pull", "never", "--abort-on-container-exit", "-t", "2"]);
    assert_eq!(up.code(), 3, "{}", up.text());
    // The named service's code, even when another exits first.
    let up = s.up(&["--pull", "never", "--force-recreate", "--exit-code-from", "slow", "-t", "2", "slow", "long"]);
    assert_eq!(up.code(), 5, "{}", up.text());
    // The named service was still running when `quick` aborted the stack: how it ended when
    // stopped (its TERM trap exits 143), as Compose reports it.
    let up = s.up(&["--pull", "never", "--force-recreate", "--exit-code-from", "long", "-t", "2"]);
    assert_eq!(up.code(), 143, "{}", up.text());
    s.down_clean();
}

#[test]
fn wait_prints_compose_s_lines_and_returns_the_last_exit() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("codeswait").image("busybox:latest").file(EXITS);
    s.up(&["-d", "--pull", "never", "quick", "slow"]).success();
    let r = s.berth(&["wait", "quick", "slow"]);
    assert_eq!(r.code(), 5, "the last to exit (slow):\n{}", r.text());
    let lines: Vec<String> = r.stdout().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("container \"") && lines[0].ends_with("\" exited with status code 3"), "{lines:?}");
    assert!(lines[1].ends_with("\" exited with status code 5"), "{lines:?}");
    // The id is the one `ps -q` prints.
    let ps = s.berth(&["ps", "-a", "-q", "quick"]);
    let id = ps.stdout().trim().to_string();
    assert_eq!(lines[0], format!("container \"{id}\" exited with status code 3"));
    s.down_clean();
}
