//! The per-project supervisor: a detached `berth __supervise` process (setsid, stdio to
//! `Roots.run/supervisors/<project>.log`) that keeps a stack converged while it is up: restart
//! policies with backoff, health probes, OOM reports. Single-threaded: probes are child
//! processes polled each tick, restarts go through the runtime (whose monitor forks the
//! container, never us).
//!
//! - Idempotent: it holds `Roots.run/supervisors/<project>.lock` (flock) for its life; a second
//!   one finds the lock taken and exits at once.
//! - Crash-safe: containers run under their own monitors, so a SIGKILLed supervisor loses
//!   nothing; the next `up` (or `ensure`) starts a new one, which reads the state dir afresh.
//! - Polite: restarts happen only while no `up`/`down` holds the project lock.
//! - Firewall drift: every [`FIREWALL_PERIOD`] it checks the project's networks' firewall rules
//!   (one `iptables-save`, or one netlink dump of berth's nftables table) and restores any that another tool deleted, with a WARN line naming
//!   the network and the rules (isolation of `internal` networks included).
//! - It exits once nothing of the project runs or waits for a restart (after a short grace,
//!   so it does not race an `up` that is still creating containers).

use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::error::{io_err, Result};
use super::health::{self, Prober};
use super::layers;
use super::lock::{project_lock_path, FileLock};
use super::observe::{project_containers, ProjectContainer};
use super::restart::{self, Backoff, Decision};
use super::state::ProjectDir;
use crate::paths::Roots;
use crate::runtime::{Runtime, Status};

const TICK: Duration = Duration::from_millis(100);
/// How long the supervisor stays with nothing to watch before it exits.
const IDLE_GRACE: Duration = Duration::from_secs(3);
/// How often the firewall rules are checked: one read of the rules (a few ms), so drift (an
/// `iptables -F` or `nft flush ruleset` by another tool, a firewall service reloading) is repaired within this.
/// `BERTH_FIREWALL_CHECK_INTERVAL` (seconds, in the environment of the `up` that starts the
/// supervisor) overrides it.
pub const FIREWALL_PERIOD: Duration = Duration::from_secs(10);

