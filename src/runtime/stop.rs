//! Stopping: stop_signal, then SIGKILL after the grace period — unless waiting cannot help.
//! The kernel discards a signal sent to a pid namespace's init for which that init has no
//! handler (pid_namespaces(7)), so when PID 1 does not catch the stop signal (SigCgt in
//! /proc/PID/status) it is killed at once. With berth's init in front, the init forwards the
//! signal to the workload, which is not a namespace init: there the signal is lost only if the
//! workload ignores it (SigIgn) or its default action is to ignore.

use nix::sys::signal::Signal;

/// Parse `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(s: &str) -> Result<Signal, UnknownSignal> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| UnknownSignal(s.to_string()));
    }
    let up = t.to_ascii_uppercase();
    let full = if up.starts_with("SIG") { up } else { format!("SIG{up}") };
    full.parse().map_err(|_| UnknownSignal(s.to_string()))
}

/// A signal name or number that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signal {0:?}")]
pub struct UnknownSignal(pub String);

fn mask(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| u64::from_str_radix(v.trim_start_matches(':').trim(), 16).ok())
        .unwrap_or(0)
}

/// Would `sig` be lost on the process whose /proc/PID/status is `status`?
pub fn signal_is_dropped(status: &str, sig: Signal, namespace_init: bool) -> bool {
    let bit = 1u64 << (sig as i32 - 1);
    if mask(status, "SigCgt") & bit != 0 {
        return false;
    }
    if namespace_init {
        return true;
    }
    mask(status, "SigIgn") & bit != 0
        || matches!(sig, Signal::SIGCHLD | Signal::SIGURG | Signal::SIGWINCH | Signal::SIGCONT)
}

/// The first child of `pid` (the workload behind berth's init).
pub fn first_child(pid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Decide, for a running container, whether to SIGKILL at once. `None` status (process gone,
/// or the init has not forked yet) means: send the signal and wait.
pub fn kill_at_once(pid1: i32, sig: Signal, with_init: bool, own_pid_ns: bool) -> bool {
    if sig == Signal::SIGKILL {
        return true;
    }
    let (target, ns_init) = if with_init {
        match first_child(pid1) {
            Some(c) => (c, false),
            None => return false,
        }
    } else {
        (pid1, own_pid_ns)
    };
    match std::fs::read_to_string(format!("/proc/{target}/status")) {
        Ok(status) => signal_is_dropped(&status, sig, ns_init),
        Err(_) => false,
    }
}

/// Sleep until the container's monitor exits or `timeout` passes, whichever comes first. The
/// monitor exits right after it has recorded the exit status, so a waiter that re-reads the
/// state after this wakes as soon as the record is final instead of on a fixed polling tick.
/// A pidfd (pidfd_open(2), readable once the process has exited) works for a process that is
/// not our child. Without a monitor pid or a pidfd this is a plain sleep of at most 5 ms; a pid
/// reused by another process only makes the caller wait out `timeout`, and callers always
/// re-read the state, so the pidfd is a wake-up hint, never the source of truth.
pub fn wait_for_monitor(monitor_pid: Option<i32>, timeout: std::time::Duration) {
    // SAFETY: pidfd_open(2) takes two integers and touches no memory of ours; nix 0.29 has no
    // wrapper for it.
    let fd = monitor_pid.map_or(-1, |pid| unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32);
    if fd < 0 {
        std::thread::sleep(timeout.min(std::time::Duration::from_millis(5)));
        return;
    }
    // SAFETY: pidfd_open returned a new fd that we own.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut pfd = [PollFd::new(std::os::fd::AsFd::as_fd(&fd), PollFlags::POLLIN)];
    // EINTR or an error just returns early to the caller's re-check.
    let _ = poll(&mut pfd, PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLEEP: &str =
        "Name:\tsleep\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n";
    const TRAP: &str = "Name:\tsh\nSigIgn:\t0000000000000004\nSigCgt:\t0000000000004002\n";
    const IGNORES_TERM: &str = "Name:\tsh\nSigIgn:\t0000000000004000\nSigCgt:\t0000000000000002\n";

    #[test]
    fn uncaught_signals_to_a_namespace_init_are_dropped() {
        assert!(signal_is_dropped(SLEEP, Signal::SIGTERM, true));
        assert!(!signal_is_dropped(TRAP, Signal::SIGTERM, true));
        assert!(signal_is_dropped(IGNORES_TERM, Signal::SIGTERM, true));
    }

    #[test]
    fn behind_an_init_only_ignored_signals_are_dropped() {
        assert!(!signal_is_dropped(SLEEP, Signal::SIGTERM, false));
        assert!(signal_is_dropped(IGNORES_TERM, Signal::SIGTERM, false));
        assert!(signal_is_dropped(SLEEP, Signal::SIGWINCH, false));
    }

    #[test]
    fn signal_names() {
        assert_eq!(parse_signal("term"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("SIGQUIT"), Ok(Signal::SIGQUIT));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("nope").is_err());
    }
}
