//! Interrupted builds leave nothing behind.
//!
//! A RUN step's container is removed by a drop guard, but a signal's default action ends the
//! process without running destructors: Ctrl-C during `RUN sleep 600` would leave the
//! `build-*` container running, with its cgroup and state dir. So while a build runs,
//! SIGINT, SIGTERM and SIGHUP only set a flag (signal-safety(7): the handler just stores an
//! atomic); the build checks it between steps and while following a RUN, returns
//! [`BuildError::Interrupted`], and the guards clean up as the stack unwinds. The previous
//! dispositions come back when the last build of the process ends (builds may run
//! concurrently, e.g. several services of one `up`).
//!
//! SIGKILL cannot be caught: what a killed build left is swept at the start of the next build
//! under the same root ([`sweep_stale`]): `build-*` containers whose owning process (pid and
//! start time, recorded as a label) is gone, and `build-*` temp paths of dead pids.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::error::{BuildError, Result};
use crate::paths::Roots;
use crate::runtime::{Runtime, RuntimeError};

/// Label on a build container: `<pid>:<start time>` of the process that runs the build.
pub const OWNER_LABEL: &str = "io.berth.build.owner";

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The signal that interrupted the running builds (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Running builds, and the dispositions to restore when the last one ends.
static ACTIVE: Mutex<(usize, Vec<(libc::c_int, libc::sigaction)>)> = Mutex::new((0, Vec::new()));

extern "C" fn on_signal(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

/// Catches the interrupting signals while it lives.
pub struct SignalGuard(());

impl SignalGuard {
    pub fn install() -> SignalGuard {
        let mut active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner());
        if active.0 == 0 {
            PENDING.store(0, Ordering::SeqCst);
            active.1.clear();
            for sig in SIGNALS {
                // SAFETY: sigaction(2) with a zeroed struct filled in; the handler only stores
                // into an atomic (async-signal-safe).
                unsafe {
                    let mut new: libc::sigaction = std::mem::zeroed();
                    new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                    new.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut new.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(sig, &new, &mut old) == 0 {
                        active.1.push((sig, old));
                    }
                }
            }
        }
        active.0 += 1;
        SignalGuard(())
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner());
        active.0 = active.0.saturating_sub(1);
        if active.0 == 0 {
            for (sig, old) in active.1.drain(..) {
                // SAFETY: restoring the disposition sigaction(2) returned earlier.
                unsafe { libc::sigaction(sig, &old, std::ptr::null_mut()) };
            }
        }
    }
}

/// `Err(Interrupted)` once a signal arrived.
pub fn check() -> Result<()> {
    match PENDING.load(Ordering::SeqCst) {
        0 => Ok(()),
        sig => Err(BuildError::Interrupted { signal: signal_name(sig) }),
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig).map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_string())
}

/// This process as [`OWNER_LABEL`] records it.
pub fn owner() -> String {
    let pid = std::process::id() as i32;
    format!("{pid}:{}", start_time(pid).unwrap_or_default())
}

/// Field 22 of /proc/PID/stat (proc(5)): with the pid, it names a process even after pid reuse.
fn start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the owner recorded as `label` is still running.
fn owner_alive(label: &str) -> bool {
    let Some((pid, start)) = label.split_once(':') else { return false };
    let Ok(pid) = pid.parse::<i32>() else { return false };
    start_time(pid).is_some_and(|t| t.to_string() == start)
}

fn pid_alive(pid: &str) -> bool {
    pid.parse::<u32>().is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists())
}

/// Remove what SIGKILLed builds under `roots` left: their containers (processes, cgroups,
/// mounts, state) and temp paths in the image store. Best effort: logs what it cannot remove.
pub fn sweep_stale(roots: &Roots, rt: &Runtime, tmp_dir: &Path) {
    let containers = roots.state.join("containers");
    for e in fs::read_dir(&containers).into_iter().flatten().flatten() {
        let Some(id) = e.file_name().to_str().map(str::to_string) else { continue };
        if !id.starts_with("build-") {
            continue;
        }
        let owner = rt.config(&id).ok().and_then(|c| c.labels.get(OWNER_LABEL).cloned());
        let stale = match owner {
            Some(o) => !owner_alive(&o),
            // Being created by another build right now (config not written yet), or left
            // half-created long ago.
            None => {
                e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok())
                    > Some(Duration::from_secs(60))
            }
        };
        if stale {
            tracing::info!(container = %id, "removing a build container left by an interrupted build");
            remove_container(roots, rt, &id);
        }
    }
    for e in fs::read_dir(tmp_dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // `build-<what>-<pid>-<n>-<nanos>` (ImageLayout::tmp_path).
        let parts: Vec<&str> = name.rsplitn(4, '-').collect();
        if let [_, _, pid, prefix] = parts.as_slice() {
            if prefix.starts_with("build-") && !pid_alive(pid) {
                let p = e.path();
                let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
            }
        }
    }
}

fn remove_container(roots: &Roots, rt: &Runtime, id: &str) {
    match rt.remove(id, true) {
        Ok(()) => {}
        Err(RuntimeError::NotFound(_)) => {
            let _ = crate::runtime::cgroup::destroy(roots.id(), id);
            for d in [roots.container_state(id), roots.container_run(id)] {
                let _ = fs::remove_dir_all(d);
            }
        }
        Err(e) => tracing::warn!(container = %id, error = %e, "could not remove a stale build container"),
    }
    // Its network sandbox (netns mount, veth, address), when the step had the default bridge.
    if let Err(e) = crate::network::release_container(roots, id) {
        tracing::warn!(container = %id, error = %e, "could not remove a stale build container's network");
    }
}

/// Tests that run builds or raise signals take this: the flag and dispositions are global.
#[cfg(test)]
pub(super) static TEST_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_this_live_process() {
        let me = owner();
        assert!(owner_alive(&me), "{me}");
        let (pid, _) = me.split_once(':').unwrap();
        assert!(!owner_alive(&format!("{pid}:1")), "same pid, other start time: pid reuse");
        assert!(!owner_alive("nonsense"));
    }

    #[test]
    fn guard_catches_and_restores() {
        let _serial = TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        {
            let _g = SignalGuard::install();
            let _h = SignalGuard::install(); // nested: a second build of the same process
            assert!(check().is_ok());
            // raise(3) of a signal our handler catches.
            nix::sys::signal::raise(nix::sys::signal::Signal::SIGHUP).unwrap();
            let e = check().unwrap_err().to_string();
            assert_eq!(e, "build interrupted by SIGHUP");
        }
        // SAFETY: reading the current disposition only.
        let old = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old);
            old
        };
        assert_ne!(old.sa_sigaction, on_signal as *const () as libc::sighandler_t, "restored");
    }

    #[test]
    fn sweeps_temp_paths_of_dead_pids_only() {
        let t = tempfile::tempdir().unwrap();
        let live = t.path().join(format!("build-layer-{}-0-1", std::process::id()));
        let dead = t.path().join("build-copy-999999999-0-1");
        let other = t.path().join("pull-999999999-0-1");
        for p in [&live, &dead, &other] {
            fs::create_dir(p).unwrap();
        }
        let roots = Roots::new(Some(t.path()));
        sweep_stale(&roots, &Runtime::new(&roots), t.path());
        assert!(live.exists() && other.exists());
        assert!(!dead.exists());
    }
}
