//! `berth exec`: run a command in a running container of a service (replica `--index`,
//! default 1) through `Runtime::exec`, and exit with its exit code. With `-t` the command gets
//! a pty made in the container (`Runtime::exec_tty`), relayed here as `berth run -it` does.

use std::io::IsTerminal;
use std::os::fd::OwnedFd;
use std::process::{Child, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::reconciler::ops::select;
use crate::runtime::attach::{self, RawMode};
use crate::runtime::{ExecConfig, Runtime};

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Keep stdin open (pass ours to the command).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Run as this user: name|uid[:group|gid] (default: the container's user).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to copy it from here).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `-e KEY=VALUE` as is; `-e KEY` takes KEY's value from our environment (as Docker).
pub(crate) fn env_flags(flags: &[String]) -> Vec<String> {
    flags
        .iter()
        .map(|e| if e.contains('=') { e.clone() } else { format!("{e}={}", std::env::var(e).unwrap_or_default()) })
        .collect()
}

pub fn run(g: &GlobalOpts, a: &ExecArgs) -> anyhow::Result<ExitCode> {
    let project = project_name(g)?;
    let roots = roots(g);
    let all = select::all(&roots, &project, false)?;
    let c = select::running(all, &project, &a.service, a.index)?;
    let rt = Runtime::new(&roots);
    let ec = ExecConfig {
        args: a.command.clone(),
        env: env_flags(&a.env),
        cwd: a.workdir.clone(),
        user: a.user.clone(),
        tty: a.tty,
        console_size: a.tty.then(attach::caller_window_size).flatten(),
    };
    let status = if a.tty {
        let (helper, master) = rt.exec_tty(&c.id, &ec).with_context(|| format!("exec in container `{}`", c.name))?;
        relay_tty(helper, &master, a.interactive).with_context(|| format!("exec in container `{}`", c.name))?
    } else {
        let mut cmd = rt.exec_command(&c.id, &ec)?;
        if !a.interactive {
            cmd.stdin(Stdio::null());
        }
        cmd.status().with_context(|| format!("exec in container `{}`", c.name))?
    };
    // A command killed by a signal: 128 + signal, as a shell reports it.
    let code =
        status.code().unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0));
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// Relay the exec'd command's pty until the exec helper exits; its status is the command's.
/// With `-i` our stdin goes to the pty (our terminal in raw mode, if it is one: the container's
/// line discipline does the editing and ^C); without it, only output comes back (as Docker),
/// and our terminal stays cooked so ^C still reaches us.
fn relay_tty(mut helper: Child, master: &OwnedFd, interactive: bool) -> anyhow::Result<ExitStatus> {
    attach::copy_window_size(master);
    let _winch = attach::WinchRelay::install();
    let _raw = (interactive && std::io::stdin().is_terminal()).then(RawMode::enable);
    let mut input = interactive.then_some(0);
    loop {
        if !attach::relay_pty_step(&mut input, master, Duration::from_millis(20)) {
            // Every holder of the slave is gone: the command has exited (or is about to).
            return helper.wait().context("wait for the exec helper");
        }
        if let Some(status) = helper.try_wait().context("wait for the exec helper")? {
            // Drain what it wrote just before exiting; bounded, in case a background child it
            // left behind still holds the slave open.
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline && attach::relay_pty_step(&mut None, master, Duration::from_millis(10)) {}
            return Ok(status);
        }
    }
}
