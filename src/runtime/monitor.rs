//! The per-container monitor: a small single-threaded process, started from berth's sealed
//! helper binary by `Runtime::start`. It detaches (setsid + fork, so it outlives the CLI and
//! survives a SIGKILL of every berth process), creates the cgroup, clones the container child
//! into its namespaces, reports readiness (or the setup error) on its stdout pipe, copies the
//! container's stdout/stderr into the log, waits for it, and records the exit code and OOM
//! status atomically in the state dir before exiting.
//!
//! fds on entry: 0 = the container's stdin (or /dev/null), 1 = readiness socket to the starter
//! (which also carries the tty master with `tty`), 2 = /dev/null. A container started with
//! nobody attached (the state dir's `detached` marker, see `Runtime::start`) keeps its tty or,
//! with `process.stdin`, a stdin pipe: the monitor holds the master or the pipe's write end,
//! copies the tty's output into the log, and serves `attach.sock` (see [`super::console`]). What the monitor has to say
//! goes to monitor.log in the state dir, made on its first line ([`note`]): most containers
//! never need one, and an empty file per container cost a disk inode on every create.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use super::autoremove;
use super::cgroup;
use super::child::{self, ChildCtx};
use super::clone3;
use super::config::{ContainerConfig, IdMap, NetNs};
use super::lograte::{self, LogBudget};
use super::logs::{rfc3339_now, LogWriter};
use super::state::{durable, read_json, write_json, ContainerState, StateDir, Status};

/// Entry point (`berth-monitor monitor <state-dir> [room]`).
pub fn main(state_dir: &Path) -> i32 {
    // Work from the container's state dir, as a daemon should: the starter's working directory
    // (the user's project) would otherwise stay pinned (busy for umount) while the container runs.
    let state_dir = &std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let _ = std::env::set_current_dir(state_dir);
    let log = StateDir(state_dir.to_path_buf()).monitor_log();
    std::panic::set_hook(Box::new(move |info| note(&log, &format!("panic: {info}"))));
    // Step: a session of our own, then fork: the starter reaps the parent at once and the real
    // monitor is re-parented to init, detached from the starter's terminal and process group.
    if nix::unistd::setsid().is_err() {
        note(&StateDir(state_dir.to_path_buf()).monitor_log(), "setsid failed");
    }
    // SAFETY: the monitor is single-threaded here (no thread has been started), so the child's
    // copy of the address space holds no lock another thread owned and may allocate freely.
    match unsafe { nix::unistd::fork() } {
        // SAFETY: _exit(2) ends the process without running Rust or libc exit handlers, which
        // belong to the child now; nix has no wrapper for it.
        Ok(ForkResult::Parent { .. }) => unsafe { libc::_exit(0) },
        Ok(ForkResult::Child) => {}
        Err(e) => {
            say(&format!("err fork the monitor: {e}\n"));
            return 1;
        }
    }
    let dir = StateDir(state_dir.to_path_buf());
    // Out of the starter's cgroup (a systemd unit's, a login session's), so stopping that does
    // not kill us (see cgroup_home). Not fatal: the container still runs, only less safely.
    if let Err(e) = super::cgroup_home::enter() {
        note(&dir.monitor_log(), &format!("cannot move to berth's helpers' cgroup: {}", crate::errchain::chain(&e)));
    }
    let code = match run(&dir) {
        Ok(()) => 0,
        Err(msg) => {
            note(&dir.monitor_log(), &msg);
            say(&format!("err {}\n", msg.replace('\n', " ")));
            1
        }
    };
    super::cgroup_home::leave();
    code
}

/// Append a line to the container's monitor.log, making it if needed.
fn note(path: &Path, msg: &str) {
    use std::io::Write;
    let line = format!("{} monitor: {msg}\n", rfc3339_now());
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Write to the readiness pipe (fd 1), ignoring a starter that is gone.
fn say(msg: &str) {
    // Unbuffered: one write(2) on fd 1, as before the process had a Rust stdout.
    let _ = nix::unistd::write(std::io::stdout(), msg.as_bytes());
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))
}

