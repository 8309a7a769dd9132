//! The last steps before the workload runs, shared by the container's first process and by
//! `exec`: resolve the user, find the executable, drop capabilities, install seccomp, set
//! no_new_privs (when asked), switch user, chdir, mark every inherited fd close-on-exec, exec.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use caps::CapsHashSet;
use nix::unistd::{Gid, Uid};
use seccompiler::BpfProgram;

use super::user;

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the process becomes.
pub struct Workload<'a> {
    pub args: &'a [String],
    pub env: Vec<String>,
    pub cwd: &'a str,
    pub user: Option<&'a str>,
    pub group_add: &'a [String],
    pub caps: &'a CapsHashSet,
    pub no_new_privs: bool,
    pub seccomp: Option<&'a [BpfProgram]>,
    /// Keep this process as PID 1 (berth's init) and run the workload as its child.
    pub with_init: bool,
    /// Descriptors above 2 that stay open until exec (the error pipe, close-on-exec); every
    /// other one is closed before the first path lookup.
    pub keep_fds: &'a [RawFd],
}

/// Look `cmd` up as execvp(3) would, in the container's PATH.
pub fn find_executable(cmd: &str, env: &[String]) -> Result<String, String> {
    if cmd.is_empty() {
        return Err("no command given: the image has no entrypoint or cmd".into());
    }
    if cmd.contains('/') {
        return match std::fs::metadata(cmd) {
            Ok(m) if m.is_file() => Ok(cmd.to_string()),
            _ => Err(format!("exec: `{cmd}` not found in the image")),
        };
    }
    let path = env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    path.split(':')
        .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(cmd))
        .find(|p| std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false))
        .map(|p| p.to_string_lossy().into_owned())
        .ok_or_else(|| format!("exec: `{cmd}` not found in $PATH of the image ({path})"))
}

/// Fill in PATH, HOME and TERM defaults as Docker does.
pub fn complete_env(mut env: Vec<String>, home: &str, tty: bool) -> Vec<String> {
    let has = |env: &[String], k: &str| env.iter().any(|e| e.split('=').next() == Some(k));
    if !has(&env, "PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !has(&env, "HOME") {
        env.push(format!("HOME={home}"));
    }
    if tty && !has(&env, "TERM") {
        env.push("TERM=xterm".into());
    }
    env
}

fn cstrings(v: &[String]) -> Result<Vec<CString>, String> {
    v.iter().map(|s| CString::new(s.as_str()).map_err(|_| format!("NUL byte in {s:?}"))).collect()
}

