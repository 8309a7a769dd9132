//! `berth plan`: what `up` would do, as a diff of the desired stack against the actual state
//! observed from the state root (containers, networks, volumes, images). Read-only: it takes
//! no lock and changes nothing.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::load::{load_options, load_with};
use super::GlobalOpts;
use crate::paths::Roots;
use crate::planner::render::{render_json, render_text};
use crate::planner::{plan, PlanOptions};
use crate::reconciler::observe;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable diff: `+ create`, `~ recreate (fields)`, `- remove`.
    Text,
    /// Every action with its kind, target, dependencies and level.
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Plan only these services (and their dependencies, unless --no-deps).
    pub services: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub flags: PlanFlags,
}

/// The flags that shape a plan, shared by `plan` and `up` (so both accept the same ones).
#[derive(Debug, Clone, Args)]
pub struct PlanFlags {
    /// Recreate containers even if their configuration has not changed (the named services'
    /// only, as Compose; every service's when none is named).
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Recreate the containers of the named services' dependencies too, changed or not.
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,
    /// Never recreate existing containers, even if their configuration changed.
    #[arg(long)]
    pub no_recreate: bool,
    /// Recreate containers with new anonymous volumes instead of keeping the previous
    /// containers' data (implies --force-recreate).
    #[arg(short = 'V', long, conflicts_with = "no_recreate")]
    pub renew_anon_volumes: bool,
    /// Do not include (or start) the dependencies of the named services.
    #[arg(long)]
    pub no_deps: bool,
    /// Remove containers of services that are no longer in the stack.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Run N containers of SERVICE, overriding the file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
}

impl PlanFlags {
    /// The planner's options for `services` with these flags.
    pub fn options(&self, services: &[String]) -> PlanOptions {
        PlanOptions {
            services: services.to_vec(),
            force_recreate: self.force_recreate,
            always_recreate_deps: self.always_recreate_deps,
            no_recreate: self.no_recreate,
            renew_anon_volumes: self.renew_anon_volumes,
            no_deps: self.no_deps,
            remove_orphans: self.remove_orphans,
            scale: self.scale.iter().cloned().collect(),
            no_start: false,
            all_resources: false,
        }
    }
}

/// `web=3` → ("web", 3): one `--scale` flag of `plan` and `up`.
pub(super) fn parse_scale(s: &str) -> Result<(String, u32), String> {
    let (service, n) = s.split_once('=').ok_or_else(|| format!("invalid --scale `{s}`; expected SERVICE=N"))?;
    let n = n.trim().parse::<u32>().map_err(|_| format!("invalid --scale `{s}`: `{n}` is not a number of replicas"))?;
    if service.trim().is_empty() {
        return Err(format!("invalid --scale `{s}`: the service name is empty"));
    }
    Ok((service.trim().to_string(), n))
}

pub fn run(g: &GlobalOpts, a: &PlanArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_with(load_options(g, &a.services)?)?;
    let mut opts = a.flags.options(&a.services);
    opts.all_resources = g.all_resources;
    let roots = Roots::new(g.root.as_deref());
    let actual = observe(&roots, &loaded.stack.name)
        .with_context(|| format!("cannot observe the state of project `{}`", loaded.stack.name))?;
    let plan = plan(&loaded.stack, &actual, &opts)?;
    match a.format {
        Format::Text => print!("{}", render_text(&plan)),
        Format::Json => println!("{}", render_json(&plan).context("cannot render the plan as JSON")?),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_parses() {
        assert_eq!(parse_scale("web=3"), Ok(("web".into(), 3)));
        assert!(parse_scale("web").unwrap_err().contains("expected SERVICE=N"));
        assert!(parse_scale("web=x").unwrap_err().contains("not a number"));
        assert!(parse_scale("=2").unwrap_err().contains("empty"));
    }
}
