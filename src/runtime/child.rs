//! The container's first process: from the clone in the monitor to the exec of the workload.
//! Every step runs inside the new namespaces; a failing step sends its message up the error
//! pipe (close-on-exec, so EOF on it means the exec succeeded) and exits.

use std::os::fd::RawFd;

use nix::sched::CloneFlags;

use super::config::{ContainerConfig, NetNs};
use super::process::{become_workload, Workload};
use super::state::StateDir;
use super::{caps, limits, rootfs, seccomp};

pub struct ChildCtx<'a> {
    pub cfg: &'a ContainerConfig,
    pub dir: &'a StateDir,
    /// The monitor's release: "g" once the cgroup exists (and we are id-mapped), then the
    /// cgroup `tasks` files to join by ourselves, one a line; then NUL.
    pub sync_r: RawFd,
    pub err_w: RawFd,
    /// With a tty: the socket the pty master is sent out over.
    pub console: Option<RawFd>,
    /// What becomes fds 0, 1, 2.
    pub stdio: [RawFd; 3],
}

/// Entry point inside the clone: returns the exit status of a failed setup.
pub fn run(ctx: &ChildCtx<'_>) -> isize {
    let msg = match setup(ctx) {
        Ok(()) => {
            let cfg = ctx.cfg;
            let caps = match caps::effective_set(&cfg.caps) {
                Ok(c) => c,
                Err(e) => return report(ctx.err_w, &e),
            };
            let progs = match seccomp::programs(&cfg.seccomp, &caps) {
                Ok(p) => p,
                Err(e) => return report(ctx.err_w, &e),
            };
            let w = Workload {
                args: &cfg.process.args,
                env: cfg.process.env.clone(),
                cwd: cfg.process.cwd.as_deref().filter(|c| !c.is_empty()).unwrap_or("/"),
                user: cfg.process.user.as_deref(),
                group_add: &cfg.process.group_add,
                caps: &caps,
                no_new_privs: cfg.no_new_privs(),
                seccomp: progs.as_deref(),
                with_init: cfg.init,
                keep_fds: &[ctx.err_w],
            };
            become_workload(w, cfg.process.tty)
        }
        Err(e) => e,
    };
    report(ctx.err_w, &msg)
}

fn report(err_w: RawFd, msg: &str) -> isize {
    // SAFETY: write(2) reads `msg.len()` bytes of `msg`. `err_w` is the error pipe's write end,
    // open for this whole process (the monitor's copy of it stays open until after the clone);
    // a raw fd, so no borrow for nix's AsFd-taking write.
    unsafe { libc::write(err_w, msg.as_ptr().cast(), msg.len()) };
    127
}

