//! Getting the images a stack needs before anything else is created: pulls (a few at a time,
//! all failures reported together, naming each service and image) and, when the builder
//! lands, builds. `up` runs [`images`] on its plan before its preflight, so a failed pull
//! leaves nothing half-made; [`before_plan`] applies `up --pull` and `pull_policy: always`
//! before planning, so a re-pulled image with a new id is noticed by the planner (recreate).
//!
//! `pull_policy: daily|weekly|every_<d>` (`Refresh`): pulled before planning when the image
//! is missing or its tag is older than the interval (the store's tag time is the last pull),
//! as docker compose does; otherwise it is `missing`.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::container::Ctx;
use super::error::{ReconcileError, Result};
use super::progress::{Kind, Progress};
use crate::image::registry::{self, RegistryError};
use crate::image::ImageStore;
use crate::paths::Roots;
use crate::planner::{Action, Plan, PlanOptions};
use crate::spec::model::{PullPolicy, Stack};

/// How many images are pulled at once.
pub const PARALLEL_PULLS: usize = 3;

/// `--pull` of `up` and `run`: when to pull an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullFlag {
    Always,
    #[default]
    Missing,
    Never,
}

impl FromStr for PullFlag {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "always" => Ok(PullFlag::Always),
            "missing" => Ok(PullFlag::Missing),
            "never" => Ok(PullFlag::Never),
            other => Err(format!("invalid pull policy `{other}`: use always, missing or never")),
        }
    }
}

/// One image to pull, and the services that use it (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullJob {
    pub image: String,
    pub services: Vec<String>,
}

/// Acquire every image `plan` asks for: `EnsureImage` → pull, `BuildImage` → build. Pulls run
/// first, in parallel; if any fails, nothing is built and every failure is returned.
pub fn images(ctx: &Ctx<'_>, stack: &Stack, plan: &Plan, progress: &Progress) -> Result<()> {
    let mut jobs = Vec::new();
    let mut builds = Vec::new();
    for id in plan.ids() {
        match plan.action(id) {
            Action::EnsureImage { image, services } => {
                jobs.push(PullJob { image: image.clone(), services: services.clone() })
            }
            Action::BuildImage { service, image } => builds.push((service.clone(), image.clone())),
            _ => {}
        }
    }
    failures_to_error(&jobs, pull_jobs(ctx.roots, &jobs, progress))?;
    let mut errors = Vec::new();
    for (service, image) in builds {
        if let Err(e) = build(ctx, stack, &service, &image, progress) {
            errors.push(e);
        }
    }
    ReconcileError::collect(errors)
}

/// BUILD HOOK: `service`'s `build:` section built by berth's own builder (src/builder/) into
/// `image` (the service's image name, which the builder tags).
fn build(ctx: &Ctx<'_>, stack: &Stack, service: &str, image: &str, progress: &Progress) -> Result<()> {
    let t0 = Instant::now();
    let log = crate::builder::StderrLog { quiet: progress.quiet_build(), label: format!("{service} ") };
    match crate::builder::compose::build_service(
        ctx.roots,
        stack,
        service,
        Default::default(),
        &Default::default(),
        &log,
    ) {
        Ok(_) => {
            progress.done(Kind::Image, image, "Built", t0.elapsed());
            Ok(())
        }
        Err(e) => {
            Err(ReconcileError::Build { service: service.to_string(), image: image.to_string(), error: Box::new(e) })
        }
    }
}

