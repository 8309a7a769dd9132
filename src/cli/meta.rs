//! Commands about berth itself rather than a project: `version` (as `docker compose
//! version`), `completion SHELL` (clap_complete) and `man [DIR]` (clap_mangen). None of them
//! reads a stack file or touches the state root.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _, ValueEnum};

/// The version, as Compose prints it in JSON (with a leading `v`).
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionFormat {
    Pretty,
    Json,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format: pretty (`berth version v0.1.0`) or json (`{"version":"v0.1.0"}`).
    #[arg(short = 'f', long, value_enum, default_value_t = VersionFormat::Pretty)]
    pub format: VersionFormat,
    /// Print only the version number (`0.1.0`).
    #[arg(long)]
    pub short: bool,
}

pub fn version(a: &VersionArgs) -> anyhow::Result<ExitCode> {
    print!("{}", version_text(a));
    Ok(ExitCode::SUCCESS)
}

fn version_text(a: &VersionArgs) -> String {
    match (a.short, a.format) {
        (true, _) => format!("{VERSION}\n"),
        (false, VersionFormat::Json) => format!("{}\n", serde_json::json!({ "version": format!("v{VERSION}") })),
        (false, VersionFormat::Pretty) => format!("berth version v{VERSION}\n"),
    }
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `berth completion SHELL`: the completion script on stdout, e.g.
/// `berth completion bash > /etc/bash_completion.d/berth`.
pub fn completion(a: &CompletionArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "berth", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write a page per command (berth.1, berth-up.1, …) into this directory, which must
    /// exist; without it, print berth(1) on stdout.
    pub dir: Option<PathBuf>,
}

/// `berth man [DIR]`: the manual pages, made from the same definitions as `--help`.
pub fn man(a: &ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = super::Cli::command();
    match &a.dir {
        Some(dir) => {
            anyhow::ensure!(dir.is_dir(), "man: {} is not a directory (make it first)", dir.display());
            clap_mangen::generate_to(cmd, dir).with_context(|| format!("writing man pages into {}", dir.display()))?;
        }
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()).context("writing the man page")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `berth bridge …`: whatever follows is taken, so `bridge convert -o out` gets the answer
/// below rather than a usage error.
#[derive(Debug, Args)]
pub struct BridgeArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

/// Compose's `bridge` has no berth form: it runs Docker transformer images.
pub fn bridge() -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "berth has no `bridge`: Compose's `bridge convert` runs Docker's transformer images (a Docker \
         engine and registry access); berth converts a stack itself: `berth convert --to kubernetes -o DIR`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_forms_match_compose() {
        let text = |short, format| version_text(&VersionArgs { short, format });
        assert_eq!(text(true, VersionFormat::Json), format!("{VERSION}\n"));
        assert_eq!(text(false, VersionFormat::Pretty), format!("berth version v{VERSION}\n"));
        let v: serde_json::Value = serde_json::from_str(&text(false, VersionFormat::Json)).unwrap();
        assert_eq!(v["version"], format!("v{VERSION}"));
    }
}
