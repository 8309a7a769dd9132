//! `berth ps`: the project's containers with their status, as `docker compose ps`. Also home
//! of what every operations command needs first: the state roots and the project name.

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::GlobalOpts;
use crate::paths::Roots;
use crate::reconciler::ops::{select, status, table};
use crate::reconciler::ProjectContainer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array, one object per row.
    Json,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show stopped containers too (default: running and restarting ones).
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print only the service names.
    #[arg(long)]
    pub services: bool,
    /// Only containers in this state: created, running, restarting, exited (repeatable).
    #[arg(long = "status", value_name = "STATUS")]
    pub status: Vec<String>,
    /// Print only container ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Only these services.
    pub service: Vec<String>,
}

/// The state roots of the global options.
pub(crate) fn roots(g: &GlobalOpts) -> Roots {
    Roots::new(g.root.as_deref())
}

/// The project the command is about: `-p` / BERTH_PROJECT_NAME / COMPOSE_PROJECT_NAME when
/// given (no stack file needed: the ops commands work from the state dir), else the stack
/// file's name, as `up` derives it.
pub(crate) fn project_name(g: &GlobalOpts) -> anyhow::Result<String> {
    let env: indexmap::IndexMap<String, String> = std::env::var("COMPOSE_PROJECT_NAME")
        .ok()
        .map(|v| ("COMPOSE_PROJECT_NAME".to_string(), v))
        .into_iter()
        .collect();
    if g.project_name.is_some() || !env.is_empty() {
        let cwd = std::env::current_dir()?;
        return crate::spec::project::project_name(g.project_name.as_deref(), &env, None, &cwd)
            .map_err(anyhow::Error::msg);
    }
    let loaded = super::load::load_stack(g).context("finding the project name (or give it with -p NAME)")?;
    Ok(loaded.stack.name)
}

/// The image a container runs, as the user wrote it when the record has it; for a service
/// built without `image:`, the name the build gave it (`<project>-<service>`, as Compose
/// shows); else the id.
pub(crate) fn image_of(c: &ProjectContainer) -> String {
    use crate::planner::actual::labels;
    let config = c.record.as_ref().and_then(|r| r.config.as_ref());
    let from_record = config.and_then(|v| v.get("image")).and_then(|v| v.as_str());
    // A service has `image:` or `build:`; the record keeps the first when it is there.
    let built = config.is_some() && from_record.is_none();
    match (from_record, c.config.labels.get(labels::PROJECT)) {
        (Some(i), _) => i.to_string(),
        (None, Some(project)) if built => format!("{project}-{}", c.service),
        _ => {
            let id = c.config.labels.get(labels::IMAGE).cloned().unwrap_or_default();
            let short = id.strip_prefix("sha256:").unwrap_or(&id);
            short.chars().take(12).collect()
        }
    }
}

/// One row of `ps`, also its JSON form (keys as `docker compose ps --format json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    pub project: String,
    pub service: String,
    pub state: String,
    pub status: String,
    pub health: String,
    pub exit_code: i32,
    pub restart_count: u32,
    pub created_at: String,
    pub publishers: Vec<crate::reconciler::PortRecord>,
}

pub(crate) fn row(project: &str, c: &ProjectContainer, now: SystemTime) -> Row {
    let restarting = c.status_text() == "restarting";
    let exit_code = match c.state.status {
        crate::runtime::Status::Exited { code, .. } => code,
        _ => 0,
    };
    Row {
        id: c.id.clone(),
        name: c.name.clone(),
        image: image_of(c),
        command: c.config.process.args.join(" "),
        project: project.to_string(),
        service: c.service.clone(),
        state: status::state_word(&c.state, restarting).to_string(),
        status: status::status_text(&c.state, c.health(), restarting, now),
        health: c.health().as_str().to_string(),
        exit_code,
        restart_count: c.restart_count(),
        created_at: c.state.created_at.clone(),
        publishers: c.ports().to_vec(),
    }
}

/// Outside any project (no stack file found, no project named): true. `ps` is project-scoped
/// as in Compose; there it shows the containers outside any project instead (`berth container
/// ls`), rather than failing on the missing stack file.
fn outside_any_project(g: &GlobalOpts) -> bool {
    if g.project_name.is_some() || !g.files.is_empty() || std::env::var_os("COMPOSE_PROJECT_NAME").is_some() {
        return false;
    }
    let Ok(cwd) = std::env::current_dir() else { return false };
    let dir = g.project_directory.clone().unwrap_or(cwd);
    matches!(
        crate::spec::project::resolve_files(&[], &dir),
        Err(crate::spec::project::ProjectError::NoStackFile { .. })
    )
}

pub fn run(g: &GlobalOpts, a: &PsArgs) -> anyhow::Result<ExitCode> {
    if outside_any_project(g) {
        if !a.quiet {
            eprintln!("no stack file here: showing containers outside any project (`berth container ls`)");
        }
        let ls = super::container::LsArgs { all: a.all, quiet: a.quiet, no_trunc: false };
        return super::container::ls(&crate::runtime::Runtime::new(&roots(g)), &ls);
    }
    let project = project_name(g)?;
    let all = select::all(&roots(g), &project, a.all)?;
    let chosen = select::services(all, &project, &a.service)?;
    let now = SystemTime::now();
    let rows: Vec<Row> = chosen
        .iter()
        .map(|c| row(&project, c, now))
        .filter(|r| a.all || !a.status.is_empty() || matches!(r.state.as_str(), "running" | "paused" | "restarting"))
        .filter(|r| a.status.is_empty() || a.status.iter().any(|s| s.eq_ignore_ascii_case(&r.state)))
        .collect();
    if a.services {
        let mut seen = Vec::new();
        for r in &rows {
            if !seen.contains(&r.service) {
                println!("{}", r.service);
                seen.push(r.service.clone());
            }
        }
    } else if a.quiet {
        rows.iter().for_each(|r| println!("{}", r.id));
    } else if a.format == Format::Json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let ports = status::ports_text(&r.publishers);
                vec![r.name.clone(), r.image.clone(), r.service.clone(), r.status.clone(), ports]
            })
            .collect();
        print!("{}", table::render(&["NAME", "IMAGE", "SERVICE", "STATUS", "PORTS"], &cells));
    }
    Ok(ExitCode::SUCCESS)
}
