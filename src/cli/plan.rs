use std::process::ExitCode;

use clap::Args;

use super::GlobalOpts;

#[derive(Debug, Args)]
pub struct PlanArgs {}

pub fn run(_g: &GlobalOpts, _a: &PlanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
