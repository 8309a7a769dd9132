//! The control side of the port proxy (see `proxy.rs`): per project, the configuration file
//! `networks/proxy/<project>.json`, a pid file, starting the detached process, SIGHUP after
//! each change, and waiting for its status to confirm the new generation.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

use super::error::{NetworkError, Result};
use super::names::short_hash;
use super::proxy::{status_path, ProxyConfig, ProxyStatus};
use super::store::{read_json, remove_file, write_atomic, write_json};

/// How long a proxy may take to confirm its configuration before `up` gives up: generous, as
/// a busy or emulated host can take seconds to start a process; a proxy that dies is
/// noticed at once instead (see `await_generation`).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ProxyCtl<'a> {
    pub dir: PathBuf,
    pub project: &'a str,
    pub binary: &'a Path,
}

impl ProxyCtl<'_> {
    /// Files are named from a hash so any project name is a safe file name.
    fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", short_hash(self.project, 16)))
    }

    pub fn config_path(&self) -> PathBuf {
        self.file("json")
    }

    pub fn load(&self) -> Result<ProxyConfig> {
        Ok(read_json(&self.config_path())?.unwrap_or_default())
    }

    /// Writes `cfg` (bumping its generation) and makes the proxy apply it: started when not
    /// running, signalled otherwise, stopped when `cfg` is empty. Errors name failed bindings.
    pub fn apply(&self, mut cfg: ProxyConfig) -> Result<()> {
        cfg.generation += 1;
        if cfg.entries.is_empty() {
            self.stop()?;
            remove_file(&self.config_path())?;
            return remove_file(&status_path(&self.config_path()));
        }
        write_json(&self.config_path(), &cfg)?;
        match self.running_pid() {
            Some(pid) => kill(pid, Signal::SIGHUP).map_err(|e| NetworkError::sys("signal port proxy", e))?,
            None => self.spawn()?,
        }
        let status = self.await_generation(cfg.generation)?;
        if status.errors.is_empty() {
            Ok(())
        } else {
            Err(self.err(format!("cannot bind {}", status.errors.join(", "))))
        }
    }

    fn err(&self, reason: String) -> NetworkError {
        NetworkError::Proxy { project: self.project.to_string(), reason }
    }

    /// The proxy's pid when it is alive and really our proxy (the pid file may be stale).
    fn running_pid(&self) -> Option<Pid> {
        let config = self.config_path();
        helper_pid(&self.file("pid"), &[config.as_os_str().as_encoded_bytes()]).map(Pid::from_raw)
    }

    /// Starts the proxy detached (own process group, stdio away from the CLI's terminal) so it
    /// outlives the berth command that started it.
    fn spawn(&self) -> Result<()> {
        let log_path = self.file("log");
        let log = File::create(&log_path).map_err(|e| NetworkError::io(&log_path, e))?;
        let child = Command::new(self.binary)
            .arg("__proxy")
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| NetworkError::sys(format!("start port proxy {}", self.binary.display()), e))?;
        write_atomic(&self.file("pid"), child.id().to_string().as_bytes())
    }

    fn await_generation(&self, generation: u64) -> Result<ProxyStatus> {
        let deadline = Instant::now() + CONFIRM_TIMEOUT;
        let path = status_path(&self.config_path());
        let pid = self.running_pid().map(Pid::as_raw);
        loop {
            if let Some(st) = read_json::<ProxyStatus>(&path).ok().flatten() {
                if st.generation >= generation {
                    return Ok(st);
                }
            }
            // Only a proxy known to be gone ends the wait early (no pid file: wait it out).
            let gone = pid.is_some_and(|p| !process_alive(p));
            if gone || Instant::now() > deadline {
                // Read the status once more: the proxy may have answered and exited since.
                if let Some(st) =
                    read_json::<ProxyStatus>(&path).ok().flatten().filter(|st| st.generation >= generation)
                {
                    return Ok(st);
                }
                let log = fs::read_to_string(self.file("log")).unwrap_or_default();
                let why = if gone { "it exited".to_string() } else { format!("no answer within {CONFIRM_TIMEOUT:?}") };
                return Err(self.err(format!("{why}; log: {}", log.trim())));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// SIGTERM, then wait for the process to go (reaping it when it is our child).
    pub fn stop(&self) -> Result<()> {
        if let Some(pid) = self.running_pid() {
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
                if self.running_pid().is_none() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
        }
        remove_file(&self.file("pid"))?;
        remove_file(&self.file("log"))
    }
}

/// Is `pid` running (not a zombie)?
/// The pid in `pid_file` when that process is alive and its command line holds each of
/// `args` (one of berth's helpers, not a process that got a recycled pid).
pub(super) fn helper_pid(pid_file: &std::path::Path, args: &[&[u8]]) -> Option<i32> {
    let pid: i32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let ours = args.iter().all(|a| words.contains(a));
    (ours && process_alive(pid)).then_some(pid)
}

pub(super) fn process_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
