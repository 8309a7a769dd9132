//! `up --menu` on a terminal (a pty of the test stands in for the user's): `d` detaches, with
//! exit code 0 and the stack still running; `w` turns watch mode on (a file change is synced
//! into the container) and off; the terminal's mode is restored on the way out. Without a
//! terminal the menu stays off and keys are not read.

mod support;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::stack::{sh, Stack};

const STACK: &str = r#"
services:
  web:
    image: busybox:latest
    command: [sh, -c, "echo web-started; mkdir -p /app; exec sleep 600"]
    develop:
      watch:
        - {action: sync, path: ./src, target: /app}
"#;

/// Reads the terminal until `needle` shows up (or the deadline); all that was read.
fn read_until(master: &mut std::fs::File, seen: &mut Vec<u8>, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + support::patience(timeout);
    let fd = std::os::fd::AsRawFd::as_raw_fd(master);
    // SAFETY: fd is the open pty master this function borrows.
    unsafe { libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK) };
    while Instant::now() < deadline {
        if String::from_utf8_lossy(seen).contains(needle) {
            return true;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    String::from_utf8_lossy(seen).contains(needle)
}

#[test]
fn d_detaches_and_w_toggles_watch() {
    if !support::require_root() {
        return;
    }
    use nix::sys::termios::{tcgetattr, LocalFlags};
    let mut s = Stack::new("upmenu").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(s.dir.join("src")).unwrap();
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut cmd = s.command(&["up", "--menu"]);
    cmd.stdin(pty.slave.try_clone().unwrap())
        .stdout(pty.slave.try_clone().unwrap())
        .stderr(pty.slave.try_clone().unwrap());
    let mut child = cmd.spawn().expect("berth up --menu");
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let mut seen = Vec::new();
    let text = |seen: &Vec<u8>| String::from_utf8_lossy(seen).into_owned();
    assert!(read_until(&mut master, &mut seen, "d Detach", Duration::from_secs(60)), "{}", text(&seen));
    assert!(read_until(&mut master, &mut seen, "web-started", Duration::from_secs(60)), "{}", text(&seen));
    let during = tcgetattr(&pty.slave).unwrap();
    assert!(!during.local_flags.contains(LocalFlags::ICANON), "keys are read one by one");

    // w: watch on; a file saved on the host reaches the container.
    master.write_all(b"w").unwrap();
    assert!(read_until(&mut master, &mut seen, "Watch enabled", Duration::from_secs(30)), "{}", text(&seen));
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(s.dir.join("src/index.html"), "menu-synced\n").unwrap();
    s.eventually(Duration::from_secs(30), "the synced file", || {
        sh(&s, "web", "cat /app/index.html").stdout().contains("menu-synced")
    });
    master.write_all(b"w").unwrap();
    assert!(read_until(&mut master, &mut seen, "Watch disabled", Duration::from_secs(30)), "{}", text(&seen));

    // d: berth returns 0, the stack keeps running.
    master.write_all(b"d").unwrap();
    let deadline = Instant::now() + support::patience(Duration::from_secs(30));
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "up --menu did not detach: {}", text(&seen));
        std::thread::sleep(Duration::from_millis(50));
    };
    read_until(&mut master, &mut seen, "Detached", Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", text(&seen));
    assert!(text(&seen).contains("Detached"), "{}", text(&seen));
    let after = tcgetattr(&pty.slave).unwrap();
    assert!(after.local_flags.contains(LocalFlags::ICANON), "terminal mode restored");
    let ps = s.berth(&["ps", "--format", "{{.State}}"]);
    assert_eq!(ps.success().stdout().trim(), "running", "the stack keeps running after a detach");
    s.down_clean();
}

#[test]
fn without_a_terminal_the_menu_reads_no_keys() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("upmenu-pipe").image("busybox:latest").file(STACK);
    let mut cmd = s.command(&["up", "--menu", "--abort-on-container-exit"]);
    s.write("services:\n  job: {image: busybox:latest, command: [sh, -c, 'sleep 1; echo job-done']}\n");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"d").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && all.contains("job-done") && !all.contains("Detached"), "{all}");
    s.down_clean();
}
