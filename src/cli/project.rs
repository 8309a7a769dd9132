//! Compose's project-scoped commands built from the others: `create` (`up --no-start`),
//! `scale SERVICE=N` (`up -d --no-recreate --scale`), `images` (the images the project's
//! containers use) and `volumes` (the project's volumes).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::format::OutputFormat;
use super::plan::PlanFlags;
use super::ps::{image_of, project_name, roots};
use super::up::UpArgs;
use super::GlobalOpts;
use crate::image::{ImageStore, Reference};
use crate::reconciler::ops::{select, table};
use crate::volumes::VolumeInfo;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Only these services (and their dependencies, unless --no-deps).
    pub services: Vec<String>,
    #[command(flatten)]
    pub plan: PlanFlags,
    /// Build the images of services with a `build:` section first.
    #[arg(long)]
    pub build: bool,
    /// Pull images: always, missing (the default), never.
    #[arg(long, num_args = 0..=1, default_missing_value = "always", value_name = "POLICY")]
    pub pull: Option<String>,
    /// Pull without printing progress information.
    #[arg(long)]
    pub quiet_pull: bool,
    /// Never build: a service with `build:` uses the image in the store (missing: an error).
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    /// Builds print nothing but their errors.
    #[arg(long)]
    pub quiet_build: bool,
    /// Answer yes to every question (`create` asks none; accepted as Compose's is).
    // `--y`: Compose's deprecated spelling.
    #[arg(short = 'y', long, alias = "y")]
    pub yes: bool,
}

/// `berth create`: the containers, networks and volumes of the stack, made but not started;
/// a later `up` (or `start`) starts them.
pub fn create(g: &GlobalOpts, a: &CreateArgs) -> anyhow::Result<ExitCode> {
    let up = UpArgs {
        no_start: true,
        build: a.build,
        pull: a.pull.clone(),
        quiet_pull: a.quiet_pull,
        no_build: a.no_build,
        quiet_build: a.quiet_build,
        ..UpArgs::detached(&a.services, &a.plan)
    };
    super::up::run(g, &up)
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// SERVICE=REPLICAS, one or more.
    #[arg(required = true, value_name = "SERVICE=REPLICAS", value_parser = super::plan::parse_scale)]
    pub scale: Vec<(String, u32)>,
    /// Do not start the services' dependencies.
    #[arg(long)]
    pub no_deps: bool,
}

/// `berth scale web=3 worker=0`: as `docker compose scale`, the named services get that many
/// containers (new ones are created and started, extra ones removed); the others are left as
/// they are, and no existing container is recreated.
pub fn scale(g: &GlobalOpts, a: &ScaleArgs) -> anyhow::Result<ExitCode> {
    let services: Vec<String> = a.scale.iter().map(|(s, _)| s.clone()).collect();
    let flags = PlanFlags {
        force_recreate: false,
        always_recreate_deps: false,
        no_recreate: true,
        renew_anon_volumes: false,
        no_deps: a.no_deps,
        remove_orphans: false,
        scale: a.scale.clone(),
    };
    super::up::run(g, &UpArgs::detached(&services, &flags))
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Output format: table (CONTAINER REPOSITORY TAG IMAGE ID SIZE), json (an array, as
    /// Compose), or a template such as `{{.ContainerName}} {{.ID}}`.
    #[arg(long, default_value = "table")]
    pub format: OutputFormat,
    /// Print only the image ids.
    #[arg(short, long)]
    pub quiet: bool,
    /// Only these services.
    pub services: Vec<String>,
}

/// One row of `images`, also its JSON form (Compose's keys).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImageRow {
    #[serde(rename = "ID")]
    id: String,
    container_name: String,
    repository: String,
    tag: String,
    size: u64,
}

