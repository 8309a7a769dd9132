//! `berth build [SERVICE...]` (compose build: every stack service with a `build:` section, or
//! the ones named) and `berth image build -t NAME [-f Dockerfile] CONTEXT` (docker build).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::load::{load_options, load_with};
use super::GlobalOpts;
use crate::builder::{self, compose, BuildError, Request, StderrLog};
use crate::paths::Roots;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Services to build (default: every service with a `build:` section).
    pub services: Vec<String>,
    /// Do not use the build cache.
    #[arg(long)]
    pub no_cache: bool,
    /// KEY=VALUE for an ARG of the Dockerfile (KEY alone: from berth's environment).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Print only the image ids.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also build the services the named ones depend on (transitively) that have a `build:`.
    #[arg(long)]
    pub with_dependencies: bool,
    /// Push each built image (the service's `image:` name) to its registry afterwards.
    #[arg(long)]
    pub push: bool,
    /// Pull each FROM image from its registry first, even one the store has.
    #[arg(long)]
    pub pull: bool,
    /// Memory limit of each RUN step's container (`512m`, `2g`, bytes), as Compose's classic
    /// builder.
    #[arg(short = 'm', long, value_name = "BYTES")]
    pub memory: Option<String>,
    /// Compose's deprecated build flags, accepted and without effect (`--compress`: berth
    /// reads the context in place; `--force-rm`, `--no-rm`: RUN containers always go).
    #[arg(long, hide = true)]
    pub compress: bool,
    #[arg(long, hide = true)]
    pub force_rm: bool,
    #[arg(long, hide = true)]
    pub no_rm: bool,
    /// Print the build as a `docker buildx bake` definition (JSON) and build nothing, as
    /// `docker compose build --print`.
    #[arg(long, conflicts_with = "check")]
    pub print: bool,
    /// Check the build configuration and build nothing: every Dockerfile is read and parsed
    /// with berth's builder's rules and its target stage found (BuildKit's lint rules are not
    /// run).
    #[arg(long)]
    pub check: bool,
    /// BuildKit's builder selection, SSH forwarding and attestations: taken, with a warning
    /// that berth's builder does without them.
    #[arg(long, value_name = "BUILDER")]
    pub builder: Option<String>,
    #[arg(long, value_name = "SPEC")]
    pub ssh: Option<String>,
    #[arg(long, value_name = "VALUE")]
    pub provenance: Option<String>,
    #[arg(long, value_name = "VALUE")]
    pub sbom: Option<String>,
}

/// `berth image build` (docker build).
#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// Name (and optionally tag) of the image; repeatable.
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// The Dockerfile (default: CONTEXT/Dockerfile; `-`: read it from stdin).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// KEY=VALUE for an ARG of the Dockerfile.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// The stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// KEY=VALUE label for the image.
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// RUN network: default (the default bridge, with egress), none or host.
    #[arg(long, default_value = "default")]
    pub network: String,
    #[arg(long)]
    pub no_cache: bool,
    /// Pull each FROM image from its registry first, even one the store has.
    #[arg(long)]
    pub pull: bool,
    /// Memory limit of each RUN step's container (`512m`, `2g`, bytes), as docker build's.
    #[arg(short = 'm', long, value_name = "BYTES")]
    pub memory: Option<String>,
    /// Print only the image id.
    #[arg(short, long)]
    pub quiet: bool,
    /// The build context directory.
    pub context: PathBuf,
}

/// `KEY=VALUE` (or `KEY`, taken from the environment; left out when unset).
/// `-m`/`--memory` in bytes (`512m`, `2g`, a plain number); at least 6 MiB, as Docker's floor.
fn memory_limit(text: Option<&str>) -> anyhow::Result<Option<i64>> {
    let Some(text) = text else { return Ok(None) };
    let bytes = crate::spec::units::parse_bytes(text).map_err(|e| anyhow::anyhow!("--memory {text:?}: {e}"))?;
    if bytes < 6 << 20 {
        bail!("--memory {text:?}: the minimum is 6 MiB");
    }
    Ok(Some(i64::try_from(bytes).map_err(|_| anyhow::anyhow!("--memory {text:?}: too large"))?))
}

fn parse_kv(items: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some(("", _)) => bail!("{what} {item}: expected KEY=VALUE"),
            Some((k, v)) => {
                out.insert(k.to_string(), v.to_string());
            }
            None => {
                if let Ok(v) = std::env::var(item) {
                    out.insert(item.clone(), v);
                }
            }
        }
    }
    Ok(out)
}

/// A build stopped by Ctrl-C exits 130 (as a shell reports SIGINT), after its message.
fn exit_interrupted(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match result {
        Err(e) if e.chain().any(|c| matches!(c.downcast_ref(), Some(BuildError::Interrupted { .. }))) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(130))
        }
        other => other,
    }
}

pub fn run(g: &GlobalOpts, a: &BuildArgs) -> anyhow::Result<ExitCode> {
    exit_interrupted(build_services(g, a))
}

