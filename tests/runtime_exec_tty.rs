//! `exec` with a terminal (`berth exec -t`), as root on the real kernel: the pty is made on the
//! container's own /dev/pts, is the exec'd process's controlling terminal, its master comes
//! back to us, and the exit code is passed on. Without a tty nothing changes.

#[path = "runtime_common/mod.rs"]
mod common;
#[path = "ops_common/mod.rs"]
mod ops;
mod support;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use berth::runtime::ExecConfig;
use common::*;

fn argv(script: &str) -> Vec<String> {
    ["sh", "-c", script].map(String::from).to_vec()
}

/// Run `script` through `exec_tty`; (exit code, everything written to the terminal).
fn exec_tty(env: &Env, id: &str, script: &str) -> (i32, String) {
    let ec = ExecConfig { args: argv(script), ..Default::default() };
    let (mut helper, master) = env.rt.exec_tty(id, &ec).expect("exec_tty");
    let mut out = Vec::new();
    let _ = std::fs::File::from(master).read_to_end(&mut out); // EIO once the slave side is gone
    let status = helper.wait().expect("wait for the exec helper");
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn exec_tty_gets_a_controlling_pty_on_the_containers_devpts() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("exectty");
    let cfg = config(&env, &id, &["sleep", "1000"]);
    env.rt.create(&cfg).unwrap();
    env.rt.start(&id).unwrap();

    let (code, text) = exec_tty(&env, &id, "test -t 0 && test -t 1 && tty");
    assert_eq!(code, 0, "{text}");
    assert!(text.trim().starts_with("/dev/pts/"), "a pty of the container's /dev/pts: {text:?}");
    // Controlling terminal: /dev/tty opens only with one; the slave is on the container's
    // devpts instance (the host's is not mounted there); TERM is set.
    let (code, text) = exec_tty(&env, &id, ": </dev/tty && ls -1 /dev/pts && echo TERM=$TERM; exit 3");
    assert_eq!(code, 3, "exit code passed on: {text}");
    assert!(text.contains("TERM=xterm"), "{text}");
    let listed: Vec<&str> = text.lines().map(str::trim).take_while(|l| !l.starts_with("TERM=")).collect();
    assert!(listed.contains(&"ptmx") && listed.len() == 2, "only our pty on the container's devpts: {text:?}");

    // Without a tty: the same test fails, stdio stays the caller's.
    let ec = ExecConfig { args: argv("test -t 0 && test -t 1 && tty"), ..Default::default() };
    let out = env.rt.exec_command(&id, &ec).unwrap().stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    env.rt.stop(&id, Some(Duration::from_secs(1))).unwrap();
    remove_and_check(&env, &id);
}

#[test]
fn exec_tty_of_a_missing_command_reports_127() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("exectty-missing");
    let cfg = config(&env, &id, &["sleep", "1000"]);
    env.rt.create(&cfg).unwrap();
    env.rt.start(&id).unwrap();
    let ec = ExecConfig { args: vec!["nope".into()], ..Default::default() };
    let (mut helper, master) = env.rt.exec_tty(&id, &ec).expect("exec_tty");
    let mut out = Vec::new();
    let _ = std::fs::File::from(master).read_to_end(&mut out);
    assert_eq!(helper.wait().unwrap().code(), Some(127), "{}", String::from_utf8_lossy(&out));
    assert!(String::from_utf8_lossy(&out).contains("not found"), "the error reaches the terminal");
    env.rt.stop(&id, Some(Duration::from_secs(1))).unwrap();
    remove_and_check(&env, &id);
}

#[test]
fn cli_exec_t_relays_the_pty_and_it_relays_stdin() {
    if !support::require_root() {
        return;
    }
    let p = ops::project("exectty", "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n");
    p.up("app", 1);
    // -t alone: output only (stdin not read), exit code passed on.
    let out =
        p.cmd(&["exec", "-t", "app", "sh", "-c", "test -t 0 && tty; exit 5"]).stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("/dev/pts/"), "{text:?}");
    // -it with a pipe (not a terminal: no raw mode): our stdin reaches the shell via the pty;
    // its end does not make us spin or hang.
    let mut child = p
        .cmd(&["exec", "-it", "app", "sh"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"test -t 0 && echo in-$((40+2)); exit 6\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("in-42"), "{text:?}");
    p.teardown();
}

#[test]
fn cli_exec_it_on_a_terminal_uses_raw_mode_restores_it_and_copies_the_size() {
    if !support::require_root() {
        return;
    }
    use nix::sys::termios::{tcgetattr, LocalFlags};
    let p = ops::project("exectty-term", "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n");
    p.up("app", 1);
    // The test's stand-in for the user's terminal (a host pty the CLI runs on; the container
    // gets its own).
    let ws = nix::pty::Winsize { ws_row: 33, ws_col: 77, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = nix::pty::openpty(Some(&ws), None).unwrap();
    let before = tcgetattr(&pty.slave).unwrap();
    assert!(before.local_flags.contains(LocalFlags::ICANON));
    let mut cmd = p.cmd(&["exec", "-it", "app", "sh"]);
    cmd.stdin(pty.slave.try_clone().unwrap()).stdout(pty.slave.try_clone().unwrap()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    // Wait for the shell's prompt: by then the CLI has put our terminal in raw mode.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("# ") {
        let mut buf = [0u8; 1024];
        let n = master.read(&mut buf).expect("read the terminal before the prompt");
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let reader = {
        let mut m = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = m.read_to_end(&mut out); // EIO once every slave fd is closed
            out
        })
    };
    // Raw mode passes the CR on; the container's line discipline turns it into NL.
    master.write_all(b"stty size; exit 6\r").unwrap();
    let status = child.wait().unwrap();
    let after = tcgetattr(&pty.slave).unwrap();
    drop(pty.slave);
    let text = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(6), "{text:?}");
    assert!(text.contains("33 77"), "window size copied: {text:?}");
    // Echoed once, by the container's terminal: ours (raw) did not echo it as well.
    assert_eq!(text.matches("stty size").count(), 1, "raw mode while relaying: {text:?}");
    assert!(after.local_flags.contains(LocalFlags::ICANON), "terminal mode restored");
    p.teardown();
}
