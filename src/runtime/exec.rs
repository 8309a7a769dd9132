//! `exec` inside a running container, done by a freshly spawned helper process (never from the
//! caller, which may be multi-threaded: setns(2) on a mount namespace refuses threaded callers).
//! The helper joins the container's cgroup and every namespace of its PID 1, forks so the child
//! lands in the pid namespace, and the child becomes the process with the container's
//! defaults (user, env, capabilities, no_new_privs, seccomp) before exec.
//!
//! With `console` (`berth exec -t`) the helper's stdin is a unix socket: the child, already in
//! the container's mount namespace, makes a pty on the container's own /dev/pts (never a host
//! pty), takes it as its controlling terminal and sends the master out (see [`super::tty`]).

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

use super::config::{ContainerConfig, ExecConfig, NetNs};
use super::process::{become_workload, Workload};
use super::state::{read_json, ContainerState, StateDir};
use super::{caps, cgroup, seccomp};

/// Entry point (`berth-monitor exec <state-dir> <exec-json> [console]`); returns the exit
/// status. `console`: our stdin is the socket the pty master is sent out on.
pub fn main(state_dir: &Path, exec_json: &str, console: bool) -> i32 {
    // Nothing the caller left open (fds of host directories: CVE-2024-21626) reaches the
    // container: we need only stdio (the console socket, if any, is fd 0).
    // SAFETY: close_range(2) on descriptors this freshly started, single-threaded helper has
    // not opened itself and does not use.
    unsafe { libc::close_range(3, u32::MAX, 0) };
    match run(&StateDir(state_dir.to_path_buf()), exec_json, console) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("berth exec: {msg}");
            126
        }
    }
}

/// Merge the exec's env over the container's (same key: the exec wins).
pub fn merge_env(base: &[String], over: &[String]) -> Vec<String> {
    let key = |e: &String| e.split('=').next().unwrap_or("").to_string();
    let mut out: Vec<String> = base.iter().filter(|b| !over.iter().any(|o| key(o) == key(b))).cloned().collect();
    out.extend(over.iter().cloned());
    out
}

fn namespaces(cfg: &ContainerConfig) -> Vec<(&'static str, CloneFlags)> {
    let ns = &cfg.namespaces;
    let mut v = Vec::new();
    if ns.user.is_some() {
        v.push(("user", CloneFlags::CLONE_NEWUSER));
    }
    v.push(("cgroup", CloneFlags::CLONE_NEWCGROUP));
    if !ns.ipc_host {
        v.push(("ipc", CloneFlags::CLONE_NEWIPC));
    }
    if !ns.uts_host {
        v.push(("uts", CloneFlags::CLONE_NEWUTS));
    }
    if ns.net != NetNs::Host {
        v.push(("net", CloneFlags::CLONE_NEWNET));
    }
    if !ns.pid_host {
        v.push(("pid", CloneFlags::CLONE_NEWPID));
    }
    // Last: joining the mount namespace also moves our root and cwd into the container.
    v.push(("mnt", CloneFlags::CLONE_NEWNS));
    v
}

