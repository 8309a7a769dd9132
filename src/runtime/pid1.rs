//! berth's built-in init (`--init`): PID 1 of the container, in front of the workload. It
//! blocks every signal and takes them with sigwait, forwarding each to the workload, reaps
//! every zombie re-parented to it, and exits with the workload's status (128+N for a signal),
//! as tini does. It runs from berth's sealed memfd copy, so /proc/1/exe never names a host
//! file the container could open for writing (CVE-2019-5736).
//!
//! Because it blocks rather than catches signals, `stop` looks at the workload's signal
//! dispositions (its only child) to decide whether waiting can help.

use std::ffi::CString;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

/// `berth-init init <exe> <argv0> [args...]`; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let (Some(exe), Some(_)) = (args.first(), args.get(1)) else {
        eprintln!("berth-init: usage: init EXE ARGV0 [ARGS...]");
        return 127;
    };
    let all = SigSet::all();
    if all.thread_block().is_err() {
        eprintln!("berth-init: cannot block signals");
        return 127;
    }
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            super::process::reset_signals();
            let argv: Vec<CString> = args[1..].iter().filter_map(|a| CString::new(a.as_str()).ok()).collect();
            if let Ok(path) = CString::new(exe.as_str()) {
                let err = nix::unistd::execv(&path, &argv).unwrap_err();
                eprintln!("berth-init: exec {exe}: {err}");
            }
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => {
            eprintln!("berth-init: fork: {e}");
            return 127;
        }
    };
    supervise(child, &all)
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
