//! Attached `up`: follow every container's log with a coloured `service-n  | ` prefix, until
//! the stack has stopped (or, with --abort-on-container-exit, until one container exits).
//! Ctrl-C stops the stack gracefully; a second Ctrl-C kills it.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::container::{self, Ctx};
use super::error::Result;
use super::observe::{project_containers, ProjectContainer};
use super::restart::{self, Decision};
use crate::paths::Roots;
use crate::runtime::attach::LogFollower;
use crate::runtime::{Runtime, Status};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// `up --menu`'s `d`: stop streaming, leave the stack running.
static DETACH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ask [`attach`] to return at its next turn without stopping anything (exit code 0).
pub fn request_detach() {
    DETACH.store(true, Ordering::SeqCst);
}

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTS.fetch_add(1, Ordering::SeqCst);
}

const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// Options of attached mode.
#[derive(Debug, Clone, Default)]
pub struct AttachOpts {
    /// The services whose containers attached mode waits for (and stops on Ctrl-C).
    pub services: Vec<String>,
    /// The services whose logs are printed (`--attach`, `--no-attach`, `--attach-dependencies`);
    /// None: every one of `services`.
    pub logs: Option<Vec<String>>,
    /// Log lines start with their time, as `logs -t` prints them (`--timestamps`).
    pub timestamps: bool,
    /// Lines as the containers wrote them, without the `service-n | ` prefix (`--no-log-prefix`).
    pub no_log_prefix: bool,
    pub abort_on_container_exit: bool,
    /// Stop the stack when a container exits with a non-zero code (`--abort-on-container-failure`).
    pub abort_on_container_failure: bool,
    pub exit_code_from: Option<String>,
    pub grace: Option<Duration>,
}

/// One followed log, each line prefixed.
struct Follow {
    log: LogFollower,
    prefix: String,
    timestamps: bool,
}

impl Follow {
    fn poll(&mut self, out: &mut dyn Write) {
        let (prefix, timestamps) = (&self.prefix, self.timestamps);
        self.log.poll_records(&mut |rec| {
            let text = rec.log.strip_suffix('\n').unwrap_or(&rec.log);
            let _ =
                if timestamps { writeln!(out, "{prefix}{} {text}", rec.time) } else { writeln!(out, "{prefix}{text}") };
        });
    }
}

/// Count SIGINT and SIGTERM (see [`attach`], which acts on them) instead of dying of them.
/// Idempotent.
pub fn catch_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only increments an atomic.
        unsafe { libc::signal(sig, on_interrupt as *const () as libc::sighandler_t) };
    }
}

