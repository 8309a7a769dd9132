//! Issue 13, items 7, 9 and 10 against real containers: `exec` passes piped stdin through (EOF
//! included, 10 MiB streamed) with or without `-T`, with `-e`, `-u`, `-w`, `--index`, `-d` and
//! `--privileged`, and passes the exit code on; `up -d --wait` prints a line per awaited
//! container with its time, and a failure (exited non-zero, unhealthy, timed out) names the
//! service and shows its last log lines; no ANSI escapes on a piped stderr; `/etc/hosts` lists
//! each name once; `ps` on the host shows which container a monitor serves.

mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use support::stack::{Run, Stack};

const APP: &str = "services:
  app:
    image: busybox:latest
    command: [sleep, '1000']
    environment:
      GREETING: hello
    networks:
      default:
        aliases: [app, api, api]
  db:
    image: busybox:latest
    command: [sleep, '1000']
    networks:
      default:
        aliases: [db, database, database]
";

/// `berth ARGS` with `input` on its stdin (written from a thread, so a large input streams
/// while the output is read); `env` is added to berth's environment.
fn piped(s: &Stack, args: &[&str], input: Vec<u8>, env: &[(&str, &str)]) -> Run {
    let mut cmd = s.command(args);
    cmd.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn berth");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input); // dropped here: EOF
    });
    let out = child.wait_with_output().expect("wait for berth");
    writer.join().expect("writer");
    Run { out }
}

#[test]
fn exec_streams_piped_stdin_and_takes_compose_flags() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("exin").image("busybox:latest").file(APP);
    s.up(&["-d", "--scale", "app=2"]).success();

    // Piped stdin reaches the command, and its EOF ends it.
    let r = piped(&s, &["exec", "app", "wc", "-c"], b"abc".to_vec(), &[]);
    assert_eq!(r.success().stdout().trim(), "3");
    let r = piped(&s, &["exec", "-T", "app", "cat"], b"line one\nline two\n".to_vec(), &[]);
    assert_eq!(r.success().stdout(), "line one\nline two\n");
    let big = vec![b'x'; 10 << 20];
    let r = piped(&s, &["exec", "-T", "app", "wc", "-c"], big, &[]);
    assert_eq!(r.success().stdout().trim(), (10u64 << 20).to_string());
    // The exit code passes through (here read from stdin).
    let r = piped(&s, &["exec", "-T", "app", "sh", "-c", "read code; exit $code"], b"5\n".to_vec(), &[]);
    assert_eq!(r.code(), 5, "{}", r.text());
    assert_eq!(s.berth(&["exec", "app", "sh", "-c", "exit 7"]).code(), 7);

    // -e KEY=VALUE and bare -e KEY (from our environment), -u, -w.
    let r = piped(
        &s,
        &["exec", "-T", "-e", "EXTRA=x", "-e", "FROM_HOST", "app", "sh", "-c", "echo $GREETING $EXTRA $FROM_HOST"],
        Vec::new(),
        &[("FROM_HOST", "carried")],
    );
    assert_eq!(r.success().stdout(), "hello x carried\n");
    let r = s.berth(&["exec", "-T", "-u", "1000", "-w", "/etc", "app", "sh", "-c", "id -u; pwd"]);
    assert_eq!(r.success().stdout(), "1000\n/etc\n");
    let r = s.berth(&["exec", "--user", "1000:1000", "--workdir", "/tmp", "app", "sh", "-c", "id -g; pwd"]);
    assert_eq!(r.success().stdout(), "1000\n/tmp\n");

    // --index picks the replica.
    let one = s.berth(&["exec", "--index", "1", "app", "hostname"]).success().stdout();
    let two = s.berth(&["exec", "--index", "2", "app", "hostname"]).success().stdout();
    assert_ne!(one, two, "--index 2 ran in replica 1");
    let r = s.berth(&["exec", "--index", "3", "app", "true"]);
    assert!(r.failure().stderr().contains("no container number 3"), "{}", r.text());

    // -d returns at once; the command runs on.
    s.berth(&["exec", "-d", "app", "sh", "-c", "echo detached > /tmp/d"]).success();
    s.eventually(Duration::from_secs(10), "the detached exec", || {
        s.berth(&["exec", "app", "cat", "/tmp/d"]).stdout() == "detached\n"
    });
    // --privileged: every capability (more than Docker's default set).
    let caps = |extra: &[&str]| {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["app", "sh", "-c", "grep CapEff /proc/self/status"]);
        s.berth(&args).success().stdout()
    };
    assert!(caps(&[]).contains("00000000a80425fb"), "{}", caps(&[]));
    assert!(!caps(&["--privileged"]).contains("00000000a80425fb"), "{}", caps(&["--privileged"]));

    // /etc/hosts: one line per address, each name once on it.
    let hosts = s.berth(&["exec", "--index", "2", "app", "cat", "/etc/hosts"]).success().stdout();
    let mut ips = Vec::new();
    for line in hosts.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let ip = words.next().unwrap_or_default();
        assert!(!ips.contains(&ip), "address {ip} on two lines:\n{hosts}");
        ips.push(ip);
        let names: Vec<&str> = words.collect();
        for n in &names {
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1, "name {n} twice on a line:\n{hosts}");
        }
    }
    for name in ["database", "db", &s.name("db", 1), "api"] {
        let lines = hosts.lines().filter(|l| l.split_whitespace().skip(1).any(|w| w == name)).count();
        let want = if name == "api" { 2 } else { 1 }; // one per replica of app
        assert_eq!(lines, want, "{name}:\n{hosts}");
    }

    // The host's `ps` names the container each monitor serves: forked by `up`'s zygote (app)
    // or exec'd by `restart` (db).
    s.berth(&["restart", "-t", "1", "db"]).success();
    let ps = std::process::Command::new("ps").args(["-eo", "args"]).output().expect("ps");
    let ps = String::from_utf8_lossy(&ps.stdout);
    for name in [s.name("app", 1), s.name("app", 2), s.name("db", 1)] {
        let want = format!("berth-monitor {name}");
        assert!(ps.lines().any(|l| l.trim_end() == want), "no `{want}` in ps:\n{ps}");
    }
    s.down_clean();
}