fn clone_flags(cfg: &ContainerConfig) -> CloneFlags {
    let ns = &cfg.namespaces;
    let mut f = CloneFlags::CLONE_NEWNS;
    if !ns.pid_host {
        f |= CloneFlags::CLONE_NEWPID;
    }
    if !ns.uts_host {
        f |= CloneFlags::CLONE_NEWUTS;
    }
    if !ns.ipc_host {
        f |= CloneFlags::CLONE_NEWIPC;
    }
    if ns.net == NetNs::New {
        f |= CloneFlags::CLONE_NEWNET;
    }
    if ns.user.is_some() {
        f |= CloneFlags::CLONE_NEWUSER;
    }
    f
}

/// With a user namespace the overlay is mounted by the container's root, i.e. the host id its
/// uid 0 maps to: that id must own the upper, work and mount-point dirs (the state root must be
/// traversable, and the layers readable, by it).
fn own_upper_by_mapped_root(dir: &StateDir, u: &super::config::UserNs) -> Result<(), String> {
    let host = |maps: &[IdMap]| maps.iter().find(|m| m.container_id == 0).map(|m| m.host_id);
    let (Some(uid), Some(gid)) = (host(&u.uid_map), host(&u.gid_map)) else {
        return Err("the user namespace maps no host id to the container's root (uid/gid 0)".into());
    };
    for d in [dir.upper(), dir.work(), dir.rootfs()] {
        std::os::unix::fs::chown(&d, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", d.display()))?;
    }
    Ok(())
}

fn write_id_map(pid: Pid, file: &str, maps: &[IdMap]) -> Result<(), String> {
    let text: String = maps.iter().map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size)).collect();
    std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(|e| format!("write {file}: {e}"))
}

/// The container process as seen from the monitor once it is released.
struct Spawned {
    pid: Pid,
    err_r: OwnedFd,
    streams: [Option<OwnedFd>; 2],
    console: Option<OwnedFd>,
    /// The write end of the container's stdin pipe (detached, `process.stdin`, no tty).
    stdin_w: Option<OwnedFd>,
}

