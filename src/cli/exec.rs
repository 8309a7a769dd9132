//! `berth exec`: run a command in a running container of a service (replica `--index`,
//! default 1) through `Runtime::exec`, and exit with its exit code. As `docker compose exec`:
//! stdin is always passed on (so `echo 'select 1' | berth exec db psql` and
//! `berth exec -T db psql < dump.sql` work: the command reads our stdin itself, EOF included);
//! a pty is made only when stdin and stdout are terminals (or with `-t`), never with `-T`. A pty
//! is made in the container (`Runtime::exec_tty`) and relayed here as `berth run -it` does.

use std::io::IsTerminal;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
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
    /// Detached mode: run the command in the background (its output is discarded).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep stdin open: the default, as in `docker compose exec` (accepted for compatibility).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal (the default when stdin and stdout are terminals).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Disable pseudo-terminal allocation (for scripts: `exec -T db psql < dump.sql`).
    #[arg(short = 'T', long = "no-TTY", visible_alias = "no-tty")]
    pub no_tty: bool,
    /// Give the command every capability.
    #[arg(long)]
    pub privileged: bool,
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

impl ExecArgs {
    /// Whether the command gets a pty: `-T` and `-d` never, `-t` always, else when we are run
    /// from a terminal on both ends (`berth exec db pg_dump > out.sql` gets no `\r\n`s).
    fn wants_tty(&self, stdin_tty: bool, stdout_tty: bool) -> bool {
        !self.no_tty && !self.detach && (self.tty || (stdin_tty && stdout_tty))
    }
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
    let tty = a.wants_tty(std::io::stdin().is_terminal(), std::io::stdout().is_terminal());
    let ec = ExecConfig {
        args: a.command.clone(),
        env: env_flags(&a.env),
        cwd: a.workdir.clone(),
        user: a.user.clone(),
        tty,
        console_size: tty.then(attach::caller_window_size).flatten(),
        privileged: a.privileged,
    };
    let in_container = || format!("exec in container `{}`", c.name);
    let status = if tty {
        let (helper, master) = rt.exec_tty(&c.id, &ec).with_context(in_container)?;
        relay_tty(helper, &master).with_context(in_container)?
    } else if a.detach {
        let mut cmd = rt.exec_command(&c.id, &ec)?;
        // A process group of its own: our terminal's ^C no longer reaches it. Not waited for:
        // once we exit, the helper is re-parented and reaped by init.
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
        cmd.spawn().with_context(in_container)?;
        return Ok(ExitCode::SUCCESS);
    } else {
        // Our stdin, stdout and stderr are the helper's and then the command's own fds: piped
        // input streams straight through (nothing buffered here) and its EOF is the command's.
        rt.exec_command(&c.id, &ec)?.status().with_context(in_container)?
    };
    // A command killed by a signal: 128 + signal, as a shell reports it.
    let code =
        status.code().unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0));
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// Relay the exec'd command's pty until the exec helper exits; its status is the command's.
/// Our stdin goes to the pty (our terminal in raw mode, if it is one: the container's line
/// discipline does the editing and ^C).
fn relay_tty(mut helper: Child, master: &OwnedFd) -> anyhow::Result<ExitStatus> {
    attach::copy_window_size(master);
    let _winch = attach::WinchRelay::install();
    let _raw = std::io::stdin().is_terminal().then(RawMode::enable);
    let stdin = std::io::stdin();
    let mut input = Some(stdin.as_fd());
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> ExecArgs {
        let cli = crate::cli::Cli::try_parse_from(args).expect("parses");
        let crate::cli::Command::Exec(a) = cli.command else { panic!("not exec") };
        a
    }

    #[test]
    fn pty_only_on_a_terminal_or_with_t_and_never_with_big_t() {
        let plain = parse(&["berth", "exec", "db", "psql"]);
        assert!(!plain.wants_tty(false, true), "piped stdin: no pty");
        assert!(!plain.wants_tty(true, false), "redirected stdout: no pty");
        assert!(plain.wants_tty(true, true));
        assert!(parse(&["berth", "exec", "-t", "db", "psql"]).wants_tty(false, false));
        assert!(!parse(&["berth", "exec", "-T", "db", "psql"]).wants_tty(true, true));
        assert!(!parse(&["berth", "exec", "--no-TTY", "-it", "db", "psql"]).wants_tty(true, true));
        assert!(!parse(&["berth", "exec", "-d", "db", "sleep", "9"]).wants_tty(true, true));
    }

    #[test]
    fn compose_flags_parse() {
        let a = parse(&[
            "berth",
            "exec",
            "-T",
            "-e",
            "A=1",
            "-e",
            "B",
            "-u",
            "1000",
            "-w",
            "/tmp",
            "--index",
            "2",
            "--privileged",
            "db",
            "psql",
            "-c",
            "select 1",
        ]);
        assert_eq!((a.env.len(), a.user.as_deref(), a.workdir.as_deref(), a.index), (2, Some("1000"), Some("/tmp"), 2));
        assert!(a.privileged && a.no_tty);
        assert_eq!(a.command, ["psql", "-c", "select 1"]);
    }
}
