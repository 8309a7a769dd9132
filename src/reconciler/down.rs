//! `down`: remove every trace of a project, working from the state dir and the labels alone
//! (the stack file may have changed or be gone): stop the supervisor, stop and remove the
//! containers (dependents first, in parallel where possible), the networks, with `-v` the
//! volumes, with `--rmi` the images, then the project's state files. Teardown keeps going past
//! errors and reports every one.

use std::fs;
use std::time::Duration;

use super::container::{self, Ctx};
use super::error::{ReconcileError, Result};
use super::execute::execute;
use super::lock::{project_lock_path, ProjectLock};
use super::observe::{observe_without_firewall, project_containers};
use super::progress::{Kind, Progress};
use super::state::ProjectDir;
use super::supervisor;
use super::up::lock_wait;
use crate::image::ImageStore;
use crate::paths::Roots;
use crate::planner::actual::labels;
use crate::planner::{self, DownOptions};
use crate::runtime::Runtime;

/// `--rmi`: which images go with the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    /// Only images without a custom tag (the `<project>-<service>` images of builds).
    Local,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct DownOpts {
    pub volumes: bool,
    pub grace: Option<Duration>,
    pub rmi: Option<RemoveImages>,
    /// The image references of the stack file's services, when it loads (for `--rmi`).
    pub stack_images: Vec<String>,
}

/// Remove the project. With `--rmi`, the images considered are those of the existing
/// containers, those recorded by the last `up`, and `opts.stack_images`: the containers may
/// be gone already (`rm`, an earlier `down`) and the images still be there.
pub fn down(roots: &Roots, project: &str, opts: &DownOpts, progress: &Progress) -> Result<()> {
    let mut t = crate::timing::Phases::new(format!("down {project}"));
    let lock = ProjectLock::acquire(roots, project, lock_wait())?;
    let mut errors = Vec::new();
    if let Err(e) = supervisor::stop(roots, project) {
        errors.push(e);
    }
    t.mark("stop supervisor");
    let images = project_images(roots, project, &opts.stack_images);
    let mut actual = observe_without_firewall(roots, project)?;
    // One-off containers (`berth run`) go too.
    actual.containers = all_containers(roots, project)?;
    let plan = planner::plan_down(project, &actual, &DownOptions { volumes: opts.volumes });
    let rt = Runtime::new(roots);
    let ctx = Ctx::new(roots, &rt, project, None, opts.grace);
    t.mark("observe+plan");
    if let Err(e) = execute(&ctx, &plan, progress) {
        errors.push(e);
    }
    t.mark("execute");
    sweep_half_created(&ctx, &mut errors);
    if let Some(which) = opts.rmi {
        remove_images(roots, project, &images, which, progress, &mut errors);
    }
    if errors.is_empty() {
        if let Err(e) = ProjectDir::new(roots, project).remove_all() {
            errors.push(e);
        }
        // Nothing of the project may remain, the lock file included (we still hold it).
        let _ = fs::remove_file(project_lock_path(roots, project));
    }
    drop(lock);
    ReconcileError::collect(errors)
}

/// Every container labelled with the project, as the planner sees it.
fn all_containers(roots: &Roots, project: &str) -> Result<Vec<planner::ContainerState>> {
    Ok(project_containers(roots, project)?
        .into_iter()
        .map(|c| planner::ContainerState {
            name: c.name.clone(),
            project: project.to_string(),
            service: c.service.clone(),
            number: c.number,
            config_hash: String::new(),
            config: None,
            status: planner::ContainerStatus::Created,
            health: None,
            image_id: None,
            depends_on: c
                .config
                .labels
                .get(labels::DEPENDS_ON)
                .map(|d| d.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
            labels: Default::default(),
            anon_volumes: Default::default(),
        })
        .collect())
}

/// Containers the runtime does not list (a create killed before its state.json was written)
/// but whose config or record names the project.
fn sweep_half_created(ctx: &Ctx<'_>, errors: &mut Vec<ReconcileError>) {
    let mut names: Vec<String> = ctx.pd().records().map(|r| r.into_keys().collect()).unwrap_or_default();
    if let Ok(entries) = fs::read_dir(ctx.roots.state.join("containers")) {
        for e in entries.flatten() {
            let Some(id) = e.file_name().to_str().map(str::to_string) else { continue };
            let ours = ctx.rt.config(&id).ok().and_then(|c| c.labels.get(labels::PROJECT).cloned());
            if ours.as_deref() == Some(ctx.project) && !names.contains(&id) {
                names.push(id);
            }
        }
    }
    // A container whose pre_stop hook refused the stop was reported by the plan's run.
    for name in names.into_iter().filter(|n| !ctx.stop_refused(n)) {
        if let Err(e) = container::remove(ctx, &name) {
            errors.push(e);
        }
    }
}

/// The ids of the images the project uses: its containers' images, and those of the
/// references recorded by the last `up` and named by the stack file (`stack_refs`).
fn project_images(roots: &Roots, project: &str, stack_refs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in project_containers(roots, project).unwrap_or_default() {
        if let Some(id) = c.config.labels.get(crate::planner::actual::labels::IMAGE) {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    }
    let recorded = ProjectDir::new(roots, project).meta().ok().flatten().map(|m| m.images).unwrap_or_default();
    let Ok(store) = ImageStore::open(roots) else { return out };
    let present = planner::Actual {
        images: store
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|i| planner::ImageState { id: i.id, references: i.references })
            .collect(),
        ..planner::Actual::default()
    };
    for reference in recorded.iter().chain(stack_refs) {
        if let Some(id) = present.image_id(reference) {
            if !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
    }
    out
}

fn remove_images(
    roots: &Roots,
    project: &str,
    ids: &[String],
    which: RemoveImages,
    progress: &Progress,
    errors: &mut Vec<ReconcileError>,
) {
    let Ok(store) = ImageStore::open(roots) else { return };
    let Ok(list) = store.list() else { return };
    for img in list.iter().filter(|i| ids.contains(&i.id)) {
        let local = img.references.iter().all(|r| built_for_project(r, project));
        if which == RemoveImages::Local && !local {
            continue;
        }
        match store.remove(&img.id, true, &|_| false) {
            Ok(_) => progress.done(Kind::Image, &img.id, "Removed", Duration::ZERO),
            Err(e) => errors.push(ReconcileError::Other(format!("remove image {}: {e}", img.id))),
        }
    }
}

/// `--rmi local`: an image berth built for a service without `image:` is tagged
/// `<project>-<service>` (as Compose names it); any other tag (`postgres:16-alpine`, a
/// service's own `image:`) is a custom one and keeps the image.
fn built_for_project(reference: &str, project: &str) -> bool {
    !reference.contains('/') && reference.strip_prefix(project).is_some_and(|rest| rest.starts_with('-'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rmi_local_only_takes_project_builds() {
        use super::built_for_project as local;
        assert!(local("shop-web:latest", "shop"));
        assert!(!local("postgres:16-alpine", "shop"), "a dash in a tag is not a build");
        assert!(!local("shopping-web:latest", "shop"));
        assert!(!local("registry.example/shop-web:1", "shop"));
    }
}