fn build_services(g: &GlobalOpts, a: &BuildArgs) -> anyhow::Result<ExitCode> {
    let roots = Roots::new(g.root.as_deref());
    let stack = load_with(load_options(g, &a.services)?)?.stack;
    let args = parse_kv(&a.build_args, "--build-arg")?;
    let memory = memory_limit(a.memory.as_deref())?;
    let names: Vec<String> = if a.services.is_empty() {
        stack.services.iter().filter(|(_, s)| s.build.is_some()).map(|(n, _)| n.clone()).collect()
    } else {
        for s in &a.services {
            match stack.services.get(s) {
                None => bail!("no such service: `{s}`"),
                Some(svc) if svc.build.is_none() => bail!("service `{s}` has no build section"),
                Some(_) => {}
            }
        }
        match a.with_dependencies {
            true => crate::spec::deps::select(&stack, &a.services, false)
                .into_iter()
                .filter(|n| stack.services.get(n).is_some_and(|s| s.build.is_some()))
                .collect(),
            false => a.services.clone(),
        }
    };
    for (flag, set) in [
        ("--builder", a.builder.is_some()),
        ("--ssh", a.ssh.is_some()),
        ("--provenance", a.provenance.is_some()),
        ("--sbom", a.sbom.is_some()),
    ] {
        if set {
            eprintln!("warning: {flag} is BuildKit's; berth's builder does without it (ignored)");
        }
    }
    if a.print {
        let flags =
            super::build_print::PrintFlags { build_args: &args, no_cache: a.no_cache, pull: a.pull, push: a.push };
        println!("{}", super::build_print::bake_json(&stack, &names, &flags)?);
        return Ok(ExitCode::SUCCESS);
    }
    if a.check {
        return check_builds(&stack, &names, &args);
    }
    for name in &names {
        let log =
            StderrLog { quiet: a.quiet, label: if names.len() > 1 { format!("[{name}] ") } else { String::new() } };
        // Build keys berth ignores were warned about by the loader (file:line:col).
        let out = compose::build_service(
            &roots,
            &stack,
            name,
            compose::Flags { no_cache: a.no_cache, pull: a.pull, memory },
            &args,
            &log,
        )
        .with_context(|| format!("building service `{name}`"))?;
        report(&out, a.quiet);
    }
    if a.push {
        push_built(&roots, &stack, &names, a.quiet)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `build --check`: each service's Dockerfile read and parsed, nothing built; every problem
/// is reported (naming its service), then the exit code says whether there was one.
fn check_builds(
    stack: &crate::spec::model::Stack,
    names: &[String],
    args: &BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for name in names {
        let Some(svc) = stack.services.get(name) else { continue };
        let checked = compose::request(stack, name, svc, args).and_then(|req| builder::check(&req));
        if let Err(e) = checked {
            eprintln!("error: service `{name}`: {e}");
            failed = true;
        }
    }
    if failed {
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("Check complete, no warnings found.");
    Ok(ExitCode::SUCCESS)
}

/// `build --push`: each built service's `image:` to its registry (a service without one has
/// only berth's local `<project>-<service>` name: nowhere to push it, said so).
fn push_built(roots: &Roots, stack: &crate::spec::model::Stack, names: &[String], quiet: bool) -> anyhow::Result<()> {
    let store = crate::image::ImageStore::open(roots).context("open the image store")?;
    for name in names {
        let Some(image) = stack.services.get(name).and_then(|s| s.image.clone()) else {
            eprintln!("warning: service `{name}` has no `image:` name to push");
            continue;
        };
        super::pull::push_service_image(&store, name, &image, quiet).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

fn report(out: &builder::Outcome, quiet: bool) {
    if quiet {
        println!("{}", out.id);
        return;
    }
    eprintln!("built {} ({} steps, {} cached)", out.id, out.steps, out.cached);
    for t in &out.tags {
        println!("{t}");
    }
}

pub fn run_image_build(g: &GlobalOpts, a: &ImageBuildArgs) -> anyhow::Result<ExitCode> {
    exit_interrupted(image_build(g, a))
}

fn image_build(g: &GlobalOpts, a: &ImageBuildArgs) -> anyhow::Result<ExitCode> {
    let roots = Roots::new(g.root.as_deref());
    let Some(network) = builder::BuildNetwork::parse(&a.network) else {
        bail!("--network {}: expected default, none or host", a.network)
    };
    // `-f -`: the Dockerfile comes from stdin (docker build -f- CONTEXT).
    let stdin_file = a.file.as_deref().is_some_and(|f| f == std::path::Path::new("-"));
    let inline = if stdin_file {
        let limit = crate::builder::dockerfile::MAX_DOCKERFILE;
        let text = crate::fsutil::read_reader_string_limited(std::io::stdin().lock(), limit, "Dockerfile")
            .context("read the Dockerfile from stdin")?;
        Some(text)
    } else {
        None
    };
    let dockerfile = a.file.as_ref().filter(|_| !stdin_file).map(|f| {
        // As docker build: -f is relative to the current directory, not the context.
        if f.is_absolute() {
            f.clone()
        } else {
            std::env::current_dir().map(|d| d.join(f)).unwrap_or_else(|_| f.clone())
        }
    });
    let req = Request {
        context: a.context.clone(),
        dockerfile,
        dockerfile_inline: inline,
        args: parse_kv(&a.build_args, "--build-arg")?,
        target: a.target.clone(),
        labels: parse_kv(&a.labels, "--label")?,
        tags: a.tags.clone(),
        network,
        no_cache: a.no_cache,
        pull: a.pull,
        memory: memory_limit(a.memory.as_deref())?,
        ..Default::default()
    };
    let log = StderrLog { quiet: a.quiet, label: String::new() };
    let out = builder::build(&roots, &req, &log).with_context(|| format!("building {}", a.context.display()))?;
    report(&out, a.quiet);
    Ok(ExitCode::SUCCESS)
}
