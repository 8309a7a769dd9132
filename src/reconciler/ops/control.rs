//! `stop`, `start`, `restart`, `kill`, `pause`, `unpause`, `rm`, `wait` on a project's containers.
//!
//! Order: `start` goes in dependency order (a service after what it depends on), `stop` in
//! reverse; the containers of one level are handled in parallel (each stop may wait out a
//! grace period, so serial stops would add them up).
//!
//! Restart policies: `stop` (and a `kill` with the stop signal or SIGKILL, as Docker's
//! `ExitOnNext`) first records `stopped_by_user` in the container's record, *before*
//! signalling, so the supervisor never races to restart what the user is stopping; `start`
//! clears it. The per-container steps are the reconciler's own (`container::{start, stop,
//! remove}`), so `up`, `down` and these commands treat a container alike.

use nix::sys::signal::Signal;

use super::{OpsError, Result};
use crate::network::NetworkManager;
use crate::paths::Roots;
use crate::planner::ContainerRef;
use crate::reconciler::container::{self, Ctx};
use crate::reconciler::{supervisor, ProjectContainer};
use crate::runtime::{stop, Runtime, Status};

/// What happened to one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    /// "Stopped", "Started", "Killed", "Removed", or "Skipped (reason)".
    pub what: String,
}

fn outcome(c: &ProjectContainer, what: &str) -> Outcome {
    Outcome { name: c.name.clone(), what: what.to_string() }
}

/// Run `f` on every container, level by level (`reverse`: last level first), each level in
/// parallel; every error is collected, and the outcomes come back in order.
fn by_levels<F>(targets: &[ProjectContainer], reverse: bool, f: F) -> Result<Vec<Outcome>>
where
    F: Fn(&ProjectContainer) -> Result<Outcome> + Sync,
{
    let mut levels = super::select::levels(targets);
    if reverse {
        levels.reverse();
    }
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    let f = &f;
    for level in levels {
        let results: Vec<Result<Outcome>> = std::thread::scope(|s| {
            let handles: Vec<_> = level.iter().map(|&i| s.spawn(move || f(&targets[i]))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(OpsError::container("?", "worker thread panicked"))))
                .collect()
        });
        for r in results {
            match r {
                Ok(o) => done.push(o),
                Err(e) => errors.push(e),
            }
        }
    }
    OpsError::collect(errors)?;
    Ok(done)
}

/// Mark containers stopped (or no longer stopped) by the user, without touching them.
fn mark_stopped(ctx: &Ctx<'_>, c: &ProjectContainer, stopped: bool) -> Result<()> {
    ctx.pd().update_record(&c.name, |r| {
        r.stopped_by_user = stopped;
        if !stopped {
            r.gave_up = false;
        }
    })?;
    Ok(())
}

/// Withdraw the container's published ports (as Docker does when a container stops), so
/// the host ports are free and a later start publishes them again.
fn release_ports(ctx: &Ctx<'_>, c: &ProjectContainer) -> Result<()> {
    NetworkManager::new(ctx.roots).unpublish(&c.id).map_err(|e| OpsError::container(&c.name, e))?;
    ctx.pd().update_record(&c.name, |r| r.ports.clear())?;
    Ok(())
}

fn container_ref(c: &ProjectContainer) -> ContainerRef {
    ContainerRef { service: c.service.clone(), number: c.number, name: c.name.clone() }
}

/// Stop running containers: their stop signal, SIGKILL after `ctx.grace` (default: each
/// one's `stop_grace_period`; at once when PID 1 does not catch the signal, see
/// `runtime::stop`). The record says "stopped by the user" first (`container::stop`).
pub fn stop_all(ctx: &Ctx<'_>, targets: &[ProjectContainer]) -> Result<Vec<Outcome>> {
    by_levels(targets, true, |c| {
        container::stop(ctx, &c.name).map_err(|e| OpsError::container(&c.name, e))?;
        release_ports(ctx, c)?;
        Ok(outcome(c, "Stopped"))
    })
}

/// Start containers that are not running, dependencies first; with the stack loaded, their
/// ports are published again (`container::start`). The supervisor is started if none runs,
/// so restart policies and health checks apply again.
pub fn start_all(ctx: &Ctx<'_>, targets: &[ProjectContainer]) -> Result<Vec<Outcome>> {
    let out = by_levels(targets, false, |c| {
        let was_running = ctx.rt.state(&c.id)?.is_running();
        if !was_running {
            release_ports(ctx, c)?;
        }
        container::start(ctx, &container_ref(c)).map_err(|e| OpsError::container(&c.name, e))?;
        Ok(outcome(c, if was_running { "Running" } else { "Started" }))
    });
    supervisor::ensure(ctx.roots, ctx.project)?;
    out
}

/// Stop (reverse order) then start (dependency order).
pub fn restart_all(ctx: &Ctx<'_>, targets: &[ProjectContainer]) -> Result<Vec<Outcome>> {
    stop_all(ctx, targets)?;
    let mut out = start_all(ctx, targets)?;
    for o in &mut out {
        o.what = "Restarted".into();
    }
    Ok(out)
}

