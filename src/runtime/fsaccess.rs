//! A container's root filesystem, reached from the host for `cp`, `export` and `commit`.
//!
//! The overlay is only ever mounted inside the container's own mount namespace (see
//! `rootfs`), so the host has no path to it:
//! - a running container is reached through `/proc/<pid>/root` of its PID 1, which shows its
//!   mount namespace as the container sees it (volumes and binds included). The pid is opened
//!   as a `/proc/<pid>` directory first and checked to be in the container's cgroup, so a pid
//!   reused after the container exited is never mistaken for it (proc(5): a `/proc/<pid>` fd
//!   stays bound to that process);
//! - a created or exited container gets its overlay (and its bind mounts) mounted in a private
//!   mount namespace of this process (unshare(2) CLONE_NEWNS, everything made private first),
//!   so nothing is visible on the host and nothing is left behind, even after a SIGKILL: the
//!   namespace dies with the process. The caller holds the project lock, so the container is
//!   not started with the same upper dir mounted twice.
//!
//! Every path the caller then opens below the returned root goes through openat2(2)
//! RESOLVE_IN_ROOT (see `securepath`): a symlink the image or the container planted resolves
//! inside the container's root, never on the host.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::mount::MsFlags;
use nix::sched::CloneFlags;

use super::config::Mount;
use super::error::{Result, RuntimeError};
use super::lifecycle::Runtime;
use super::state::StateDir;

/// An O_PATH fd of a container's root directory, valid while this value lives.
pub struct ContainerRoot {
    pub root: OwnedFd,
    /// Whether the container was running (seen through its PID 1) or mounted here.
    pub live: bool,
}

fn bad(id: &str, reason: String) -> RuntimeError {
    RuntimeError::BadState { id: id.to_string(), status: "not reachable".into(), hint: reason }
}

impl Runtime {
    /// The root filesystem of container `id` (see the module doc). For a stopped container
    /// this process moves into a private mount namespace: call it from a single-threaded CLI
    /// command only, holding the project lock.
    pub fn open_root(&self, id: &str) -> Result<ContainerRoot> {
        let st = self.state(id)?;
        if let (true, Some(pid)) = (st.is_running(), st.pid) {
            return Ok(ContainerRoot { root: live_root(id, pid)?, live: true });
        }
        let cfg = self.config(id)?;
        let dir = StateDir(self.state_dir(id));
        mount_private(id, &cfg, &dir)?;
        let root = super::securepath::open_dir(&dir.rootfs()).map_err(|e| bad(id, e))?;
        Ok(ContainerRoot { root, live: false })
    }
}

/// `/proc/<pid>/root` of the container's PID 1, checked to belong to container `id`.
fn live_root(id: &str, pid: i32) -> Result<OwnedFd> {
    let gone = || bad(id, format!("its process {pid} is gone; try again"));
    let proc_dir = File::open(format!("/proc/{pid}")).map_err(|_| gone())?;
    let cgroup = crate::fsat::open_at(&proc_dir, "cgroup".as_ref(), libc::O_RDONLY, 0).map_err(|_| gone())?;
    let text = crate::fsutil::read_limited(cgroup, 64 << 10, "cgroup file").map_err(|_| gone())?;
    let text = String::from_utf8_lossy(&text);
    // Container cgroups are named `<id>` or `<id>@<root id>` (see cgroup::name).
    let ours = text.lines().any(|l| l.rsplit('/').next().is_some_and(|leaf| leaf.split('@').next() == Some(id)));
    if !ours {
        return Err(gone());
    }
    let name = CString::new("root").map_err(|_| gone())?;
    // SAFETY: a valid dirfd and C string; the magic link is followed on purpose: it is the
    // kernel's own handle on that process's root, not a path anything in the container controls.
    let fd = unsafe {
        libc::openat(proc_dir.as_raw_fd(), name.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
    };
    if fd < 0 {
        return Err(gone());
    }
    // SAFETY: fd was just returned by openat(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Mount the stopped container's overlay and binds on its state dir's `rootfs`, inside a new
/// private mount namespace of this process.
fn mount_private(id: &str, cfg: &super::ContainerConfig, dir: &StateDir) -> Result<()> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS).map_err(super::error::sys_err("unshare(CLONE_NEWNS)"))?;
    super::rootfs::make_private().map_err(|e| bad(id, e))?;
    let target = dir.rootfs();
    super::rootfs::mount_overlay(&cfg.layers, &dir.upper(), &dir.work(), &target).map_err(|e| bad(id, e))?;
    for m in &cfg.mounts {
        let Mount::Bind { source, target: inside, .. } = m else { continue };
        let Ok(meta) = std::fs::metadata(source) else { continue };
        // The mount point, made inside the rootfs as the container's start would make it.
        let at = super::securepath::secure_target(&target, inside, !meta.is_dir()).map_err(|e| bad(id, e))?;
        let at = super::securepath::fd_path(&at);
        let src = source.to_string_lossy();
        super::rootfs::mnt(Some(&src), &at, None, MsFlags::MS_BIND | MsFlags::MS_REC, None).map_err(|e| bad(id, e))?;
    }
    Ok(())
}