/// Run the final steps and exec; returns only on failure.
pub fn become_workload(w: Workload<'_>, tty: bool) -> String {
    match try_become(w, tty) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn try_become(w: Workload<'_>, tty: bool) -> Result<std::convert::Infallible, String> {
    // Step: close every inherited fd but stdio and `keep_fds` before any path is looked up:
    // an fd of a host directory (the caller's `exec 7</dir`, a runtime's cgroup fd) reachable
    // as /proc/self/fd/N would make `-w /proc/self/fd/7` a working dir outside the container
    // (CVE-2024-21626), and a missing working dir is created below.
    close_fds_except(w.keep_fds)?;
    // Step: identity from the image's own /etc/passwd and /etc/group (we are in its root now).
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let id = user::resolve(w.user, w.group_add, &passwd, &group)?;
    let env = complete_env(w.env, &id.home, tty);
    let exe = find_executable(w.args.first().map(String::as_str).unwrap_or(""), &env)?;
    // Step: the working dir exists (Docker creates a missing WORKDIR), owned by root.
    if std::fs::metadata(w.cwd).is_err() {
        std::fs::create_dir_all(w.cwd).map_err(|e| format!("create working dir {}: {e}", w.cwd))?;
    }
    // Step: capabilities (capabilities(7)); needs CAP_SETPCAP, so before the user switch.
    super::caps::restrict(w.caps)?;
    // Step: seccomp, while still root: only the bounding set shrank, CAP_SYS_ADMIN is still
    // effective, and seccomp(2) SECCOMP_SET_MODE_FILTER accepts it instead of no_new_privs.
    if let Some(progs) = w.seccomp {
        super::seccomp::install(progs)?;
    }
    // Step: no_new_privs (prctl(2) PR_SET_NO_NEW_PRIVS) only when asked, as Docker: setuid
    // binaries (sudo, su) then gain nothing.
    if w.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("set no_new_privs: {e}"))?;
    }
    // Step: user and groups (setgroups(2) first: it needs CAP_SETGID).
    let groups: Vec<Gid> = id.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).map_err(|e| format!("setgroups {:?}: {e}", id.groups))?;
    let (gid, uid) = (Gid::from_raw(id.gid), Uid::from_raw(id.uid));
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| format!("setgid {}: {e}", id.gid))?;
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| format!("setuid {}: {e}", id.uid))?;
    nix::unistd::chdir(w.cwd).map_err(|e| format!("chdir to working dir {}: {e}", w.cwd))?;
    // Step: the working dir is inside the container's root, as runc checks after its chdir
    // (CVE-2024-21626): getcwd(2) answers "(unreachable)…" (glibc: ENOENT) for a directory
    // outside the process's root.
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => {}
        _ => return Err(format!("working dir {} is outside the container", w.cwd)),
    }
    // Step: what stayed open (the error pipe) closes on exec: its EOF tells the monitor the
    // exec went through.
    // SAFETY: close_range(2) with CLOEXEC only sets flags on our own descriptors.
    let rc = unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    if rc != 0 {
        return Err(format!("close_range: {}", std::io::Error::last_os_error()));
    }
    let envp = cstrings(&env)?;
    let argv = cstrings(w.args)?;
    let path = CString::new(exe.as_str()).map_err(|e| e.to_string())?;
    if w.with_init {
        // PID 1 holds the container's capabilities, not root's full set: shrinking the bounding
        // set only limits what an exec gains, and the init never execs (capabilities(7)).
        if id.uid == 0 {
            super::caps::limit_current(w.caps)?;
        }
        // Its command line and environment are the monitor's (it was cloned from it): they
        // name host state paths. Blank them; /proc/1/cmdline reads "berth-init".
        super::proctitle::set("berth-init", true);
        // PID 1 stays this process (already running from berth's read-only/sealed helper, so
        // /proc/1/exe is not writable: CVE-2019-5736); the workload is its child.
        super::pid1::fork_and_supervise(move || {
            let err = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
            format!("exec `{exe}`: {err}")
        });
    }
    reset_signals();
    let err = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
    Err(format!("exec `{exe}`: {err}"))
}

/// Close every fd above 2 except `keep` (close_range(2) over the gaps).
fn close_fds_except(keep: &[RawFd]) -> Result<(), String> {
    let mut keep: Vec<u32> = keep.iter().filter(|fd| **fd > 2).map(|fd| *fd as u32).collect();
    keep.sort_unstable();
    let mut from = 3u32;
    for fd in keep.into_iter().chain([u32::MAX]) {
        if fd > from {
            // SAFETY: closes descriptors of this single-threaded process that nothing here
            // refers to any more (only `keep` is used after this point).
            if unsafe { libc::close_range(from, fd - 1, 0) } != 0 {
                return Err(format!("close inherited fds: {}", std::io::Error::last_os_error()));
            }
        }
        from = fd.saturating_add(1);
    }
    Ok(())
}

/// Signal dispositions set to "ignore" and the blocked mask survive execve(2): give the workload
/// the defaults (Rust's runtime ignores SIGPIPE; the init blocks everything).
pub fn reset_signals() {
    use nix::sys::signal::{signal, SigHandler, SigSet, Signal};
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: SIG_DFL installs no handler of ours, so no handler can break
            // async-signal-safety; nix marks every signal(2) unsafe.
            let _ = unsafe { signal(sig, SigHandler::SigDfl) };
        }
    }
    let _ = SigSet::empty().thread_set_mask();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_defaults_and_lookup() {
        let env = complete_env(vec!["A=1".into()], "/root", true);
        assert_eq!(
            env,
            ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1", "HOME=/root", "TERM=xterm"]
        );
        assert!(find_executable("sh", &["PATH=/bin".into()]).is_ok());
        let err = find_executable("/bin/nope", &[]).unwrap_err();
        assert_eq!(err, "exec: `/bin/nope` not found in the image");
    }
}
