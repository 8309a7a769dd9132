//! `berth export` (a service container's filesystem as a tar, without its mounts, as
//! `docker export`) and `berth commit` (its changes as a new image, as `docker commit`).

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{ArgAction, Args};

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::copy::tar_io::TarSink;
use crate::copy::walk::Walker;
use crate::copy::Sink;
use crate::image::ImageStore;
use crate::reconciler::ops::select;
use crate::reconciler::{ProjectContainer, ProjectLock};
use crate::runtime::state::StateDir;
use crate::runtime::Runtime;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file (else to stdout, which must not be a terminal).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit message (the new layer's history comment).
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// The new image's author (e.g. "Jane Doe <jane@example.com>").
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// A Dockerfile instruction applied to the new image's config (CMD, ENTRYPOINT, ENV,
    /// EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL); repeatable.
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
    pub changes: Vec<String>,
    /// Pause the container while its changes are read (`--pause=false` to not). No `-p`:
    /// that is the global --project-name here.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
    /// Name of the new image, REPOSITORY[:TAG] (default: untagged).
    pub reference: Option<String>,
}

/// The container, and the project lock when it is not running (its overlay is then mounted
/// by this process: no start may mount it meanwhile).
fn target(
    g: &GlobalOpts,
    service: &str,
    index: u32,
) -> anyhow::Result<(Runtime, ProjectContainer, Option<ProjectLock>)> {
    let project = project_name(g)?;
    let roots = roots(g);
    let c = select::one(select::all(&roots, &project, false)?, &project, service, index)?;
    let lock = match c.is_running() {
        true => None,
        false => Some(ProjectLock::acquire(&roots, &project, crate::reconciler::up::lock_wait())?),
    };
    Ok((Runtime::new(&roots), c, lock))
}

pub fn export(g: &GlobalOpts, a: &ExportArgs) -> anyhow::Result<ExitCode> {
    let (rt, c, _lock) = target(g, &a.service, a.index)?;
    let what = || format!("container {} of service `{}`", c.name, a.service);
    let croot = rt.open_root(&c.id).with_context(what)?;
    let root = File::from(croot.root);
    let write = |out: &mut dyn Write| -> anyhow::Result<()> {
        let mut walker = Walker::default();
        walker.one_file_system = true;
        walker.map_ids = Some(super::cp::id_maps(&c.config));
        let mut sink = TarSink::new(std::io::BufWriter::new(out));
        walker.send_contents(&root, Vec::new(), &mut sink)?;
        sink.finish()?;
        sink.into_inner()?.flush()?;
        Ok(())
    };
    match &a.output {
        Some(path) => {
            write_atomically(path, write).with_context(|| format!("exporting {} to {}", what(), path.display()))?
        }
        None => {
            if std::io::stdout().is_terminal() {
                bail!("cowardly refusing to write a tar archive to a terminal: use -o FILE or a redirect");
            }
            write(&mut std::io::stdout().lock()).with_context(what)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Write `path` through a temp file next to it, renamed once complete and synced: a failed
/// export leaves no half archive.
fn write_atomically(path: &Path, f: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let result = f(&mut file).and_then(|()| Ok(file.sync_all()?)).and_then(|()| Ok(std::fs::rename(&tmp, path)?));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn commit(g: &GlobalOpts, a: &CommitArgs) -> anyhow::Result<ExitCode> {
    let (rt, c, _lock) = target(g, &a.service, a.index)?;
    let what = || format!("container {} of service `{}`", c.name, a.service);
    let Some(image) = c.config.labels.get(crate::planner::actual::labels::IMAGE) else {
        bail!("{}: it records no image id (made by an older berth?); recreate it with `berth up`", what());
    };
    if let Some(r) = &a.reference {
        crate::image::Reference::parse(r).with_context(|| format!("the new image's name `{r}`"))?;
    }
    let store = ImageStore::open(rt.roots())?;
    // Frozen while its upper dir is read, so the layer is one moment's state (docker commit's
    // default); thawed again whatever happens, unless it was paused already.
    let freeze = a.pause && c.is_running() && !c.state.paused;
    if freeze {
        rt.pause(&c.id).with_context(|| format!("pausing {}", what()))?;
    }
    let snap = crate::builder::snapshot::Snapshot {
        image,
        upper: &StateDir(rt.state_dir(&c.id)).upper(),
        created_by: format!("berth commit {}", c.name),
        comment: a.message.clone(),
        tags: a.reference.iter().cloned().collect(),
        author: a.author.clone(),
        changes: a.changes.clone(),
    };
    let result = crate::builder::snapshot::commit_container(&store, &snap);
    if freeze {
        if let Err(e) = rt.unpause(&c.id) {
            eprintln!("error: unpausing {}: {e:#}", what());
        }
    }
    let id = result.with_context(|| format!("committing {}", what()))?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}
