//! Network namespaces bound to files (`Roots.run/netns/<id>`), as `ip netns` does, but without
//! forking: a dedicated std thread unshares its own network namespace (unshare(2) with
//! CLONE_NEWNET affects only the calling thread) and bind-mounts `/proc/self/task/<tid>/ns/net`
//! onto the file, which keeps the namespace alive after the thread exits (namespaces(7)).
//! Work inside a namespace runs the same way: a short-lived thread `setns(2)`s into it.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use super::error::{NetworkError, Result};

/// Whether `path` is a bound namespace file (so creating it again is a no-op).
pub fn is_bound(path: &Path) -> bool {
    // statfs(2) reports nsfs for a bound namespace file.
    nix::sys::statfs::statfs(path).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// Creates a new network namespace bound at `path`, with loopback up. Idempotent.
pub fn create(path: &Path) -> Result<()> {
    if is_bound(path) {
        return Ok(());
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(parent).map_err(|e| NetworkError::io(parent, e))?;
    OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(|e| NetworkError::io(path, e))?;
    let target = path.to_path_buf();
    let res = run_thread(move || -> Result<()> {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| NetworkError::sys("unshare(CLONE_NEWNET)", e))?;
        let tid = nix::unistd::gettid();
        let src = PathBuf::from(format!("/proc/self/task/{tid}/ns/net"));
        mount(Some(&src), &target, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| NetworkError::sys(format!("bind-mount netns onto {}", target.display()), e))?;
        loopback_up()
    });
    if res.is_err() {
        let _ = delete(path);
    }
    res
}

/// Loopback up with two ioctls on the thread that is in the new namespace (cheaper than a
/// netlink session: no socket dump, no runtime).
fn loopback_up() -> Result<()> {
    crate::common::loopback::up().map_err(|e| NetworkError::sys(format!("bring lo up: {}", e.step), e.source))
}

/// Runs `f` on a fresh thread that has joined the network namespace bound at `path`.
pub fn run_in<T: Send + 'static>(path: &Path, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let ns = File::open(path).map_err(|e| NetworkError::io(path, e))?;
    let shown = path.display().to_string();
    run_thread(move || {
        setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| NetworkError::sys(format!("setns into {shown}"), e))?;
        drop(ns);
        f()
    })
}

/// Unbinds and removes the namespace file; the namespace dies with its last user (a
/// container still running in it keeps it, and its veths, alive). Missing is fine.
pub fn delete(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(NetworkError::sys(format!("unmount {}", path.display()), e)),
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetworkError::io(path, e)),
    }
}

/// Runs `f` on its own thread: namespace changes then die with the thread and never leak
/// into the caller's thread (which may be a tokio worker).
fn run_thread<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    std::thread::Builder::new()
        .name("berth-netns".into())
        .spawn(f)
        .map_err(|e| NetworkError::sys("spawn netns thread", e))?
        .join()
        .unwrap_or_else(|_| Err(NetworkError::sys("netns thread", std::io::Error::other("panicked"))))
}
