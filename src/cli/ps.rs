//! `berth ps`: the project's containers with their status, as `docker compose ps`. Also home
//! of what every operations command needs first: the state roots and the project name.

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::format::OutputFormat;
use super::GlobalOpts;
use crate::paths::Roots;
use crate::reconciler::ops::{select, status, table};
use crate::reconciler::ProjectContainer;

/// Table or JSON, for the commands that offer only these two (`ls`, `stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array, one object per row.
    Json,
}

/// The states `--status` and `--filter status=` accept (Docker's).
const STATES: [&str; 7] = ["paused", "restarting", "removing", "running", "dead", "created", "exited"];

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show stopped containers too (default: running, paused and restarting ones).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Output format: `table`, `json` (JSON Lines: one object per line, as Compose ≥ 2.21), or
    /// a template such as `{{.Name}}\t{{.State}}` (`table {{.Name}}…` for aligned columns with
    /// headers). Fields: ID, Name, Names, Image, Command, Project, Service, State, Health,
    /// ExitCode, Publishers, Ports, CreatedAt, RunningFor, Status, Labels, Networks.
    #[arg(long, default_value = "table")]
    pub format: OutputFormat,
    /// Print only the service names.
    #[arg(long)]
    pub services: bool,
    /// Only containers in this state: paused, restarting, removing, running, dead, created,
    /// exited (repeatable).
    #[arg(long = "status", value_name = "STATUS")]
    pub status: Vec<String>,
    /// Filter by a property: `status=STATE` (repeatable; as `--status`).
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Print only container ids (unique; a recreated container gets a new one).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Do not truncate the command in the table.
    #[arg(long)]
    pub no_trunc: bool,
    /// Include orphans: containers of services no longer in the stack file (`--orphans=false`
    /// hides them; it reads the stack file).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub orphans: bool,
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
        (None, Some(project)) if built => {
            // Named with the separator its container was (`demo_web_1`: compatibility mode).
            let s = if c.name.starts_with(&format!("{project}_{}_", c.service)) { "_" } else { "-" };
            format!("{project}{s}{}", c.service)
        }
        _ => {
            let id = c.config.labels.get(labels::IMAGE).cloned().unwrap_or_default();
            let short = id.strip_prefix("sha256:").unwrap_or(&id);
            short.chars().take(12).collect()
        }
    }
}

/// A published port in `ps --format json`, as Compose writes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Publisher {
    #[serde(rename = "URL")]
    pub url: String,
    pub target_port: u16,
    pub published_port: u16,
    pub protocol: String,
}

/// One row of `ps`, also its JSON form (keys and order as `docker compose ps --format json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub names: String,
    pub image: String,
    pub command: String,
    pub project: String,
    pub service: String,
    pub created_at: String,
    pub running_for: String,
    pub state: String,
    pub status: String,
    pub health: String,
    pub exit_code: i32,
    pub restart_count: u32,
    pub labels: String,
    pub networks: String,
    pub ports: String,
    pub publishers: Vec<Publisher>,
}

pub(crate) fn row(project: &str, c: &ProjectContainer, now: SystemTime) -> Row {
    let restarting = c.status_text() == "restarting";
    let exit_code = match c.state.status {
        crate::runtime::Status::Exited { code, .. } => code,
        _ => 0,
    };
    let publishers = c
        .ports()
        .iter()
        .map(|p| Publisher {
            url: p.host_ip.clone(),
            target_port: p.target,
            published_port: p.host_port,
            protocol: p.protocol.clone(),
        })
        .collect();
    let since = crate::reconciler::ops::human::since(&c.state.created_at, now);
    let labels: Vec<String> = c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // The normalized config names networks by their real names (`<project>_default`).
    let networks = c.record.as_ref().and_then(|r| r.config.as_ref()).and_then(|v| v.get("networks"));
    let networks = match networks.and_then(|n| n.as_object()) {
        Some(n) => n.keys().cloned().collect::<Vec<_>>().join(","),
        None => String::new(),
    };
    Row {
        id: c.container_id(),
        name: c.name.clone(),
        names: c.name.clone(),
        image: image_of(c),
        command: c.config.process.args.join(" "),
        project: project.to_string(),
        service: c.service.clone(),
        created_at: c.state.created_at.clone(),
        running_for: format!("{} ago", crate::reconciler::ops::human::duration(since)),
        state: status::state_word(&c.state, restarting).to_string(),
        status: status::status_text(&c.state, c.health(), restarting, now),
        health: c.health().as_str().to_string(),
        exit_code,
        restart_count: c.restart_count(),
        labels: labels.join(","),
        networks,
        ports: status::ports_text(c.ports()),
        publishers,
    }
}

