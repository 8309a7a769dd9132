//! The watch loop: inotify watches (through `notify`) on every rule's path, batches of
//! changes, and each batch dispatched to the services it concerns. Errors of one batch are
//! reported naming the service and path, and watching goes on (as Compose does).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
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
    /// Rebuilds print nothing but their errors (`watch --quiet`, `up --watch --quiet-build`).
    pub quiet_build: bool,
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
/// the watcher cannot start. A rule whose path does not exist yet is watched for: its nearest
/// existing parent is watched, and once the path appears it is watched and synced whole.
pub fn watch(roots: &Roots, stack: &Stack, opts: &WatchOptions, stop: &AtomicBool, out: &dyn Report) -> Result<()> {
    let all = triggers(stack, &opts.services);
    if all.is_empty() {
        return Err(WatchError::NothingToWatch);
    }
    let (mut live, mut pending): (Vec<Trigger>, Vec<Trigger>) =
        all.into_iter().partition(|t| t.root.symlink_metadata().is_ok());
    for t in &pending {
        out.line(&format!(
            "path {:?} does not exist yet for service {:?}: its watch rule starts when it appears",
            t.rule.path, t.service
        ));
    }
    let (tx, rx) = channel();
    let mut watches = Watches::new(tx)?;
    for t in &live {
        watches.add_rule(t)?;
    }
    watches.add_parents(&pending, out);
    initial_sync(roots, stack, &live, out);
    out.line("Watch enabled");
    let batcher = Batcher::new(rx);
    let mut errors = Vec::new();
    while let Some(mut batch) = batcher.next(stop, &mut errors) {
        for e in errors.drain(..) {
            out.line(&format!("watch error: {e}"));
        }
        let (appeared, still): (Vec<Trigger>, Vec<Trigger>) =
            pending.into_iter().partition(|t| t.root.symlink_metadata().is_ok());
        pending = still;
        for t in appeared {
            match watches.add_rule(&t) {
                Ok(()) => out.line(&format!("path {:?} of service {:?} appeared: watching it", t.rule.path, t.service)),
                Err(e) => out.line(&format!("watch error: {e}")),
            }
            // Whatever it already holds was made before its watch existed: it all counts as changed.
            batch.insert(t.root.clone());
            live.push(t);
        }
        watches.add_parents(&pending, out);
        dispatch(roots, stack, &live, &batch, opts, out);
    }
    Ok(())
}

/// The inotify watches (through `notify`), one per distinct directory and mode.
struct Watches {
    watcher: notify::RecommendedWatcher,
    added: BTreeSet<(PathBuf, bool)>,
}

impl Watches {
    fn new(tx: Sender<Msg>) -> Result<Watches> {
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let msg = match res {
                Ok(ev) if ev.kind.is_access() => return,
                Ok(ev) => Ok(ev.paths),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(msg);
        })
        .map_err(|e| WatchError::Watcher { path: PathBuf::from("."), reason: e.to_string() })?;
        Ok(Watches { watcher, added: BTreeSet::new() })
    }

    fn add(&mut self, dir: &Path, recursive: bool) -> Result<()> {
        if !self.added.insert((dir.to_path_buf(), recursive)) {
            return Ok(());
        }
        let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        self.watcher.watch(dir, mode).map_err(|e| {
            self.added.remove(&(dir.to_path_buf(), recursive));
            WatchError::Watcher { path: dir.to_path_buf(), reason: e.to_string() }
        })
    }

    /// A rule on a directory watches it recursively; a rule on a file watches the file's
    /// directory (editors replace files by rename, which a watch on the file's own inode would
    /// not survive), and the rule filters the events.
    fn add_rule(&mut self, t: &Trigger) -> Result<()> {
        if t.root.is_dir() {
            self.add(&t.root, true)
        } else {
            let parent = t.root.parent().unwrap_or(Path::new("/"));
            self.add(parent, false)
        }
    }

    /// For rules whose path does not exist yet: a watch on its nearest existing ancestor, so
    /// each step of the path being made wakes the loop (which then looks again).
    fn add_parents(&mut self, pending: &[Trigger], out: &dyn Report) {
        for t in pending {
            let Some(dir) = t.root.ancestors().skip(1).find(|a| a.is_dir()) else { continue };
            if let Err(e) = self.add(dir, false) {
                out.line(&format!("watch error: {e}"));
            }
        }
    }
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
        rebuild(roots, stack, svc, opts.prune, opts.quiet_build)?;
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
