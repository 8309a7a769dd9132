//! The container's terminal follows the user's: `berth run -it IMAGE`, `berth run -it SERVICE`
//! and `berth exec -it` start the container's pty at the caller's size (before the process
//! runs, so its first `stty size` sees it) and copy every later size change (SIGWINCH) to it.
//! As root on the real kernel; the user's terminal is a host pty whose controlling process is
//! the berth CLI, so resizing it sends the CLI a real SIGWINCH. `berth attach` to a `tty: true`
//! service started by `up -d` gives the container's terminal its size, and follows it too.

#[path = "ops_common/mod.rs"]
mod ops;
mod support;

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Prints the size at start, then once more (and exits 0) on the first SIGWINCH. `ready` is
/// printed after the trap is set, so a resize after it is never missed; the short sleeps bound
/// how long ash defers the trap while it waits for a foreground child.
const SCRIPT: &str =
    "echo start=$(stty size); trap 'echo resized=$(stty size); exit 0' WINCH; echo ready; while :; do sleep 0.05; done";

/// A host pty standing in for the user's terminal, with a berth command running on it as its
/// session leader (so the pty is its controlling terminal and it is in the foreground).
struct Term {
    master: OwnedFd,
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Term {
    fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Term {
        let ws = nix::pty::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        let pty = nix::pty::openpty(Some(&ws), None).unwrap();
        cmd.stdin(pty.slave.try_clone().unwrap()).stdout(pty.slave.try_clone().unwrap()).stderr(Stdio::piped());
        // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(cmd);
        drop(pty.slave); // the child holds the only slave fds: EIO on the master once it is gone
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut m = std::fs::File::from(pty.master.try_clone().unwrap());
        let sink = out.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = m.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Term { master: pty.master, child, out, reader: Some(reader) }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, want: &str) {
        let deadline = Instant::now() + support::patience(Duration::from_secs(20));
        while !self.text().contains(want) {
            assert!(Instant::now() < deadline, "never saw {want:?}; terminal: {:?}", self.text());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Resize the user's terminal: the kernel sends SIGWINCH to its foreground process group.
    fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads one `struct winsize` from `ws`, alive for the call.
        assert_eq!(unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }, 0);
    }

    /// Wait for the command (20 s at most, then kill it); its exit code and the terminal text.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + support::patience(Duration::from_secs(20));
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut err = String::new();
        let _ = self.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (status.code(), format!("{}{err}", self.text()))
    }
}

/// A failing test must not leave the CLI running on its terminal.
impl Drop for Term {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Start at 37x111, see it, resize to 50x132, see that; the command exits 0 on the resize.
fn check_follows(p: &ops::Proj, args: &[&str]) {
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["sh", "-c", SCRIPT]);
    let term = Term::spawn(p.cmd(&full), 37, 111);
    term.wait_for("ready");
    assert!(term.text().contains("start=37 111"), "initial size, before the process ran: {:?}", term.text());
    term.resize(50, 132);
    term.wait_for("resized=50 132");
    let (code, text) = term.finish();
    assert_eq!(code, Some(0), "{args:?}: {text:?}");
}

#[test]
fn run_it_image_starts_at_the_callers_size_and_follows_sigwinch() {
    if !support::require_root() {
        return;
    }
    let p = ops::project("winsize-run", "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n");
    check_follows(&p, &["run", "--rm", "-it", "busybox:test"]);
    // -t without -i: the size is still the terminal's, and follows it.
    check_follows(&p, &["run", "--rm", "-t", "busybox:test"]);
    p.teardown();
}

#[test]
fn run_it_service_starts_at_the_callers_size_and_follows_sigwinch() {
    if !support::require_root() {
        return;
    }
    let p = ops::project("winsize-svc", "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n");
    check_follows(&p, &["run", "--rm", "-it", "app"]);
    p.teardown();
}

#[test]
fn exec_it_starts_at_the_callers_size_and_follows_sigwinch() {
    if !support::require_root() {
        return;
    }
    let p = ops::project("winsize-exec", "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n");
    p.up("app", 1);
    check_follows(&p, &["exec", "-it", "app"]);
    check_follows(&p, &["exec", "-t", "app"]);
    p.teardown();
}

#[test]
fn attach_gives_a_tty_service_the_callers_size_and_follows_sigwinch() {
    if !support::require_root() {
        return;
    }
    // Prints the size on every SIGWINCH (started by `up -d`: nobody's terminal size yet).
    let compose = "services:\n  app:\n    image: busybox:test\n    tty: true\n    stdin_open: true\n    command: [sh, -c, \"trap 'echo resized=$$(stty size)' WINCH; echo ready; while :; do sleep 0.05; done\"]\n";
    let p = ops::project("winsize-attach", compose);
    let id = p.up("app", 1);
    p.wait_log(&id, "ready");
    let term = Term::spawn(p.cmd(&["attach", "app"]), 37, 111);
    term.wait_for("resized=37 111");
    term.resize(50, 132);
    term.wait_for("resized=50 132");
    // The detach keys end attach with 0 and leave the container running.
    assert_eq!(nix::unistd::write(&term.master, b"\x10\x11").unwrap(), 2);
    let (code, text) = term.finish();
    assert_eq!(code, Some(0), "{text:?}");
    assert!(p.rt.state(&id).is_ok_and(|st| st.is_running()), "detaching stopped it");
    p.teardown();
}
