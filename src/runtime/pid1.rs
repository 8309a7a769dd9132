//! berth's built-in init (`--init`): PID 1 of the container, in front of the workload. It
//! blocks every signal and takes them with sigwait, forwarding each to the workload, reaps
//! every zombie re-parented to it, and exits with the workload's status (128+N for a signal),
//! as tini does.
//!
//! It is not a separate executable: the container's first process, already hardened (caps,
//! no_new_privs, seccomp, user) and running from berth's read-only/sealed helper, forks; the
//! child execs the workload and the parent stays PID 1. So /proc/1/exe never names a writable
//! host file (CVE-2019-5736), and no binary has to exist inside the image (the helper is
//! dynamically linked; the image has no loader for it).
//!
//! Because it blocks rather than catches signals, `stop` looks at the workload's signal
//! dispositions (its first child) to decide whether waiting can help.

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

/// Fork; the child runs `exec` (which only returns an error message), the parent supervises
/// and exits with the workload's status. Never returns.
pub fn fork_and_supervise(exec: impl FnOnce() -> String) -> ! {
    let all = SigSet::all();
    let _ = all.thread_block();
    // SAFETY: the container's first process is single-threaded (cloned from the single-threaded
    // monitor, or forked by the exec helper), so the child may allocate and take locks freely.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            super::process::reset_signals();
            let msg = exec();
            // The error pipe is still open (close-on-exec): report like a failed setup.
            eprintln!("berth-init: {msg}");
            // SAFETY: _exit(2) leaves at once (this process shares no exit handlers worth
            // running with anyone); nix has no wrapper for it.
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => {
            // Drop every fd but stdio: in particular our copy of the monitor's error pipe, whose
            // EOF tells the monitor the workload's exec went through.
            // SAFETY: close_range(2) closes descriptors 3 and up; nothing in this single-threaded
            // process refers to any of them again (no OwnedFd of ours is dropped after this).
            // nix 0.29 has no wrapper.
            unsafe { libc::close_range(3, u32::MAX, 0) };
            let _ = nix::sys::prctl::set_name(c"berth-init");
            let code = supervise(child, &all);
            // SAFETY: as above, _exit(2) with the workload's status.
            unsafe { libc::_exit(code) }
        }
        Err(e) => {
            eprintln!("berth-init: fork: {e}");
            // SAFETY: as above.
            unsafe { libc::_exit(127) }
        }
    }
}

fn supervise(child: Pid, all: &SigSet) -> i32 {
    loop {
        let sig = match all.wait() {
            Ok(s) => s,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
            continue;
        }
        if let Some(code) = reap(child) {
            return code;
        }
    }
}

/// Reap every exited process; the workload's status once it is among them.
fn reap(child: Pid) -> Option<i32> {
    let mut result = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, c)) if p == child => result = Some(c),
            Ok(WaitStatus::Signaled(p, s, _)) if p == child => result = Some(128 + s as i32),
            Ok(WaitStatus::StillAlive) | Err(_) => return result,
            Ok(_) => {}
        }
    }
}
