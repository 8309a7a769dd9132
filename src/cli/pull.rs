//! Registry commands: `berth image pull|push REF` (docker pull/push) and `berth pull|push
//! [SERVICE...]` (compose pull/push: the stack's images), plus the pull-if-missing step of
//! `berth run IMAGE`.

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::load::{load_options, load_with};
use super::GlobalOpts;
use crate::image::registry::{self, LayerEvent, LayerStatus};
use crate::image::{ImageError, ImageStore, Reference};
use crate::paths::Roots;
use crate::reconciler::acquire::{self, PullFlag};
use crate::reconciler::progress::Progress;
use crate::spec::model::Stack;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Services whose images to pull (default: every service with an `image:`).
    pub services: Vec<String>,
    /// Report failures but exit 0.
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Also pull the images of the services' dependencies.
    #[arg(long)]
    pub include_deps: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Skip the services that have a `build:` section (they can be built instead).
    #[arg(long)]
    pub ignore_buildable: bool,
    /// `missing`: only the images not in the local store; `always` (the default): every one.
    #[arg(long, value_parser = ["missing", "always"], default_value = "always")]
    pub policy: String,
    /// Compose's deprecated `--no-parallel` (pulls go at the `--parallel` limit).
    #[arg(long, hide = true)]
    pub no_parallel: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Services whose images to push (default: every service with both `build:` and `image:`).
    pub services: Vec<String>,
    /// Report failures but exit 0.
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Also push the images of the services the named ones depend on (those with both
    /// `build:` and `image:`, as docker compose push --include-deps).
    #[arg(long)]
    pub include_deps: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

fn open_store(g: &GlobalOpts) -> anyhow::Result<ImageStore> {
    let roots = Roots::new(g.root.as_deref());
    ImageStore::open(&roots).with_context(|| format!("opening the image store in {}", roots.images().display()))
}

/// `berth image pull REF`: Docker's output on stdout (one line per layer as it completes).
pub fn image_pull(g: &GlobalOpts, reference: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(g)?;
    let r = Reference::parse(reference)?;
    if !quiet {
        println!("{}: Pulling from {}", r.tag.as_deref().or(r.digest.as_deref()).unwrap_or("latest"), r.path);
    }
    let on_layer = |e: &LayerEvent| {
        if !quiet {
            println!("{}: {}", short(&e.digest), e.status.as_str());
        }
    };
    let report = registry::pull(&store, reference, &on_layer)?;
    if !quiet {
        println!("Digest: {}", report.digest);
        let status = if report.updated { "Downloaded newer image for" } else { "Image is up to date for" };
        println!("Status: {status} {}", report.reference);
    }
    println!("{}", r);
    Ok(ExitCode::SUCCESS)
}

/// `berth image push REF`.
pub fn image_push(g: &GlobalOpts, reference: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(g)?;
    let r = Reference::parse(reference)?;
    if !quiet {
        println!("The push refers to repository [{}]", r.repository());
    }
    let on_blob = |e: &LayerEvent| {
        if !quiet {
            let status = if e.status == LayerStatus::AlreadyExists { "Layer already exists" } else { "Pushed" };
            println!("{}: {status}", short(&e.digest));
        }
    };
    let report = registry::push(&store, reference, &on_blob)?;
    let tag = r.tag.as_deref().or(r.digest.as_deref()).unwrap_or("latest");
    println!("{tag}: digest: {} size: {}", report.digest, report.size);
    Ok(ExitCode::SUCCESS)
}

/// `berth pull [SERVICE...]`: the images of the stack's services, in parallel. Services with a
/// `build:` and no `image:` are skipped (they are built); a failed pull of a service that can
/// be built is only a warning, as in Compose.
pub fn run_pull(g: &GlobalOpts, a: &PullArgs) -> anyhow::Result<ExitCode> {
    let stack = load_with(load_options(g, &a.services)?)?.stack;
    let roots = Roots::new(g.root.as_deref());
    let names = chosen(&stack, &a.services, a.include_deps)?;
    let store = if a.policy == "missing" { Some(open_store(g)?) } else { None };
    let present = |image: &str| store.as_ref().is_some_and(|st| st.tagged_at(image).ok().flatten().is_some());
    let pullable: Vec<String> = names
        .into_iter()
        .filter(|n| stack.services[n].image.is_some())
        .filter(|n| !(a.ignore_buildable && stack.services[n].build.is_some()))
        .filter(|n| a.policy != "missing" || stack.services[n].image.as_deref().is_some_and(|i| !present(i)))
        .collect();
    let jobs = acquire::jobs_for(&stack, &pullable);
    let progress = if a.quiet { Progress::quiet() } else { Progress::new() };
    let failures = acquire::pull_jobs(&roots, &jobs, &progress);
    let (fatal, buildable): (Vec<_>, Vec<_>) = failures.into_iter().partition(|(i, _)| {
        jobs[*i].services.iter().any(|s| stack.services.get(s).is_some_and(|svc| svc.build.is_none()))
    });
    for (i, error) in &buildable {
        let reason = crate::errchain::chain(error.as_ref());
        eprintln!("warning: cannot pull image `{}` (it can be built): {reason}", jobs[*i].image);
    }
    finish(acquire::failures_to_error(&jobs, fatal).map_err(anyhow::Error::from), a.ignore_pull_failures)
}

/// `berth push [SERVICE...]`: the images of services with both `build:` and `image:` (or of
/// the services named, when they have an `image:`); with `--include-deps`, of their
/// dependencies with both too.
pub fn run_push(g: &GlobalOpts, a: &PushArgs) -> anyhow::Result<ExitCode> {
    let stack = load_with(load_options(g, &a.services)?)?.stack;
    let names = chosen(&stack, &a.services, a.include_deps)?;
    let store = open_store(g)?;
    let mut errors = Vec::new();
    let mut pushed: Vec<String> = Vec::new();
    for name in names {
        let svc = &stack.services[&name];
        let Some(image) = svc.image.clone() else { continue };
        // Named: its image. Every service, or a dependency: only an image built here.
        let named = a.services.contains(&name);
        if (!named && svc.build.is_none()) || pushed.contains(&image) {
            continue;
        }
        pushed.push(image.clone());
        if let Err(e) = push_service_image(&store, &name, &image, a.quiet) {
            errors.push(e);
        }
    }
    let result = if errors.is_empty() { Ok(()) } else { Err(anyhow::anyhow!(errors.join("\n"))) };
    finish(result, a.ignore_push_failures)
}

/// Push a service's `image:` (`push`, `build --push`): `Image REF  Pushed  DIGEST` on stderr
/// unless `quiet`; the error names the service and the image.
pub(super) fn push_service_image(store: &ImageStore, service: &str, image: &str, quiet: bool) -> Result<(), String> {
    match registry::push(store, image, &|_| {}) {
        Ok(report) if !quiet => eprintln!("Image {image}  Pushed  {}", report.digest),
        Ok(_) => {}
        Err(e) => return Err(format!("service `{service}`: cannot push image `{image}`: {}", acquire::chain(&e))),
    }
    Ok(())
}

/// The services named (checked), or all; with their dependencies when asked.
fn chosen(stack: &Stack, services: &[String], deps: bool) -> anyhow::Result<Vec<String>> {
    for s in services {
        if !stack.services.contains_key(s) {
            bail!("no such service: `{s}` (project `{}`)", stack.name);
        }
    }
    Ok(crate::spec::deps::select(stack, services, !deps))
}

fn finish(result: anyhow::Result<()>, ignore: bool) -> anyhow::Result<ExitCode> {
    match result {
        Err(e) if ignore => {
            eprintln!("warning: {e:#}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

/// `berth run --pull`: make sure `image` is in the store (pulling it when the flag says so,
/// with progress on stderr).
pub(crate) fn ensure_for_run(roots: &Roots, image: &str, flag: &str, quiet: bool) -> anyhow::Result<()> {
    let flag: PullFlag = flag.parse().map_err(anyhow::Error::msg)?;
    let store = ImageStore::open(roots).context("open the image store")?;
    let present = match store.resolve(image) {
        Ok(_) => true,
        Err(ImageError::NotFound { .. }) => false,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("image {image}"))),
    };
    if flag == PullFlag::Never || (present && flag == PullFlag::Missing) {
        return Ok(());
    }
    if !present && !quiet {
        eprintln!("Unable to find image '{image}' locally");
    }
    let on_layer = |e: &LayerEvent| {
        if !quiet {
            eprintln!("{}: {}", short(&e.digest), e.status.as_str());
        }
    };
    let report = registry::pull(&store, image, &on_layer).with_context(|| format!("pulling image {image}"))?;
    if !quiet {
        eprintln!("Digest: {}", report.digest);
    }
    Ok(())
}

/// The first 12 hex digits of a digest, as Docker shows layer ids.
fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}
