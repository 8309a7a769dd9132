//! `berth config`: load, resolve and validate the stack file(s) and print what berth understood.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::spec::Stack;

use super::load::{load_options, load_with};
use super::GlobalOpts;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format: of the resolved model (default yaml), of `--variables` (default a table).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print the service names, one per line.
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    pub networks: bool,
    /// Print every profile named in the files, one per line.
    // A distinct id: the global `--profile` option already owns the id `profiles`.
    #[arg(long = "profiles", id = "list_profiles")]
    pub list_profiles: bool,
    /// Print the image of each service, one per line.
    #[arg(long)]
    pub images: bool,
    /// Only validate: print nothing, exit 0 when valid, 1 otherwise.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not interpolate variables (print `${VAR}` as written).
    #[arg(long)]
    pub no_interpolate: bool,
    /// Print `SERVICE HASH` for these services (comma-separated, `*` for all): the hash of the
    /// configuration berth compares to decide on a recreate, as `docker compose config --hash`.
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
    /// Print the variables the files use, with their default and alternate values and
    /// whether they are required, as `docker compose config --variables`.
    #[arg(long, conflicts_with = "environment")]
    pub variables: bool,
    /// Print the environment the files are interpolated with (the process environment over
    /// the env files), `KEY=VALUE` a line, sorted. It may hold secrets.
    #[arg(long)]
    pub environment: bool,
    /// Only these services (their profiles are enabled, as in Compose).
    #[arg(value_name = "SERVICE")]
    pub only: Vec<String>,
}

pub fn run(g: &GlobalOpts, a: &ConfigArgs) -> anyhow::Result<ExitCode> {
    if a.variables || a.environment {
        return super::config_vars::run(g, a);
    }
    let mut opts = load_options(g, &a.only)?;
    opts.no_interpolate = a.no_interpolate;
    let mut loaded = load_with(opts)?;
    // A dependency cycle (depends_on, network_mode service:, volumes_from, links) makes the
    // stack unusable, so validation reports it too, as `docker compose config` does.
    if let Err(e) = crate::planner::ServiceGraph::new(&loaded.stack) {
        eprintln!("error: {e}");
        return Ok(ExitCode::FAILURE);
    }
    if a.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    // On the whole stack: a service's hash covers what it refers to.
    if let Some(which) = &a.hash {
        let wanted: Vec<&str> = which.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        let all = wanted.contains(&"*");
        if let Some(missing) = wanted.iter().find(|w| **w != "*" && !loaded.stack.services.contains_key(**w)) {
            anyhow::bail!("no such service: `{missing}`");
        }
        let stack = &loaded.stack;
        let text: String = stack
            .services
            .iter()
            .filter(|(name, _)| all || wanted.contains(&name.as_str()))
            .map(|(name, svc)| format!("{name} {}\n", crate::planner::config_hash(svc, stack)))
            .collect();
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    // The named services and what they need, as docker compose prints them.
    crate::spec::load::select_services(&mut loaded.stack, &a.only);
    let text = if a.services {
        lines(loaded.stack.services.keys())
    } else if a.volumes {
        lines(loaded.stack.volumes.keys())
    } else if a.networks {
        lines(loaded.stack.networks.keys())
    } else if a.list_profiles {
        lines(loaded.profiles.iter())
    } else if a.images {
        lines(images(&loaded.stack).iter())
    } else {
        render(&loaded.stack, a.format.unwrap_or_default())?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn lines<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(|s| format!("{s}\n")).collect()
}

/// The image each service runs: `image:`, else the name a build gets (`<project>-<service>`,
/// as Compose names it).
fn images(stack: &Stack) -> Vec<String> {
    stack.services.iter().map(|(name, s)| s.image.clone().unwrap_or_else(|| format!("{}-{name}", stack.name))).collect()
}

fn render(stack: &Stack, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Yaml => serde_yaml::to_string(stack)?,
        Format::Json => serde_json::to_string_pretty(stack)? + "\n",
    })
}
