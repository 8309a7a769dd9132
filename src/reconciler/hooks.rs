//! Lifecycle hooks, as docker compose runs them (pkg/compose/hook.go): each `post_start` hook
//! is exec'd in the container right after it starts (`up`, `start`, `restart`), in order; each
//! `pre_stop` hook before it is stopped (`down`, `stop`, `restart`, a recreate, Ctrl-C in
//! attached mode). A hook runs like `berth exec` (the runtime's exec helper) with the hook's
//! user, privileges, working directory and environment, stdin closed.
//!
//! Failures, as Compose: a failing `post_start` hook fails the start, naming the service, the
//! hook and its exit status with the last lines it wrote (stderr preferred); berth also stops
//! the container (it would otherwise keep running half set up, and the restart policy leaves
//! it alone). A failing `pre_stop` hook aborts that container's stop: it keeps running and the
//! command fails; `berth kill` stops it without hooks.
//!
//! The hooks come from the container's record (the normalized config it was created with, see
//! `planner::normalized_config`), so `down` runs them without the stack file, and a recreate
//! runs the old container's `pre_stop`. One-off containers (`berth run SERVICE`) run their
//! service's `post_start` hooks as Compose's do ([`post_start_oneoff`]: once started, while
//! attached; a failure is reported, the container left running); they have no record, so no
//! `pre_stop`. Restarts by the restart policy run no hooks (Docker's daemon runs none either).
//!
//! Output: in attached `up` each line is printed as Compose prints it (`web-1 -> | line`);
//! otherwise it only appears in a failure's message.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::container::Ctx;
use super::error::{ReconcileError, Result};
use crate::runtime::{ExecConfig, Runtime};
use crate::spec::hooks::{hooks, Hook, HookKind};
use crate::spec::model::Service;

/// Whether hook output is printed as it comes (attached `up`).
static ECHO: AtomicBool = AtomicBool::new(false);

/// Print hooks' output lines on stdout from now on (attached `up`, as Compose's log printer).
pub fn echo_output(on: bool) {
    ECHO.store(on, Ordering::Relaxed);
}

/// How much of a failing hook's output its error message keeps (Compose's figures).
const TAIL_LINES: usize = 10;
const TAIL_BYTES: usize = 2048;

/// Run the `post_start` hooks of container `name` (running). The first failure is returned;
/// the caller stops the container.
pub fn post_start(ctx: &Ctx<'_>, name: &str) -> Result<()> {
    run_all(ctx, name, HookKind::PostStart).map_err(|e| with_note(e, "; the container was stopped"))
}

/// Run the `pre_stop` hooks of container `name` if it is running; an error means the stop
/// must not happen.
pub fn pre_stop(ctx: &Ctx<'_>, name: &str) -> Result<()> {
    if !ctx.rt.state(name).is_ok_and(|st| st.is_running() && !st.paused) {
        return Ok(());
    }
    let noted = |e| with_note(e, "; the container was not stopped (`berth kill` stops it without running hooks)");
    run_all(ctx, name, HookKind::PreStop).map_err(|e| {
        ctx.refuse_stop(name);
        noted(e)
    })
}

/// A hook failure's message with what became of the container.
fn with_note(e: ReconcileError, note: &str) -> ReconcileError {
    match e {
        ReconcileError::Hook { service, container, kind, index, command, reason } => {
            ReconcileError::Hook { service, container, kind, index, command, reason: format!("{reason}{note}") }
        }
        other => other,
    }
}

fn run_all(ctx: &Ctx<'_>, name: &str, kind: HookKind) -> Result<()> {
    let Some(record) = ctx.pd().record(name)? else { return Ok(()) };
    let Some(config) = &record.config else { return Ok(()) };
    let list = hooks(kind, |k| config.get(k)).map_err(|e| ReconcileError::service(&record.service, e))?;
    let label = format!("{}-{} ->", record.service, record.number);
    let target = Target { id: &record.id, name: &record.name, service: &record.service, label: &label };
    run_list(ctx.rt, &target, kind, &list)
}

/// The `post_start` hooks of a one-off container (`berth run SERVICE`, which has no record),
/// from its service's definition: as `docker compose run`, they run once it has started,
/// while it runs attached; a failure is reported and the container left running.
pub fn post_start_oneoff(rt: &Runtime, id: &str, service: &str, svc: &Service) -> Result<()> {
    let list = hooks(HookKind::PostStart, |k| svc.other.get(k)).map_err(|e| ReconcileError::service(service, e))?;
    let label = format!("{id} ->");
    run_list(rt, &Target { id, name: id, service, label: &label }, HookKind::PostStart, &list)
}