/// Apply `up --pull` and `pull_policy: always` before planning, on `stack` (a copy `up` plans
/// with; `pull_policy` is not part of a service's config hash, so rewriting it changes nothing
/// else):
/// - `never`: image-only services get `pull_policy: never` (a missing image is an error naming
///   the service);
/// - `always`: every selected service with an `image:` and no `build:` is pulled now;
/// - default (`missing`): services with `pull_policy: always` are pulled now, and those with a
///   refresh policy (`daily`, `weekly`, `every_<d>`) whose image is missing or older than it.
///
/// Services pulled here are set to `missing` so the plan does not pull them a second time.
pub fn before_plan(
    roots: &Roots,
    stack: &mut Stack,
    opts: &PlanOptions,
    flag: PullFlag,
    progress: &Progress,
) -> Result<()> {
    let selected = super::up::selected_services(stack, opts);
    if flag == PullFlag::Never {
        for (_, svc) in stack.services.iter_mut().filter(|(n, s)| selected.contains(*n) && s.build.is_none()) {
            svc.pull_policy = Some(PullPolicy::Never);
        }
        return Ok(());
    }
    let pulled: Vec<String> = stack
        .services
        .iter()
        .filter(|(name, _)| selected.contains(*name))
        .filter(|(_, s)| s.image.is_some() && s.pull_policy != Some(PullPolicy::Never))
        .filter(|(_, s)| match flag {
            PullFlag::Always => s.build.is_none() || s.pull_policy == Some(PullPolicy::Always),
            _ => s.pull_policy == Some(PullPolicy::Always) || refresh_due(roots, s),
        })
        .map(|(name, _)| name.clone())
        .collect();
    let mut jobs = jobs_for(stack, &pulled);
    jobs.extend(missing_hook_images(roots, stack, &selected, &jobs));
    failures_to_error(&jobs, pull_jobs(roots, &jobs, progress))?;
    for name in &pulled {
        if let Some(svc) = stack.services.get_mut(name) {
            svc.pull_policy = Some(PullPolicy::Missing);
        }
    }
    Ok(())
}

/// `up --no-build` / `create --no-build`, before planning, on `stack` (the copy `up` plans
/// with): the selected services with a `build:` section are never built — their image must
/// be in the store (used as it is: `pull_policy: never` on this copy), else an error naming
/// each such service, and nothing is made.
pub fn forbid_builds(roots: &Roots, stack: &mut Stack, opts: &PlanOptions) -> Result<()> {
    let selected = super::up::selected_services(stack, opts);
    let store = ImageStore::open(roots).ok();
    let mut missing = Vec::new();
    let names: Vec<String> = stack.services.keys().filter(|n| selected.contains(*n)).cloned().collect();
    for name in names {
        let image = match stack.services.get(&name) {
            Some(svc) if svc.build.is_some() => crate::planner::image_ref(stack, &name, svc),
            _ => continue,
        };
        if store.as_ref().is_some_and(|s| s.manifest_digest(&image).is_ok()) {
            if let Some(svc) = stack.services.get_mut(&name) {
                svc.pull_policy = Some(PullPolicy::Never);
            }
        } else {
            let reason = format!("image `{image}` is not in the store, and --no-build does not build it (`berth build {name}`, or drop --no-build)");
            missing.push(ReconcileError::Service { service: name, reason });
        }
    }
    ReconcileError::collect(missing)
}

/// The `pre_start` hook images of the `selected` services that the store lacks (and `jobs`
/// does not pull already), as docker compose pulls them with the services' own. A hook that
/// runs its service's own image gets it as the service does (pulled by the plan, or built).
fn missing_hook_images(roots: &Roots, stack: &Stack, selected: &[String], jobs: &[PullJob]) -> Vec<PullJob> {
    use crate::spec::hooks::{hooks, HookKind};
    let store = ImageStore::open(roots).ok();
    let present = |image: &str| store.as_ref().is_some_and(|s| s.manifest_digest(image).is_ok());
    let mut out: Vec<PullJob> = Vec::new();
    for (name, svc) in stack.services.iter().filter(|(n, _)| selected.contains(*n)) {
        let Ok(list) = hooks(HookKind::PreStart, |k| svc.other.get(k)) else { continue };
        for image in list.into_iter().filter_map(|h| h.image) {
            if svc.image.as_ref() == Some(&image) || jobs.iter().any(|j| j.image == image) || present(&image) {
                continue;
            }
            match out.iter_mut().find(|j| j.image == image) {
                Some(j) => j.services.push(name.clone()),
                None => out.push(PullJob { image, services: vec![name.clone()] }),
            }
        }
    }
    out
}

