//! [`Runtime`]: the synchronous API the reconciler and `berth run` use for one container's
//! life: create, start, state, stop, kill, wait, exec, remove, list.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::binary;
use super::config::{ContainerConfig, ExecConfig, Mount, SeccompMode};
use super::error::{io_err, sys_err, Result, RuntimeError};
use super::logs::rfc3339_now;
use super::seccomp_profile::Profile;
use super::state::{durable, monitor_alive, read_json, write_json, ContainerState, StateDir, Status};
use super::zygote::Zygote;
use super::{caps, cgroup, freeze, limits, stop, tty};
use crate::paths::Roots;

pub struct Runtime {
    roots: Roots,
    helper: Option<PathBuf>,
    sealed: Mutex<Option<Arc<OwnedFd>>>,
    zygote: Mutex<ZygoteSlot>,
}

/// Monitors started so far, and the zygote once there is one (see [`Runtime::with_zygote`]).
#[derive(Default)]
struct ZygoteSlot {
    enabled: bool,
    spawned: usize,
    zygote: Option<Zygote>,
}

impl Runtime {
    /// The state roots this runtime works under.
    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    pub fn new(roots: &Roots) -> Self {
        Runtime { roots: roots.clone(), helper: None, sealed: Mutex::new(None), zygote: Mutex::default() }
    }

    /// Fork monitors from one zygote process (src/runtime/zygote.rs) from the second start on,
    /// instead of exec'ing the helper for each: for commands that start many containers.
    pub fn with_zygote(self) -> Self {
        self.zygote.lock().unwrap_or_else(|p| p.into_inner()).enabled = true;
        self
    }

