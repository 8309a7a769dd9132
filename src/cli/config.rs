use std::process::ExitCode;

use clap::Args;

use super::GlobalOpts;

#[derive(Debug, Args)]
pub struct ConfigArgs {}

pub fn run(_g: &GlobalOpts, _a: &ConfigArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
