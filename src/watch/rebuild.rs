//! The `rebuild` action: build the service's image with berth's builder, then recreate the
//! service's containers as `berth up --build --no-deps SERVICE` would (the planner sees the
//! new image id in the config hash). With `--prune`, the image the service ran before is
//! removed once nothing tags or uses it (Compose prunes the dangling images a rebuild leaves).

use std::collections::BTreeMap;

use super::error::{Result, WatchError};
use crate::builder::compose::{build_service, chain};
use crate::builder::StderrLog;
use crate::image::ImageStore;
use crate::paths::Roots;
use crate::planner::PlanOptions;
use crate::reconciler::progress::Progress;
use crate::reconciler::up;
use crate::spec::model::{PullPolicy, Stack};

/// Rebuild `service` and recreate its containers; returns the new image id.
pub fn rebuild(roots: &Roots, stack: &Stack, service: &str, prune: bool, quiet: bool) -> Result<String> {
    let svc = stack.services.get(service).ok_or_else(|| WatchError::service(service, "no such service"))?;
    if svc.build.is_none() {
        return Err(WatchError::service(service, "a rebuild rule needs a `build` section"));
    }
    let name = stack.service_image(service, svc);
    let before = image_id(roots, &name);
    let log = StderrLog { quiet, label: format!("{service} ") };
    let outcome = build_service(roots, stack, service, Default::default(), &BTreeMap::new(), &log)
        .map_err(|e| WatchError::service(service, format!("build: {}", chain(&e))))?;
    let mut stack = stack.clone();
    if let Some(s) = stack.services.get_mut(service) {
        // Built just now: the plan must not build (or pull) it again.
        s.pull_policy = Some(PullPolicy::Missing);
    }
    let opts = PlanOptions { services: vec![service.to_string()], no_deps: true, ..Default::default() };
    up::up(roots, &stack, &opts, None, &Progress::new()).map_err(|e| WatchError::service(service, chain(&e)))?;
    if prune {
        if let Some(old) = before.filter(|old| *old != outcome.id) {
            prune_image(roots, &old);
        }
    }
    Ok(outcome.id)
}

/// The id of the image tagged `name`, if the store has it.
fn image_id(roots: &Roots, name: &str) -> Option<String> {
    let store = ImageStore::open(roots).ok()?;
    let wanted = [name.to_string(), format!("{name}:latest")];
    store.list().ok()?.into_iter().find(|i| i.references.iter().any(|r| wanted.contains(r))).map(|i| i.id)
}

/// Remove image `id` if it has no tag left and no container uses it; failures are only
/// logged (pruning is housekeeping, the rebuild itself worked).
fn prune_image(roots: &Roots, id: &str) {
    let Ok(store) = ImageStore::open(roots) else { return };
    let dangling = store.list().map(|l| l.iter().any(|i| i.id == id && i.references.is_empty())).unwrap_or(false);
    if !dangling {
        return;
    }
    let in_use = |id: &str| image_in_use(roots, id);
    if let Err(e) = store.remove(id, false, &in_use) {
        tracing::warn!(image = id, error = %e, "prune after rebuild");
    }
}

/// Whether any container's files (config, state) name image `id`.
fn image_in_use(roots: &Roots, id: &str) -> bool {
    let Ok(rd) = std::fs::read_dir(roots.state.join("containers")) else { return false };
    rd.flatten().any(|c| {
        std::fs::read_dir(c.path())
            .map(|files| {
                files
                    .flatten()
                    .filter(|f| f.path().extension().is_some_and(|e| e == "json"))
                    .any(|f| std::fs::read_to_string(f.path()).is_ok_and(|s| s.contains(id)))
            })
            .unwrap_or(false)
    })
}
