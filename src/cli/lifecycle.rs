//! `berth stop|start|restart|kill|pause|unpause|rm|wait [SERVICE...]`: act on the project's existing
//! containers (no stack file needed), and say what happened to each on stderr.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::paths::Roots;
use crate::reconciler::container::Ctx;
use crate::reconciler::ops::control::{self, Outcome};
use crate::reconciler::ops::select;
use crate::reconciler::up::lock_wait;
use crate::reconciler::{ProjectContainer, ProjectLock};
use crate::runtime::Runtime;
use crate::spec::Stack;

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for a container to exit before killing it (default: its
    /// stop_grace_period, else 10).
    #[arg(short = 't', long)]
    pub timeout: Option<u64>,
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for a container to exit before killing it (default: its
    /// stop_grace_period, else 10).
    #[arg(short = 't', long)]
    pub timeout: Option<u64>,
    /// Restart only the services named: not the services depending on them with
    /// `depends_on: {SERVICE: {restart: true}}`, which are restarted with them by default.
    #[arg(long)]
    pub no_deps: bool,
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    pub service: Vec<String>,
    /// Wait until the started services are running (healthy, when they have a health check),
    /// as `up --wait`.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds (with --wait).
    #[arg(long, value_name = "SECONDS", requires = "wait")]
    pub wait_timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send (name or number). With SIGKILL, kill returns once the containers have
    /// exited (up to 10 s), as Docker's.
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    /// Also kill the containers of services no longer in the stack file (without it they are
    /// left alone when the stack file is readable), as `docker compose kill --remove-orphans`.
    #[arg(long)]
    pub remove_orphans: bool,
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not ask for confirmation (berth never asks; accepted for compatibility).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Stop the containers first, if running.
    #[arg(short = 's', long)]
    pub stop: bool,
    /// Remove anonymous volumes attached to the containers.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Compose's deprecated `rm -a/--all`, which has no effect.
    #[arg(short = 'a', long, hide = true)]
    pub all: bool,
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub service: Vec<String>,
    /// When the first container exits, take the whole project down (`berth down`).
    #[arg(long)]
    pub down_project: bool,
}

/// The project's containers of `services` (all when empty; one-offs only with `oneoff`);
/// none at all is an error.
fn targets(
    g: &GlobalOpts,
    services: &[String],
    oneoff: bool,
) -> anyhow::Result<(Roots, String, Vec<ProjectContainer>)> {
    let project = project_name(g)?;
    let roots = roots(g);
    let all = select::all(&roots, &project, oneoff)?;
    if all.is_empty() {
        return Err(crate::reconciler::ops::OpsError::NoContainers { project }.into());
    }
    let chosen = select::services(all, &project, services)?;
    Ok((roots, project, chosen))
}

/// The stack file of this project when one is readable (quietly: its warnings were shown
/// by `up`); `start` uses it to publish ports again. None is fine: the commands work
/// from the state dir.
pub(super) fn stack_of(g: &GlobalOpts, project: &str) -> Option<Stack> {
    let opts = super::load::load_options(g, &[]).ok()?;
    crate::spec::load::load(&opts).ok().map(|l| l.stack).filter(|s| s.name == project)
}

/// Run `f` with the reconciler's per-container context for the project, holding the project
/// lock as `up` and `down` do: the supervisor acts (restart policies, firewall repair) only
/// with that lock, so it cannot start a container that a `stop`, `start` or `restart` is
/// handling (the old process left running untracked, the new one failing on its ports). The
/// targets are chosen again under the lock: what was there before it may have changed.
fn with_ctx<T>(
    g: &GlobalOpts,
    services: &[String],
    grace: Option<u64>,
    oneoff: bool,
    f: impl FnOnce(&Ctx<'_>, &[ProjectContainer]) -> crate::reconciler::ops::Result<T>,
) -> anyhow::Result<T> {
    // No containers: fail before making a lock file for a project that does not exist.
    let (roots, project, _) = targets(g, services, oneoff)?;
    let _lock = ProjectLock::acquire(&roots, &project, lock_wait())?;
    let (roots, project, targets) = targets(g, services, oneoff)?;
    let stack = stack_of(g, &project);
    let rt = Runtime::new(&roots);
    let grace = grace.map(Duration::from_secs);
    let ctx = Ctx::new(&roots, &rt, &project, stack.as_ref(), grace);
    Ok(f(&ctx, &targets)?)
}

fn report(outcomes: &[Outcome]) -> ExitCode {
    for o in outcomes {
        eprintln!("Container {}  {}", o.name, o.what);
    }
    ExitCode::SUCCESS
}

pub fn stop(g: &GlobalOpts, a: &StopArgs) -> anyhow::Result<ExitCode> {
    Ok(report(&with_ctx(g, &a.service, a.timeout, false, control::stop_all)?))
}

pub fn start(g: &GlobalOpts, a: &StartArgs) -> anyhow::Result<ExitCode> {
    let code = report(&with_ctx(g, &a.service, None, false, control::start_all)?);
    if a.wait {
        let (roots, project, t) = targets(g, &a.service, false)?;
        let mut services: Vec<String> = t.into_iter().map(|c| c.service).collect();
        services.sort();
        services.dedup();
        let timeout = a.wait_timeout.map(Duration::from_secs);
        let progress = crate::reconciler::progress::Progress::new();
        crate::reconciler::wait::wait_ready(&roots, &project, &services, timeout, &progress).context("--wait")?;
    }
    Ok(code)
}

/// As `docker compose restart`: the services named, and (unless `--no-deps`) the services
/// that depend on them with `restart: true`, transitively, when the stack file is readable.
pub fn restart(g: &GlobalOpts, a: &RestartArgs) -> anyhow::Result<ExitCode> {
    let services = match a.no_deps || a.service.is_empty() {
        true => a.service.clone(),
        false => with_restart_dependents(g, &a.service)?,
    };
    Ok(report(&with_ctx(g, &services, a.timeout, false, control::restart_all)?))
}

/// `services` and the services of the stack file that depend on one of them with
/// `restart: true` (transitively) and have a container; `services` alone without a readable
/// stack file.
pub(super) fn with_restart_dependents(g: &GlobalOpts, services: &[String]) -> anyhow::Result<Vec<String>> {
    let project = project_name(g)?;
    let Some(stack) = stack_of(g, &project) else { return Ok(services.to_vec()) };
    let present: Vec<String> = select::all(&roots(g), &project, false)?.into_iter().map(|c| c.service).collect();
    let mut out = services.to_vec();
    let mut i = 0;
    while i < out.len() {
        let named = out[i].clone();
        let dependents = stack.services.iter().filter(|(_, svc)| svc.depends_on.get(&named).is_some_and(|d| d.restart));
        for (name, _) in dependents {
            if !out.contains(name) && present.contains(name) {
                out.push(name.clone());
            }
        }
        i += 1;
    }
    Ok(out)
}

pub fn kill(g: &GlobalOpts, a: &KillArgs) -> anyhow::Result<ExitCode> {
    let sig = crate::runtime::stop::parse_signal(&a.signal).map_err(anyhow::Error::msg)?;
    let outcomes =
        with_ctx(g, &a.service, None, false, |ctx, t| control::kill_all(ctx, &kill_targets(g, a, ctx.stack, t), sig))?;
    Ok(report(&outcomes))
}

/// Which of `containers` `kill` signals: all with `--remove-orphans` (or
/// COMPOSE_REMOVE_ORPHANS) or without a readable stack file; else those whose service the
/// file still declares, as Compose (orphans left alone).
pub(super) fn kill_targets(
    g: &GlobalOpts,
    a: &KillArgs,
    stack: Option<&Stack>,
    containers: &[ProjectContainer],
) -> Vec<ProjectContainer> {
    match (a.remove_orphans || g.remove_orphans_env, stack) {
        (false, Some(stack)) => {
            containers.iter().filter(|c| stack.services.contains_key(&c.service)).cloned().collect()
        }
        _ => containers.to_vec(),
    }
}

pub fn pause(g: &GlobalOpts, a: &PauseArgs) -> anyhow::Result<ExitCode> {
    Ok(report(&with_ctx(g, &a.service, None, false, control::pause_all)?))
}

pub fn unpause(g: &GlobalOpts, a: &PauseArgs) -> anyhow::Result<ExitCode> {
    Ok(report(&with_ctx(g, &a.service, None, false, control::unpause_all)?))
}

pub fn rm(g: &GlobalOpts, a: &RmArgs) -> anyhow::Result<ExitCode> {
    // As `docker compose rm`: one-off containers (`run SERVICE`) are removed too.
    Ok(report(&with_ctx(g, &a.service, None, true, |ctx, t| control::remove_all(ctx, t, a.stop, a.volumes))?))
}

/// As `docker compose wait`: `container "ID" exited with status code N` for each container as
/// it exits, and the exit code of the last one to exit (with `--down-project`: of the first,
/// then the project goes down).
pub fn wait(g: &GlobalOpts, a: &WaitArgs) -> anyhow::Result<ExitCode> {
    let (roots, project, t) = targets(g, &a.service, false)?;
    let say = |e: &control::Exit| println!("container {:?} exited with status code {}", e.id, e.code);
    if a.down_project {
        let exit = control::wait_first(&roots, &t)?;
        say(&exit);
        let opts =
            crate::reconciler::down::DownOpts { volumes: false, grace: None, rmi: None, stack_images: Vec::new() };
        crate::reconciler::down::down(&roots, &project, &opts, &crate::reconciler::progress::Progress::new())?;
        return Ok(ExitCode::from(exit.code.clamp(0, 255) as u8));
    }
    let mut exits = control::wait_all(&roots, &t)?;
    exits.sort_by(|a, b| a.finished_at.cmp(&b.finished_at));
    exits.iter().for_each(say);
    let last = exits.last().map_or(0, |e| e.code);
    Ok(ExitCode::from(last.clamp(0, 255) as u8))
}
