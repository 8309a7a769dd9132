//! `berth down`: stop and remove the project's containers and networks (and volumes with -v,
//! images with --rmi). Works from the state dir: the stack file is optional.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::GlobalOpts;
use crate::paths::Roots;
use crate::reconciler::down::{down, DownOpts, RemoveImages};
use crate::reconciler::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Rmi {
    /// Only images without a custom tag.
    Local,
    /// Every image the project's services use.
    All,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also remove the project's named and anonymous volumes.
    #[arg(short = 'v', long, alias = "volume")]
    pub volumes: bool,
    /// Accepted for Compose compatibility: down always removes every container of the project.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Stop timeout in seconds.
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Remove images used by the project.
    #[arg(long, value_enum)]
    pub rmi: Option<Rmi>,
}

pub fn run(g: &GlobalOpts, a: &DownArgs) -> anyhow::Result<ExitCode> {
    let roots = Roots::new(g.root.as_deref());
    // The stack file only names the project; a broken or missing file with -p still works.
    let project = super::ps::project_name(g)?;
    let opts = DownOpts {
        volumes: a.volumes,
        grace: a.timeout.map(Duration::from_secs),
        rmi: a.rmi.map(|r| match r {
            Rmi::Local => RemoveImages::Local,
            Rmi::All => RemoveImages::All,
        }),
        stack_images: if a.rmi.is_some() { stack_images(g, &project) } else { Vec::new() },
    };
    down(&roots, &project, &opts, &Progress::new())?;
    Ok(ExitCode::SUCCESS)
}

/// The image references of the stack file's services, as Compose takes `--rmi`'s images
/// from the project model. A file that does not load (or is another project's) adds none:
/// `down` works from the state dir alone.
fn stack_images(g: &GlobalOpts, project: &str) -> Vec<String> {
    match super::load::load_stack(g) {
        Ok(l) if l.stack.name == project => {
            l.stack.services.iter().map(|(name, svc)| crate::planner::image_ref(&l.stack, name, svc)).collect()
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            tracing::debug!(project, "--rmi without the stack file's images: {e:#}");
            Vec::new()
        }
    }
}
