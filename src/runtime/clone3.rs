//! clone3(2) with `CLONE_INTO_CGROUP`: the container's first process is born in its cgroup v2
//! instead of being moved there.
//!
//! Why: moving a process between cgroups (a write to `cgroup.procs`, by anyone, itself
//! included on v2) takes the kernel's global `cgroup_threadgroup_rwsem` for writing, whose
//! first writer after an idle spell waits out an RCU grace period (7-15 ms on a 2-CPU host).
//! A clone into the cgroup only takes that lock for reading (kernel/cgroup/cgroup.c,
//! cgroup_css_set_fork). On v1 the container's process joins by itself instead (see
//! `cgroup::self_join_files`); `CLONE_INTO_CGROUP` needs a v2 cgroup.
//!
//! The clone is fork-like (no new stack, no `CLONE_VM`): the child runs in a copy of the
//! caller's address space from the syscall's return, as after fork(2). Callers must be
//! single-threaded (the monitor is), as for fork.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

/// `CLONE_INTO_CGROUP` (linux/sched.h, since 5.7).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` as of Linux 5.7 (CLONE_ARGS_SIZE_VER2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Why a clone into the cgroup was not made.
#[derive(Debug)]
pub enum Error {
    /// This kernel has no clone3 or no `CLONE_INTO_CGROUP` (before 5.3 / 5.7), or refuses it
    /// for this cgroup: the caller clones the classic way and moves the child.
    Unsupported(Errno),
    /// A real failure of the clone (limits, memory): the same would fail a classic clone.
    Failed(Errno),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported(e) => write!(f, "clone3 into a cgroup is not supported here: {e}"),
            Error::Failed(e) => write!(f, "clone3: {e}"),
        }
    }
}

/// Clone a child with namespace `flags` into the cgroup whose directory `cgroup` is open, run
/// `child` there and `_exit` with what it returns. Returns the child's pid (and SIGCHLD
/// reports its end, as with fork).
pub fn clone_into_cgroup(
    flags: CloneFlags,
    cgroup: BorrowedFd<'_>,
    child: impl FnOnce() -> isize,
) -> Result<Pid, Error> {
    let args = CloneArgs {
        flags: flags.bits() as u32 as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3 with neither CLONE_VM nor a stack is fork(2) with extra flags: the child
    // gets a private copy of this (single-threaded, see the module doc) address space and
    // resumes here with 0, then only runs `child` and `_exit`s, never returning into the
    // caller's frames. `args` outlives the call and its size is passed with it.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, std::mem::size_of::<CloneArgs>()) };
    match ret {
        0 => {
            let code = child();
            // SAFETY: _exit ends the child without running the parent's atexit handlers or
            // flushing its stdio buffers, which the child shares by copy.
            unsafe { libc::_exit(code as i32) }
        }
        pid if pid > 0 => Ok(Pid::from_raw(pid as i32)),
        _ => match Errno::last() {
            // ENOSYS: no clone3. E2BIG: a kernel older than the `cgroup` field. EINVAL: no
            // CLONE_INTO_CGROUP. EOPNOTSUPP/EBADF: not a usable v2 cgroup (a domain-invalid or
            // threaded one).
            e @ (Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL | Errno::EOPNOTSUPP | Errno::EBADF) => {
                Err(Error::Unsupported(e))
            }
            e => Err(Error::Failed(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};
    use std::fs;
    use std::os::fd::AsFd;
    use std::path::PathBuf;

    /// A cgroup v2 mount on this host: /sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified on
    /// a hybrid one.
    fn v2_mount() -> Option<PathBuf> {
        let mounts = fs::read_to_string("/proc/self/mounts").ok()?;
        mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && f[2] == "cgroup2").then(|| PathBuf::from(f[1]))
        })
    }

    /// The child is in the cgroup from its first instruction: it reads /proc/self/cgroup
    /// before doing anything else, and nobody moved it.
    #[test]
    fn child_is_born_in_the_cgroup() {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("SKIP: child_is_born_in_the_cgroup needs root");
            return;
        }
        let Some(mount) = v2_mount() else {
            eprintln!("SKIP: child_is_born_in_the_cgroup: no cgroup2 mount");
            return;
        };
        let name = format!("berth-clone3-test-{}", std::process::id());
        let dir = mount.join(&name);
        fs::create_dir(&dir).unwrap();
        let fd = fs::File::open(&dir).unwrap();
        let want = format!("0::/{name}\n");
        // The test harness is multi-threaded; the child only reads a file and _exits.
        let res = clone_into_cgroup(CloneFlags::empty(), fd.as_fd(), || {
            let got = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
            // On a hybrid host the v2 line is one of several.
            if got.lines().any(|l| format!("{l}\n") == want) {
                0
            } else {
                7
            }
        });
        let outcome = match res {
            Ok(pid) => Some(waitpid(pid, None).unwrap()),
            Err(e @ Error::Unsupported(_)) => {
                eprintln!("SKIP: child_is_born_in_the_cgroup: {e}");
                None
            }
            Err(e) => panic!("{e}"),
        };
        fs::remove_dir(&dir).unwrap();
        if let Some(st) = outcome {
            assert!(matches!(st, WaitStatus::Exited(_, 0)), "child saw another cgroup: {st:?}");
        }
    }
}
