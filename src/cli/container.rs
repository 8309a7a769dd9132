//! `berth container ls|stop|kill|rm|logs|inspect`: the containers outside any project (those
//! of `berth run IMAGE`: `-d`, or `--rm` whose CLI died), by name or unique id prefix, as
//! `docker container …`. Project containers belong to `berth ps`/`stop`/`rm` (Compose's
//! commands are project-scoped, and so are berth's).

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};

use super::ps::roots;
use super::GlobalOpts;
use crate::reconciler::ops::standalone::{self, Standalone};
use crate::reconciler::ops::{human, status, table, OpsError};
use crate::reconciler::HealthStatus;
use crate::runtime::attach::LogFollower;
use crate::runtime::{logs, stop, Runtime};

#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    pub command: ContainerCommand,
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// List containers outside any project (running ones; -a: all).
    #[command(alias = "ps", alias = "list")]
    Ls(LsArgs),
    /// Stop containers: their stop signal, then SIGKILL after the timeout.
    Stop(StopArgs),
    /// Send a signal to containers (default SIGKILL).
    Kill(KillArgs),
    /// Remove containers (a running one only with -f).
    Rm(RmArgs),
    /// Show a container's output.
    Logs(LogsArgs),
    /// Print containers' configuration and state as JSON.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show all containers (default: running ones).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Print only container ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Do not truncate ids and commands.
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing (default: the container's stop grace period, else 10).
    #[arg(short = 't', long)]
    pub timeout: Option<u64>,
    /// Names or unique id prefixes.
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send (name or number).
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill and remove a running container.
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow the log until the container exits.
    #[arg(short = 'f', long)]
    pub follow: bool,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(g: &GlobalOpts, a: &ContainerArgs) -> anyhow::Result<ExitCode> {
    let rt = Runtime::new(&roots(g));
    match &a.command {
        ContainerCommand::Ls(l) => ls(&rt, l),
        ContainerCommand::Stop(s) => {
            let grace = s.timeout.map(Duration::from_secs);
            each(&rt, &s.containers, |rt, c| standalone::stop(rt, c, grace))
        }
        ContainerCommand::Kill(k) => {
            let sig = stop::parse_signal(&k.signal).map_err(anyhow::Error::msg)?;
            each(&rt, &k.containers, |rt, c| standalone::kill(rt, c, sig))
        }
        ContainerCommand::Rm(r) => each(&rt, &r.containers, |rt, c| standalone::remove(rt, c, r.force)),
        ContainerCommand::Logs(l) => logs_of(&rt, l),
        ContainerCommand::Inspect(i) => inspect(&rt, i),
    }
}

/// Apply `f` to each named container, printing each name as `docker` does once done; every
/// failure is reported (one a line) and makes the exit status non-zero.
fn each(
    rt: &Runtime,
    keys: &[String],
    f: impl Fn(&Runtime, &Standalone) -> crate::reconciler::ops::Result<()>,
) -> anyhow::Result<ExitCode> {
    let all = standalone::list(rt)?;
    let mut errors = Vec::new();
    for key in keys {
        match standalone::resolve(&all, key).and_then(|c| f(rt, c)) {
            Ok(()) => println!("{key}"),
            Err(e) => errors.push(e),
        }
    }
    OpsError::collect(errors)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn ls(rt: &Runtime, a: &LsArgs) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    let shown: Vec<Standalone> = standalone::list(rt)?.into_iter().filter(|c| a.all || c.is_running()).collect();
    let short = |id: &str| if a.no_trunc { id.to_string() } else { id.chars().take(12).collect() };
    if a.quiet {
        shown.iter().for_each(|c| println!("{}", short(&c.id)));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|c| {
            let mut cmd = c.config.process.args.join(" ");
            if !a.no_trunc && cmd.chars().count() > 20 {
                cmd = format!("{}…", cmd.chars().take(19).collect::<String>());
            }
            vec![
                short(&c.id),
                c.image(),
                format!("\"{cmd}\""),
                format!("{} ago", human::duration(human::since(&c.state.created_at, now))),
                status::status_text(&c.state, HealthStatus::None, false, now),
                c.name.clone(),
            ]
        })
        .collect();
    print!("{}", table::render(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"], &rows));
    Ok(ExitCode::SUCCESS)
}

fn logs_of(rt: &Runtime, a: &LogsArgs) -> anyhow::Result<ExitCode> {
    let all = standalone::list(rt)?;
    let c = standalone::resolve(&all, &a.container)?;
    let path = rt.log_path(&c.id);
    if !a.follow {
        use std::io::Write;
        let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
        for l in logs::read_all(&path) {
            let w: &mut dyn Write = if l.stream == "stderr" { &mut err } else { &mut out };
            let _ = w.write_all(l.log.as_bytes());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // From the start of the rotated file, then the live one until the container exits.
    let mut follower = LogFollower::open(&logs::rotated(&path));
    follower.poll(&mut std::io::stdout(), &mut std::io::stderr());
    let mut follower = LogFollower::open(&path);
    loop {
        follower.poll(&mut std::io::stdout(), &mut std::io::stderr());
        match rt.state(&c.id) {
            Ok(st) if st.is_running() => stop::wait_for_monitor(st.monitor_pid, Duration::from_millis(200)),
            // Exited, or removed (--rm): what was written has been read.
            _ => break,
        }
    }
    follower.poll(&mut std::io::stdout(), &mut std::io::stderr());
    Ok(ExitCode::SUCCESS)
}

fn inspect(rt: &Runtime, a: &InspectArgs) -> anyhow::Result<ExitCode> {
    let all = standalone::list(rt)?;
    let found = standalone::resolve_all(&all, &a.containers)?;
    let docs: Vec<serde_json::Value> = found
        .iter()
        .map(|c| {
            serde_json::json!({
                "Id": c.id,
                "Name": c.name,
                "Image": c.image(),
                "State": c.state,
                "Config": c.config,
                "LogPath": rt.log_path(&c.id),
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&docs)?);
    Ok(ExitCode::SUCCESS)
}
