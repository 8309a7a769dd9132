//! `up`: lock the project, observe, plan, check ports, execute, and (with `--wait`) wait until
//! every service is running and healthy. An unchanged stack plans nothing and says so.

use std::time::Duration;

use super::container::Ctx;
use super::error::{ReconcileError, Result};
use super::execute::execute;
use super::lock::ProjectLock;
use super::observe::observe;
use super::progress::Progress;
use super::state::{ProjectDir, ProjectMeta};
use super::{acquire, layers, secrets, supervisor, translate};
use crate::paths::Roots;
use crate::planner::{self, Action, PlanOptions};
use crate::runtime::Runtime;
use crate::spec::model::Stack;

/// How long `up`/`down` wait for another command holding the project lock (default 30 s;
/// `BERTH_LOCK_WAIT` seconds overrides it).
pub fn lock_wait() -> Duration {
    crate::fsutil::lock_wait_or(Duration::from_secs(30))
}

/// What `up` did.
#[derive(Debug, Clone, Default)]
pub struct UpReport {
    /// False when the stack was already up to date.
    pub changed: bool,
    /// The services acted on (for attaching and waiting).
    pub services: Vec<String>,
}

/// The project's orphans (containers of services no longer in `stack`) removed with
/// `remove`, else reported, and nothing else done: `run SERVICE [--remove-orphans]`, as
/// `docker compose run`.
pub fn orphans(roots: &Roots, stack: &Stack, remove: bool, progress: &Progress) -> Result<()> {
    let plan = || -> Result<planner::Plan> { Ok(planner::plan_orphans(stack, &observe(roots, &stack.name)?, remove)?) };
    // Looked at first without the project lock (most runs have no orphans: nothing is made).
    let unlocked = plan()?;
    if unlocked.is_empty() {
        for note in unlocked.notes() {
            progress.note(&format!("{}: {}", note.target, note.message));
        }
        return Ok(());
    }
    let _lock = ProjectLock::acquire(roots, &stack.name, lock_wait())?;
    let plan = plan()?;
    let rt = Runtime::new(roots);
    let ctx = Ctx::new(roots, &rt, &stack.name, Some(stack), None);
    execute(&ctx, &plan, progress)
}

/// Make the running project match `stack`.
pub fn up(
    roots: &Roots,
    stack: &Stack,
    opts: &PlanOptions,
    grace: Option<Duration>,
    progress: &Progress,
) -> Result<UpReport> {
    let mut t = crate::timing::Phases::new(format!("up {}", stack.name));
    let _lock = ProjectLock::acquire(roots, &stack.name, lock_wait())?;
    let pd = ProjectDir::new(roots, &stack.name);
    let actual = observe(roots, &stack.name)?;
    let plan = planner::plan(stack, &actual, opts)?;
    t.mark("observe+plan");
    for note in plan.notes() {
        progress.note(&format!("{}: {}", note.target, note.message));
    }
    let services = selected_services(stack, opts);
    if plan.is_empty() {
        progress.note("nothing to do: the stack is up to date");
        if actual.project_containers(&stack.name).any(|c| c.status.is_running()) {
            supervisor::ensure(roots, &stack.name)?;
            layers::ensure_dns(roots)?;
        }
        return Ok(UpReport { changed: false, services });
    }
    let rt = Runtime::new(roots).with_zygote();
    let ctx = Ctx::new(roots, &rt, &stack.name, Some(stack), grace);
    acquire::images(&ctx, stack, &plan, progress)?;
    t.mark("images");
    preflight(&ctx, stack, &plan)?;
    check_ports(roots, stack, &actual, &plan)?;
    t.mark("preflight");
    pd.write_meta(&ProjectMeta {
        name: stack.name.clone(),
        files: stack.files.clone(),
        project_dir: stack.project_dir.clone(),
        images: stack.services.iter().map(|(name, svc)| crate::planner::image_ref(stack, name, svc)).collect(),
    })?;
    if opts.no_start {
        // `create`: nothing runs, so there is nothing to supervise yet (`up` starts it).
        let result = execute(&ctx, &plan, progress).and(ctx.firewalls_ready());
        t.mark("execute");
        return result.map(|()| UpReport { changed: true, services });
    }
    // The supervisor probes health while the plan runs (AwaitHealthy reads what it records).
    // Spawning it (a fork of this process, then an exec) runs alongside the plan's first steps.
    let (started, result) = std::thread::scope(|s| {
        let started = s.spawn(|| supervisor::ensure(roots, &stack.name));
        let result = execute(&ctx, &plan, progress).and(ctx.firewalls_ready());
        (started.join(), result)
    });
    t.mark("execute");
    started.unwrap_or_else(|_| Err(ReconcileError::Other("starting the supervisor panicked".into())))?;
    supervisor::ensure(roots, &stack.name)?;
    // Return only once it holds its lock: a `down` right after must see it to stop it.
    supervisor::wait_started(roots, &stack.name, Duration::from_secs(2))?;
    t.mark("supervisor again");
    result.map(|()| UpReport { changed: true, services })
}