/// Stream logs until the stack is done; returns the exit code `up` should exit with.
pub fn attach(roots: &Roots, project: &str, opts: &AttachOpts) -> Result<i32> {
    catch_interrupts();
    let tty = crate::term::colour(std::io::stdout().is_terminal());
    let mut follows: BTreeMap<String, Follow> = BTreeMap::new();
    let rt = Runtime::new(roots);
    let mut stdout = std::io::stdout();
    let mut reported: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let containers = containers_now(roots, project, opts)?;
        add_follows(&rt, &containers, opts, &mut follows, tty);
        for f in follows.values_mut() {
            f.poll(&mut stdout);
        }
        report_exits(&containers, &mut reported);
        let _ = stdout.flush();
        if DETACH.load(Ordering::SeqCst) {
            eprintln!("Detached: the stack keeps running (`berth logs -f` follows it, `berth down` stops it)");
            return Ok(0);
        }
        if INTERRUPTS.load(Ordering::SeqCst) > 0 {
            eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
            stop_all(roots, &rt, project, &containers, opts.grace);
            for f in follows.values_mut() {
                f.poll(&mut stdout);
            }
            report_exits(&containers_now(roots, project, opts)?, &mut reported);
            return Ok(130);
        }
        if let Some(mut code) = finished(&containers, opts) {
            if opts.abort_on_container_exit || opts.abort_on_container_failure {
                stop_all(roots, &rt, project, &containers, opts.grace);
                // As Compose: `--exit-code-from S` whose container was still running when
                // another's exit aborted the stack reports how S ended when stopped (143 for a
                // SIGTERM it obeyed, 137 when killed), not 0.
                if let Some(s) = &opts.exit_code_from {
                    if exit_code_of(&containers, s).is_none() {
                        code = exit_code_of(&containers_now(roots, project, opts)?, s).unwrap_or(code);
                    }
                }
            }
            for f in follows.values_mut() {
                f.poll(&mut stdout);
            }
            return Ok(code);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The containers attached mode follows.
fn containers_now(roots: &Roots, project: &str, opts: &AttachOpts) -> Result<Vec<ProjectContainer>> {
    Ok(project_containers(roots, project)?
        .into_iter()
        .filter(|c| !c.oneoff && (opts.services.is_empty() || opts.services.contains(&c.service)))
        .collect())
}

fn add_follows(
    rt: &Runtime,
    containers: &[ProjectContainer],
    opts: &AttachOpts,
    follows: &mut BTreeMap<String, Follow>,
    tty: bool,
) {
    let shown = |c: &&ProjectContainer| opts.logs.as_ref().is_none_or(|l| l.contains(&c.service));
    let width = containers.iter().filter(shown).map(|c| label(c).len()).max().unwrap_or(0);
    for c in containers.iter().filter(shown) {
        if follows.contains_key(&c.name) {
            continue;
        }
        let i = follows.len() % COLOURS.len();
        let text = format!("{:width$} | ", label(c));
        let prefix = match (opts.no_log_prefix, tty) {
            (true, _) => String::new(),
            (false, true) => format!("\x1b[{}m{text}\x1b[0m", COLOURS[i]),
            (false, false) => text,
        };
        let log = LogFollower::open(&rt.log_path(&c.id));
        follows.insert(c.name.clone(), Follow { log, prefix, timestamps: opts.timestamps });
    }
}

/// `web-1 exited with code 3`, once per exit (an exit is known by its finish time).
fn report_exits(containers: &[ProjectContainer], reported: &mut BTreeMap<String, String>) {
    for c in containers {
        if let (Status::Exited { code, oom }, Some(at)) = (&c.state.status, &c.state.finished_at) {
            if reported.get(&c.name) != Some(at) {
                reported.insert(c.name.clone(), at.clone());
                let why = if *oom { " (killed: out of memory)" } else { "" };
                println!("{} exited with code {code}{why}", label(c));
            }
        }
    }
}

/// `service-n`, as Compose prefixes log lines.
fn label(c: &ProjectContainer) -> String {
    format!("{}-{}", c.service, c.number)
}

/// The exit code of service `service`'s first container, if it has exited.
fn exit_code_of(containers: &[ProjectContainer], service: &str) -> Option<i32> {
    containers.iter().find(|c| c.service == service).and_then(|c| match c.state.status {
        Status::Exited { code, .. } => Some(code),
        _ => None,
    })
}

/// The exit code once attached mode should end: every container exited for good, or (with
/// --abort-on-container-exit) any one exited, or (with --abort-on-container-failure) any one
/// exited with a non-zero code.
fn finished(containers: &[ProjectContainer], opts: &AttachOpts) -> Option<i32> {
    let exited = |c: &ProjectContainer| match (&c.state.status, &c.record) {
        (Status::Exited { code, .. }, Some(r)) if restart::decide(r, *code) == Decision::Restart => None,
        (Status::Exited { code, .. }, _) => Some(*code),
        _ => None,
    };
    let from = |name: &str| containers.iter().find(|c| c.service == name).and_then(exited);
    if let Some(service) = &opts.exit_code_from {
        if let Some(code) = from(service) {
            return Some(code);
        }
        if !opts.abort_on_container_exit && !opts.abort_on_container_failure {
            return None;
        }
    }
    // The first container to exit (by its finish time: several may have exited since the last
    // look), as Compose's "first container to exit".
    let first = |pred: &dyn Fn(i32) -> bool| {
        containers
            .iter()
            .filter(|c| exited(c).is_some_and(pred))
            .min_by(|a, b| a.state.finished_at.cmp(&b.state.finished_at))
    };
    if opts.abort_on_container_exit {
        if let Some(c) = first(&|_| true) {
            return match &opts.exit_code_from {
                Some(s) if *s != c.service => Some(from(s).unwrap_or(0)),
                _ => exited(c),
            };
        }
        return None;
    }
    if opts.abort_on_container_failure {
        if let Some(c) = first(&|code| code != 0) {
            return match &opts.exit_code_from {
                Some(s) if *s != c.service => Some(from(s).unwrap_or(0)),
                _ => exited(c),
            };
        }
    }
    let all_done = !containers.is_empty() && containers.iter().all(|c| exited(c).is_some());
    all_done.then_some(0)
}

/// Stop every running container of the project in parallel and release their published
/// ports, as `berth stop` does (a proxy left holding them would make the next `up` fail);
/// a second Ctrl-C kills them.
fn stop_all(roots: &Roots, rt: &Runtime, project: &str, containers: &[ProjectContainer], grace: Option<Duration>) {
    let ctx = Ctx::new(roots, rt, project, None, grace);
    let before = INTERRUPTS.load(Ordering::SeqCst);
    std::thread::scope(|s| {
        for c in containers {
            let ctx = &ctx;
            s.spawn(move || {
                let stopped = container::stop(ctx, &c.name);
                if let Err(e) = stopped.and_then(|()| container::release_ports(ctx, &c.id, &c.name)) {
                    eprintln!("error: {e}");
                }
            });
        }
        s.spawn(|| {
            while containers.iter().any(|c| rt.state(&c.id).map(|s| s.is_running()).unwrap_or(false)) {
                if INTERRUPTS.load(Ordering::SeqCst) > before {
                    for c in containers {
                        let _ = rt.kill(&c.id, Signal::SIGKILL);
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ContainerState;

    fn container(service: &str, status: Status) -> ProjectContainer {
        let mut state = ContainerState::new(service, String::new());
        state.status = status;
        ProjectContainer {
            id: service.into(),
            name: service.into(),
            service: service.into(),
            number: 1,
            oneoff: false,
            state,
            config: Default::default(),
            record: Some(Default::default()),
        }
    }

    fn exited(code: i32) -> Status {
        Status::Exited { code, oom: false }
    }

    #[test]
    fn abort_on_failure_waits_out_clean_exits() {
        let opts = AttachOpts { abort_on_container_failure: true, ..Default::default() };
        let ok_and_running = [container("ok", exited(0)), container("long", Status::Running)];
        assert_eq!(finished(&ok_and_running, &opts), None, "a clean exit does not abort");
        let failed = [container("ok", exited(0)), container("bad", exited(4)), container("long", Status::Running)];
        assert_eq!(finished(&failed, &opts), Some(4));
        assert_eq!(finished(&[container("a", exited(0)), container("b", exited(0))], &opts), Some(0), "all done");
        let exit_opts = AttachOpts { abort_on_container_exit: true, ..Default::default() };
        assert_eq!(finished(&ok_and_running, &exit_opts), Some(0), "--abort-on-container-exit: any exit");
        let from = AttachOpts { exit_code_from: Some("long".into()), ..opts };
        assert_eq!(finished(&failed, &from), Some(0), "the named service's code (it had not exited)");
    }
}
