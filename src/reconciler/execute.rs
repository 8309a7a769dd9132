//! Run a [`Plan`]: every action whose prerequisites are done runs at once, on its own thread, at
//! most [`MAX_PARALLEL`] at a time (plain threads: every call below is a blocking call into the
//! runtime or the kernel, and containers are forked by the runtime's monitor, never by us). A
//! failure stops scheduling new actions; the running ones finish, and every error is reported.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::container::{self, Ctx};
use super::error::{ReconcileError, Result};
use super::layers;
use super::progress::{Kind, Progress};
use super::state::HealthStatus;
use crate::planner::{Action, ActionId, Plan};
use crate::runtime::Status;

/// How many actions run concurrently, unless `COMPOSE_PARALLEL_LIMIT` (Compose's own knob)
/// says otherwise.
pub const MAX_PARALLEL: usize = 16;

/// Set by the CLI's `--parallel N` (0: not set).
static PARALLEL_OVERRIDE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `--parallel N`: at most N actions at once in this process (over COMPOSE_PARALLEL_LIMIT).
pub fn set_parallel_limit(n: usize) {
    PARALLEL_OVERRIDE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The parallelism of this run: `--parallel`, else `COMPOSE_PARALLEL_LIMIT` when set to a
/// positive number, else [`MAX_PARALLEL`].
pub fn parallel_limit() -> usize {
    let set = PARALLEL_OVERRIDE.load(std::sync::atomic::Ordering::Relaxed);
    if set > 0 {
        return set;
    }
    std::env::var("COMPOSE_PARALLEL_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(MAX_PARALLEL)
}

/// Execute `plan`, printing a progress line per finished action.
pub fn execute(ctx: &Ctx<'_>, plan: &Plan, progress: &Progress) -> Result<()> {
    let mut done: HashSet<ActionId> = HashSet::new();
    let mut started: HashSet<ActionId> = HashSet::new();
    let mut errors = Vec::new();
    let (tx, rx) = mpsc::channel::<(ActionId, Result<()>)>();
    let limit = parallel_limit();
    std::thread::scope(|scope| {
        let mut running = 0usize;
        loop {
            if errors.is_empty() {
                for id in plan.ready(&done) {
                    if running >= limit {
                        break;
                    }
                    if started.insert(id) {
                        running += 1;
                        let tx = tx.clone();
                        scope.spawn(move || {
                            // A panic must still report, or the loop below waits for it forever.
                            let run = std::panic::AssertUnwindSafe(|| run_action(ctx, plan.action(id), progress));
                            let result = std::panic::catch_unwind(run).unwrap_or_else(|p| {
                                let what = plan.action(id).target().to_string();
                                Err(ReconcileError::Other(format!("{what}: internal error: {}", panic_text(&p))))
                            });
                            let _ = tx.send((id, result));
                        });
                    }
                }
            }
            if running == 0 {
                break;
            }
            let Ok((id, result)) = rx.recv() else { break };
            running -= 1;
            match result {
                Ok(()) => {
                    done.insert(id);
                }
                Err(e) => errors.push(e),
            }
        }
    });
    ReconcileError::collect(errors)
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// One action, timed and reported.
fn run_action(ctx: &Ctx<'_>, action: &Action, progress: &Progress) -> Result<()> {
    let t0 = Instant::now();
    let (kind, what) = describe(action);
    let result = dispatch(ctx, action, progress);
    match &result {
        Ok(()) if !what.is_empty() => progress.done(kind, action.target(), what, t0.elapsed()),
        Ok(()) => {}
        Err(e) => progress.failed(kind, action.target(), &e.to_string()),
    }
    result
}

fn describe(action: &Action) -> (Kind, &'static str) {
    match action {
        Action::EnsureImage { .. } | Action::BuildImage { .. } => (Kind::Image, ""),
        Action::CreateNetwork { .. } => (Kind::Network, "Created"),
        Action::CreateVolume { .. } => (Kind::Volume, "Created"),
        Action::RepairFirewall { .. } => (Kind::Network, "Firewall restored"),
        Action::CreateContainer { .. } => (Kind::Container, "Created"),
        Action::RecreateContainer { .. } => (Kind::Container, "Recreated"),
        Action::StartContainer { .. } => (Kind::Container, "Started"),
        Action::RestartContainer { .. } => (Kind::Container, "Restarted"),
        Action::AwaitHealthy { .. } => (Kind::Service, "Healthy"),
        Action::AwaitCompleted { .. } => (Kind::Service, "Exited"),
        Action::StopContainer { .. } => (Kind::Container, "Stopped"),
        Action::RemoveContainer { .. } => (Kind::Container, "Removed"),
        Action::RemoveNetwork { .. } => (Kind::Network, "Removed"),
        Action::RemoveVolume { .. } => (Kind::Volume, "Removed"),
    }
}

fn dispatch(ctx: &Ctx<'_>, action: &Action, progress: &Progress) -> Result<()> {
    let stack = ctx.stack;
    match action {
        Action::EnsureImage { image, services } => {
            let service = services.first().map(String::as_str).unwrap_or("?");
            ctx.resolve_image(service, image).map(|_| ())
        }
        // Built by acquire::images before the plan runs (src/builder/); here it must exist.
        Action::BuildImage { service, image } => ctx.resolve_image(service, image).map(|_| ()),
        Action::CreateNetwork { key, name } => match stack {
            Some(s) => layers::ensure_network_links(ctx.roots, s, key, name).map(|()| ctx.start_firewall(name)),
            None => Ok(()),
        },
        Action::CreateVolume { key, name } => match stack {
            Some(s) => layers::ensure_volume(ctx.roots, s, key, name),
            None => Ok(()),
        },
        Action::RepairFirewall { name, .. } => layers::repair_firewall(ctx.roots, name),
        Action::CreateContainer { container, image, config_hash } => {
            container::create(ctx, container, image, config_hash, &Default::default())
        }
        Action::RecreateContainer { container, image, config_hash, inherit_volumes, renew_volumes, .. } => {
            container::remove(ctx, &container.name)?;
            // `-V`: the old anonymous volumes go with the old container (left in place, the
            // data would only wait for `down -v`).
            let old: Vec<String> = renew_volumes.values().cloned().collect();
            layers::remove_volumes(ctx.roots, &old)?;
            container::create(ctx, container, image, config_hash, inherit_volumes)
        }
        Action::StartContainer { container } => container::start(ctx, container),
        Action::RestartContainer { container, .. } => {
            container::stop(ctx, &container.name)?;
            container::start(ctx, container)
        }
        Action::AwaitHealthy { service } => await_service(ctx, service, true, progress),
        Action::AwaitCompleted { service } => await_service(ctx, service, false, progress),
        Action::StopContainer { container } => container::stop(ctx, &container.name),
        Action::RemoveContainer { container, .. } => container::remove(ctx, &container.name),
        Action::RemoveNetwork { name } => layers::remove_network(ctx.roots, ctx.project, name),
        Action::RemoveVolume { name } => layers::remove_volume(ctx.roots, ctx.project, name),
    }
}

/// Wait until every container of `service` is healthy (`healthy`) or has exited 0. Health is
/// probed by the project's supervisor (the one prober, so streaks are counted once); this
/// only reads the records it keeps, and makes sure a supervisor runs.
fn await_service(ctx: &Ctx<'_>, service: &str, healthy: bool, progress: &Progress) -> Result<()> {
    let _ = progress;
    let mut last_ensure = Instant::now() - Duration::from_secs(10);
    loop {
        if healthy && last_ensure.elapsed() >= Duration::from_secs(1) {
            super::supervisor::ensure(ctx.roots, ctx.project)?;
            last_ensure = Instant::now();
        }
        match service_condition(ctx, service, healthy)? {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => unreachable_condition(service, healthy)?,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unreachable_condition(service: &str, healthy: bool) -> Result<()> {
    let what = if healthy { "has no health check" } else { "has no container" };
    Err(ReconcileError::service(service, format!("dependency condition cannot be met: the service {what}")))
}

/// Some(true) when the condition holds, Some(false) while waiting, an error when it cannot
/// hold any more (unhealthy, exited, non-zero exit).
fn service_condition(ctx: &Ctx<'_>, service: &str, healthy: bool) -> Result<Option<bool>> {
    let containers: Vec<_> = super::observe::project_containers(ctx.roots, ctx.project)?
        .into_iter()
        .filter(|c| c.service == service && !c.oneoff)
        .collect();
    if containers.is_empty() {
        return Ok(None);
    }
    let mut all = true;
    for c in &containers {
        let rec = c.record.clone().unwrap_or_default();
        match (&c.state.status, healthy) {
            (Status::Exited { code, .. }, false) if *code == 0 => {}
            (Status::Exited { code, .. }, false) => {
                return Err(ReconcileError::service(
                    service,
                    format!("container {} didn't complete successfully: exit {code}", c.name),
                ))
            }
            (_, false) => all = false,
            (Status::Running, true) => match rec.health {
                HealthStatus::Healthy => {}
                HealthStatus::Unhealthy => {
                    return Err(ReconcileError::service(service, format!("container {} is unhealthy", c.name)))
                }
                HealthStatus::None if rec.healthcheck.is_none() => return Ok(None),
                _ => all = false,
            },
            (Status::Exited { code, .. }, true) => {
                return Err(ReconcileError::service(
                    service,
                    format!("container {} exited ({code}) before it became healthy", c.name),
                ))
            }
            (Status::Created, true) => all = false,
        }
    }
    Ok(Some(all))
}
