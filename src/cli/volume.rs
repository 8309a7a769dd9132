//! `berth volume ls|inspect|create|rm|prune`: named volumes from the shell, scoped by the
//! project label (`-p NAME`, or the stack file's project; `--all` for every volume).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::images::Format;
use super::GlobalOpts;
use crate::paths::Roots;
use crate::volumes::{VolumeInfo, VolumeManager, VolumeSpec};

#[derive(Debug, Args)]
pub struct VolumeArgs {
    #[command(subcommand)]
    pub command: VolumeCommand,
}

#[derive(Debug, Args)]
pub struct Scope {
    /// Every volume, not only the project's.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// List volumes (of the project given by -p or the stack file; all when neither is found).
    #[command(alias = "list")]
    Ls {
        #[command(flatten)]
        scope: Scope,
        /// Only print volume names.
        #[arg(short, long)]
        quiet: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show volumes as JSON.
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Create a volume (for use as `external: true`).
    Create {
        name: String,
        /// Labels, KEY=VALUE (repeatable).
        #[arg(long = "label")]
        labels: Vec<String>,
        /// Driver options, KEY=VALUE (only type=none,o=bind,device=PATH).
        #[arg(short = 'o', long = "opt")]
        opts: Vec<String>,
    },
    /// Remove volumes (refused while a container uses one).
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove the volumes of the project (or, with --all, every volume) no container uses.
    Prune {
        #[command(flatten)]
        scope: Scope,
    },
}

pub fn run(g: &GlobalOpts, a: &VolumeArgs) -> anyhow::Result<ExitCode> {
    let vm = crate::reconciler::mounts::volume_manager(&Roots::new(g.root.as_deref()));
    match &a.command {
        VolumeCommand::Ls { scope, quiet, format } => {
            let volumes = vm.list(project(g, scope).as_deref())?;
            if *quiet {
                volumes.iter().for_each(|v| println!("{}", v.name));
            } else {
                match format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&volumes)?),
                    Format::Table => print!("{}", render_table(&volumes)),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VolumeCommand::Inspect { names } => {
            let infos = names.iter().map(|n| vm.get(n)).collect::<Result<Vec<_>, _>>()?;
            println!("{}", serde_json::to_string_pretty(&infos)?);
            Ok(ExitCode::SUCCESS)
        }
        VolumeCommand::Create { name, labels, opts } => {
            let spec = VolumeSpec {
                name: name.clone(),
                labels: pairs(labels)?,
                driver_opts: pairs(opts)?,
                ..VolumeSpec::default()
            };
            println!("{}", vm.create(&spec)?.name);
            Ok(ExitCode::SUCCESS)
        }
        VolumeCommand::Rm { names } => remove(&vm, names),
        VolumeCommand::Prune { scope } => {
            let p = project(g, scope);
            if p.is_none() && !scope.all {
                anyhow::bail!("no project: name one with -p NAME (or run where the stack file is), or pass --all");
            }
            for name in vm.prune(p.as_deref())? {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Remove each volume, reporting every failure and carrying on.
fn remove(vm: &VolumeManager, names: &[String]) -> anyhow::Result<ExitCode> {
    let mut code = ExitCode::SUCCESS;
    for name in names {
        match vm.get(name).and_then(|_| vm.remove(name)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("error: {:#}", anyhow::Error::new(e));
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

/// The project to scope to: none with --all, else -p, else the stack file's (if there is one).
fn project(g: &GlobalOpts, scope: &Scope) -> Option<String> {
    if scope.all {
        return None;
    }
    if g.project_name.is_some() {
        return g.project_name.clone();
    }
    let opts = super::load::load_options(g, &[]).ok()?;
    crate::spec::load::load(&opts).ok().map(|l| l.stack.name)
}

fn pairs(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|s| {
            let (k, v) = s.split_once('=').with_context(|| format!("`{s}` is not KEY=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

fn render_table(volumes: &[VolumeInfo]) -> String {
    let w = volumes.iter().map(|v| v.name.len()).max().unwrap_or(0).max(4);
    let pw = volumes.iter().filter_map(|v| v.project.as_ref().map(String::len)).max().unwrap_or(0).max(7);
    let mut out = format!("{:<w$}  {:<pw$}  CREATED\n", "NAME", "PROJECT");
    for v in volumes {
        out.push_str(&format!("{:<w$}  {:<pw$}  {}\n", v.name, v.project.as_deref().unwrap_or("-"), v.created));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_an_equals_sign() {
        assert_eq!(pairs(&["a=b=c".into()]).unwrap(), BTreeMap::from([("a".into(), "b=c".into())]));
        assert!(pairs(&["a".into()]).is_err());
    }
}
