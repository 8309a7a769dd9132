//! `berth events`: the project's container events (reconciler/events.rs), as `docker compose
//! events` prints them: a line of text each, or with `--json` one JSON object per line. Without
//! `--since`/`--until` it streams what happens from now on until interrupted; `--since` starts
//! from that time in the log; `--until` stops at that time.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use clap::Args;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::reconciler::events::{log_path, old_log_path, Event};
use crate::reconciler::ops::human::parse_since;
use crate::reconciler::ProjectDir;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Show events from this time: RFC 3339, Unix seconds, or a duration back from now (`10m`).
    #[arg(long)]
    pub since: Option<String>,
    /// Stop at this time (same forms); without it, events stream until interrupted.
    #[arg(long)]
    pub until: Option<String>,
    /// Only these services' events.
    pub services: Vec<String>,
}

/// A `--since`/`--until` value as nanoseconds since the epoch.
fn when(flag: &str, v: &str) -> anyhow::Result<i128> {
    if let Ok(secs) = v.parse::<f64>() {
        return Ok((secs * 1e9) as i128);
    }
    parse_since(v, SystemTime::now())
        .with_context(|| format!("--{flag} {v}: not a time (RFC 3339, Unix seconds, or a duration such as 10m)"))
}

fn now_nanos() -> i128 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

const MAX_LINE: u64 = 64 << 10;

/// Follows the log across rotation: the old file is read to its end before the new one.
struct Follower {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    ino: u64,
    partial: String,
}

impl Follower {
    fn open(path: PathBuf, from_end: bool) -> Follower {
        let mut f = Follower { path, reader: None, ino: 0, partial: String::new() };
        if let Ok(mut file) = File::open(&f.path) {
            f.ino = file.metadata().map_or(0, |m| m.ino());
            if from_end {
                let _ = file.seek(SeekFrom::End(0));
            }
            f.reader = Some(BufReader::new(file));
        }
        f
    }

    /// Complete lines written since the last call.
    fn poll(&mut self, out: &mut Vec<String>) {
        self.drain(out);
        let now = std::fs::metadata(&self.path).map_or(0, |m| m.ino());
        if now != 0 && now != self.ino {
            if let Ok(file) = File::open(&self.path) {
                self.ino = now;
                self.partial.clear();
                self.reader = Some(BufReader::new(file));
                self.drain(out);
            }
        }
    }

    fn drain(&mut self, out: &mut Vec<String>) {
        let Some(r) = self.reader.as_mut() else { return };
        loop {
            let mut line = String::new();
            // A line is at most a few KiB: one far longer is not an event, and is dropped
            // rather than held.
            match r.by_ref().take(MAX_LINE).read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.ends_with('\n') => {
                    self.partial.push_str(&line);
                    out.push(std::mem::take(&mut self.partial));
                }
                Ok(_) if self.partial.len() + line.len() > MAX_LINE as usize => self.partial.clear(),
                Ok(_) => self.partial.push_str(&line),
            }
        }
    }
}

fn render(e: &Event, json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(serde_json::to_string(e)?);
    }
    let attrs: Vec<String> = e.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let time = e.time.replacen('T', " ", 1).trim_end_matches('Z').to_string();
    Ok(format!("{time} {} {} {} ({})", e.kind, e.action, e.id, attrs.join(", ")))
}

pub fn run(g: &GlobalOpts, a: &EventsArgs) -> anyhow::Result<ExitCode> {
    let project = project_name(g)?;
    let pd = ProjectDir::new(&roots(g), &project);
    let since = a.since.as_deref().map(|v| when("since", v)).transpose()?;
    let until = a.until.as_deref().map(|v| when("until", v)).transpose()?;
    let mut out = std::io::stdout().lock();
    let mut lines = Vec::new();
    let history = since.is_some() || until.is_some();
    if history {
        Follower::open(old_log_path(&pd), false).poll(&mut lines);
    }
    let mut follower = Follower::open(log_path(&pd), !history);
    loop {
        follower.poll(&mut lines);
        for line in lines.drain(..) {
            let Ok(e) = serde_json::from_str::<Event>(line.trim_end()) else { continue };
            if since.is_some_and(|s| e.time_nano < s) || until.is_some_and(|u| e.time_nano > u) {
                continue;
            }
            if !a.services.is_empty() && !a.services.contains(&e.service) {
                continue;
            }
            // A closed stdout (`berth events | head`) ends the stream quietly.
            if writeln!(out, "{}", render(&e, a.json)?).and_then(|()| out.flush()).is_err() {
                return Ok(ExitCode::SUCCESS);
            }
        }
        if until.is_some_and(|u| now_nanos() > u) {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
