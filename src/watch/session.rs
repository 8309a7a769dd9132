//! The watch loop: inotify watches (through `notify`) on every rule's path, batches of
//! changes, and each batch dispatched to the services it concerns. Errors of one batch are
//! reported naming the service and path, and watching goes on (as Compose does).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{channel, Sender};

use notify::{RecursiveMode, Watcher};

use super::action::{self, ServiceHits};
use super::batch::{Batcher, Msg};
use super::error::{Result, WatchError};
use super::rebuild::rebuild;
use super::rules::{triggers, Trigger};
use crate::paths::Roots;
use crate::spec::model::{Stack, WatchAction};

/// What to watch and how.
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Services to watch (all with `develop.watch` when empty).
    pub services: Vec<String>,
    /// Remove the image a rebuild replaced (`--prune`).
    pub prune: bool,
}

/// Where watch mode reports what it does (stderr in the CLI; a recorder in tests).
pub trait Report: Sync {
    fn line(&self, text: &str);
}

/// Lines to stderr.
pub struct StderrReport;

impl Report for StderrReport {
    fn line(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// Watch until `stop` is set. Fails at once when no selected service has watch rules or
/// the watcher cannot start.
pub fn watch(roots: &Roots, stack: &Stack, opts: &WatchOptions, stop: &AtomicBool, out: &dyn Report) -> Result<()> {
    let all = triggers(stack, &opts.services);
    if all.is_empty() {
        return Err(WatchError::NothingToWatch);
    }
    let mut live = Vec::new();
    for t in all {
        if t.root.symlink_metadata().is_ok() {
            live.push(t);
        } else {
            out.line(&format!(
                "path {:?} does not exist for service {:?}: its watch rule is ignored",
                t.rule.path, t.service
            ));
        }
    }
    let (tx, rx) = channel();
    let _watcher = start_watcher(&live, tx)?;
    initial_sync(roots, stack, &live, out);
    out.line("Watch enabled");
    let batcher = Batcher::new(rx);
    let mut errors = Vec::new();
    while let Some(batch) = batcher.next(stop, &mut errors) {
        for e in errors.drain(..) {
            out.line(&format!("watch error: {e}"));
        }
        dispatch(roots, stack, &live, &batch, opts, out);
    }
    Ok(())
}

/// One inotify watch per distinct directory: a rule on a directory watches it recursively; a
/// rule on a file watches the file's directory (editors replace files by rename, which a
/// watch on the file's own inode would not survive), and the rule filters the events.
fn start_watcher(live: &[Trigger], tx: Sender<Msg>) -> Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let msg = match res {
            Ok(ev) if ev.kind.is_access() => return,
            Ok(ev) => Ok(ev.paths),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(msg);
    })
    .map_err(|e| WatchError::Watcher { path: PathBuf::from("."), reason: e.to_string() })?;
    let mut dirs: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    for t in live {
        if t.root.is_dir() {
            dirs.insert((t.root.clone(), true));
        } else if let Some(parent) = t.root.parent() {
            dirs.insert((parent.to_path_buf(), false));
        }
    }
    for (dir, recursive) in &dirs {
        let mode = if *recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        watcher.watch(dir, mode).map_err(|e| WatchError::Watcher { path: dir.clone(), reason: e.to_string() })?;
    }
    Ok(watcher)
}

/// `initial_sync: true` rules copy their whole tree once before watching.
fn initial_sync(roots: &Roots, stack: &Stack, live: &[Trigger], out: &dyn Report) {
    for t in live.iter().filter(|t| t.rule.initial_sync && t.syncs()) {
        let hits = ServiceHits { service: t.service.clone(), hits: vec![(t, t.root.clone())] };
        if let Err(e) = action::sync_hits(roots, &stack.name, &hits) {
            out.line(&format!("error: initial sync: {e}"));
        }
    }
}

/// Apply one batch, service by service.
fn dispatch(
    roots: &Roots,
    stack: &Stack,
    live: &[Trigger],
    batch: &BTreeSet<PathBuf>,
    opts: &WatchOptions,
    out: &dyn Report,
) {
    let paths: Vec<PathBuf> = batch.iter().cloned().collect();
    for hits in action::group(live, &paths) {
        if let Err(e) = apply(roots, stack, &hits, opts, out) {
            out.line(&format!("error: {e}"));
        }
    }
}

fn apply(roots: &Roots, stack: &Stack, hits: &ServiceHits<'_>, opts: &WatchOptions, out: &dyn Report) -> Result<()> {
    let svc = &hits.service;
    if action::any_of(hits, &[WatchAction::Rebuild]) {
        out.line(&format!("Rebuilding service {svc:?} after changes were detected..."));
        rebuild(roots, stack, svc, opts.prune)?;
        out.line(&format!("service {svc:?} successfully built"));
        return Ok(());
    }
    let n = action::sync_hits(roots, &stack.name, hits)?;
    if n > 0 {
        out.line(&format!("Syncing service {svc:?} after {n} changed files"));
    }
    if action::any_of(hits, &[WatchAction::SyncRestart, WatchAction::Restart]) {
        out.line(&format!("Restarting service {svc:?} after changes were detected"));
        action::restart(roots, stack, svc)?;
    }
    let mut done: Vec<*const Trigger> = Vec::new();
    for (t, _) in hits.hits.iter().filter(|(t, _)| t.rule.action == WatchAction::SyncExec) {
        if done.contains(&(*t as *const Trigger)) {
            continue;
        }
        done.push(*t as *const Trigger);
        action::exec_hook(roots, &stack.name, svc, t)?;
    }
    Ok(())
}