/// A refresh policy whose image is missing, or was last pulled longer ago than its interval.
fn refresh_due(roots: &Roots, s: &crate::spec::model::Service) -> bool {
    let (Some(every), Some(image)) = (s.pull_policy.as_ref().and_then(PullPolicy::refresh_interval), &s.image) else {
        return false;
    };
    let tagged = ImageStore::open(roots).ok().and_then(|st| st.tagged_at(image).ok().flatten());
    let Some(at) = tagged.as_deref().and_then(super::ops::human::parse_rfc3339) else { return true };
    super::ops::human::now_nanos() - at >= every.as_nanos() as i128
}

/// One job per distinct `image:` of `services` (in order), with the services using it.
pub fn jobs_for(stack: &Stack, services: &[String]) -> Vec<PullJob> {
    let mut jobs: Vec<PullJob> = Vec::new();
    for name in services {
        let Some(image) = stack.services.get(name).and_then(|s| s.image.clone()) else { continue };
        match jobs.iter_mut().find(|j| j.image == image) {
            Some(j) => j.services.push(name.clone()),
            None => jobs.push(PullJob { image, services: vec![name.clone()] }),
        }
    }
    jobs
}

/// Pull every job, [`PARALLEL_PULLS`] at a time, with `Pulling`/`Pulled` progress lines.
/// Returns the failures: (index into `jobs`, what went wrong).
pub fn pull_jobs(roots: &Roots, jobs: &[PullJob], progress: &Progress) -> Vec<(usize, PullFailure)> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let store = match ImageStore::open(roots) {
        Ok(s) => s,
        Err(e) => {
            let e: PullFailure = Arc::new(e.into());
            return (0..jobs.len()).map(|i| (i, e.clone())).collect();
        }
    };
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_PULLS.min(jobs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                if let Err(reason) = pull_one(&store, &job.image, progress) {
                    failures.lock().unwrap_or_else(|p| p.into_inner()).push((i, reason));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|(i, _)| *i);
    failures
}

/// Why one image could not be pulled (shared by the services that use it).
pub type PullFailure = Arc<RegistryError>;

fn pull_one(store: &ImageStore, image: &str, progress: &Progress) -> std::result::Result<(), PullFailure> {
    let t0 = Instant::now();
    progress.pulling(image);
    match registry::pull(store, image, &|_| {}) {
        Ok(_) => {
            progress.done(Kind::Image, image, "Pulled", t0.elapsed());
            Ok(())
        }
        Err(e) => {
            progress.failed(Kind::Image, image, &chain(&e));
            Err(Arc::new(e))
        }
    }
}

/// One error per service whose image failed to pull, all together.
pub fn failures_to_error(jobs: &[PullJob], failures: Vec<(usize, PullFailure)>) -> Result<()> {
    let mut errors = Vec::new();
    for (i, error) in failures {
        let Some(job) = jobs.get(i) else { continue };
        for service in &job.services {
            let (service, image) = (service.clone(), job.image.clone());
            errors.push(ReconcileError::Pull { service, image, error: error.clone() });
        }
    }
    ReconcileError::collect(errors)
}

pub use crate::errchain::chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_flags_parse() {
        assert_eq!("always".parse(), Ok(PullFlag::Always));
        assert_eq!("never".parse(), Ok(PullFlag::Never));
        assert_eq!(PullFlag::default(), PullFlag::Missing);
        assert!("sometimes".parse::<PullFlag>().is_err());
    }

    #[test]
    fn failures_name_every_service_of_the_image() {
        let jobs = vec![
            PullJob { image: "a:1".into(), services: vec!["web".into(), "worker".into()] },
            PullJob { image: "b:1".into(), services: vec!["db".into()] },
        ];
        let missing = RegistryError::NotFound { reference: "a:1".into(), registry: "r".into(), detail: String::new() };
        let err = failures_to_error(&jobs, vec![(0, Arc::new(missing))]).unwrap_err();
        assert!(
            matches!(&err, ReconcileError::Many(v) if matches!(&v[0], ReconcileError::Pull { error, .. } if matches!(**error, RegistryError::NotFound { .. })))
        );
        let err = err.to_string();
        assert!(err.contains("service `web`: cannot pull image `a:1`: image `a:1` not found on registry r"), "{err}");
        assert!(err.contains("service `worker`"), "{err}");
        assert!(!err.contains("db"), "{err}");
        assert!(failures_to_error(&jobs, vec![]).is_ok());
    }
}