fn run(dir: &StateDir) -> Result<(), String> {
    let cfg: ContainerConfig = read_json(&dir.config()).map_err(|e| e.to_string())?;
    let mut state: ContainerState = read_json(&dir.state()).map_err(|e| e.to_string())?;
    let detached = dir.detached_marker().exists();
    let (mut sp, cg) = spawn(dir, &cfg, detached)?;
    // With a tty the child sends the pty master first (or hangs up on failure).
    let master = match &sp.console {
        Some(c) => super::tty::recv_fd(c.as_raw_fd()).ok().and_then(|(_, fd)| fd),
        None => None,
    };
    let setup_error = read_to_end(sp.err_r.as_raw_fd());
    if !setup_error.is_empty() {
        let _ = waitpid(sp.pid, None);
        state.error = Some(setup_error.clone());
        let _ = write_json(&dir.state(), &state, durable(&cfg));
        return Err(setup_error);
    }
    let pidfd = pidfd_open(sp.pid)?;
    state.status = Status::Running;
    state.pid = Some(sp.pid.as_raw());
    state.monitor_pid = Some(std::process::id() as i32);
    state.started_at = Some(rfc3339_now());
    state.finished_at = None;
    state.error = None;
    // Replaced atomically (a crash of any process leaves the old or the new record) but not
    // fsynced: "running" cannot outlive the power loss an fsync guards against, and after one
    // the durable "created" record it replaces is the truer of the two. This write sits
    // between the container's exec and the starter's "ok": an fsync here delayed every start.
    write_json(&dir.state(), &state, false).map_err(|e| e.to_string())?;
    let ok = format!("ok {}\n", sp.pid);
    // Detached, the monitor keeps the terminal (its output goes to the log like a stream's)
    // or the stdin pipe, for `attach`.
    let mut kept = None;
    match master {
        Some(m) if detached => {
            match m.try_clone() {
                Ok(out) => sp.streams[0] = Some(out),
                Err(e) => note(&dir.monitor_log(), &format!("dup the tty master: {e}")),
            }
            kept = Some(m);
            say(&ok);
        }
        // The starter gets the master; we keep no copy, so its hang-up reaches the container.
        Some(m) => {
            super::tty::send_fd(1, ok.as_bytes(), m.as_raw_fd()).unwrap_or_else(|e| note(&dir.monitor_log(), &e))
        }
        None => say(&ok),
    }
    // Held for the container's life even without a socket (a closed master hangs it up).
    let mut unserved = None;
    let console = match kept.or(sp.stdin_w.take()) {
        Some(target) => match super::console::Console::open(&dir.0, target) {
            Ok(c) => Some(c),
            Err((e, target)) => {
                note(&dir.monitor_log(), &format!("attach socket: {e}"));
                unserved = Some(target);
                None
            }
        },
        None => None,
    };
    detach_stdio();
    // After the "ok", off the start's critical path: `ps` on the host names the container.
    let name = if cfg.name.is_empty() { &cfg.id } else { &cfg.name };
    super::proctitle::set(&format!("berth-monitor {name}"), false);
    pump_logs(dir, &cfg, sp.streams, &pidfd, console);
    drop(unserved);
    let code = match waitpid(sp.pid, None) {
        Ok(WaitStatus::Exited(_, c)) => c,
        Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
        _ => -1,
    };
    state.status = Status::Exited { code, oom: cgroup::oom_killed(&cg) };
    state.finished_at = Some(rfc3339_now());
    write_json(&dir.state(), &state, durable(&cfg)).map_err(|e| e.to_string())?;
    drop(cg);
    // `run --rm` whose CLI is gone (or `run -d --rm`): nobody else will remove it.
    if autoremove::orphaned(dir, &cfg, &state) {
        if let Some(roots) = crate::paths::Roots::of_container_state(&dir.0) {
            if let Err(e) = super::Runtime::new(&roots).remove(&cfg.id, false) {
                note(&dir.monitor_log(), &format!("--rm: {e}"));
            }
            // Its network sandbox (veth, address, hosts files, published ports), through the
            // network layer's one narrow call for it; the CLI that made it is gone.
            if matches!(cfg.namespaces.net, super::config::NetNs::Path(_)) {
                if let Err(e) = super::helper::release_network(&roots, &cfg.id) {
                    note(&dir.monitor_log(), &format!("--rm: network: {e}"));
                }
            }
        }
    }
    Ok(())
}

