//! A container in the foreground of `berth run` / `berth run SERVICE`: our signals forwarded
//! to it, its pty relayed (with -t) or its log followed, until it exits.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context as _;

use crate::runtime::attach::{self, LogFollower, RawMode};
use crate::runtime::{Runtime, Status};

/// The last signal received and not yet forwarded (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

/// Catch SIGINT, SIGTERM and SIGHUP so that [`attach_until_exit`] forwards them.
pub(super) fn forward_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic (async-signal-safe).
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Our stdin, duplicated, for the container's (-i).
pub(super) fn dup_stdin() -> anyhow::Result<OwnedFd> {
    let fd = std::io::stdin().lock();
    std::os::fd::AsFd::as_fd(&fd).try_clone_to_owned().context("dup stdin")
}

/// Relay until the container exits; returns its exit code and whether it was OOM-killed.
pub(super) fn attach_until_exit(rt: &Runtime, id: &str, master: Option<OwnedFd>) -> anyhow::Result<(i32, bool)> {
    let _raw = master.as_ref().map(|_| RawMode::enable());
    let _winch = master.as_ref().map(|_| attach::WinchRelay::install());
    let mut follower = LogFollower::new(&rt.log_path(id));
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    // The monitor exits right after recording the exit code: wake on that, not on a tick.
    let monitor = rt.state(id)?.monitor_pid;
    loop {
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
            let _ = rt.kill(id, s);
        }
        match &master {
            Some(m) => {
                attach::relay_pty_once(m, Duration::from_millis(20));
            }
            None => {
                follower.poll(&mut out, &mut err);
                crate::runtime::stop::wait_for_monitor(monitor, Duration::from_millis(20));
            }
        }
        if let Status::Exited { code, oom } = rt.state(id)?.status {
            // Drain what the container wrote just before it exited.
            match &master {
                Some(m) => while attach::relay_pty_once(m, Duration::from_millis(10)) {},
                None => follower.poll(&mut out, &mut err),
            }
            return Ok((code, oom));
        }
    }
}