/// The console socket, moved off fd 0 (the child's pty slave takes 0, 1 and 2) and
/// close-on-exec; /dev/null takes fd 0, so only the owner of the returned fd holds the socket.
fn console_socket() -> Result<OwnedFd, String> {
    let fd = nix::fcntl::fcntl(0, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
        .map_err(|e| format!("take the console socket: {}", std::io::Error::from(e)))?;
    // SAFETY: a new descriptor that fcntl(F_DUPFD_CLOEXEC) just made, owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let null = File::open("/dev/null").map_err(|e| format!("open /dev/null: {e}"))?;
    nix::unistd::dup2(null.as_raw_fd(), 0).map_err(|e| format!("dup2 /dev/null: {}", std::io::Error::from(e)))?;
    Ok(sock)
}

fn run(dir: &StateDir, exec_json: &str, console: bool) -> Result<i32, String> {
    let console = if console { Some(console_socket()?) } else { None };
    let cfg: ContainerConfig = read_json(&dir.config()).map_err(|e| e.to_string())?;
    let st: ContainerState = read_json(&dir.state()).map_err(|e| e.to_string())?;
    let ec: ExecConfig = serde_json::from_str(exec_json).map_err(|e| format!("bad exec config: {e}"))?;
    let pid = match (st.is_running(), st.pid) {
        (true, Some(p)) => p,
        _ => return Err(format!("container {} is not running", cfg.id)),
    };
    cgroup::add_pid(&cgroup::load(dir.root_id(), &cfg.id), std::process::id() as i32).map_err(|e| e.to_string())?;
    // Open every namespace first: /proc/<pid> is no longer reachable once we are inside.
    let mut fds = Vec::new();
    for (name, flag) in namespaces(&cfg) {
        let p = format!("/proc/{pid}/ns/{name}");
        fds.push((File::open(&p).map_err(|e| format!("open {p}: {e}"))?, flag, name));
    }
    for (f, flag, name) in &fds {
        nix::sched::setns(f, *flag).map_err(|e| format!("join the {name} namespace of container {}: {e}", cfg.id))?;
    }
    drop(fds);
    // SAFETY: this helper is single-threaded (see the module doc: that is why exec is done here),
    // so the child may allocate and take locks freely.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let msg = child(&cfg, &ec, console.as_ref().map(AsRawFd::as_raw_fd));
            eprintln!("berth exec: {msg}");
            let code = if msg.contains("not found") { 127 } else { 126 };
            // SAFETY: _exit(2) ends the child without running the parent's exit handlers; nix
            // has no wrapper for it.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            // Only the child keeps the socket: the CLI sees EOF as soon as it is gone.
            drop(console);
            wait_child(child)
        }
        Err(e) => Err(format!("fork: {e}")),
    }
}

fn wait_child(child: nix::unistd::Pid) -> Result<i32, String> {
    match waitpid(child, None) {
        Ok(WaitStatus::Exited(_, c)) => Ok(c),
        Ok(WaitStatus::Signaled(_, s, _)) => Ok(128 + s as i32),
        other => Err(format!("wait for the exec'd process: {other:?}")),
    }
}

/// In the forked child (inside the pid namespace): become the exec'd process.
fn child(cfg: &ContainerConfig, ec: &ExecConfig, console: Option<RawFd>) -> String {
    if let Some(console) = console {
        // Our own session first: TIOCSCTTY (tty_ioctl(4)) only works for a session leader
        // without a controlling terminal. We open /dev/ptmx after setns(CLONE_NEWNS), so it
        // resolves to the container's devpts instance (newinstance), not the host's.
        if let Err(e) = nix::unistd::setsid() {
            return format!("setsid: {e}");
        }
        if let Err(e) = super::tty::setup_in_container(console, ec.console_size) {
            return e;
        }
    }
    let caps = match caps::effective_set(&cfg.caps) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // The container's own filter (made for its capabilities), privileged exec or not: Docker
    // widens only the capabilities of `exec --privileged`.
    let progs = match seccomp::programs(&cfg.seccomp, &caps) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let caps = if ec.privileged { caps::all_caps() } else { caps };
    for u in &cfg.process.ulimits {
        if let Some(res) = super::limits::resource(&u.name) {
            let _ = nix::sys::resource::setrlimit(res, u.soft, u.hard);
        }
    }
    let cwd = ec.cwd.as_deref().or(cfg.process.cwd.as_deref()).filter(|c| !c.is_empty()).unwrap_or("/");
    let w = Workload {
        args: &ec.args,
        env: merge_env(&cfg.process.env, &ec.env),
        cwd,
        user: ec.user.as_deref().or(cfg.process.user.as_deref()),
        group_add: &cfg.process.group_add,
        caps: &caps,
        no_new_privs: cfg.no_new_privs(),
        seccomp: progs.as_deref(),
        with_init: false,
        keep_fds: &[],
    };
    become_workload(w, ec.tty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_env_overrides_by_key() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        assert_eq!(merge_env(&base, &["A=2".into(), "B=3".into()]), ["PATH=/bin", "A=2", "B=3"]);
    }
}
