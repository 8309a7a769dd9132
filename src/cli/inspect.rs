//! `berth top`, `stats`, `port`, `ls`: looking at what runs, without changing it.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::ps::{project_name, roots, Format};
use super::GlobalOpts;
use crate::reconciler::ops::stats::{self, Target};
use crate::reconciler::ops::{procs, select, status, table, OpsError};
use crate::reconciler::state::ProjectDir;

#[derive(Debug, Args)]
pub struct TopArgs {
    pub service: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show stopped containers too (their numbers are zero; default: running ones only).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Print one sample and exit.
    #[arg(long)]
    pub no_stream: bool,
    /// Accepted for docker compose: berth's stats show full container names and no ids, so
    /// nothing is truncated.
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    pub service: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub service: String,
    /// The container port (`80`, or `80/udp`).
    pub private_port: String,
    #[arg(long, value_enum, default_value_t = Protocol::Tcp)]
    pub protocol: Protocol,
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show stopped projects too.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Print only the project names.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Only the projects matching `name=NAME` (the name, or a regular expression found in it,
    /// as docker compose ls; repeatable: any of them).
    #[arg(long = "filter", value_name = "name=NAME")]
    pub filter: Vec<String>,
}

/// The containers of the named services (all services when none).
fn containers(g: &GlobalOpts, services: &[String]) -> anyhow::Result<Vec<crate::reconciler::ProjectContainer>> {
    let project = project_name(g)?;
    let all = select::all(&roots(g), &project, false)?;
    Ok(select::services(all, &project, services)?)
}

/// The running containers of the named services.
fn running(g: &GlobalOpts, services: &[String]) -> anyhow::Result<Vec<crate::reconciler::ProjectContainer>> {
    Ok(containers(g, services)?.into_iter().filter(|c| c.is_running()).collect())
}

/// One sample of the named services' containers: the running ones measured, with `all` the
/// stopped ones too, as rows of zeros (as `docker stats -a` shows them), in project order.
fn sample_stats(g: &GlobalOpts, a: &StatsArgs) -> anyhow::Result<Vec<stats::Stats>> {
    let chosen: Vec<_> = containers(g, &a.service)?.into_iter().filter(|c| a.all || c.is_running()).collect();
    let targets: Vec<Target> = chosen
        .iter()
        .filter(|c| c.is_running())
        .map(|c| Target { root_id: roots(g).id(), id: c.id.clone(), name: c.name.clone(), pid: c.state.pid })
        .collect();
    let mut measured = stats::sample(&targets, Duration::from_millis(500)).into_iter();
    Ok(chosen
        .iter()
        .map(|c| match c.is_running() {
            true => measured.next().unwrap_or_else(|| stats::Stats { name: c.name.clone(), ..Default::default() }),
            false => stats::Stats { name: c.name.clone(), ..Default::default() },
        })
        .collect())
}

pub fn top(g: &GlobalOpts, a: &TopArgs) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for c in running(g, &a.service)? {
        let rows: Vec<Vec<String>> =
            procs::container_procs(roots(g).id(), &c.id).iter().map(procs::Proc::row).collect();
        out.push_str(&format!("{}\n{}\n", c.name, table::render(procs::HEADER, &rows)));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

pub fn stats(g: &GlobalOpts, a: &StatsArgs) -> anyhow::Result<ExitCode> {
    let tty = std::io::stdout().is_terminal();
    loop {
        let sample = sample_stats(g, a)?;
        let text = match a.format {
            Format::Json => format!("{}\n", serde_json::to_string(&sample)?),
            Format::Table => table::render(stats::HEADER, &sample.iter().map(stats::Stats::row).collect::<Vec<_>>()),
        };
        let mut out = std::io::stdout().lock();
        // Redraw in place on a terminal, as `docker stats` does.
        let clear = if tty && !a.no_stream { "\x1b[2J\x1b[H" } else { "" };
        if write!(out, "{clear}{text}").and_then(|_| out.flush()).is_err() || a.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
        drop(out);
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub fn port(g: &GlobalOpts, a: &PortArgs) -> anyhow::Result<ExitCode> {
    let (port, protocol) = match a.private_port.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (a.private_port.as_str(), format!("{:?}", a.protocol).to_ascii_lowercase()),
    };
    let Ok(port) = port.parse::<u16>() else { bail!("invalid port `{}`: give a number like 80", a.private_port) };
    let project = project_name(g)?;
    let all = select::all(&roots(g), &project, false)?;
    let c = select::one(all, &project, &a.service, a.index)?;
    let found = c.ports().iter().find(|p| p.target == port && p.protocol == protocol);
    match found {
        // `[::1]:8080` for an IPv6 address, as docker compose port prints it.
        Some(p) if p.host_ip.contains(':') => println!("[{}]:{}", p.host_ip, p.host_port),
        Some(p) => println!("{}:{}", p.host_ip, p.host_port),
        None => return Err(OpsError::NoPort { service: a.service.clone(), port, protocol }.into()),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Project {
    name: String,
    status: String,
    config_files: String,
}

/// The `--filter name=…` values of `ls`: `name` is the only key, as in docker compose.
fn name_filters(filters: &[String]) -> anyhow::Result<Vec<String>> {
    filters
        .iter()
        .map(|f| match f.split_once('=') {
            Some(("name", v)) => Ok(v.to_string()),
            _ => bail!("invalid --filter `{f}`: the only filter is `name=NAME`"),
        })
        .collect()
}

/// Whether a project name passes the `name=` filters (none: every name): equal to one, or
/// holding a match of it as a regular expression (a pattern that does not parse only matches
/// itself), as docker compose ls.
fn name_matches(patterns: &[String], name: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| p == name || regex::Regex::new(p).is_ok_and(|re| re.is_match(name)))
}

pub fn ls(g: &GlobalOpts, a: &LsArgs) -> anyhow::Result<ExitCode> {
    let roots = roots(g);
    let names = name_filters(&a.filter)?;
    let mut rows = Vec::new();
    for name in crate::reconciler::list_projects(&roots)? {
        if !name_matches(&names, &name) {
            continue;
        }
        let containers = select::all(&roots, &name, false)?;
        let words: Vec<String> = containers
            .iter()
            .map(|c| status::state_word(&c.state, c.status_text() == "restarting").to_string())
            .collect();
        if !a.all && !words.iter().any(|w| w == "running" || w == "restarting") {
            continue;
        }
        let files = ProjectDir::new(&roots, &name).meta()?.map(|m| m.files).unwrap_or_default();
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        rows.push(Project { name, status: project_status(&words), config_files: files.join(",") });
    }
    if a.quiet {
        rows.iter().for_each(|r| println!("{}", r.name));
    } else if a.format == Format::Json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        let cells: Vec<Vec<String>> =
            rows.iter().map(|r| vec![r.name.clone(), r.status.clone(), r.config_files.clone()]).collect();
        print!("{}", table::render(&["NAME", "STATUS", "CONFIG FILES"], &cells));
    }
    Ok(ExitCode::SUCCESS)
}

/// `running(3)`, `exited(1), running(2)` (states in alphabetical order, as Compose).
fn project_status(words: &[String]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for w in words {
        *counts.entry(w.as_str()).or_default() += 1;
    }
    if counts.is_empty() {
        return "empty".into();
    }
    counts.iter().map(|(w, n)| format!("{w}({n})")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_status_counts_states() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(project_status(&w(&["running", "running", "exited"])), "exited(1), running(2)");
        assert_eq!(project_status(&[]), "empty");
    }

    #[test]
    fn ls_name_filter_is_an_exact_name_or_a_regex() {
        let f = |v: &[&str]| name_filters(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let pats = f(&["name=web", "name=^api-[0-9]+$"]).unwrap();
        assert!(name_matches(&pats, "web") && name_matches(&pats, "mywebsite") && name_matches(&pats, "api-12"));
        assert!(!name_matches(&pats, "api-x") && !name_matches(&pats, "db"));
        assert!(name_matches(&[], "anything"));
        assert!(name_matches(&f(&["name=a("]).unwrap(), "a("), "an invalid regex matches itself");
        let err = f(&["status=running"]).unwrap_err().to_string();
        assert!(err.contains("status=running") && err.contains("name=NAME"), "{err}");
    }
}
