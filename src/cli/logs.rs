//! `berth logs`: the containers' output, each line prefixed with its coloured `service-n |`,
//! merged by time; `--follow` keeps printing while any of the containers runs (or is about to
//! be restarted by its restart policy).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::bail;
use clap::Args;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::reconciler::ops::logs::{Printer, Tailer};
use crate::reconciler::ops::{human, select};
use crate::reconciler::ProjectContainer;
use crate::runtime::Runtime;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new lines while the containers run.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines of each container ("all" for everything).
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show each line's timestamp.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Only lines since this time: a duration back from now (`10m`, `1h30m`) or RFC 3339.
    #[arg(long)]
    pub since: Option<String>,
    /// Only lines before this time: a duration back from now (`10m`) or RFC 3339. With
    /// `--follow`, following ends at that time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only the container with this number (`web-2`: 2) of each service.
    #[arg(long)]
    pub index: Option<u32>,
    /// Plain prefixes (the default when stdout is not a terminal).
    #[arg(long)]
    pub no_color: bool,
    /// Print only the lines, without the `service-n |` prefix.
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Only these services.
    pub service: Vec<String>,
}

/// How often a follow looks for new lines (well under the 1 s a user notices).
const POLL: Duration = Duration::from_millis(100);

pub fn run(g: &GlobalOpts, a: &LogsArgs) -> anyhow::Result<ExitCode> {
    let tail = match a.tail.as_str() {
        "all" | "-1" => None,
        n => match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => bail!("invalid --tail `{n}`: give a number of lines or `all`"),
        },
    };
    let time = |flag: &str, value: &Option<String>| match value {
        Some(s) => match human::parse_since(s, SystemTime::now()) {
            Some(t) => Ok(Some(t)),
            None => bail!("invalid --{flag} `{s}`: give a duration (10m, 1h30m) or an RFC 3339 time"),
        },
        None => Ok(None),
    };
    let since = time("since", &a.since)?;
    let until = time("until", &a.until)?;
    let project = project_name(g)?;
    let roots = roots(g);
    let all = select::all(&roots, &project, false)?;
    if all.is_empty() {
        bail!("no containers in project `{project}`; run `berth up` first");
    }
    let mut targets = select::services(all, &project, &a.service)?;
    if let Some(n) = a.index {
        targets.retain(|c| !c.oneoff && c.number == n);
        if targets.is_empty() {
            bail!("no container with index {n} in project `{project}` for the selected services");
        }
    }
    let rt = Runtime::new(&roots);
    let mut tailer = Tailer::new(targets.iter().map(|c| rt.log_path(&c.id)).collect());
    let prefixes = targets.iter().map(prefix).collect();
    let colour = !a.no_color && crate::term::colour(std::io::stdout().is_terminal());
    let printer = Printer::new(prefixes, colour, a.timestamps).without_prefix(a.no_log_prefix);
    let mut out = std::io::stdout().lock();
    let before_until = |mut entries: Vec<crate::reconciler::ops::logs::Entry>| {
        if let Some(u) = until {
            entries.retain(|e| e.nanos <= u);
        }
        entries
    };
    if printer.write(&mut out, &before_until(tailer.initial(tail, since))).is_err() || !a.follow {
        return Ok(ExitCode::SUCCESS);
    }
    let mut checked = Instant::now();
    loop {
        std::thread::sleep(POLL);
        if printer.write(&mut out, &before_until(tailer.poll())).is_err() {
            return Ok(ExitCode::SUCCESS);
        }
        if until.is_some_and(|u| human::now_nanos() > u) {
            return Ok(ExitCode::SUCCESS);
        }
        if checked.elapsed() >= Duration::from_millis(500) {
            checked = Instant::now();
            if !any_alive(&roots, &project, &targets) {
                // One last read: lines written just before the exit.
                let _ = printer.write(&mut out, &tailer.poll());
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// `web-1` for replicas, the container name for one-offs.
fn prefix(c: &ProjectContainer) -> String {
    if c.oneoff {
        c.name.clone()
    } else {
        format!("{}-{}", c.service, c.number)
    }
}

/// Is any of `targets` running, or exited but about to be restarted?
fn any_alive(roots: &crate::paths::Roots, project: &str, targets: &[ProjectContainer]) -> bool {
    let now = select::all(roots, project, true).unwrap_or_default();
    now.iter()
        .filter(|c| targets.iter().any(|t| t.id == c.id))
        .any(|c| c.is_running() || c.status_text() == "restarting")
}
