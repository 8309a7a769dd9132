//! One container's steps, shared by `up`, `down` and the supervisor: create (translate, mounts,
//! network, record, runtime), start (+ ports), stop, remove (runtime, network, record). Every
//! step is idempotent or detects what exists, so a crash between two steps followed by another
//! `up` or `down` converges.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::{ReconcileError, Result};
use super::events;
use super::hooks;
use super::layers;
use super::seam::{Layers, Real};
use super::state::{ContainerRecord, HealthStatus, ProjectDir};
use super::translate::{self, Target};
use crate::image::{ImageError, ResolvedImage};
use crate::network::NetworkError;
use crate::paths::Roots;
use crate::planner::ContainerRef;
use crate::runtime::{NetNs, Runtime, RuntimeError};
use crate::spec::model::{NetworkMode, Stack};
use crate::volumes::ImageMounts;

/// What the container steps need, shared by the executor's threads.
pub struct Ctx<'a> {
    pub roots: &'a Roots,
    pub rt: &'a Runtime,
    pub project: &'a str,
    /// The desired stack (`up`); None for `down` without a readable stack file.
    pub stack: Option<&'a Stack>,
    /// Stop grace override (`-t`).
    pub grace: Option<Duration>,
    /// Images resolved so far: every container of an `up` resolves its image twice (preflight,
    /// create), and opening the store and reading its index each time showed in profiles.
    /// Filled only after images were pulled or built, so an entry never goes stale in one run.
    images: Mutex<HashMap<String, ResolvedImage>>,
    /// Firewall installs of the networks this run made or found, running alongside the
    /// container creates; every container start waits for them (see `firewalls_ready`).
    firewalls: Mutex<Vec<(String, FirewallJob)>>,
    /// The image store, volumes, secrets, network and runtime, as the steps below use them
    /// (`seam::Real`; a recording fake in this file's tests).
    pub(super) layers: Box<dyn Layers + 'a>,
    /// Containers whose `pre_stop` hook failed in this run: kept running, and not tried again
    /// by a later sweep of the same command (one failure, reported once).
    stop_refused: Mutex<Vec<String>>,
    /// The services whose `pre_start` hooks ran (or were not due) in this run.
    pre_start: super::pre_start::Gate,
}

/// A network's firewall install: running, or its outcome (kept: every start that waits for it
/// gets the same failure). `Err(None)`: the install thread panicked.
enum FirewallJob {
    Running(std::thread::JoinHandle<std::result::Result<(), NetworkError>>),
    Done(std::result::Result<(), Option<Arc<NetworkError>>>),
}

impl<'a> Ctx<'a> {
    pub fn new(
        roots: &'a Roots,
        rt: &'a Runtime,
        project: &'a str,
        stack: Option<&'a Stack>,
        grace: Option<Duration>,
    ) -> Self {
        Ctx::with_layers(roots, rt, project, stack, grace, Box::new(Real { roots, rt }))
    }

    /// A context whose steps go through `layers` (the unit tests' fake).
    pub fn with_layers(
        roots: &'a Roots,
        rt: &'a Runtime,
        project: &'a str,
        stack: Option<&'a Stack>,
        grace: Option<Duration>,
        layers: Box<dyn Layers + 'a>,
    ) -> Self {
        let (images, firewalls, stop_refused) = (Mutex::new(HashMap::new()), Mutex::default(), Mutex::default());
        let pre_start = Mutex::default();
        Ctx { roots, rt, project, stack, grace, images, firewalls, layers, stop_refused, pre_start }
    }

