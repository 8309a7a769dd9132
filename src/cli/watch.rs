//! `berth watch [SERVICE...]`: bring the stack up (unless --no-up), then apply the services'
//! `develop.watch` rules as files change, until Ctrl-C (the stack keeps running, as with
//! Compose). Also the watching half of `berth up --watch`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::Args;

use super::load::{load_options, load_with};
use super::GlobalOpts;
use crate::paths::Roots;
use crate::planner::PlanOptions;
use crate::reconciler::progress::Progress;
use crate::reconciler::up;
use crate::spec::model::Stack;
use crate::watch::{self, StderrReport, WatchError, WatchOptions};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Only these services (default: every service with `develop.watch` rules).
    pub services: Vec<String>,
    /// Do not build and start the services before watching.
    #[arg(long)]
    pub no_up: bool,
    /// Remove the image a rebuild replaced, once nothing uses it.
    #[arg(long)]
    pub prune: bool,
    /// Rebuilds print nothing but their errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Set by SIGINT/SIGTERM while watching in the foreground.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn run(g: &GlobalOpts, a: &WatchArgs) -> anyhow::Result<ExitCode> {
    let roots = Roots::new(g.root.as_deref());
    let stack = load_with(load_options(g, &a.services)?)?.stack;
    check_configured(&stack, &a.services)?;
    if !a.no_up {
        let opts = PlanOptions { services: a.services.clone(), ..Default::default() };
        up::up(&roots, &stack, &opts, None, &Progress::new())?;
    }
    let opts = WatchOptions { services: a.services.clone(), prune: a.prune, quiet_build: a.quiet };
    watch_in_foreground(&roots, &stack, &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// Fail before doing anything when no selected service has watch rules (as Compose).
pub(super) fn check_configured(stack: &Stack, services: &[String]) -> anyhow::Result<()> {
    if watch::rules::triggers(stack, services).is_empty() {
        return Err(WatchError::NothingToWatch.into());
    }
    Ok(())
}

/// Watch until SIGINT or SIGTERM.
pub(super) fn watch_in_foreground(roots: &Roots, stack: &Stack, opts: &WatchOptions) -> anyhow::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores into an atomic (async-signal-safe).
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
    watch::watch(roots, stack, opts, &STOP, &StderrReport).with_context(|| format!("watch project `{}`", stack.name))
}

/// `up --watch` (attached): watch on a thread while `attached` streams the logs; when it
/// returns (Ctrl-C stopped the stack, or every container exited), watching stops too.
pub(super) fn watch_while<T>(
    roots: &Roots,
    stack: &Stack,
    opts: &WatchOptions,
    attached: impl FnOnce() -> T,
) -> anyhow::Result<T> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| watch::watch(roots, stack, opts, &stop, &StderrReport));
        let result = attached();
        stop.store(true, Ordering::SeqCst);
        match watcher.join() {
            Ok(Ok(())) => Ok(result),
            Ok(Err(e)) => Err(anyhow::Error::new(e).context(format!("watch project `{}`", stack.name))),
            Err(_) => Err(anyhow::anyhow!("watch thread panicked")),
        }
    })
}
