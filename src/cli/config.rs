//! `berth config`: load, resolve and validate the stack file(s) and print what berth understood.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use anyhow::Context as _;

use crate::image::{ImageStore, Reference};
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
    /// Print the names of the top-level `models`, one per line.
    #[arg(long)]
    pub models: bool,
    /// Print the image of each service, one per line.
    #[arg(long)]
    pub images: bool,
    /// Only validate: print nothing, exit 0 when valid, 1 otherwise.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not interpolate variables (print `${VAR}` as written).
    #[arg(long)]
    pub no_interpolate: bool,
    /// Do not add what Compose's normalization adds: the implicit `default` network, the
    /// `depends_on` that links, `network_mode: service:` and `volumes_from` imply, secret targets.
    #[arg(long)]
    pub no_normalize: bool,
    /// Do not check the model's consistency (a service with neither `image:` nor `build:`,
    /// contradicting settings…), as `docker compose config --no-consistency`: the output may
    /// be an invalid stack.
    #[arg(long)]
    pub no_consistency: bool,
    /// Do not merge the `env_file:` files into each service's `environment` (they stay listed
    /// and are not read), as `docker compose config --no-env-resolution`.
    #[arg(long)]
    pub no_env_resolution: bool,
    /// Keep relative paths (bind mounts, build contexts, env files…) as written instead of
    /// making them absolute, as `docker compose config --no-path-resolution`; the paths of an
    /// included or extended file are relative to the project directory.
    #[arg(long)]
    pub no_path_resolution: bool,
    /// Pin each service's `image:` to the digest of the image in berth's store
    /// (`docker.io/library/busybox:latest@sha256:…`), as `docker compose config --resolve-image-digests`.
    #[arg(long)]
    pub resolve_image_digests: bool,
    /// Print an override file that pins every service's image to its digest (only
    /// `services.<name>.image`), for `-f compose.yaml -f THAT` (implies --resolve-image-digests).
    #[arg(long, conflicts_with_all = ["services", "volumes", "networks", "list_profiles", "models", "images", "hash"])]
    pub lock_image_digests: bool,
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
    /// Write the model (or the `--lock-image-digests` override file) to FILE instead of
    /// stdout, as `docker compose config -o`; the name lists and `--hash` still go to stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
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
    // As Compose: `--compatibility` implies --no-normalize.
    opts.no_normalize = a.no_normalize || g.compatibility;
    opts.no_consistency = a.no_consistency;
    opts.no_env_resolution = a.no_env_resolution;
    opts.no_path_resolution = a.no_path_resolution;
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
    if a.resolve_image_digests || a.lock_image_digests {
        pin_images(&super::ps::roots(g), &mut loaded.stack)?;
    }
    if a.lock_image_digests {
        let text = render_lock(&loaded.stack, a.format.unwrap_or_default())?;
        write_model(a.output.as_deref(), &text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = if a.services {
        lines(loaded.stack.services.keys())
    } else if a.volumes {
        lines(loaded.stack.volumes.keys())
    } else if a.networks {
        lines(loaded.stack.networks.keys())
    } else if a.list_profiles {
        lines(loaded.profiles.iter())
    } else if a.models {
        lines(loaded.stack.models.keys())
    } else if a.images {
        lines(images(&loaded.stack).iter())
    } else {
        let text = render(&loaded.stack, a.format.unwrap_or_default())?;
        write_model(a.output.as_deref(), &text)?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The rendered model to `-o FILE` (created or truncated), else to stdout.
fn write_model(output: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("write --output `{}`", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            Ok(out.flush()?)
        }
    }
}

fn lines<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(|s| format!("{s}\n")).collect()
}

/// The image each service runs: `image:`, else the name a build gets (`<project>-<service>`,
/// as Compose names it).
fn images(stack: &Stack) -> Vec<String> {
    stack.services.iter().map(|(name, s)| s.image.clone().unwrap_or_else(|| format!("{}-{name}", stack.name))).collect()
}

/// `image:` of every service pinned to `<full reference>@sha256:…`: the manifest digest of the
/// image in berth's store, else the digest its registry gives (a reference with a digest is
/// kept, written in full, as compose-go's WithImagesResolved does). An image neither has is an
/// error naming the service.
pub(super) fn pin_images(roots: &crate::paths::Roots, stack: &mut Stack) -> anyhow::Result<()> {
    // A read-only command: no store is made where there is none (then no image is in it).
    let store = match roots.images().exists() {
        true => Some(ImageStore::open(roots).context("open the image store")?),
        false => None,
    };
    for (name, svc) in stack.services.iter_mut() {
        let Some(image) = svc.image.as_deref() else { continue };
        let mut r = Reference::parse(image).with_context(|| format!("service `{name}`: image `{image}`"))?;
        if r.digest.is_none() {
            let local = match &store {
                Some(store) => store.manifest_digest(image),
                None => Err(crate::image::ImageError::NotFound { reference: image.to_string() }),
            };
            let digest = match local {
                Ok(d) => d,
                Err(crate::image::ImageError::NotFound { .. }) => crate::image::registry::remote_digest(image)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "service `{name}`: image `{image}` is not in berth's image store, and its registry \
                             cannot give its digest: {}",
                            crate::errchain::chain(&e)
                        )
                    })?,
                Err(other) => {
                    return Err(anyhow::Error::from(other).context(format!("service `{name}`: image `{image}`")))
                }
            };
            r.digest = Some(digest);
        }
        svc.image = Some(r.to_string());
    }
    Ok(())
}

/// `--lock-image-digests`: an override file holding each service's pinned `image:` only (a
/// service without one is left out).
pub(super) fn render_lock(stack: &Stack, format: Format) -> anyhow::Result<String> {
    let services: serde_json::Map<String, serde_json::Value> = stack
        .services
        .iter()
        .filter_map(|(name, s)| Some((name.clone(), serde_json::json!({ "image": s.image.as_ref()? }))))
        .collect();
    let doc = serde_json::json!({ "services": services });
    Ok(match format {
        Format::Yaml => serde_yaml::to_string(&doc)?,
        Format::Json => serde_json::to_string_pretty(&doc)? + "\n",
    })
}

fn render(stack: &Stack, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Yaml => serde_yaml::to_string(stack)?,
        Format::Json => serde_json::to_string_pretty(stack)? + "\n",
    })
}
