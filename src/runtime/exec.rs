//! `exec` inside a running container, done by a freshly spawned helper process (never from the
//! caller, which may be multi-threaded: setns(2) on a mount namespace refuses threaded callers).
//! The helper joins the container's cgroup and every namespace of its PID 1, forks so the child
//! lands in the pid namespace, and the child becomes the process with the container's
//! defaults (user, env, capabilities, no_new_privs, seccomp) before exec.

use std::fs::File;
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

use super::config::{ContainerConfig, ExecConfig, NetNs, SeccompMode};
use super::process::{become_workload, Workload};
use super::state::{read_json, ContainerState, StateDir};
use super::{caps, cgroup, seccomp};

/// Entry point (`berth-monitor exec <state-dir> <exec-json>`); returns the exit status.
pub fn main(state_dir: &Path, exec_json: &str) -> i32 {
    match run(&StateDir(state_dir.to_path_buf()), exec_json) {
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

fn run(dir: &StateDir, exec_json: &str) -> Result<i32, String> {
    let cfg: ContainerConfig = read_json(&dir.config()).map_err(|e| e.to_string())?;
    let st: ContainerState = read_json(&dir.state()).map_err(|e| e.to_string())?;
    let ec: ExecConfig = serde_json::from_str(exec_json).map_err(|e| format!("bad exec config: {e}"))?;
    let pid = match (st.is_running(), st.pid) {
        (true, Some(p)) => p,
        _ => return Err(format!("container {} is not running", cfg.id)),
    };
    cgroup::add_pid(&cfg.id, &cgroup::load(&cfg.id), std::process::id() as i32).map_err(|e| e.to_string())?;
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
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let msg = child(&cfg, &ec);
            eprintln!("berth exec: {msg}");
            let code = if msg.contains("not found") { 127 } else { 126 };
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, c)) => Ok(c),
            Ok(WaitStatus::Signaled(_, s, _)) => Ok(128 + s as i32),
            other => Err(format!("wait for the exec'd process: {other:?}")),
        },
        Err(e) => Err(format!("fork: {e}")),
    }
}

/// In the forked child (inside the pid namespace): become the exec'd process.
fn child(cfg: &ContainerConfig, ec: &ExecConfig) -> String {
    let caps = match caps::effective_set(&cfg.caps) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let progs = match cfg.seccomp {
        SeccompMode::Default => match seccomp::programs(&caps) {
            Ok(p) => Some(p),
            Err(e) => return e,
        },
        SeccompMode::Unconfined => None,
    };
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