/// The container a hook runs in.
struct Target<'a> {
    id: &'a str,
    name: &'a str,
    service: &'a str,
    /// The prefix of its echoed output lines (`web-1 ->`).
    label: &'a str,
}

fn run_list(rt: &Runtime, t: &Target<'_>, kind: HookKind, list: &[Hook]) -> Result<()> {
    for (i, hook) in list.iter().enumerate() {
        run_one(rt, t, kind, i, hook)?;
    }
    Ok(())
}

/// One hook: exec it, echo or keep its output, and map a non-zero exit to an error.
fn run_one(rt: &Runtime, t: &Target<'_>, kind: HookKind, index: usize, hook: &Hook) -> Result<()> {
    let ec = ExecConfig {
        args: hook.command.clone(),
        env: hook.environment.clone(),
        cwd: hook.working_dir.clone(),
        user: hook.user.clone(),
        privileged: hook.privileged,
        ..Default::default()
    };
    let fail = |reason: String| ReconcileError::Hook {
        service: t.service.to_string(),
        container: t.name.to_string(),
        kind: kind.key(),
        index,
        command: hook.command.join(" "),
        reason,
    };
    let mut cmd = rt.exec_command(t.id, &ec).map_err(|e| fail(e.to_string()))?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| fail(format!("could not start: {e}")))?;
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let (out_tail, err_tail) = std::thread::scope(|s| {
        let o = s.spawn(|| out.map(|r| collect(r, t.label)).unwrap_or_default());
        let e = err.map(|r| collect(r, t.label)).unwrap_or_default();
        (o.join().unwrap_or_default(), e)
    });
    let status = child.wait().map_err(|e| fail(format!("wait: {e}")))?;
    if status.success() {
        return Ok(());
    }
    let code =
        status.code().unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0));
    let output = if err_tail.is_empty() { out_tail } else { err_tail };
    let mut reason = format!("exited with status {code}");
    if !output.is_empty() {
        reason = format!("{reason}: {output}");
    }
    Err(fail(reason))
}

/// Read a hook's stream to its end: each line echoed when [`echo_output`] is on, the last
/// [`TAIL_LINES`] non-blank lines (at most [`TAIL_BYTES`]) returned.
pub(super) fn collect(stream: impl Read, label: &str) -> String {
    let mut kept: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let echo = ECHO.load(Ordering::Relaxed);
    // One writer at a time, so lines of hooks running at once do not interleave mid-line.
    static STDOUT: Mutex<()> = Mutex::new(());
    for line in BufReader::new(stream).split(b'\n').map_while(std::result::Result::ok) {
        let line = String::from_utf8_lossy(&line);
        // Progress output (`\r` rewinds): only what was shown last.
        let line = line.trim_end_matches('\r');
        let line = line.rsplit('\r').next().unwrap_or(line);
        if echo {
            let _guard = STDOUT.lock().unwrap_or_else(|p| p.into_inner());
            // Not println!: a closed stdout (`berth up | head`) must not end the hook's read.
            let _ = writeln!(std::io::stdout().lock(), "{label} | {line}");
        }
        if line.trim().is_empty() {
            continue;
        }
        kept.push_back(line.chars().take(TAIL_BYTES).collect());
        if kept.len() > TAIL_LINES {
            kept.pop_front();
        }
    }
    let text = Vec::from(kept).join("\n");
    let text = text.trim();
    if text.len() <= TAIL_BYTES {
        return text.to_string();
    }
    // The newest bytes, cut at a character boundary.
    let mut start = text.len() - TAIL_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines_without_blanks_or_rewinds() {
        let text: String =
            (1..=15).map(|i| format!("line {i}\n")).collect::<String>() + "\n  \nload 10%\rload 100%\r\n";
        let tail = collect(text.as_bytes(), "x ->");
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines.first(), Some(&"line 7"));
        assert_eq!(lines.last(), Some(&"load 100%"));
    }

    #[test]
    fn the_tail_is_bounded_in_bytes() {
        let long = "é".repeat(3000);
        let tail = collect(long.as_bytes(), "x ->");
        assert!(tail.len() <= TAIL_BYTES && tail.chars().all(|c| c == 'é'), "{}", tail.len());
    }
}