const WAIT_OK: &str = "services:
  web:
    image: busybox:latest
    command: [sleep, '1000']
    healthcheck:
      test: [CMD, 'true']
      interval: 1s
  plain:
    image: busybox:latest
    command: [sleep, '1000']
  job:
    image: busybox:latest
    command: [sh, -c, 'echo done']
";

/// A progress line `Container NAME  WHAT  N.Ns` (piped stderr: no glyph, no colour).
#[track_caller]
fn assert_line(stderr: &str, name: &str, what: &str) {
    let prefix = format!("Container {name}  {what}  ");
    let line = stderr.lines().find(|l| l.starts_with(&prefix));
    let time = line.and_then(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no `{prefix}…`:\n{stderr}"));
    let secs = time.strip_suffix('s').and_then(|t| t.parse::<f64>().ok());
    assert!(secs.is_some_and(|s| s >= 0.0), "`{time}` is not a duration:\n{stderr}");
}

#[test]
fn up_wait_prints_a_line_per_service_and_no_ansi_on_a_pipe() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("exwait").image("busybox:latest").file(WAIT_OK);
    // debug: tracing has something to say; with stderr piped it says it without colours.
    let r = s.berth(&["--log-level", "debug", "up", "-d", "--wait", "--wait-timeout", "60"]);
    let err = r.success().stderr();
    assert_line(&err, &s.name("web", 1), "Healthy");
    assert_line(&err, &s.name("plain", 1), "Running");
    // A one-shot job is seen done, or still running when first looked at (as Compose).
    let job = s.name("job", 1);
    let done = err.lines().any(|l| l.starts_with(&format!("Container {job}  Exited (0)  ")));
    assert_line(&err, &job, if done { "Exited (0)" } else { "Running" });
    assert!(err.contains("DEBUG"), "no tracing output to check:\n{err}");
    assert!(!err.contains("\x1b["), "ANSI escapes on a piped stderr:\n{err:?}");
    assert!(!err.contains('✔'), "a glyph on a piped stderr:\n{err}");
    s.down_clean();
}

#[test]
fn up_wait_failure_names_the_service_and_shows_its_last_log_lines() {
    if !support::require_root() {
        return;
    }
    // Its health check never runs before it exits: it cannot pass as merely running.
    let exits = "services:
  ok:
    image: busybox:latest
    command: [sleep, '1000']
  bad:
    image: busybox:latest
    command: [sh, -c, 'for i in $$(seq 1 30); do echo bad-line-$$i; done; sleep 1; exit 3']
    healthcheck:
      test: [CMD, 'true']
      interval: 1h
";
    let mut s = Stack::new("exbad").image("busybox:latest").file(exits);
    let r = s.up(&["-d", "--wait", "--wait-timeout", "60"]);
    let err = r.failure().stderr();
    assert!(err.contains("service `bad`") && err.contains("exited (3)"), "{err}");
    assert!(err.contains("bad-line-30") && err.contains("bad-line-11"), "last log lines:\n{err}");
    assert!(!err.contains("bad-line-10\n"), "more than 20 log lines:\n{err}");
    s.down_clean();

    let sick = "services:
  sick:
    image: busybox:latest
    command: [sh, -c, 'echo sick-started; exec sleep 1000']
    healthcheck:
      test: [CMD, 'false']
      interval: 1s
      retries: 1
";
    let mut s = Stack::new("exsick").image("busybox:latest").file(sick);
    let r = s.up(&["-d", "--wait", "--wait-timeout", "60"]);
    let err = r.failure().stderr();
    assert!(err.contains("service `sick`") && err.contains("unhealthy"), "{err}");
    assert!(err.contains("sick-started"), "last log lines:\n{err}");
    s.down_clean();

    let slow = "services:
  slow:
    image: busybox:latest
    command: [sh, -c, 'echo slow-started; exec sleep 1000']
    healthcheck:
      test: [CMD, 'true']
      interval: 1h
";
    let mut s = Stack::new("exslow").image("busybox:latest").file(slow);
    let r = s.up(&["-d", "--wait", "--wait-timeout", "1"]);
    let err = r.failure().stderr();
    assert!(err.contains("service `slow`") && err.contains("not ready after 1s"), "{err}");
    assert!(err.contains("slow-started"), "last log lines:\n{err}");
    s.down_clean();
}