/// The states asked for by `--status` and `--filter status=…`, checked against Docker's list.
fn wanted_states(a: &PsArgs) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("status", v)) => out.push(v.to_string()),
            _ => anyhow::bail!("--filter {f:?}: the only filter is `status=STATE` (as in docker compose ps)"),
        }
    }
    out.extend(a.status.iter().cloned());
    for s in &out {
        if !STATES.contains(&s.to_ascii_lowercase().as_str()) {
            anyhow::bail!("invalid status {s:?}: use one of {}", STATES.join(", "));
        }
    }
    Ok(out)
}

/// `--orphans=false`: keep only the containers of services the stack file declares.
fn drop_orphans(g: &GlobalOpts, chosen: &mut Vec<ProjectContainer>) -> anyhow::Result<()> {
    let loaded = super::load::load_stack(g).context("--orphans=false reads the stack file")?;
    chosen.retain(|c| loaded.stack.services.contains_key(&c.service));
    Ok(())
}

/// Docker's table: NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS, the command quoted and
/// cut to 20 characters unless `--no-trunc`.
fn render_table(rows: &[Row], no_trunc: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let command = match r.command.chars().count() > 20 && !no_trunc {
                true => format!("\"{}…\"", r.command.chars().take(19).collect::<String>()),
                false => format!("\"{}\"", r.command),
            };
            let cells = [&r.name, &r.image, &command, &r.service, &r.running_for, &r.status, &r.ports];
            cells.into_iter().cloned().collect()
        })
        .collect();
    table::render(&["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"], &cells)
}

/// Outside any project (no stack file found, no project named): true. `ps` is project-scoped
/// as in Compose; there it shows the containers outside any project instead (`berth container
/// ls`), rather than failing on the missing stack file.
pub(crate) fn outside_any_project(g: &GlobalOpts) -> bool {
    if g.project_name.is_some() || !g.files.is_empty() || std::env::var_os("COMPOSE_PROJECT_NAME").is_some() {
        return false;
    }
    let Ok(cwd) = std::env::current_dir() else { return false };
    matches!(
        crate::spec::project::resolve_files(&[], g.project_directory.as_deref(), &cwd),
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
    let states = wanted_states(a)?;
    let all = select::all(&roots(g), &project, a.all)?;
    let mut chosen = select::services(all, &project, &a.service)?;
    if !a.orphans && a.service.is_empty() {
        drop_orphans(g, &mut chosen)?;
    }
    let now = SystemTime::now();
    let rows: Vec<Row> = chosen
        .iter()
        .map(|c| row(&project, c, now))
        .filter(|r| a.all || !states.is_empty() || matches!(r.state.as_str(), "running" | "paused" | "restarting"))
        .filter(|r| states.is_empty() || states.iter().any(|s| s.eq_ignore_ascii_case(&r.state)))
        .collect();
    let out = if a.services {
        let mut seen: Vec<&str> = Vec::new();
        for r in &rows {
            if !seen.contains(&r.service.as_str()) {
                seen.push(&r.service);
            }
        }
        seen.iter().map(|s| format!("{s}\n")).collect()
    } else if a.quiet {
        rows.iter().map(|r| format!("{}\n", r.id)).collect()
    } else {
        match &a.format {
            OutputFormat::Json => super::format::json_lines(&rows)?,
            OutputFormat::Table => render_table(&rows, a.no_trunc),
            OutputFormat::Template { text, table } => super::format::render_template(text, *table, &rows)?,
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
