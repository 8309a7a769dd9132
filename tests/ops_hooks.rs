//! Lifecycle hooks (`post_start`, `pre_stop`) against real containers, as docker compose runs
//! them: after a start (`up`, `restart`) and before a stop (`stop`, `restart`, `down`), with
//! their own user, working directory and environment; a failing `post_start` fails `up` and
//! stops the container, a failing `pre_stop` aborts the stop; attached `up` prints their
//! output as `web-1 -> | line`; a one-off (`run SERVICE`) runs its service's `post_start`.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use support::stack::Stack;

/// A directory the containers write into (bind-mounted at /out), writable by any uid.
fn out_dir(s: &Stack) -> std::path::PathBuf {
    let out = s.dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    out
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

fn running(s: &Stack, service: &str) -> bool {
    s.runtime_state(service, 1).is_some_and(|st| st.is_running())
}

#[test]
fn hooks_run_after_start_and_before_stop_with_their_own_settings() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("hooks").image("busybox:latest").file(
        r#"
services:
  web:
    image: busybox:latest
    command: [sleep, '1000']
    volumes: ['./out:/out']
    post_start:
      - command: [sh, -c, 'echo "uid=$$(id -u) dir=$$(pwd) greeting=$$GREETING" >> /out/post']
        user: '1000'
        working_dir: /etc
        environment: {GREETING: hi}
      - command: touch /out/second
      - command: [sh, -c, 'grep CapEff /proc/self/status > /out/caps']
        privileged: true
    pre_stop:
      - command: sh -c 'echo stopping >> /out/pre'
        environment: [A=1]
"#,
    );
    let out = out_dir(&s);
    s.up(&["-d"]).success();
    assert_eq!(lines(&out.join("post")), ["uid=1000 dir=/etc greeting=hi"]);
    assert_eq!(std::fs::metadata(out.join("post")).unwrap().uid(), 1000, "the hook's user wrote it");
    assert!(out.join("second").exists(), "every post_start hook runs, in order");
    let plain = s.berth(&["exec", "-T", "web", "grep", "CapEff", "/proc/self/status"]);
    plain.success();
    let privileged = std::fs::read_to_string(out.join("caps")).unwrap();
    assert!(privileged.starts_with("CapEff:"), "{privileged}");
    assert_ne!(privileged, plain.stdout(), "a privileged hook gets every capability");
    assert!(!out.join("pre").exists(), "no pre_stop before a stop");
    // `up` on the unchanged stack starts nothing: no hook runs again.
    s.up(&["-d"]).success();
    assert_eq!(lines(&out.join("post")).len(), 1);
    s.berth(&["restart", "-t", "1", "web"]).success();
    assert_eq!(lines(&out.join("pre")), ["stopping"], "restart: pre_stop first");
    assert_eq!(lines(&out.join("post")).len(), 2, "restart: post_start again");
    s.berth(&["stop", "-t", "1"]).success();
    assert_eq!(lines(&out.join("pre")).len(), 2);
    // A stopped container runs no pre_stop hook on `down`.
    s.berth(&["start"]).success();
    assert_eq!(lines(&out.join("post")).len(), 3, "start: post_start");
    // A recreate stops the old container (its pre_stop) and starts the new one (post_start).
    let yaml = std::fs::read_to_string(s.dir.join("compose.yaml")).unwrap();
    s.write(&yaml.replace("command: [sleep, '1000']", "command: [sleep, '1001']"));
    s.up(&["-d", "-t", "1"]).success();
    assert_eq!((lines(&out.join("pre")).len(), lines(&out.join("post")).len()), (3, 4), "recreate");
    s.down_clean();
    assert_eq!(lines(&out.join("pre")).len(), 4, "down: pre_stop, from the record alone");
}

#[test]
fn a_failing_post_start_hook_fails_up_and_stops_the_container() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("hookfail").image("busybox:latest").file(
        r#"
services:
  bad:
    image: busybox:latest
    command: [sleep, '1000']
    restart: always
    post_start:
      - command: [sh, -c, 'echo progress; echo "migration failed" >&2; exit 3']
"#,
    );
    let up = s.up(&["-d"]);
    up.failure();
    let err = up.stderr();
    for want in ["service `bad`", "post_start[0]", "exited with status 3", "migration failed", "was stopped"] {
        assert!(err.contains(want), "`{want}` not in:\n{err}");
    }
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    let said = line.split("exited with status 3: ").nth(1).unwrap_or_default();
    assert!(said.starts_with("migration failed") && !said.contains("progress"), "stderr is preferred:\n{err}");
    assert!(!running(&s, "bad"), "the container was stopped");
    assert!(s.record("bad", 1).is_some_and(|r| r.stopped_by_user), "and the restart policy leaves it");
    s.down_clean();
}

#[test]
fn a_failing_pre_stop_hook_aborts_stop_and_down() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("hookstop").image("busybox:latest").file(
        r#"
services:
  db:
    image: busybox:latest
    command: [sleep, '1000']
    pre_stop:
      - command: [sh, -c, 'test -e /tmp/drained || { echo "still has clients" >&2; exit 1; }']
"#,
    );
    s.up(&["-d"]).success();
    for cmd in [&["stop", "-t", "1"][..], &["down", "-t", "1"]] {
        let r = s.berth(cmd);
        r.failure();
        let err = r.stderr();
        for want in ["service `db`", "pre_stop[0]", "exited with status 1", "still has clients", "not stopped"] {
            assert!(err.contains(want), "{cmd:?}: `{want}` not in:\n{err}");
        }
        assert!(running(&s, "db"), "{cmd:?}: the container keeps running");
    }
    s.berth(&["exec", "db", "touch", "/tmp/drained"]).success();
    s.down_clean();
}

#[test]
fn attached_up_prints_hook_output_as_compose_does() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("hookout").image("busybox:latest").file(
        r#"
services:
  job:
    image: busybox:latest
    # Runs until its hook has run: no race between the two.
    command: [sh, -c, 'while [ ! -e /tmp/go ]; do sleep 0.05; done; echo main-done']
    post_start:
      - command: [sh, -c, 'echo hook-said-hello; touch /tmp/go']
"#,
    );
    let up = s.up(&[]);
    up.success();
    let out = up.stdout();
    assert!(out.lines().any(|l| l == "job-1 -> | hook-said-hello"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("job-1") && l.ends_with("| main-done")), "{out}");
    s.down_clean();
}

#[test]
fn a_one_off_runs_the_post_start_hooks_of_its_service() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("hookrun").image("busybox:latest").file(
        r#"
services:
  job:
    image: busybox:latest
    post_start:
      - command: [sh, -c, 'echo hooked > /tmp/hooked']
  badjob:
    image: busybox:latest
    post_start:
      - command: [sh, -c, 'touch /tmp/hooked; exit 2']
"#,
    );
    // The command waits for what the hook makes: it runs while the one-off runs.
    let wait = "while [ ! -e /tmp/hooked ]; do sleep 0.05; done; cat /tmp/hooked; sleep 0.5";
    let ok = s.berth(&["run", "--rm", "job", "sh", "-c", wait]);
    ok.success();
    assert!(ok.stdout().contains("hooked"), "{}", ok.text());
    // A failing hook fails the run, though the command itself exits 0.
    let bad = s.berth(&["run", "--rm", "badjob", "sh", "-c", wait]);
    assert_eq!(bad.code(), 1, "{}", bad.text());
    assert!(bad.stderr().contains("service `badjob`: post_start[0]"), "{}", bad.stderr());
    s.down_clean();
}