/// The services `up` acts on: the named ones (plus dependencies unless --no-deps), or all.
pub(super) fn selected_services(stack: &Stack, opts: &PlanOptions) -> Vec<String> {
    crate::spec::deps::select(stack, &opts.services, opts.no_deps)
}

/// Everything about the containers to create that can be checked before anything exists: the
/// image is in the store, the container config is valid (command, ulimits within the hard
/// limits, namespaced sysctls, capabilities, signals …), and its secrets and configs can be read. Every problem of every service is
/// reported together, and a failed `up` leaves nothing half-made.
fn preflight(ctx: &Ctx<'_>, stack: &Stack, plan: &planner::Plan) -> Result<()> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for id in plan.ids() {
        let (container, image, config_hash) = match plan.action(id) {
            Action::CreateContainer { container, image, config_hash }
            | Action::RecreateContainer { container, image, config_hash, .. } => (container, image, config_hash),
            _ => continue,
        };
        let Some(service) = stack.services.get(&container.service) else { continue };
        if seen.contains(&container.service) {
            continue;
        }
        seen.push(container.service.clone());
        let resolved = match ctx.resolve_image(&container.service, image) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let target = translate::Target {
            stack,
            service_name: &container.service,
            service,
            number: container.number,
            name: &container.name,
            config_hash,
        };
        let checked = translate::container_config(&target, &resolved).and_then(|cfg| {
            crate::runtime::validate(&cfg).map_err(|e| ReconcileError::in_service(&container.service, e))
        });
        if let Err(e) = checked {
            errors.push(e);
        }
        // Secret and config sources (files, variables) exist and are readable.
        if let Err(e) = secrets::resolve(stack, &container.service, service) {
            errors.push(e.into());
        }
    }
    ReconcileError::collect(errors)
}

/// Published ports of services about to get a container running must be free before anything
/// is created or started, so a failed `up` leaves nothing started: services getting their
/// first container, and stopped ones being started or recreated (their ports were released
/// when they stopped; a port this project's proxy still holds counts as free). A service with
/// a running container holds its own ports until that container goes.
fn check_ports(roots: &Roots, stack: &Stack, actual: &planner::Actual, plan: &planner::Plan) -> Result<()> {
    let mut checked = Vec::new();
    for id in plan.ids() {
        let container = match plan.action(id) {
            Action::CreateContainer { container, .. }
            | Action::RecreateContainer { container, .. }
            | Action::StartContainer { container } => container,
            _ => continue,
        };
        let service = &container.service;
        let running = actual.project_containers(&stack.name).any(|c| &c.service == service && c.status.is_running());
        if running || checked.contains(service) {
            continue;
        }
        checked.push(service.clone());
        if let Some(svc) = stack.services.get(service) {
            layers::check_ports_free(roots, &stack.name, service, svc)?;
        }
    }
    Ok(())
}
