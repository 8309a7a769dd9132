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
    schedule(plan, parallel_limit(), &|action| run_action(ctx, action, progress))
}

/// The DAG scheduler, apart from what an action does (the seam the unit tests below drive
/// with a recording fake): every action whose prerequisites are done starts at once, at most
/// `limit` at a time; after a failure nothing new starts, the running ones finish, and every
/// error is returned. A panicking action is an error, not a hang.
pub fn schedule(plan: &Plan, limit: usize, run: &(dyn Fn(&Action) -> Result<()> + Sync)) -> Result<()> {
    let limit = limit.max(1);
    let mut done: HashSet<ActionId> = HashSet::new();
    let mut started: HashSet<ActionId> = HashSet::new();
    let mut errors = Vec::new();
    let (tx, rx) = mpsc::channel::<(ActionId, Result<()>)>();
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
                            let once = std::panic::AssertUnwindSafe(|| run(plan.action(id)));
                            let result = std::panic::catch_unwind(once).unwrap_or_else(|p| {
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
        Action::RecreateContainer {
            container, replaces, image, config_hash, inherit_volumes, renew_volumes, ..
        } => {
            container::remove(ctx, replaces.as_ref().unwrap_or(&container.name))?;
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;
    use crate::planner::{plan, Actual, PlanOptions};
    use crate::spec::model::Stack;

    /// `up` of a fresh project: networks, volumes, images, then containers in dependency order.
    fn up_plan(yaml: &str) -> Plan {
        let stack: Stack = serde_yaml::from_str(yaml).expect("test stack");
        plan(&stack, &Actual::default(), &PlanOptions::default()).expect("plan")
    }

    const STACK: &str = "name: p\nservices:\n  db: {image: d}\n  cache: {image: c}\n  api: {image: a, depends_on: {db: {condition: service_started}, cache: {condition: service_started}}}\n  web: {image: w, depends_on: {api: {condition: service_started}}}\n  lone1: {image: l}\n  lone2: {image: l}\n  lone3: {image: l}\n";

    /// Records what ran, in order of start and finish, and how many ran at once.
    #[derive(Default)]
    struct Recorder {
        log: Mutex<Vec<(String, &'static str)>>,
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    impl Recorder {
        fn run(&self, a: &Action, fail: Option<&str>) -> Result<()> {
            let key = format!("{a:?}");
            self.log.lock().unwrap().push((key.clone(), "start"));
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.log.lock().unwrap().push((key.clone(), "end"));
            match fail {
                Some(f) if key.contains(f) => Err(ReconcileError::Other(format!("{f} failed"))),
                _ => Ok(()),
            }
        }
        fn position(&self) -> HashMap<(String, &'static str), usize> {
            self.log.lock().unwrap().iter().cloned().enumerate().map(|(i, k)| (k, i)).collect()
        }
    }

    #[test]
    fn every_action_runs_once_after_all_of_its_prerequisites() {
        let plan = up_plan(STACK);
        let rec = Recorder::default();
        schedule(&plan, 16, &|a| rec.run(a, None)).unwrap();
        let pos = rec.position();
        assert_eq!(rec.log.lock().unwrap().len(), plan.len() * 2, "each action started and ended once");
        for id in plan.ids() {
            let me = format!("{:?}", plan.action(id));
            for dep in plan.dependencies(id) {
                let dep = format!("{:?}", plan.action(dep));
                assert!(pos[&(dep.clone(), "end")] < pos[&(me.clone(), "start")], "{me} started before {dep} ended");
            }
        }
        assert!(rec.peak.load(Ordering::SeqCst) > 1, "independent actions run at once");
    }

    #[test]
    fn the_parallel_limit_holds() {
        let plan = up_plan(STACK);
        let rec = Recorder::default();
        schedule(&plan, 2, &|a| rec.run(a, None)).unwrap();
        assert!(rec.peak.load(Ordering::SeqCst) <= 2);
        let rec = Recorder::default();
        schedule(&plan, 1, &|a| rec.run(a, None)).unwrap();
        assert_eq!(rec.peak.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn after_a_failure_nothing_new_starts_and_the_error_is_returned() {
        let plan = up_plan(STACK);
        let rec = Recorder::default();
        // The db container's create fails: nothing that needs it (db's start, then api's and
        // web's starts) ever runs.
        let err = schedule(&plan, 16, &|a| rec.run(a, Some("p-db-1"))).unwrap_err();
        assert!(err.to_string().contains("p-db-1 failed"), "{err}");
        let log = rec.log.lock().unwrap();
        let needs_db =
            |k: &str| k.starts_with("StartContainer") && ["p-db-1", "p-api-1", "p-web-1"].iter().any(|c| k.contains(c));
        assert!(!log.iter().any(|(k, _)| needs_db(k)), "{log:?}");
        // What started also ended (running actions finish).
        let starts = log.iter().filter(|(_, e)| *e == "start").count();
        assert_eq!(starts, log.len() - starts);
    }

    #[test]
    fn a_panicking_action_is_an_error_not_a_hang() {
        let plan = up_plan(
            "name: p\nservices:\n  a: {image: x}\n  b: {image: y, depends_on: {a: {condition: service_started}}}\n",
        );
        let ran = AtomicUsize::new(0);
        let err = schedule(&plan, 4, &|a| {
            ran.fetch_add(1, Ordering::SeqCst);
            if format!("{a:?}").contains("p-a-1") {
                panic!("boom");
            }
            Ok(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("internal error: boom"), "{err}");
        assert!(ran.load(Ordering::SeqCst) < plan.len(), "b's actions never ran");
    }
}