/// The init sequence, in order.
fn setup(ctx: &ChildCtx<'_>) -> Result<(), String> {
    let cfg = ctx.cfg;
    // 1. stdio: the log pipes (or the tty) become 0, 1, 2.
    for (target, fd) in ctx.stdio.iter().enumerate() {
        if *fd != target as RawFd {
            nix::unistd::dup2(*fd, target as RawFd).map_err(|e| format!("dup2 stdio: {}", std::io::Error::from(e)))?;
        }
    }
    // 2. in a user namespace: wait for the monitor's release (it writes our id maps and moves
    //    us into the cgroup), then become its root, so our host ids are the mapped ones
    //    (user_namespaces(7)): until then we still carry host uid 0. Without one, the monitor
    //    creates the cgroup while we mount (steps 5-7) and we wait for it at step 7b.
    let userns = cfg.namespaces.user.is_some();
    if userns {
        released(ctx)?;
        let root = (nix::unistd::Gid::from_raw(0), nix::unistd::Uid::from_raw(0));
        nix::unistd::setresgid(root.0, root.0, root.0).map_err(|e| format!("setgid 0 in the user namespace: {e}"))?;
        nix::unistd::setresuid(root.1, root.1, root.1).map_err(|e| format!("setuid 0 in the user namespace: {e}"))?;
    }
    // 3. own session (the tty, if any, becomes its controlling terminal below).
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    // 5. the caller's network namespace, if one was handed in.
    //    A namespace of our own (`NetNs::New`) gets its loopback up: "none" is loopback only.
    match &cfg.namespaces.net {
        NetNs::Path(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("open netns {}: {e}", p.display()))?;
            nix::sched::setns(&f, CloneFlags::CLONE_NEWNET).map_err(|e| format!("join netns {}: {e}", p.display()))?;
        }
        NetNs::New => crate::common::loopback::up().map_err(|e| format!("{e}: {}", e.source))?,
        NetNs::Host => {}
    }
    // 6. private propagation, then the overlay root.
    rootfs::make_private()?;
    let root = ctx.dir.rootfs();
    rootfs::mount_overlay(&cfg.layers, &ctx.dir.upper(), &ctx.dir.work(), &root)?;
    // 7. /proc, /sys (ro), /dev with its nodes, pts, shm and mqueue.
    //    Privileged (as Docker): /sys read-write and every host device node in /dev.
    let privileged = cfg.caps.privileged;
    rootfs::mount_proc(&root)?;
    rootfs::mount_sys(&root, privileged)?;
    rootfs::mount_dev(&root, cfg.shm_size(), !cfg.namespaces.ipc_host)?;
    if privileged {
        rootfs::host_devices(&root)?;
    }
    // 7b. into the container's cgroup (the device allowlist, memory and pids limits apply
    //     from here on, long before anything of the workload runs), then a cgroup namespace
    //     rooted at it (cgroup_namespaces(7)) and the container's cgroup at /sys/fs/cgroup (ro,
    //     rw when privileged, as Docker);
    //     then the mounts handed in by the caller.
    if !userns {
        released(ctx)?;
    }
    nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|e| format!("unshare cgroup namespace: {e}"))?;
    if !userns {
        super::cgroupfs::mount(&root, !privileged)?;
    }
    for m in &cfg.mounts {
        rootfs::handed_in(&root, m)?;
    }
    // 8. pivot_root into the overlay; the host's tree is detached.
    rootfs::pivot(&root)?;
    // 9. namespaced sysctls (validated at create), before /proc/sys turns read-only.
    for (k, v) in &cfg.sysctls {
        let p = format!("/proc/sys/{}", k.replace('.', "/"));
        std::fs::write(&p, v).map_err(|e| format!("sysctl {k}={v}: {e}"))?;
    }
    // 10. OCI masked and read-only paths (none when privileged, as Docker); optional read-only
    //     root.
    if !privileged {
        rootfs::mask_and_protect()?;
    }
    if cfg.rootfs.read_only {
        rootfs::root_read_only()?;
    }
    // 10b. the tty, made on the container's own /dev/pts and passed out (see tty.rs).
    if let Some(console) = ctx.console {
        super::tty::setup_in_container(console, cfg.process.console_size)?;
    }
    // 11. hostname and domainname (own uts namespace only).
    if !cfg.namespaces.uts_host {
        let host = cfg.hostname.clone().unwrap_or_else(|| crate::common::ids::hostname_of_id(&cfg.id));
        nix::unistd::sethostname(&host).map_err(|e| format!("sethostname {host}: {e}"))?;
        if let Some(d) = &cfg.domainname {
            let c = std::ffi::CString::new(d.as_str()).map_err(|e| e.to_string())?;
            // SAFETY: setdomainname(2) reads `d.len()` bytes of `c` (d's bytes, NUL-free), which
            // outlives the call; nix has sethostname but no setdomainname.
            if unsafe { libc::setdomainname(c.as_ptr(), d.len()) } != 0 {
                return Err(format!("setdomainname {d}: {}", std::io::Error::last_os_error()));
            }
        }
    }
    // 12. ulimits and oom_score_adj.
    set_limits(cfg)
    // 13.. capabilities, seccomp, no_new_privs (when asked), user and groups, close-on-exec of every fd,
    // exec (or fork behind the init): process::become_workload, shared with `exec`.
}

/// Wait for the monitor's release (see [`ChildCtx::sync_r`]) and join the cgroup as told:
/// "0" in a v1 hierarchy's `tasks` file moves the calling thread (cgroups(7)), which the kernel
/// does without taking its global threadgroup lock (see `cgroup::self_join_files`); this
/// process is single-threaded, so that is all of it.
fn released(ctx: &ChildCtx<'_>) -> Result<(), String> {
    let mut msg = Vec::new();
    let mut buf = [0u8; 1024];
    while !msg.ends_with(b"\0") {
        match nix::unistd::read(ctx.sync_r, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => msg.extend_from_slice(&buf[..n]),
        }
    }
    let msg = String::from_utf8_lossy(msg.strip_suffix(b"\0").unwrap_or(&msg));
    let mut lines = msg.lines();
    if lines.next() != Some("g") {
        return Err("the monitor went away during setup".into());
    }
    for f in lines {
        std::fs::write(f, "0").map_err(|e| format!("join cgroup {f}: {e}"))?;
    }
    Ok(())
}

fn set_limits(cfg: &ContainerConfig) -> Result<(), String> {
    for u in &cfg.process.ulimits {
        let res = limits::check_ulimit(u, true)?;
        nix::sys::resource::setrlimit(res, u.soft, u.hard).map_err(|e| {
            format!(
                "ulimit {}={}:{}: {e} (the hard limit cannot be raised above the host's without CAP_SYS_RESOURCE)",
                u.name, u.soft, u.hard
            )
        })?;
    }
    if let Some(adj) = cfg.process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| format!("oom_score_adj {adj}: {e} (lowering it needs CAP_SYS_RESOURCE)"))?;
    }
    Ok(())
}