    /// The `pre_start` outcomes so far, locked (see `pre_start::before_start`).
    pub(super) fn pre_start_gate(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Option<String>>> {
        self.pre_start.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Note that container `name`'s `pre_stop` hook refused its stop.
    pub fn refuse_stop(&self, name: &str) {
        self.stop_refused.lock().unwrap_or_else(|p| p.into_inner()).push(name.to_string());
    }

    /// Whether container `name`'s `pre_stop` hook refused its stop in this run.
    pub fn stop_refused(&self, name: &str) -> bool {
        self.stop_refused.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|n| n == name)
    }

    /// Install network `name`'s firewall rules in the background (two iptables runs, a few ms
    /// of which the containers' creates need none).
    pub fn start_firewall(&self, name: &str) {
        let (roots, net) = (self.roots.clone(), name.to_string());
        let job = std::thread::spawn(move || layers::install_firewall_raw(&roots, &net));
        self.firewalls.lock().unwrap_or_else(|p| p.into_inner()).push((name.to_string(), FirewallJob::Running(job)));
    }

    /// Wait for every firewall install started so far; the errors of those that failed. Called
    /// before any container process starts, so none runs before its network's isolation rules.
    pub fn firewalls_ready(&self) -> Result<()> {
        let mut jobs = self.firewalls.lock().unwrap_or_else(|p| p.into_inner());
        let mut errors = Vec::new();
        for (name, job) in jobs.iter_mut() {
            if let FirewallJob::Running(_) = job {
                let FirewallJob::Running(h) = std::mem::replace(job, FirewallJob::Done(Ok(()))) else { continue };
                *job = FirewallJob::Done(match h.join() {
                    Ok(r) => r.map_err(|e| Some(Arc::new(e))),
                    Err(_) => Err(None),
                });
            }
            match job {
                FirewallJob::Done(Err(Some(e))) => {
                    errors.push(ReconcileError::Network { what: format!("network {name}"), error: e.clone() })
                }
                FirewallJob::Done(Err(None)) => {
                    errors.push(ReconcileError::Other(format!("network {name}: the firewall install panicked")))
                }
                _ => {}
            }
        }
        ReconcileError::collect(errors)
    }

    pub fn pd(&self) -> ProjectDir {
        ProjectDir::new(self.roots, self.project)
    }

    fn stack(&self) -> Result<&Stack> {
        self.stack.ok_or_else(|| ReconcileError::Other("internal: no stack loaded for a create".into()))
    }

    /// The image `reference` from the local store; a missing one is an error naming the service.
    pub fn resolve_image(&self, service: &str, reference: &str) -> Result<ResolvedImage> {
        let cached = self.images.lock().ok().and_then(|m| m.get(reference).cloned());
        if let Some(found) = cached {
            return Ok(found);
        }
        let image_err = |error| ReconcileError::Image { service: service.to_string(), error };
        let found = self.layers.resolve_image(reference).map_err(|e| match e {
            ImageError::NotFound { .. } => {
                ReconcileError::MissingImage { service: service.to_string(), image: reference.to_string() }
            }
            other => image_err(other),
        })?;
        if let Ok(mut m) = self.images.lock() {
            m.insert(reference.to_string(), found.clone());
        }
        Ok(found)
    }
}

/// Create (not start) container `c` of its service, from `image`, mounting the anonymous
/// volumes of `inherit` (target → volume, from the container it replaces) where it needs one.
pub fn create(
    ctx: &Ctx<'_>,
    c: &ContainerRef,
    image: &str,
    config_hash: &str,
    inherit: &BTreeMap<String, String>,
) -> Result<()> {
    let stack = ctx.stack()?;
    let service =
        stack.services.get(&c.service).ok_or_else(|| ReconcileError::service(&c.service, "not in the stack file"))?;
    let mut t = crate::timing::Phases::new(format!("create {}", c.name));
    let resolved = ctx.resolve_image(&c.service, image)?;
    t.mark("resolve image");
    let target = Target { stack, service_name: &c.service, service, number: c.number, name: &c.name, config_hash };
    let mut cfg = translate::container_config(&target, &resolved)?;
    clear_stale(ctx, &cfg.id)?;
    // A sandbox left by a create that was killed before the runtime knew the container.
    if ctx.layers.sandbox_path(&cfg.id).is_some() {
        ctx.layers.teardown_network(&cfg.id)?;
    }
    t.mark("translate");
    let image_mounts = ImageMounts { layers: &resolved.layers, volumes: &resolved.config.volumes, inherit };
    cfg.mounts = ctx.layers.mounts(stack, &c.service, service, &cfg.id, &image_mounts)?;
    let user_ns = cfg.namespaces.user.as_ref();
    cfg.mounts.extend(ctx.layers.secrets(stack, &c.service, service, &cfg.id, user_ns)?);
    t.mark("mounts");
    cfg.namespaces.net = match &service.network_mode {
        Some(NetworkMode::Host) => NetNs::Host,
        Some(NetworkMode::None) => NetNs::New,
        Some(NetworkMode::Service(other)) => NetNs::Path(netns_of_service(ctx, &c.service, other)?),
        Some(NetworkMode::Container(other)) => NetNs::Path(netns_of_container(ctx, &c.service, other)?),
        Some(NetworkMode::Bridge) | None => {
            let setup = ctx.layers.prepare_network(stack, &c.service, service, &cfg)?;
            cfg.mounts.extend(setup.mounts);
            setup.net
        }
    };
    let record = ContainerRecord {
        service: c.service.clone(),
        number: c.number,
        id: cfg.id.clone(),
        uid: super::state::new_uid(&c.name)?,
        name: c.name.clone(),
        config_hash: config_hash.to_string(),
        config: Some(crate::planner::normalized_config(service, stack)),
        image_id: Some(resolved.id.clone()),
        restart: String::from(service.restart),
        healthcheck: translate::health_spec(service, &resolved.config),
        ..Default::default()
    };
    // The record first: a crash after it leaves a record without a container, which observe
    // ignores and `down` removes; the reverse would leave a container without its config.
    t.mark("network");
    ctx.pd().write_record(&record)?;
    t.mark("record");
    if let Err(e) = ctx.layers.create(&cfg) {
        let _ = ctx.layers.teardown_network(&cfg.id);
        let _ = ctx.layers.remove_secrets(&cfg.id);
        let _ = ctx.pd().remove_record(&c.name);
        return Err(ReconcileError::in_container(&c.name, e));
    }
    t.mark("runtime create");
    let image_name = resolved.references.first().cloned().unwrap_or_else(|| image.to_string());
    events::container(&ctx.pd(), &c.name, &c.service, "create", &[("image", image_name)]);
    Ok(())
}

/// A state dir left by a create that was killed half-way (no state.json): remove it.
fn clear_stale(ctx: &Ctx<'_>, id: &str) -> Result<()> {
    let dir = ctx.layers.state_dir(id);
    if dir.exists() && matches!(ctx.layers.state(id), Err(RuntimeError::NotFound(_))) {
        std::fs::remove_dir_all(&dir).map_err(super::error::io_err("remove stale", &dir))?;
    }
    Ok(())
}

/// `/proc/PID/ns/net` of the first running container of service `other`.
fn netns_of_service(ctx: &Ctx<'_>, service: &str, other: &str) -> Result<PathBuf> {
    let containers = super::observe::project_containers(ctx.roots, ctx.project)?;
    let mut theirs: Vec<_> = containers.iter().filter(|p| p.service == other && !p.oneoff).collect();
    theirs.sort_by_key(|p| p.number);
    // Their sandbox when they have one (it outlives restarts), else their running PID 1's.
    if let Some(path) = theirs.iter().find_map(|p| ctx.layers.sandbox_path(&p.id)) {
        return Ok(path);
    }
    let found = theirs.iter().find_map(|p| p.state.pid);
    found.map(|pid| PathBuf::from(format!("/proc/{pid}/ns/net"))).ok_or_else(|| {
        ReconcileError::service(service, format!("network_mode service:{other}: no running container of `{other}`"))
    })
}

/// `/proc/PID/ns/net` of the running container named `other` (any project).
fn netns_of_container(ctx: &Ctx<'_>, service: &str, other: &str) -> Result<PathBuf> {
    for st in ctx.layers.list()? {
        let named = ctx.layers.config(&st.id).map(|c| c.name == other || c.id == other).unwrap_or(false);
        if let (true, true, Some(pid)) = (named, st.is_running(), st.pid) {
            return Ok(PathBuf::from(format!("/proc/{pid}/ns/net")));
        }
    }
    Err(ReconcileError::service(service, format!("network_mode container:{other}: no running container `{other}`")))
}

/// Start a created or exited container (a running one is left alone), then publish its ports.
pub fn start(ctx: &Ctx<'_>, c: &ContainerRef) -> Result<()> {
    let mut t = crate::timing::Phases::new(format!("start {}", c.name));
    let st = ctx.layers.state(&c.name).map_err(|e| ReconcileError::in_container(&c.name, e))?;
    ctx.pd().update_record(&c.name, |r| {
        r.stopped_by_user = false;
        r.gave_up = false;
        if r.healthcheck.is_some() {
            r.health = HealthStatus::Starting;
            r.failing_streak = 0;
        }
    })?;
    t.mark("record");
    if !st.is_running() {
        ctx.firewalls_ready()?;
        super::pre_start::before_start(ctx, c)?;
        t.mark("pre_start hooks");
        ctx.layers.start(&c.name).map_err(|e| ReconcileError::in_container(&c.name, e))?;
        events::container(&ctx.pd(), &c.name, &c.service, "start", &[]);
    }
    t.mark("runtime start");
    if let (Some(stack), Some(service)) = (ctx.stack, ctx.stack.and_then(|s| s.services.get(&c.service))) {
        let ports = ctx.layers.publish(stack, &c.service, service, &c.name)?;
        if !ports.is_empty() {
            ctx.pd().update_record(&c.name, |r| r.ports = ports)?;
        }
    }
    if !st.is_running() {
        if let Err(e) = hooks::post_start(ctx, &c.name) {
            // Stopped as a stop by the user would (the restart policy leaves it), its ports freed.
            let stopped = stop_now(ctx, &c.name).and_then(|()| release_ports(ctx, &c.name, &c.name));
            return ReconcileError::collect(std::iter::once(e).chain(stopped.err()).collect());
        }
        t.mark("post_start hooks");
    }
    Ok(())
}

/// Stop a container on purpose: its `pre_stop` hooks first (a failing one aborts the stop,
/// see `hooks`), and the restart policy leaves it alone afterwards.
pub fn stop(ctx: &Ctx<'_>, name: &str) -> Result<()> {
    hooks::pre_stop(ctx, name)?;
    stop_now(ctx, name)
}

/// [`stop`] without the hooks.
fn stop_now(ctx: &Ctx<'_>, name: &str) -> Result<()> {
    ctx.pd().update_record(name, |r| r.stopped_by_user = true)?;
    let was_running = ctx.layers.state(name).is_ok_and(|st| st.is_running());
    match ctx.layers.stop(name, ctx.grace) {
        Ok(st) => {
            if let crate::runtime::Status::Exited { code, oom } = st.status {
                ctx.pd().update_record(name, |r| {
                    r.last_exit_code = Some(code);
                    r.oom |= oom;
                })?;
                events::exited(&ctx.pd(), name, &st);
            }
            if was_running {
                let service = ctx.pd().record(name).ok().flatten().map(|r| r.service).unwrap_or_default();
                events::container(&ctx.pd(), name, &service, "stop", &[]);
            }
            Ok(())
        }
        Err(RuntimeError::NotFound(_)) => Ok(()),
        Err(e) => Err(ReconcileError::in_container(name, e)),
    }
}

/// Withdraw a stopped container's published ports (as Docker does when a container stops, and
/// as `berth stop` does), so the host ports are free; its next start publishes them again.
pub fn release_ports(ctx: &Ctx<'_>, id: &str, name: &str) -> Result<()> {
    ctx.layers.release_ports(id)?;
    ctx.pd().update_record(name, |r| r.ports.clear())?;
    Ok(())
}

/// Stop and remove a container and everything held for it; keeps going past errors and
/// reports them all. A container that no longer exists is not an error.
pub fn remove(ctx: &Ctx<'_>, name: &str) -> Result<()> {
    let mut t = crate::timing::Phases::new(format!("remove {name}"));
    let mut errors = Vec::new();
    let service = ctx.pd().record(name).ok().flatten().map(|r| r.service);
    // A failing pre_stop hook keeps the container, running and whole (as Compose: the stop is
    // aborted); past it, teardown keeps going.
    hooks::pre_stop(ctx, name)?;
    if let Err(e) = stop_now(ctx, name) {
        errors.push(e);
    }
    t.mark("stop");
    if let Err(e) = ctx.layers.teardown_network(name) {
        errors.push(e);
    }
    t.mark("network teardown");
    match ctx.layers.remove(name) {
        Ok(()) | Err(RuntimeError::NotFound(_)) => {}
        Err(e) => errors.push(ReconcileError::in_container(name, e)),
    }
    t.mark("runtime remove");
    // A half-created container (no state.json) is not listed by the runtime: clear its dir
    // and the copies of its secrets.
    if let Err(e) = clear_stale(ctx, name) {
        errors.push(e);
    }
    if let Err(e) = ctx.layers.remove_secrets(name) {
        errors.push(super::error::io_err("remove secrets of", &ctx.layers.secrets_dir(name))(e));
    }
    if let Err(e) = ctx.pd().remove_record(name) {
        errors.push(e);
    }
    if let Some(service) = service {
        events::container(&ctx.pd(), name, &service, "destroy", &[]);
    }
    ReconcileError::collect(errors)
}

#[cfg(test)]
#[path = "container_tests.rs"]
mod tests;
