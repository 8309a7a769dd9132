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
        tracing::warn!(project, error = %crate::errchain::chain(&e), "cannot move to berth's helpers' cgroup; stopping the caller's unit or session would stop the supervisor");
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

/// What the supervisor asks of the layers below: the project's containers as they are, a
/// restart, and the runtime health probes exec through. The seam its unit tests fill with a
/// recording fake ([`RuntimeHost`] is the real one).
trait Host {
    fn containers(&self, project: &str) -> Result<Vec<ProjectContainer>>;
    fn start(&self, id: &str) -> std::result::Result<(), crate::runtime::RuntimeError>;
    fn runtime(&self) -> &Runtime;
}

/// The real host: the runtime of `roots`.
struct RuntimeHost {
    roots: Roots,
    rt: Runtime,
}

impl Host for RuntimeHost {
    fn containers(&self, project: &str) -> Result<Vec<ProjectContainer>> {
        project_containers(&self.roots, project)
    }

    fn start(&self, id: &str) -> std::result::Result<(), crate::runtime::RuntimeError> {
        self.rt.start(id).map(drop)
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }
}

struct Supervisor {
    roots: Roots,
    host: Box<dyn Host>,
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
        Self::with_host(roots, project, Box::new(RuntimeHost { roots: roots.clone(), rt: Runtime::new(roots) }))
    }

    fn with_host(roots: &Roots, project: &str, host: Box<dyn Host>) -> Self {
        Supervisor {
            roots: roots.clone(),
            host,
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
        let containers = self.host.containers(&self.pd.project)?;
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
        if let Some(outcome) = prober.tick(self.host.runtime(), &c.id, &spec, now) {
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
        match self.host.start(&c.id) {
            Ok(()) => super::events::container(&self.pd, &c.name, &c.service, "start", &[]),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::reconciler::state::ContainerRecord;
    use crate::runtime::ContainerState;

    /// A project whose containers are whatever the test says, and which records restarts.
    struct Fake {
        containers: Arc<Mutex<Vec<ProjectContainer>>>,
        started: Arc<Mutex<Vec<String>>>,
        rt: Runtime,
    }

    impl Host for Fake {
        fn containers(&self, _project: &str) -> Result<Vec<ProjectContainer>> {
            Ok(self.containers.lock().unwrap().clone())
        }
        fn start(&self, id: &str) -> std::result::Result<(), crate::runtime::RuntimeError> {
            self.started.lock().unwrap().push(id.to_string());
            Ok(())
        }
        fn runtime(&self) -> &Runtime {
            &self.rt
        }
    }

    struct Setup {
        _tmp: tempfile::TempDir,
        roots: Roots,
        sup: Supervisor,
        containers: Arc<Mutex<Vec<ProjectContainer>>>,
        started: Arc<Mutex<Vec<String>>>,
    }

    fn setup() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let roots = Roots::new(Some(tmp.path()));
        let containers = Arc::new(Mutex::new(Vec::new()));
        let started = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake { containers: containers.clone(), started: started.clone(), rt: Runtime::new(&roots) };
        let sup = Supervisor::with_host(&roots, "p", Box::new(fake));
        Setup { _tmp: tmp, roots, sup, containers, started }
    }

    /// Container `p-web-1` exited with `code` at `finished`, under restart policy `restart`.
    fn exited(s: &Setup, restart: &str, code: i32, finished: &str, edit: impl FnOnce(&mut ContainerRecord)) {
        let mut rec = ContainerRecord {
            service: "web".into(),
            number: 1,
            id: "p-web-1".into(),
            name: "p-web-1".into(),
            restart: restart.into(),
            ..Default::default()
        };
        edit(&mut rec);
        s.sup.pd.write_record(&rec).unwrap();
        let mut state = ContainerState::new("p-web-1", "2026-01-01T00:00:00Z".into());
        state.status = Status::Exited { code, oom: code == 137 };
        state.finished_at = Some(finished.into());
        let c = ProjectContainer {
            id: "p-web-1".into(),
            name: "p-web-1".into(),
            service: "web".into(),
            number: 1,
            oneoff: false,
            state,
            config: Default::default(),
            record: Some(rec),
        };
        *s.containers.lock().unwrap() = vec![c];
    }

    /// Ticks until nothing is pending or a minute of backoff has passed (simulated clock).
    fn run_ticks(s: &mut Setup) {
        let c = s.containers.lock().unwrap()[0].clone();
        let Status::Exited { code, oom } = c.state.status else { panic!("not exited") };
        let t0 = Instant::now();
        for step in 0..70 {
            if !s.sup.exited(&c, code, oom, t0 + Duration::from_secs(step)).unwrap() {
                break;
            }
            if !s.started.lock().unwrap().is_empty() {
                break;
            }
        }
    }

    #[test]
    fn always_restarts_after_the_backoff_and_counts_it() {
        let mut s = setup();
        exited(&s, "always", 0, "t1", |_| {});
        run_ticks(&mut s);
        assert_eq!(*s.started.lock().unwrap(), ["p-web-1"]);
        let rec = s.sup.pd.record("p-web-1").unwrap().unwrap();
        assert_eq!((rec.restart_count, rec.last_exit_code), (1, Some(0)));
    }

    #[test]
    fn on_failure_leaves_a_clean_exit_and_gives_up_at_its_limit() {
        let mut s = setup();
        exited(&s, "on-failure:2", 0, "t1", |_| {});
        run_ticks(&mut s);
        assert!(s.started.lock().unwrap().is_empty(), "exit 0 is not a failure");

        let mut s = setup();
        exited(&s, "on-failure:2", 1, "t1", |r| r.restart_count = 2);
        run_ticks(&mut s);
        assert!(s.started.lock().unwrap().is_empty());
        assert!(s.sup.pd.record("p-web-1").unwrap().unwrap().gave_up);
    }

    #[test]
    fn a_container_stopped_by_the_user_or_with_no_policy_stays_down() {
        for (policy, by_user) in [("always", true), ("unless-stopped", true), ("no", false)] {
            let mut s = setup();
            exited(&s, policy, 1, "t1", |r| r.stopped_by_user = by_user);
            run_ticks(&mut s);
            assert!(s.started.lock().unwrap().is_empty(), "{policy} (stopped by user: {by_user})");
        }
    }

    #[test]
    fn no_restart_while_up_or_down_holds_the_project_lock() {
        let mut s = setup();
        exited(&s, "always", 1, "t1", |_| {});
        let held = FileLock::try_acquire(&project_lock_path(&s.roots, "p")).unwrap().expect("lock");
        run_ticks(&mut s);
        assert!(s.started.lock().unwrap().is_empty(), "restarted behind a running up/down");
        drop(held);
        run_ticks(&mut s);
        assert_eq!(*s.started.lock().unwrap(), ["p-web-1"]);
    }

    #[test]
    fn an_exit_is_recorded_once_with_its_oom_kill() {
        let mut s = setup();
        exited(&s, "no", 137, "t1", |_| {});
        let c = s.containers.lock().unwrap()[0].clone();
        for _ in 0..3 {
            s.sup.exited(&c, 137, true, Instant::now()).unwrap();
        }
        let rec = s.sup.pd.record("p-web-1").unwrap().unwrap();
        assert_eq!((rec.last_exit_code, rec.oom), (Some(137), true));
        let events = std::fs::read_to_string(s.sup.pd.dir.join(crate::reconciler::events::FILE)).unwrap();
        assert_eq!(events.lines().filter(|l| l.contains("die")).count(), 1, "{events}");
        assert_eq!(events.lines().filter(|l| l.contains("oom")).count(), 1, "{events}");
        assert!(s.started.lock().unwrap().is_empty());
    }

    #[test]
    fn tick_forgets_containers_that_are_gone() {
        let mut s = setup();
        exited(&s, "always", 1, "t1", |_| {});
        assert!(s.sup.tick().unwrap(), "a restart is pending");
        s.containers.lock().unwrap().clear();
        assert!(!s.sup.tick().unwrap());
        assert!(s.sup.backoff.is_empty() && s.sup.seen_exit.len() == 1);
    }
}