    /// Use this `berth-monitor` binary instead of looking for it next to the executable.
    pub fn with_helper(mut self, path: impl Into<PathBuf>) -> Self {
        self.helper = Some(path.into());
        self
    }

    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.roots.container_state(id)
    }

    fn dir(&self, id: &str) -> StateDir {
        StateDir(self.state_dir(id))
    }

    /// The container's JSON-lines log (see [`super::logs`]).
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).log()
    }

    /// The sealed memfd copy of the helper, made once per `Runtime` and shared by every start.
    fn sealed_helper(&self) -> Result<Arc<OwnedFd>> {
        let mut guard = self.sealed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fd) = guard.as_ref() {
            return Ok(fd.clone());
        }
        let path = match &self.helper {
            Some(p) => p.clone(),
            None => binary::locate()?,
        };
        let fd = Arc::new(binary::sealed_copy(&path)?);
        *guard = Some(fd.clone());
        Ok(fd)
    }

    /// Record a new container (nothing runs yet). Every check that can fail without touching
    /// the kernel happens here, before anything is created.
    pub fn create(&self, cfg: &ContainerConfig) -> Result<()> {
        // A profile file is read once, here: the container keeps the profile it was created with
        // (the file may change or vanish), and its exec processes get the same one.
        let loaded;
        let cfg = match &cfg.seccomp {
            SeccompMode::File(path) => {
                let mut c = cfg.clone();
                c.seccomp = SeccompMode::Profile(Box::new(Profile::load(path)?));
                loaded = c;
                &loaded
            }
            _ => cfg,
        };
        validate(cfg)?;
        warn_dangerous_binds(cfg);
        let dir = self.dir(&cfg.id);
        if dir.0.exists() {
            return Err(RuntimeError::Exists(cfg.id.clone()));
        }
        for d in [dir.upper(), dir.work(), dir.rootfs()] {
            fs::create_dir_all(&d).map_err(io_err("create", &d))?;
        }
        super::mountpoints::precreate(&dir.upper(), cfg);
        write_json(&dir.config(), cfg, durable(cfg))?;
        write_json(&dir.state(), &ContainerState::new(&cfg.id, rfc3339_now()), durable(cfg))
    }

    pub fn config(&self, id: &str) -> Result<ContainerConfig> {
        let dir = self.dir(id);
        if !dir.config().exists() {
            return Err(RuntimeError::NotFound(id.to_string()));
        }
        read_json(&dir.config())
    }

    /// The container's record as it is true now: "running" only while its monitor lives (see
    /// [`ContainerState::observed`]).
    pub fn state(&self, id: &str) -> Result<ContainerState> {
        let dir = self.dir(id);
        if !dir.state().exists() {
            return Err(RuntimeError::NotFound(id.to_string()));
        }
        let mut st: ContainerState = read_json(&dir.state())?;
        if !st.is_running() || st.monitor_pid.is_none_or(monitor_alive) {
            st.paused = st.is_running() && freeze::is_frozen(self.roots.id(), id);
            return Ok(st);
        }
        // The monitor records the exit and then exits: read again before calling it lost.
        let again: ContainerState = read_json(&dir.state())?;
        Ok(again.observed(monitor_alive))
    }

    /// Pause a running container: freeze every process in its cgroup (see [`freeze`]).
    /// Pausing a paused container is an error, as in Docker.
    pub fn pause(&self, id: &str) -> Result<()> {
        let st = self.state(id)?;
        if !st.is_running() {
            return Err(bad_state(id, &st, "only a running container can be paused"));
        }
        if st.paused {
            return Err(bad_state(id, &st, "it is already paused"));
        }
        self.freezer(id)?.set(true)
    }

    /// Unpause a paused container (thaw its cgroup).
    pub fn unpause(&self, id: &str) -> Result<()> {
        let st = self.state(id)?;
        if !st.paused {
            return Err(bad_state(id, &st, "it is not paused"));
        }
        self.freezer(id)?.set(false)
    }

    fn freezer(&self, id: &str) -> Result<freeze::Freezer> {
        freeze::freezer(self.roots.id(), id).ok_or_else(|| RuntimeError::Cgroup {
            path: cgroup::name(self.roots.id(), id),
            reason: "this host has no cgroup v1 freezer hierarchy mounted; pause needs one".into(),
        })
    }

    /// After signalling a paused container: thaw it, so the signal is acted on (Docker does
    /// the same after a kill). The container stays stopped only for the user who paused it;
    /// a stop or kill means to end it.
    fn thaw_after_signal(&self, id: &str, st: &ContainerState) {
        if st.paused {
            if let Err(e) = freeze::thaw_if_frozen(self.roots.id(), id) {
                tracing::warn!(container = id, error = %e, "cannot thaw the paused container after signalling it");
            }
        }
    }

    /// Kill whatever is left of a container whose monitor is gone (its processes are in its
    /// cgroup) and remove that cgroup; the next start makes a fresh one.
    fn reap_unsupervised(&self, id: &str, st: &ContainerState) -> Result<()> {
        if !st.monitor_lost {
            return Ok(());
        }
        tracing::warn!(container = id, "the container's monitor is gone; killing what is left of it");
        cgroup::destroy(self.roots.id(), id)
    }

    /// Ids of the containers whose config (running or not) bind-mounts `path` or anything
    /// inside it: the volumes layer asks before removing a volume.
    pub fn bind_users(&self, path: &Path) -> Vec<String> {
        let base = self.roots.state.join("containers");
        let Ok(entries) = fs::read_dir(&base) else { return Vec::new() };
        let mut out = Vec::new();
        for e in entries.flatten() {
            let Some(id) = e.file_name().to_str().map(str::to_string) else { continue };
            let Ok(cfg) = self.config(&id) else { continue };
            if cfg.mounts.iter().any(|m| matches!(m, Mount::Bind { source, .. } if source.starts_with(path))) {
                out.push(cfg.id);
            }
        }
        out.sort();
        out
    }

    /// Every container under this root.
    pub fn list(&self) -> Result<Vec<ContainerState>> {
        let base = self.roots.state.join("containers");
        let Ok(entries) = fs::read_dir(&base) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for e in entries.flatten() {
            if let Some(id) = e.file_name().to_str() {
                if let Ok(st) = self.state(id) {
                    out.push(st);
                }
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    /// Start a created (or exited) container with nobody attached (a stack's container):
    /// its monitor keeps its terminal (`tty`) or its stdin (`process.stdin`, a pipe), so the
    /// container runs on as under Docker and `berth attach` can write to it
    /// ([`Runtime::attach_socket`]). Returns the host pid of its PID 1.
    pub fn start(&self, id: &str) -> Result<i32> {
        let marker = self.dir(id).detached_marker();
        fs::write(&marker, b"").map_err(io_err("write", &marker))?;
        self.spawn_monitor(id, None).map(|(pid, _)| pid)
    }

    /// Start with `stdin` (a pipe or the caller's terminal) as the container's stdin.
    pub fn start_with(&self, id: &str, stdin: Option<OwnedFd>) -> Result<i32> {
        self.clear_detached(id)?;
        self.spawn_monitor(id, stdin).map(|(pid, _)| pid)
    }

    /// Where `attach` writes to the running container `id` started by [`Runtime::start`]
    /// (its tty, or its stdin with `process.stdin`); absent for other containers.
    pub fn attach_socket(&self, id: &str) -> PathBuf {
        self.dir(id).attach_socket()
    }

    /// Connect to [`Runtime::attach_socket`] (however long the state dir's path).
    pub fn connect_attach(&self, id: &str) -> std::io::Result<super::console::AttachClient> {
        super::console::connect(&self.dir(id).0)
    }

    fn clear_detached(&self, id: &str) -> Result<()> {
        let marker = self.dir(id).detached_marker();
        match fs::remove_file(&marker) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", &marker)(e)),
            _ => Ok(()),
        }
    }

    /// Start a `tty` container; returns its PID 1 and the master side of its terminal (made on
    /// the container's own /dev/pts). The container gets SIGHUP when the master is closed.
    pub fn start_tty(&self, id: &str) -> Result<(i32, OwnedFd)> {
        self.clear_detached(id)?;
        match self.spawn_monitor(id, None)? {
            (pid, Some(master)) => Ok((pid, master)),
            (_, None) => Err(start_err(id, "no tty came back; is process.tty set in its config?".into())),
        }
    }

    fn spawn_monitor(&self, id: &str, stdin: Option<OwnedFd>) -> Result<(i32, Option<OwnedFd>)> {
        let st = self.state(id)?;
        if st.is_running() {
            return Err(bad_state(id, &st, "stop it first"));
        }
        self.reap_unsupervised(id, &st)?;
        let dir = self.dir(id);
        let helper = self.sealed_helper()?;
        let (ours, theirs) = UnixStream::pair().map_err(io_err("socketpair for", &dir.0))?;
        // The monitor's stderr is /dev/null: it writes monitor.log itself, only when it has
        // something to say (see monitor.rs).
        let null = || -> Result<OwnedFd> {
            let f = fs::OpenOptions::new().read(true).write(true).open("/dev/null");
            Ok(OwnedFd::from(f.map_err(io_err("open", Path::new("/dev/null")))?))
        };
        let log = null()?;
        let stdin = match stdin {
            Some(fd) => fd,
            None => null()?,
        };
        let theirs = OwnedFd::from(theirs);
        if !self.zygote_fork(&helper, &dir.0, [stdin.as_raw_fd(), theirs.as_raw_fd(), log.as_raw_fd()]) {
            let mut cmd = Command::new(binary::exec_path(&helper));
            cmd.arg0(binary::HELPER_NAME)
                .arg("monitor")
                .arg(&dir.0)
                .arg(super::proctitle::room())
                .env_clear()
                .stdin(Stdio::from(stdin))
                .stdout(Stdio::from(theirs))
                .stderr(Stdio::from(log));
            let spawned = cmd.spawn();
            drop(cmd); // closes our copy of the socket's other end
            let mut child = spawned.map_err(|e| start_err(id, format!("spawn the monitor: {e}")))?;
            // The first monitor process only forks the real one and exits: reap it now.
            let _ = child.wait();
        } else {
            drop((stdin, theirs, log)); // the zygote's child holds them now
        }
        let (mut report, mut master) = (Vec::new(), None);
        loop {
            match tty::recv_fd(ours.as_raw_fd()) {
                Ok((bytes, fd)) if !bytes.is_empty() => {
                    report.extend_from_slice(&bytes);
                    master = master.or(fd);
                }
                _ => break,
            }
        }
        let report = String::from_utf8_lossy(&report);
        let report = report.trim();
        if let Some(pid) = report.strip_prefix("ok ") {
            let pid = pid.trim().parse().map_err(|_| start_err(id, format!("bad monitor report {report:?}")))?;
            return Ok((pid, master));
        }
        let reason = report
            .strip_prefix("err ")
            .map(str::to_string)
            .unwrap_or_else(|| format!("the monitor exited without reporting; see {}", dir.monitor_log().display()));
        Err(start_err(id, reason))
    }

    /// Hand the start to the zygote when enabled and this is not the first start; false when
    /// the caller must exec the helper itself (first start, or the zygote could not be used).
    fn zygote_fork(&self, helper: &OwnedFd, dir: &Path, fds: [std::os::fd::RawFd; 3]) -> bool {
        let mut slot = self.zygote.lock().unwrap_or_else(|p| p.into_inner());
        slot.spawned += 1;
        if !slot.enabled || slot.spawned < 2 {
            return false;
        }
        if slot.zygote.is_none() {
            match Zygote::spawn(helper) {
                Ok(z) => slot.zygote = Some(z),
                Err(e) => {
                    tracing::debug!("monitor zygote: {e}; exec'ing monitors instead");
                    slot.enabled = false;
                    return false;
                }
            }
        }
        match slot.zygote.as_ref().map(|z| z.fork_monitor(dir, fds)) {
            Some(Ok(())) => true,
            _ => {
                // Gone (killed?): drop it, and start this one, and the next ones, by exec.
                slot.zygote = None;
                slot.enabled = false;
                false
            }
        }
    }

    /// Send `sig` to the container's PID 1.
    pub fn kill(&self, id: &str, sig: Signal) -> Result<()> {
        let st = self.state(id)?;
        match (st.is_running(), st.pid) {
            (true, Some(pid)) => {
                kill(Pid::from_raw(pid), sig).map_err(sys_err(format!("kill {pid} with {sig}")))?;
                self.thaw_after_signal(id, &st);
                Ok(())
            }
            _ => Err(bad_state(id, &st, "it is not running")),
        }
    }

    /// [`Runtime::kill`], and for SIGKILL also wait (up to 10 s) until the exit is recorded,
    /// as Docker's kill: a `kill` that returned has left the container exited, not dying.
    pub fn kill_and_reap(&self, id: &str, sig: Signal) -> Result<()> {
        self.kill(id, sig)?;
        if sig != Signal::SIGKILL {
            return Ok(());
        }
        match self.wait_timeout(id, Duration::from_secs(10)) {
            Ok(Some(_)) => Ok(()),
            // An auto-removed container (`run --rm`) may be gone by then, or going: it exited.
            Err(_) if matches!(self.state(id), Err(RuntimeError::NotFound(_))) => Ok(()),
            Err(e) => Err(e),
            Ok(None) => Err(RuntimeError::BadState {
                id: id.into(),
                status: "still running".into(),
                hint: "it did not exit within 10 s of SIGKILL".into(),
            }),
        }
    }

    /// Block until the container has exited and its status is recorded.
    pub fn wait(&self, id: &str) -> Result<ContainerState> {
        loop {
            if let Some(st) = self.wait_timeout(id, Duration::from_secs(3600))? {
                return Ok(st);
            }
        }
    }

    /// Like [`Runtime::wait`], giving up after `timeout` (None).
    pub fn wait_timeout(&self, id: &str, timeout: Duration) -> Result<Option<ContainerState>> {
        let deadline = Instant::now() + timeout;
        loop {
            let st = self.state(id)?;
            match st.status {
                Status::Exited { .. } => return Ok(Some(st)),
                Status::Created => return Err(bad_state(id, &st, "it was never started")),
                Status::Running => {
                    // A dead monitor with the record still "running" will never finish it.
                    let monitor_gone = st.monitor_pid.is_some_and(|m| kill(Pid::from_raw(m), None).is_err());
                    if monitor_gone && self.state(id)?.is_running() {
                        let m = st.monitor_pid.unwrap_or_default();
                        return Err(start_err(id, format!("its monitor (pid {m}) died; exit status unknown")));
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            // Woken by the monitor's exit (it exits right after recording the status); the
            // 100 ms cap bounds the wait for the "monitor died" check above.
            stop::wait_for_monitor(st.monitor_pid, (deadline - now).min(Duration::from_millis(100)));
        }
    }

    /// Stop: stop_signal, SIGKILL after `grace` (default: the config's) — or at once when PID 1
    /// does not catch the signal (see [`super::stop`]). Returns the final state.
    pub fn stop(&self, id: &str, grace: Option<Duration>) -> Result<ContainerState> {
        let st = self.state(id)?;
        self.reap_unsupervised(id, &st)?;
        let (true, Some(pid1)) = (st.is_running(), st.pid) else { return Ok(st) };
        let cfg = self.config(id)?;
        let sig = stop::parse_signal(cfg.stop_signal.as_deref().unwrap_or("SIGTERM"))
            .map_err(|e| RuntimeError::InvalidConfig { id: id.into(), reason: e.to_string() })?;
        let grace = grace.unwrap_or_else(|| cfg.stop_grace());
        let at_once = stop::kill_at_once(pid1, sig, cfg.init, !cfg.namespaces.pid_host);
        let target = Pid::from_raw(pid1);
        if at_once {
            let _ = kill(target, Signal::SIGKILL);
            self.thaw_after_signal(id, &st);
        } else {
            let _ = kill(target, sig);
            self.thaw_after_signal(id, &st);
            if self.wait_timeout(id, grace)?.is_none() {
                let _ = kill(target, Signal::SIGKILL);
            }
        }
        self.wait_timeout(id, Duration::from_secs(10))?
            .ok_or_else(|| start_err(id, "did not exit after SIGKILL".into()))
    }

    /// A `Command` running `ec` inside the running container; the caller picks stdio. The
    /// command execs this `Runtime`'s sealed helper, so spawn it while the `Runtime` lives.
    pub fn exec_command(&self, id: &str, ec: &ExecConfig) -> Result<Command> {
        let st = self.state(id)?;
        if !st.is_running() {
            return Err(bad_state(id, &st, "exec needs a running container"));
        }
        if st.paused {
            return Err(bad_state(id, &st, "unpause it first (`berth unpause`)"));
        }
        if ec.args.is_empty() {
            return Err(RuntimeError::InvalidConfig { id: id.into(), reason: "exec needs a command".into() });
        }
        let helper = self.sealed_helper()?;
        let json = serde_json::to_string(ec).map_err(|e| start_err(id, e.to_string()))?;
        let mut cmd = Command::new(binary::exec_path(&helper));
        cmd.arg0("berth-exec").arg("exec").arg(self.state_dir(id)).arg(json);
        Ok(cmd)
    }

    /// Run `ec` inside the container on a new pty, made by the exec'd process itself on the
    /// container's own /dev/pts (never a host pty) and its controlling terminal. Returns the
    /// exec helper (its exit status is the command's; its stderr carries only the helper's own
    /// errors) and the pty master to relay. `ec.tty` is implied.
    pub fn exec_tty(&self, id: &str, ec: &ExecConfig) -> Result<(std::process::Child, OwnedFd)> {
        let ec = ExecConfig { tty: true, ..ec.clone() };
        let mut cmd = self.exec_command(id, &ec)?;
        let (ours, theirs) = UnixStream::pair().map_err(io_err("socketpair for", self.state_dir(id)))?;
        // `console`: the helper takes its stdin as the socket to send the master out on.
        cmd.arg("console").stdin(Stdio::from(OwnedFd::from(theirs)));
        let spawned = cmd.spawn();
        drop(cmd); // closes our copy of the socket's other end: EOF if the helper fails
        let mut child = spawned.map_err(|e| start_err(id, format!("spawn the exec helper: {e}")))?;
        match tty::recv_fd(ours.as_raw_fd()) {
            Ok((_, Some(master))) => Ok((child, master)),
            other => {
                let status = child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                let why = other.err().unwrap_or_else(|| "no tty came back".into());
                Err(start_err(id, format!("exec with a tty: {why} (exec helper: {status})")))
            }
        }
    }

    /// Run `ec` inside the container with inherited stdio; returns its exit code.
    pub fn exec(&self, id: &str, ec: &ExecConfig) -> Result<i32> {
        let status =
            self.exec_command(id, ec)?.status().map_err(|e| start_err(id, format!("spawn the exec helper: {e}")))?;
        Ok(status.code().unwrap_or(-1))
    }

    /// Remove: kill stragglers (with `force`, a running container too), remove the cgroup,
    /// any mount left under the state dir, the upper dir and every state file. Keeps going
    /// past errors and reports them all.
    pub fn remove(&self, id: &str, force: bool) -> Result<()> {
        let st = self.state(id)?;
        if st.is_running() {
            if !force {
                return Err(bad_state(id, &st, "stop it first or remove with force"));
            }
            let _ = self.kill(id, Signal::SIGKILL);
            let _ = self.wait_timeout(id, Duration::from_secs(10));
        }
        // An exited container's monitor is on its way out: let it go first, so the helpers'
        // cgroup it leaves can be pruned with the container's (see cgroup_home).
        if let Some(m) = st.monitor_pid.filter(|&m| !st.is_running() && monitor_alive(m)) {
            stop::wait_for_monitor(Some(m), Duration::from_secs(2));
        }
        let mut errors = Vec::new();
        if let Err(e) = cgroup::destroy(self.roots.id(), id) {
            errors.push(e.to_string());
        }
        let dir = self.state_dir(id);
        unmount_under(&dir, &mut errors);
        for d in [dir, self.roots.container_run(id)] {
            if d.exists() {
                if let Err(e) = fs::remove_dir_all(&d) {
                    errors.push(format!("remove {}: {e}", d.display()));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::Teardown { id: id.into(), errors: errors.join("; ") })
        }
    }
}

/// Detach any mount at or below `dir` in our mount namespace (normally none: the container's
/// mounts live and die in its own namespace).
fn unmount_under(dir: &Path, errors: &mut Vec<String>) {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else { return };
    let mut points: Vec<&str> =
        info.lines().filter_map(|l| l.split(' ').nth(4)).filter(|p| Path::new(p).starts_with(dir)).collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if let Err(e) = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH) {
            errors.push(format!("unmount {p}: {e}"));
        }
    }
}

fn bad_state(id: &str, st: &ContainerState, hint: &str) -> RuntimeError {
    let status = match st.status {
        Status::Created => "created".to_string(),
        Status::Running if st.paused => "paused".to_string(),
        Status::Running => "running".to_string(),
        Status::Exited { code, .. } => format!("exited ({code})"),
    };
    RuntimeError::BadState { id: id.into(), status, hint: hint.into() }
}

fn start_err(id: &str, reason: String) -> RuntimeError {
    RuntimeError::Start { id: id.into(), reason }
}

/// Everything that can be checked without creating anything.
pub fn validate(cfg: &ContainerConfig) -> Result<()> {
    let bad = |reason: String| RuntimeError::InvalidConfig { id: cfg.id.clone(), reason };
    let id_ok = !cfg.id.is_empty()
        && cfg.id.len() <= 128
        && cfg.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !cfg.id.starts_with('.');
    if !id_ok {
        return Err(bad(format!("id {:?} must be 1-128 characters of [A-Za-z0-9_.-]", cfg.id)));
    }
    if cfg.layers.is_empty() {
        return Err(bad("no image layers given".into()));
    }
    if cfg.process.args.is_empty() {
        return Err(bad("no command: give one, or use an image with an entrypoint or cmd".into()));
    }
    if let Some(cwd) = cfg.process.cwd.as_deref().filter(|c| !c.is_empty() && !c.starts_with('/')) {
        return Err(bad(format!("working dir {cwd:?} must be an absolute path")));
    }
    let ns = &cfg.namespaces;
    for key in cfg.sysctls.keys() {
        let own_net = ns.net != super::config::NetNs::Host;
        if !limits::is_namespaced_sysctl(key, !ns.ipc_host, own_net, !ns.uts_host) {
            return Err(bad(format!("sysctl {key} is not namespaced (it would change the host); only net.*, kernel.shm*/msg*/sem and fs.mqueue.* are allowed")));
        }
    }
    let can_raise =
        ::caps::has_cap(None, ::caps::CapSet::Effective, ::caps::Capability::CAP_SYS_RESOURCE).unwrap_or(false);
    for u in &cfg.process.ulimits {
        limits::check_ulimit(u, can_raise).map_err(bad)?;
    }
    let caps = caps::effective_set(&cfg.caps).map_err(bad)?;
    // The seccomp profile compiles for this container (a bad file fails here, not at start).
    let profile = match &cfg.seccomp {
        SeccompMode::File(path) => SeccompMode::Profile(Box::new(Profile::load(path)?)),
        other => other.clone(),
    };
    if let SeccompMode::Profile(_) = profile {
        super::seccomp::programs(&profile, &caps).map_err(|e| bad(format!("seccomp profile: {e}")))?;
    }
    if let Some(s) = &cfg.stop_signal {
        stop::parse_signal(s).map_err(|e| bad(e.to_string()))?;
    }
    for m in &cfg.mounts {
        let target = match m {
            Mount::Bind { source, target, .. } => {
                if !source.exists() {
                    return Err(bad(format!("bind source {} does not exist", source.display())));
                }
                target
            }
            Mount::Tmpfs { target, .. } => target,
        };
        if !target.starts_with('/') {
            return Err(bad(format!("mount target {target:?} must be an absolute path")));
        }
        super::mountpolicy::check_target(target).map_err(bad)?;
    }
    Ok(())
}

/// One WARN line per bind that hands the container the host (see `mountpolicy`).
fn warn_dangerous_binds(cfg: &ContainerConfig) {
    for m in &cfg.mounts {
        if let Mount::Bind { source, target, .. } = m {
            if let Some(why) = super::mountpolicy::dangerous_source(source) {
                tracing::warn!("container {}: binding host {} at {target} gives it {why}", cfg.id, source.display());
            }
        }
    }
}

/// VmRSS of a process in KiB (for the monitor's footprint).
pub fn monitor_rss_kib(pid: i32) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
