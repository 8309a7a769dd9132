//! `up --wait`: wait until every container of the services acted on is running (and healthy,
//! when it has a health check) or has completed with 0. A progress line says when each got
//! there and how long it took (` ✔ Container demo-web-1  Healthy  1.2s`); the first one that
//! cannot (unhealthy, exited non-zero for good, not ready by `--wait-timeout`) fails the wait,
//! with an error naming its service, after its last log lines.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::error::{ReconcileError, Result};
use super::observe::{project_containers, ProjectContainer};
use super::ops::logs::{Printer, Tailer};
use super::progress::{Kind, Progress};
use super::restart::{self, Decision};
use super::state::HealthStatus;
use crate::paths::Roots;
use crate::runtime::{Runtime, Status};

/// How many of a failed container's log lines the error shows.
const LOG_LINES: usize = 20;

/// What one look at the containers found.
#[derive(Default)]
struct Scan {
    /// Container name and what it reached (`Healthy`, `Running`, `Exited (0)`).
    ready: Vec<(String, &'static str)>,
    /// Not there yet, with the status to show on a timeout.
    pending: Vec<(ProjectContainer, String)>,
    /// Cannot get there: the container and why.
    failed: Option<(ProjectContainer, String)>,
}

/// Wait for `services` of `project`; `timeout`: `--wait-timeout`.
pub fn wait_ready(
    roots: &Roots,
    project: &str,
    services: &[String],
    timeout: Option<Duration>,
    progress: &Progress,
) -> Result<()> {
    let started = Instant::now();
    let mut told = HashSet::new();
    loop {
        let scan = scan(roots, project, services)?;
        for (name, what) in scan.ready {
            if told.insert(name.clone()) {
                progress.done(Kind::Container, &name, what, started.elapsed());
            }
        }
        if let Some((c, why)) = scan.failed {
            return Err(failed(roots, progress, &c, why));
        }
        let Some((c, status)) = scan.pending.into_iter().next() else { return Ok(()) };
        if let Some(t) = timeout.filter(|t| started.elapsed() >= *t) {
            let why = format!("not ready after {}s (--wait-timeout): {status}", t.as_secs());
            return Err(failed(roots, progress, &c, why));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Classify every (non one-off) container of `services`.
fn scan(roots: &Roots, project: &str, services: &[String]) -> Result<Scan> {
    let mut out = Scan::default();
    for c in project_containers(roots, project)? {
        if c.oneoff || !services.contains(&c.service) {
            continue;
        }
        let rec = c.record.clone().unwrap_or_default();
        match c.state.status {
            Status::Running => match rec.health {
                HealthStatus::Unhealthy => {
                    out.failed = Some((c, "unhealthy".into()));
                    break;
                }
                HealthStatus::Starting => out.pending.push((c, "health: starting".into())),
                HealthStatus::Healthy => out.ready.push((c.name, "Healthy")),
                HealthStatus::None => out.ready.push((c.name, "Running")),
            },
            Status::Exited { code: 0, .. } if rec.restart == "no" || rec.restart.is_empty() => {
                out.ready.push((c.name, "Exited (0)"))
            }
            Status::Exited { code, .. } => match restart::decide(&rec, code) {
                Decision::Restart => out.pending.push((c, format!("restarting (exit {code})"))),
                _ => {
                    out.failed = Some((c, format!("exited ({code})")));
                    break;
                }
            },
            Status::Created => out.pending.push((c, "created".into())),
        }
    }
    Ok(out)
}

/// Report a container that failed the wait: its `✘` line, then its last log lines; the error
/// names its service.
fn failed(roots: &Roots, progress: &Progress, c: &ProjectContainer, why: String) -> ReconcileError {
    progress.failed(Kind::Container, &c.name, &why);
    let lines = last_log_lines(roots, c);
    if lines.is_empty() {
        progress.note(&format!("container {} wrote no log lines", c.name));
    } else {
        progress.note(&format!("last log lines of container {}:", c.name));
        progress.note(lines.trim_end_matches('\n'));
    }
    // "container X is unhealthy", "container X exited (3)", "container X is not ready …".
    let verb = if why.starts_with("unhealthy") { "is " } else { "" };
    ReconcileError::service(&c.service, format!("container {} {verb}{why}", c.name))
}

/// The container's last [`LOG_LINES`] log records, as `berth logs --tail` prints them.
fn last_log_lines(roots: &Roots, c: &ProjectContainer) -> String {
    let path = Runtime::new(roots).log_path(&c.id);
    let entries = Tailer::new(vec![path]).initial(Some(LOG_LINES), None);
    let printer = Printer::new(vec![format!("{}-{}", c.service, c.number)], false, false);
    entries.iter().map(|e| printer.render(e)).collect()
}
