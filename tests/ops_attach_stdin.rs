//! A stack's containers with `tty: true` / `stdin_open: true`, as Compose runs them: started by
//! `up -d` they keep their terminal or stdin open and run on (a tty one used to get a hang-up
//! at once), and `berth attach` passes its stdin to them (`--detach-keys` leaves them running),
//! from several `attach`es at once, as `docker attach`.

mod support;

use std::time::Duration;

use support::stack::Stack;

const STACK: &str = r#"
services:
  term:
    image: busybox:latest
    tty: true
    command: [sh, -c, 'echo started-on-$$(tty); sleep 1000']
  reader:
    image: busybox:latest
    stdin_open: true
    command: [sh, -c, 'read line; echo got:$$line; exit 4']
  shell:
    image: busybox:latest
    tty: true
    stdin_open: true
    command: [sh]
  cat:
    image: busybox:latest
    stdin_open: true
    command: [cat]
"#;

fn running(s: &Stack, service: &str) -> bool {
    s.runtime_state(service, 1).is_some_and(|st| st.is_running())
}

#[test]
fn tty_and_stdin_open_containers_run_on_and_take_attach_input() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("attachin").image("busybox:latest").file(STACK);
    s.up(&["-d", "--pull", "never"]).success();
    // The tty one runs on its terminal, its output in the log.
    s.eventually(Duration::from_secs(10), "term's output", || {
        s.berth(&["logs", "term"]).stdout().contains("started-on-/dev/pts/")
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(running(&s, "term"), "a tty container keeps running");
    for svc in ["reader", "shell", "cat"] {
        assert!(running(&s, svc), "{svc} waits for input");
    }
    // stdin_open: attach's stdin is the container's; attach ends with its exit code.
    let r = s.piped(&["attach", "reader"], b"hello\n".to_vec());
    assert_eq!(r.code(), 4, "{}", r.text());
    assert!(r.stdout().contains("got:hello"), "{}", r.text());
    // tty + stdin_open: a shell on the container's terminal.
    let r = s.piped(&["attach", "shell"], b"echo $((6*7))\nexit 3\n".to_vec());
    assert_eq!(r.code(), 3, "{}", r.text());
    assert!(r.stdout().contains("42"), "{}", r.text());
    // The detach keys end attach (0) and leave the container running; what came before
    // them was passed on.
    let r = s.piped(&["attach", "cat"], b"abc\n\x10\x11".to_vec());
    assert_eq!(r.code(), 0, "{}", r.text());
    assert!(running(&s, "cat"), "detaching leaves it running");
    s.eventually(Duration::from_secs(10), "cat echoed", || s.berth(&["logs", "cat"]).stdout().contains("abc"));
    // Other keys, and a bad spec named.
    let r = s.piped(&["attach", "--detach-keys", "ctrl-a,d", "cat"], b"def\n\x01d".to_vec());
    assert_eq!(r.code(), 0, "{}", r.text());
    assert!(s.berth(&["attach", "--detach-keys", "ctrl-1", "cat"]).stderr().contains("--detach-keys"));
    s.down_clean();
}

#[test]
fn run_detached_with_a_tty_runs_on() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("rundt").image("busybox:latest").file(STACK);
    let r =
        s.berth(&["run", "-d", "-t", "--name", "dt", "--network", "none", "busybox:latest", "sh", "-c", "sleep 1000"]);
    r.success();
    std::thread::sleep(Duration::from_millis(700));
    let rt = berth::runtime::Runtime::new(&s.roots);
    let id = r.stdout().trim().to_string();
    assert!(rt.state(&id).is_ok_and(|st| st.is_running()), "run -d -t keeps running");
    let name = format!("{}-term-oneoff", s.project);
    s.berth(&["run", "-d", "--name", &name, "term"]).success();
    std::thread::sleep(Duration::from_millis(700));
    assert!(rt.state(&name).is_ok_and(|st| st.is_running()), "run -d SERVICE (tty: true) keeps running");
    s.berth(&["container", "rm", "-f", "dt"]).success();
    s.down_clean();
}

#[test]
fn two_attach_clients_at_once_both_reach_the_container() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("attach2").image("busybox:latest").file(STACK);
    s.up(&["-d", "--pull", "never", "cat"]).success();
    // The first one stays attached (its stdin open, nothing sent yet) while the second one
    // comes, sends and detaches; then the first sends and detaches.
    let mut first = s.command(&["attach", "cat"]);
    first.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut first = first.spawn().expect("spawn attach");
    std::thread::sleep(Duration::from_millis(500));
    let r = s.piped(&["attach", "cat"], b"from-second\n\x10\x11".to_vec());
    assert_eq!(r.code(), 0, "{}", r.text());
    s.eventually(Duration::from_secs(10), "the second client's line", || {
        s.berth(&["logs", "cat"]).stdout().contains("from-second")
    });
    {
        use std::io::Write as _;
        let mut stdin = first.stdin.take().expect("stdin");
        stdin.write_all(b"from-first\n\x10\x11").unwrap();
    }
    let out = first.wait_with_output().expect("first attach");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    s.eventually(Duration::from_secs(10), "the first client's line", || {
        s.berth(&["logs", "cat"]).stdout().contains("from-first")
    });
    assert!(running(&s, "cat"));
    s.down_clean();
}