/// `berth images`: the images of the project's containers (docker compose images). Outside
/// any project it lists the whole store, as `berth image ls`.
pub fn images(g: &GlobalOpts, a: &ImagesArgs) -> anyhow::Result<ExitCode> {
    if super::ps::outside_any_project(g) {
        if !a.quiet {
            eprintln!("no stack file here: showing every image in the store (`berth image ls`)");
        }
        let ls = super::images::ImagesArgs { format: super::images::Format::Table, quiet: a.quiet };
        return super::images::run_images(g, &ls);
    }
    let project = project_name(g)?;
    let all = select::all(&roots(g), &project, true)?;
    let chosen = select::services(all, &project, &a.services)?;
    let store = ImageStore::open(&roots(g)).context("opening the image store")?;
    let sizes: std::collections::HashMap<String, u64> = store.list()?.into_iter().map(|i| (i.id, i.size)).collect();
    let mut rows = Vec::new();
    for c in &chosen {
        let id = c.config.labels.get(crate::planner::actual::labels::IMAGE).cloned().unwrap_or_default();
        let (repository, tag) = match Reference::parse(&image_of(c)) {
            Ok(r) => (r.familiar_repository(), r.tag.unwrap_or_else(|| "latest".into())),
            Err(_) => (image_of(c), "<none>".into()),
        };
        let size = sizes.get(&id).copied().unwrap_or(0);
        rows.push(ImageRow { id, container_name: c.name.clone(), repository, tag, size });
    }
    let out = if a.quiet {
        let mut ids: Vec<&str> = Vec::new();
        for r in &rows {
            if !ids.contains(&r.id.as_str()) {
                ids.push(&r.id);
            }
        }
        ids.iter().map(|i| format!("{i}\n")).collect()
    } else {
        match &a.format {
            OutputFormat::Json => format!("{}\n", serde_json::to_string(&rows)?),
            OutputFormat::Template { text, table } => super::format::render_template(text, *table, &rows)?,
            OutputFormat::Table => {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        let short = r.id.strip_prefix("sha256:").unwrap_or(&r.id).chars().take(12).collect();
                        let size = super::images::human_size(r.size);
                        vec![r.container_name.clone(), r.repository.clone(), r.tag.clone(), short, size]
                    })
                    .collect();
                table::render(&["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"], &cells)
            }
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct VolumesArgs {
    /// Output format: table (DRIVER VOLUME NAME), json (one object per line), or a template
    /// such as `{{.Name}}`.
    #[arg(long, default_value = "table")]
    pub format: OutputFormat,
    /// Print only the volume names.
    #[arg(short, long)]
    pub quiet: bool,
    /// Only the volumes these services mount (needs the stack file).
    pub services: Vec<String>,
}

/// One row of `volumes`, also its JSON form (the keys of `docker volume ls --format json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct VolumeRow {
    driver: String,
    labels: String,
    mountpoint: String,
    name: String,
    scope: String,
}

/// `berth volumes [SERVICE…]`: the project's volumes (docker compose volumes).
pub fn volumes(g: &GlobalOpts, a: &VolumesArgs) -> anyhow::Result<ExitCode> {
    let project = project_name(g)?;
    let vm = crate::reconciler::mounts::volume_manager(&roots(g));
    let mut list = vm.list(Some(&project))?;
    if !a.services.is_empty() {
        let loaded = super::load::load_stack(g).context("`volumes SERVICE` reads the stack file")?;
        let wanted = service_volumes(&loaded.stack, &a.services)?;
        list.retain(|v| mounted_by(v, &wanted, &project, &a.services));
    }
    let rows: Vec<VolumeRow> = list
        .iter()
        .map(|v| VolumeRow {
            driver: "local".into(),
            labels: v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            mountpoint: v.path.display().to_string(),
            name: v.name.clone(),
            scope: "local".into(),
        })
        .collect();
    let out = if a.quiet {
        rows.iter().map(|r| format!("{}\n", r.name)).collect()
    } else {
        match &a.format {
            OutputFormat::Json => super::format::json_lines(&rows)?,
            OutputFormat::Template { text, table } => super::format::render_template(text, *table, &rows)?,
            OutputFormat::Table => {
                let cells: Vec<Vec<String>> = rows.iter().map(|r| vec![r.driver.clone(), r.name.clone()]).collect();
                table::render(&["DRIVER", "VOLUME NAME"], &cells)
            }
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The real names of the named volumes `services` mount; an unknown service is an error
/// naming it.
fn service_volumes(stack: &crate::spec::Stack, services: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for s in services {
        let svc = stack.services.get(s).with_context(|| format!("no service `{s}` in the stack file"))?;
        for v in &svc.volumes {
            if v.kind != crate::spec::model::MountKind::Volume {
                continue;
            }
            if let Some(vol) = v.source.as_ref().and_then(|k| stack.volumes.get(k)) {
                out.push(vol.name.clone());
            }
        }
    }
    Ok(out)
}

/// A named volume of `wanted`, or an anonymous volume of a container of one of `services`.
fn mounted_by(v: &VolumeInfo, wanted: &[String], project: &str, services: &[String]) -> bool {
    if wanted.contains(&v.name) {
        return true;
    }
    let owner = v.labels.get(crate::volumes::labels::CONTAINER);
    let of = |c: &String, s: &String| ["-", "_"].iter().any(|j| c.starts_with(&format!("{project}{j}{s}{j}")));
    v.is_anonymous() && owner.is_some_and(|c| services.iter().any(|s| of(c, s)))
}