/// Clone the container child, create its cgroup (while the child mounts its root filesystem:
/// see child.rs), put it in the cgroup (or let it join by itself) and id-map it, then release
/// it.
fn spawn(dir: &StateDir, cfg: &ContainerConfig, detached: bool) -> Result<(Spawned, cgroups_rs::Cgroup), String> {
    if let Some(u) = &cfg.namespaces.user {
        own_upper_by_mapped_root(dir, u)?;
    }
    let (sync_r, sync_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let tty = cfg.process.tty;
    let (out, errp) = if tty { (None, None) } else { (Some(pipe()?), Some(pipe()?)) };
    let console = if tty {
        let (a, b) = std::os::unix::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        Some((OwnedFd::from(a), OwnedFd::from(b)))
    } else {
        None
    };
    // Detached with `process.stdin`: a pipe whose write end we keep (attach writes to it).
    let stdin_pipe = if detached && !tty && cfg.process.stdin { Some(pipe()?) } else { None };
    let stdin_fd = stdin_pipe.as_ref().map_or(0, |(r, _)| r.as_raw_fd());
    let stdio = match (&out, &errp) {
        (Some((_, ow)), Some((_, ew))) => [stdin_fd, ow.as_raw_fd(), ew.as_raw_fd()],
        _ => [0, 0, 0],
    };
    let ctx = ChildCtx {
        cfg,
        dir,
        sync_r: sync_r.as_raw_fd(),
        err_w: err_w.as_raw_fd(),
        console: console.as_ref().map(|(_, theirs)| theirs.as_raw_fd()),
        stdio,
    };
    // On cgroup v2 the cgroup is made first and the child is born in it (see clone3); else
    // the cgroup is made while the child mounts its root filesystem, and it joins by itself.
    let early = if cgroups_rs::hierarchies::is_cgroup2_unified_mode() {
        let cg =
            cgroup::create(dir.root_id(), &cfg.id, &cfg.resources, cfg.caps.privileged).map_err(|e| e.to_string())?;
        let fd = cgroup::v2_dir(&cg).and_then(|d| std::fs::File::open(d).ok());
        Some((cg, fd))
    } else {
        None
    };
    let born_in = early.as_ref().and_then(|(_, fd)| fd.as_ref()).and_then(|fd| {
        match clone3::clone_into_cgroup(clone_flags(cfg), fd.as_fd(), || child::run(&ctx)) {
            Ok(pid) => Some(Ok(pid)),
            Err(clone3::Error::Unsupported(_)) => None,
            Err(clone3::Error::Failed(e)) => Some(Err(format!("clone the container process: {e}"))),
        }
    });
    let placed = born_in.is_some();
    let pid = match born_in {
        Some(r) => r?,
        None => {
            let mut stack = vec![0u8; 2 << 20];
            // SAFETY: the monitor is single-threaded; without CLONE_VM the child runs `child::run`
            // in its own copy of the address space, on `stack`, which outlives the call.
            unsafe {
                nix::sched::clone(Box::new(|| child::run(&ctx)), &mut stack, clone_flags(cfg), Some(libc::SIGCHLD))
            }
            .map_err(|e| format!("clone the container process: {e}"))?
        }
    };
    drop((sync_r, err_w));
    let console = console.map(|(ours, _theirs)| ours);
    let streams = [out.map(|(r, _)| r), errp.map(|(r, _)| r)];
    // The child has its copy of the read end.
    let stdin_w = stdin_pipe.map(|(_, w)| w);
    let cg = match place(pid, dir.root_id(), cfg, early.map(|(cg, _)| cg), placed) {
        Ok((cg, release)) => {
            // A child that failed early is gone (EPIPE): its error pipe says why.
            let _ = nix::unistd::write(&sync_w, release.as_bytes());
            cg
        }
        Err(e) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
            return Err(e);
        }
    };
    Ok((Spawned { pid, err_r, streams, console, stdin_w }, cg))
}

/// Create the cgroup (limits, device allowlist), unless the caller made it already (`made`,
/// on v2), and say how the child gets into it: the release message is "g", then the `tasks`
/// files it joins by itself, one a line, then NUL (see `cgroup::self_join_files`: no
/// grace-period wait). A child `born_in` the cgroup (clone3) joins nothing. In a user namespace
/// it has no right to the host's cgroup files, so we move it, and write its id maps.
fn place(
    pid: Pid,
    root_id: &str,
    cfg: &ContainerConfig,
    made: Option<cgroups_rs::Cgroup>,
    born_in: bool,
) -> Result<(cgroups_rs::Cgroup, String), String> {
    let cg = match made {
        Some(cg) => cg,
        None => cgroup::create(root_id, &cfg.id, &cfg.resources, cfg.caps.privileged).map_err(|e| e.to_string())?,
    };
    let mut release = String::from("g");
    match (born_in, &cfg.namespaces.user, cgroup::self_join_files(&cg)) {
        (true, _, _) => {}
        (false, None, Some(files)) => files.iter().for_each(|f| release.push_str(&format!("\n{}", f.display()))),
        (false, _, _) => cgroup::add_pid(&cg, pid.as_raw()).map_err(|e| e.to_string())?,
    }
    if let Some(u) = &cfg.namespaces.user {
        write_id_map(pid, "uid_map", &u.uid_map)?;
        write_id_map(pid, "gid_map", &u.gid_map)?;
    }
    // NUL ends the message: the child holds a copy of the pipe's write end, so it sees no EOF.
    release.push('\0');
    Ok((cg, release))
}