/// Send `sig` to every running container. The stop signal and SIGKILL count as a stop by
/// the user (the restart policy leaves the container alone), as Docker's `ExitOnNext`.
pub fn kill_all(ctx: &Ctx<'_>, targets: &[ProjectContainer], sig: Signal) -> Result<Vec<Outcome>> {
    let running: Vec<ProjectContainer> = targets.iter().filter(|c| c.is_running()).cloned().collect();
    by_levels(&running, true, |c| {
        let stop_sig =
            c.config.stop_signal.as_deref().and_then(|s| stop::parse_signal(s).ok()).unwrap_or(Signal::SIGTERM);
        if sig == Signal::SIGKILL || sig == stop_sig {
            mark_stopped(ctx, c, true)?;
        }
        ctx.rt.kill_and_reap(&c.id, sig).map_err(|e| OpsError::container(&c.name, e))?;
        let signal = sig.as_str().trim_start_matches("SIG").to_string();
        crate::reconciler::events::container(&ctx.pd(), &c.name, &c.service, "kill", &[("signal", signal)]);
        Ok(outcome(c, "Killed"))
    })
}

/// Pause running containers (freeze their cgroups), as `docker compose pause`: the
/// processes stay, stopped where they were, until `unpause`. A container that is not running,
/// or already paused, is an error naming it.
pub fn pause_all(ctx: &Ctx<'_>, targets: &[ProjectContainer]) -> Result<Vec<Outcome>> {
    by_levels(targets, true, |c| {
        ctx.rt.pause(&c.id).map_err(|e| OpsError::container(&c.name, e))?;
        crate::reconciler::events::container(&ctx.pd(), &c.name, &c.service, "pause", &[]);
        Ok(outcome(c, "Paused"))
    })
}

/// Unpause paused containers (thaw their cgroups), dependencies first.
pub fn unpause_all(ctx: &Ctx<'_>, targets: &[ProjectContainer]) -> Result<Vec<Outcome>> {
    by_levels(targets, false, |c| {
        ctx.rt.unpause(&c.id).map_err(|e| OpsError::container(&c.name, e))?;
        crate::reconciler::events::container(&ctx.pd(), &c.name, &c.service, "unpause", &[]);
        Ok(outcome(c, "Unpaused"))
    })
}

/// Remove stopped containers (running ones are skipped; with `stop_first` they are stopped
/// first) and everything held for them: network sandbox and registrations, runtime state,
/// cgroup, record (`container::remove`). Keeps going past errors and reports them all.
pub fn remove_all(
    ctx: &Ctx<'_>,
    targets: &[ProjectContainer],
    stop_first: bool,
    volumes: bool,
) -> Result<Vec<Outcome>> {
    if stop_first {
        stop_all(ctx, targets)?;
    }
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    for c in targets {
        if ctx.rt.state(&c.id).map(|s| s.is_running()).unwrap_or(false) {
            done.push(outcome(c, "Skipped (running; stop it first or use -s)"));
            continue;
        }
        let removed = container::remove(ctx, &c.name).map_err(|e| OpsError::container(&c.name, e));
        match removed.and_then(|()| if volumes { remove_anonymous_volumes(ctx, c) } else { Ok(()) }) {
            Ok(()) => done.push(outcome(c, "Removed")),
            Err(e) => errors.push(e),
        }
    }
    OpsError::collect(errors)?;
    Ok(done)
}

/// `rm -v`: the anonymous volumes the container had. The container's own mounts say which
/// they are (an orphan of an earlier container of the same name is not one), with no stack
/// file needed.
fn remove_anonymous_volumes(ctx: &Ctx<'_>, c: &ProjectContainer) -> Result<()> {
    let vm = crate::reconciler::mounts::volume_manager(ctx.roots);
    vm.remove_anonymous(ctx.project, &c.config.mounts).map_err(|e| OpsError::container(&c.name, e))?;
    Ok(())
}

/// How a container that `wait` waited for ended.
#[derive(Debug, Clone)]
pub struct Exit {
    /// Its unique id (as `ps -q` prints it).
    pub id: String,
    pub code: i32,
    /// When it exited (RFC 3339), to order exits.
    pub finished_at: String,
}

/// Block until one container has exited: the first to exit.
pub fn wait_first(roots: &Roots, targets: &[ProjectContainer]) -> Result<Exit> {
    let (tx, rx) = std::sync::mpsc::channel();
    for c in targets {
        let (tx, roots, c) = (tx.clone(), roots.clone(), c.clone());
        std::thread::spawn(move || {
            let _ = tx.send(wait_one(&Runtime::new(&roots), &c));
        });
    }
    drop(tx);
    rx.recv().unwrap_or_else(|_| Err(OpsError::container("?", "no container to wait for")))
}

/// Block until every container has exited; how each ended, in order. A container that
/// never started counts as an error naming it.
pub fn wait_all(roots: &Roots, targets: &[ProjectContainer]) -> Result<Vec<Exit>> {
    let rt = Runtime::new(roots);
    let results: Vec<Result<Exit>> = std::thread::scope(|s| {
        let handles: Vec<_> = targets.iter().map(|c| s.spawn(|| wait_one(&rt, c))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(OpsError::container("?", "worker thread panicked"))))
            .collect()
    });
    results.into_iter().collect()
}

fn wait_one(rt: &Runtime, c: &ProjectContainer) -> Result<Exit> {
    // The id from before the wait: it derives from the creation, which the exit keeps.
    let id = c.container_id();
    let st = rt.wait(&c.id).map_err(|e| OpsError::container(&c.name, e))?;
    match st.status {
        Status::Exited { code, .. } => Ok(Exit { id, code, finished_at: st.finished_at.unwrap_or_default() }),
        _ => Err(OpsError::container(&c.name, "did not exit")),
    }
}
