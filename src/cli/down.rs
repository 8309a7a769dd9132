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
    /// Every image used by the project's containers.
    All,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also remove the project's named and anonymous volumes.
    #[arg(short = 'v', long)]
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
    };
    down(&roots, &project, &opts, &Progress::new())?;
    Ok(ExitCode::SUCCESS)
}