/// Point our stdin/stdout at /dev/null: the starter may be gone, and the container's stdin
/// must not be held open by us.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 0);
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
}

/// Setup is done; from here the monitor only polls, copies and waits. Drop the pages setup
/// touched so the resident footprint is what the loop needs (DESIGN.md: well under 1 MiB):
/// free the heap's unused top (malloc_trim(3)) and drop the resident pages of every private
/// file mapping that holds no anonymous (copied-on-write) page: such pages are clean copies
/// of the file, so MADV_DONTNEED only makes them re-fault from the page cache if used again.
/// Mappings with written pages (.data, relocated .data.rel.ro) are left alone.
fn trim_rss() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    let mut current: Option<(usize, usize)> = None;
    let mut clean = Vec::new();
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            if let (Some(range), Some("0")) = (current.take(), kb.split_whitespace().next()) {
                clean.push(range);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else { continue };
        if !range.contains('-') || perms.len() != 4 {
            continue;
        }
        let path = f.nth(3).unwrap_or("");
        current = None;
        if perms.ends_with('p') && !perms.contains('w') && path.starts_with('/') {
            if let Some((a, b)) = range.split_once('-') {
                if let (Ok(s), Ok(e)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                    current = Some((s, e));
                }
            }
        }
    }
    drop(smaps);
    // SAFETY: malloc_trim(3) takes no pointer and only returns free heap memory to the kernel;
    // no wrapper exists (glibc only).
    unsafe { libc::malloc_trim(0) };
    // Last, in a tight loop: the parsing above would fault the text right back in.
    for (start, end) in clean {
        // SAFETY: [start, end) is a whole mapping the kernel listed in our smaps: private,
        // read-only, file-backed and with no anonymous page, so every resident page equals the
        // file's content and MADV_DONTNEED only makes the next access re-read it; no Rust object
        // lives there, and nothing changes for a reader. (nix's madvise is unsafe as well.)
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

fn read_to_end(fd: RawFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pidfd_open(pid: Pid) -> Result<OwnedFd, String> {
    // SAFETY: pidfd_open(2) takes two integers and touches no memory of ours; nix 0.29 has no
    // wrapper for it.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(format!("pidfd_open {pid}: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a new fd that pidfd_open just returned, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Copy stdout/stderr into the log until the container's PID 1 exits, then drain what is left.
/// Paced by a [`LogBudget`]: while it is spent the pipes are left unread (out of the poll set),
/// so a container that floods its output blocks in its own write(2) and the monitor's CPU
/// stays bounded (see `lograte`).
fn pump_logs(
    dir: &StateDir,
    cfg: &ContainerConfig,
    streams: [Option<OwnedFd>; 2],
    pidfd: &OwnedFd,
    mut console: Option<super::console::Console>,
) {
    let mut log = LogWriter::open(&dir.log(), cfg.log_max_size()).map(|l| l.with_max_files(cfg.log_max_files())).ok();
    // The streams still open (None: closed).
    let mut open = [streams[0].as_ref().map(OwnedFd::as_fd), streams[1].as_ref().map(OwnedFd::as_fd)];
    let mut budget = LogBudget::new(lograte::RATE, lograte::BURST, Instant::now());
    let mut buf = vec![0u8; 64 * 1024];
    // Trim once the container has been quiet for a while (first after 100 ms: a short-lived
    // container exits before, and its monitor only pays for the trim when it stays), and again
    // after every burst of output, so an idle container's monitor keeps its minimal footprint.
    let mut quiet_ms = 100;
    loop {
        let pause = budget.pause(Instant::now());
        // The container's exit first, then the open streams (paused: only the exit is watched),
        // with the stream each slot holds, then the console's fd (attach input).
        let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let mut which = [0; 3];
        for (i, fd) in open.iter().enumerate().filter(|_| pause.is_none()) {
            if let Some(fd) = fd {
                which[fds.len()] = i;
                fds.push(PollFd::new(*fd, PollFlags::POLLIN));
            }
        }
        let streams_end = fds.len();
        if let (Some(c), None) = (&console, pause) {
            fds.extend(c.interests().into_iter().map(|(fd, flags)| PollFd::new(fd, flags)));
        }
        let watched = fds.len();
        let timeout = match pause {
            Some(d) => PollTimeout::try_from(d.as_millis().clamp(1, i32::MAX as u128)).unwrap_or(PollTimeout::MAX),
            None if quiet_ms > 0 => PollTimeout::try_from(quiet_ms).unwrap_or(PollTimeout::MAX),
            None => PollTimeout::NONE,
        };
        let n = match nix::poll::poll(&mut fds[..watched], timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        };
        if n == 0 {
            if pause.is_none() {
                trim_rss();
                quiet_ms = 0;
            }
            continue;
        }
        // Any event, unknown bits included (revents() is None then), as `revents != 0`.
        let fired = |f: &PollFd| f.revents().is_none_or(|r| !r.is_empty());
        for (f, &i) in fds[1..streams_end].iter().zip(&which[1..streams_end]) {
            let Some(fd) = open[i].filter(|_| fired(f)) else { continue };
            quiet_ms = 2000;
            match copy_once(fd, i, &mut buf, &mut log) {
                Some(written) => budget.charge(written, Instant::now()),
                None => open[i] = None,
            }
        }
        let console_fired: Vec<bool> = fds[streams_end..watched].iter().map(fired).collect();
        let exited = fired(&fds[0]);
        drop(fds);
        if console_fired.contains(&true) {
            if let Some(c) = console.as_mut() {
                c.on_ready(&console_fired);
            }
        }
        if exited {
            break;
        }
    }
    drain(open, &mut buf, &mut log);
}

/// PID 1 is gone (and with it its pid namespace): take whatever is still buffered, without
/// blocking on a pipe some straggler (pid: host) might still hold, and at most [`DRAIN_MAX`]
/// bytes a stream, so such a straggler cannot keep the monitor copying.
fn drain(fds: [Option<BorrowedFd>; 2], buf: &mut [u8], log: &mut Option<LogWriter>) {
    for (i, fd) in fds.into_iter().enumerate() {
        if let Some(fd) = fd {
            let _ = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK));
            let mut taken = 0;
            while taken < DRAIN_MAX {
                match copy_once(fd, i, buf, log) {
                    Some(_) => taken += buf.len(),
                    None => break,
                }
            }
        }
    }
    if let Some(l) = log.as_mut() {
        let _ = l.flush_pending();
    }
}

/// What the monitor reads of a stream after PID 1 has exited (the pipe holds 64 KiB).
const DRAIN_MAX: usize = 1 << 20;

/// One read from a stream into the log: the bytes written to the log; None at EOF, error or
/// nothing left.
fn copy_once(fd: BorrowedFd, stream: usize, buf: &mut [u8], log: &mut Option<LogWriter>) -> Option<u64> {
    let n = nix::unistd::read(fd.as_raw_fd(), buf).ok().filter(|&n| n > 0)?;
    Some(log.as_mut().and_then(|l| l.feed(stream, &buf[..n]).ok()).unwrap_or(n as u64))
}