fn firewall_period() -> Duration {
    std::env::var("BERTH_FIREWALL_CHECK_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(FIREWALL_PERIOD, Duration::from_secs)
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Sleep `d`, but wake at once when a signal arrives: one nanosleep(2), whose EINTR ends it
/// (std's sleep resumes after a signal, which made every `down` wait out the rest of a tick
/// after its SIGTERM).
fn nap(d: Duration) {
    let ts = libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long };
    // SAFETY: nanosleep reads `ts`; a null remainder is allowed.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

pub fn lock_path(roots: &Roots, project: &str) -> PathBuf {
    roots.run.join("supervisors").join(format!("{project}.lock"))
}

fn log_path(roots: &Roots, project: &str) -> PathBuf {
    roots.run.join("supervisors").join(format!("{project}.log"))
}

/// Wait (at most `timeout`) until a supervisor holds the project's lock: one just spawned has
/// to exec and take it, and a `down` that looked before then would miss it.
pub fn wait_started(roots: &Roots, project: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !is_running(roots, project)? && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// True when a supervisor holds the project's supervisor lock.
pub fn is_running(roots: &Roots, project: &str) -> Result<bool> {
    Ok(FileLock::try_acquire(&lock_path(roots, project))?.is_none())
}

/// Start the project's supervisor unless one runs. Call after anything that starts containers
/// (`up`, `start`, `restart`).
pub fn ensure(roots: &Roots, project: &str) -> Result<()> {
    if is_running(roots, project)? {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(io_err("locate", Path::new("/proc/self/exe")))?;
    let log_file = log_path(roots, project);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_file)
        .map_err(io_err("open", &log_file))?;
    let err = log.try_clone().map_err(io_err("dup", &log_file))?;
    let mut cmd = Command::new(exe);
    cmd.arg("__supervise")
        .arg("--project")
        .arg(project)
        .arg("--state-dir")
        .arg(&roots.state)
        .arg("--run-dir")
        .arg(&roots.run)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err));
    // SAFETY: setsid(2) is async-signal-safe; it detaches the supervisor from our session so a
    // Ctrl-C or a hangup of our terminal does not reach it.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(io_err("spawn the supervisor", &log_file))?;
    // Reap it in the background if it exits while we still run (it normally outlives us).
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// Stop the project's supervisor (SIGTERM, then SIGKILL) and wait until it is gone.
pub fn stop(roots: &Roots, project: &str) -> Result<()> {
    let path = lock_path(roots, project);
    if !is_running(roots, project)? {
        // Gone already (it ends when nothing is left to supervise): its files go all the same.
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(log_path(roots, project));
        return Ok(());
    }
    let pid: Option<i32> = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok());
    let deadline = Instant::now() + Duration::from_secs(3);
    if let Some(pid) = pid.filter(|&p| p > 1) {
        use nix::sys::signal::{kill, Signal};
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = kill(pid, Signal::SIGTERM);
        while is_running(roots, project)? {
            if Instant::now() >= deadline {
                let _ = kill(pid, Signal::SIGKILL);
                std::thread::sleep(Duration::from_millis(50));
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(log_path(roots, project));
    Ok(())
}

/// The supervisor's main loop (`berth __supervise`).
pub fn run(roots: &Roots, project: &str) -> Result<()> {
    // `is_running` probes by taking the lock for an instant: a few tries tell such a probe
    // from another supervisor that holds it for good.
    let mut tries = 0;
    let mut lock = loop {
        match FileLock::try_acquire(&lock_path(roots, project))? {
            Some(lock) => break lock,
            None if tries < 10 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            None => return Ok(()),
        }
    };
    lock.write_pid()?;
    // Out of the starter's cgroup (see runtime::cgroup_home).
    if let Err(e) = crate::runtime::cgroup_home::enter() {
        tracing::warn!(project, error = %e, "cannot move to berth's helpers' cgroup; stopping the caller's unit or session would stop the supervisor");
    }
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { libc::signal(sig, on_term as *const () as libc::sighandler_t) };
    }
    let mut sup = Supervisor::new(roots, project);
    let mut idle_since: Option<Instant> = None;
    while !STOP.load(Ordering::SeqCst) {
        let active = sup.tick()?;
        sup.check_firewall();
        let busy = FileLock::try_acquire(&project_lock_path(roots, project))?.is_none();
        if active || busy {
            idle_since = None;
        } else if idle_since.get_or_insert_with(Instant::now).elapsed() >= IDLE_GRACE {
            break;
        }
        if !STOP.load(Ordering::SeqCst) {
            nap(TICK);
        }
    }
    sup.shutdown();
    // Leave while still holding the lock: `stop` (and so `down`) goes on once it is free.
    crate::runtime::cgroup_home::leave();
    drop(lock);
    Ok(())
}

struct Supervisor {
    roots: Roots,
    rt: Runtime,
    pd: ProjectDir,
    probers: HashMap<String, Prober>,
    backoff: HashMap<String, Backoff>,
    /// The finished_at of the last exit seen per container (an exit is handled once).
    seen_exit: HashMap<String, String>,
    /// How often, and when next, the firewall rules are checked.
    firewall_period: Duration,
    firewall_due: Instant,
}

impl Supervisor {
    fn new(roots: &Roots, project: &str) -> Self {
        Supervisor {
            roots: roots.clone(),
            rt: Runtime::new(roots),
            pd: ProjectDir::new(roots, project),
            probers: HashMap::new(),
            backoff: HashMap::new(),
            seen_exit: HashMap::new(),
            firewall_period: firewall_period(),
            firewall_due: Instant::now() + firewall_period(),
        }
    }

    /// One pass over the project; true while something runs or waits for a restart.
    fn tick(&mut self) -> Result<bool> {
        let containers = project_containers(&self.roots, &self.pd.project)?;
        let now = Instant::now();
        let mut active = false;
        for c in containers.iter().filter(|c| !c.oneoff && c.record.is_some()) {
            match c.state.status {
                Status::Running => {
                    active = true;
                    self.probe(c, now)?;
                    self.backoff.entry(c.name.clone()).or_default().running_since.get_or_insert(now);
                }
                Status::Exited { code, oom } => {
                    if let Some(mut p) = self.probers.remove(&c.name) {
                        p.abandon();
                    }
                    active |= self.exited(c, code, oom, now)?;
                }
                Status::Created => {}
            }
        }
        // Forget containers that are gone.
        let names: Vec<&String> = containers.iter().map(|c| &c.name).collect();
        self.probers.retain(|n, p| {
            let keep = names.contains(&n);
            if !keep {
                p.abandon();
            }
            keep
        });
        self.backoff.retain(|n, _| names.contains(&n));
        Ok(active)
    }

    fn probe(&mut self, c: &ProjectContainer, now: Instant) -> Result<()> {
        let Some(spec) = c.record.as_ref().and_then(|r| r.healthcheck.clone()) else { return Ok(()) };
        let pid = c.state.pid.unwrap_or_default();
        let prober = self.probers.entry(c.name.clone()).or_insert_with(|| Prober::new(pid, &spec, now));
        if prober.pid != pid {
            prober.abandon();
            *prober = Prober::new(pid, &spec, now);
        }
        // As Docker: no probes while the container is paused (one would only time out); a
        // probe the freeze caught gets its time back once it is unpaused (`Prober::pause`).
        if c.state.paused {
            prober.pause(now);
            return Ok(());
        }
        if let Some(outcome) = prober.tick(&self.rt, &c.id, &spec, now) {
            let in_start = prober.in_start_period(&spec, now);
            let before = c.record.as_ref().map(|r| r.health);
            let after = self.pd.update_record(&c.name, |r| health::apply(r, outcome, in_start))?.map(|r| r.health);
            if let Some(h) = after.filter(|h| Some(*h) != before) {
                let action = format!("health_status: {}", h.as_str());
                super::events::container(&self.pd, &c.name, &c.service, &action, &[]);
            }
        }
        Ok(())
    }

    /// Handle an exited container; true when a restart is pending.
    fn exited(&mut self, c: &ProjectContainer, code: i32, oom: bool, now: Instant) -> Result<bool> {
        let Some(rec) = c.record.as_ref() else { return Ok(false) };
        let finished = c.state.finished_at.clone().unwrap_or_default();
        if self.seen_exit.get(&c.name) != Some(&finished) {
            self.seen_exit.insert(c.name.clone(), finished);
            if oom {
                eprintln!("container {} was killed: out of memory", c.name);
            }
            self.pd.update_record(&c.name, |r| {
                r.last_exit_code = Some(code);
                r.oom |= oom;
            })?;
            super::events::exited(&self.pd, &c.name, &c.state);
        }
        match restart::decide(rec, code) {
            Decision::Leave => Ok(false),
            Decision::GiveUp => {
                eprintln!("container {}: restart policy {} gave up after exit {code}", c.name, rec.restart);
                self.pd.update_record(&c.name, |r| r.gave_up = true)?;
                Ok(false)
            }
            Decision::Restart => {
                self.restart_when_due(c, now)?;
                Ok(true)
            }
        }
    }

    fn restart_when_due(&mut self, c: &ProjectContainer, now: Instant) -> Result<()> {
        let b = self.backoff.entry(c.name.clone()).or_default();
        let due = match b.due {
            Some(d) => d,
            None => b.schedule(now),
        };
        if now < due {
            return Ok(());
        }
        // Only while no up/down works on the project (it may be stopping this very container).
        let Some(_guard) = FileLock::try_acquire(&project_lock_path(&self.roots, &self.pd.project))? else {
            return Ok(());
        };
        b.due = None;
        self.pd.update_record(&c.name, |r| {
            r.restart_count += 1;
            if r.healthcheck.is_some() {
                r.health = super::state::HealthStatus::Starting;
                r.failing_streak = 0;
            }
        })?;
        match self.rt.start(&c.id) {
            Ok(_) => super::events::container(&self.pd, &c.name, &c.service, "start", &[]),
            Err(e) => eprintln!("container {}: restart failed: {e}", c.name),
        }
        Ok(())
    }

    /// Every [`FIREWALL_PERIOD`] (or as configured): restore the rules of the project's networks that went
    /// missing. Only while no up/down holds the project lock (a `down` removing a network must
    /// not see its rules put back behind it); retried at the next tick otherwise. Failures are
    /// logged, never fatal: the supervisor's other duties go on.
    fn check_firewall(&mut self) {
        if Instant::now() < self.firewall_due {
            return;
        }
        let guard = FileLock::try_acquire(&project_lock_path(&self.roots, &self.pd.project));
        let Ok(Some(_guard)) = guard else { return };
        self.firewall_due = Instant::now() + self.firewall_period;
        let repairs = match layers::repair_firewalls(&self.roots, &self.pd.project) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(project = %self.pd.project, error = %e, "cannot check the firewall rules");
                return;
            }
        };
        for (network, result) in repairs {
            match result {
                Ok(rules) => tracing::warn!(
                    network = %network,
                    rules = %rules,
                    "firewall rules of the network were missing or out of order (another tool rewrote the tables?); restored"
                ),
                Err(e) => tracing::error!(network = %network, error = %e, "cannot restore the firewall rules"),
            }
        }
    }

    fn shutdown(&mut self) {
        for p in self.probers.values_mut() {
            p.abandon();
        }
    }
}
