//! The client side of the DNS server: `sync` makes the root's server (started when none
//! runs) match the network store, and returns once it does — so a container's resolver is
//! listening before the container's first instruction, and a removed container's sockets are
//! closed before its namespace is deleted (a socket would keep the namespace, and its veths,
//! alive).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

use super::Files;
use crate::network::error::{NetworkError, Result};
use crate::paths::Roots;

/// How long a server may take to start and answer: generous, for a loaded or emulated host;
/// a server that exits is noticed at once.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub struct DnsCtl<'a> {
    pub files: Files,
    pub roots: &'a Roots,
    pub binary: &'a Path,
}

impl DnsCtl<'_> {
    /// Make the server serve exactly the store's DNS containers; started when needed, and
    /// gone (waited for) when it has none left.
    pub fn sync(&self) -> Result<()> {
        let mut last = String::new();
        for _ in 0..4 {
            let stream = match UnixStream::connect(&self.files.socket) {
                Ok(s) => s,
                Err(_) => match self.spawn_and_connect() {
                    Ok(s) => s,
                    Err(e) => {
                        last = e;
                        continue;
                    }
                },
            };
            match exchange(stream) {
                Ok(reply) if reply == "ok" => return Ok(()),
                Ok(reply) if reply.starts_with("bye") => {
                    wait_gone(reply.trim_start_matches("bye").trim().parse().unwrap_or(0));
                    return Ok(());
                }
                Ok(reply) if reply.starts_with("error ") => {
                    return Err(err(format!("the DNS server cannot serve {}", &reply[6..])));
                }
                // No answer: the server was exiting as we connected; start another.
                Ok(reply) => last = format!("unexpected answer {reply:?}"),
                Err(e) => last = e.to_string(),
            }
        }
        Err(err(format!("no answer from the DNS server ({last}); log: {}", self.log())))
    }

    /// Only the store needs nothing served: tell a running server, start none.
    pub fn sync_if_running(&self) -> Result<()> {
        if UnixStream::connect(&self.files.socket).is_ok() {
            self.sync()
        } else {
            Ok(())
        }
    }

    /// No container of the root uses the server any more: make sure it is gone. It is told
    /// (a sync, which it answers with `bye` and exits), and one still running after that — a
    /// server that missed the last change, say, when an `up` was killed half-way — is sent
    /// SIGTERM (it exits on it) and waited for. `down` leaves no server behind either way.
    pub fn stop_idle(&self) -> Result<()> {
        self.sync_if_running()?;
        let state = self.roots.state.as_os_str().as_encoded_bytes();
        if let Some(pid) = crate::network::proxyctl::helper_pid(&self.files.pid, &[b"__dns", state]) {
            tracing::debug!(pid, "DNS server still running with no container to serve: stopping it");
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
            wait_gone(pid);
        }
        Ok(())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.files.log).unwrap_or_default().trim().to_string()
    }

    /// Start a server detached (own process group, output to its log) and wait for its
    /// socket. A server that loses the race for the root's lock exits at once, and the
    /// winner's socket appears instead.
    fn spawn_and_connect(&self) -> std::result::Result<UnixStream, String> {
        std::fs::create_dir_all(&self.files.dir).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(&self.files.log).map_err(|e| e.to_string())?;
        let mut child = Command::new(self.binary)
            .arg("__dns")
            .arg("--state")
            .arg(&self.roots.state)
            .arg("--run")
            .arg(&self.roots.run)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // It outlives the command that starts it: hold no directory of the caller's.
            .current_dir("/")
            .process_group(0)
            .spawn()
            .map_err(|e| format!("start {} __dns: {e}", self.binary.display()))?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut exited = None;
        loop {
            if let Ok(s) = UnixStream::connect(&self.files.socket) {
                return Ok(s);
            }
            if exited.is_none() {
                exited = child.try_wait().ok().flatten().map(|st| (st, Instant::now()));
            }
            // Our server exited: fine if another one runs (its socket appears); not for long.
            if let Some((status, at)) = exited {
                if at.elapsed() > Duration::from_secs(2) {
                    return Err(format!("the DNS server exited ({status}); log: {}", self.log()));
                }
            }
            if Instant::now() > deadline {
                return Err(format!("the DNS server did not start within {ANSWER_TIMEOUT:?}; log: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Send `sync`, read the one-line answer.
fn exchange(mut stream: UnixStream) -> std::io::Result<String> {
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.write_all(b"sync\n")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// Wait for an exiting server to be gone, reaping it when it is our child: `down` returns
/// only once nothing of the root runs. It exits right after its answer; the cap is for a
/// loaded or emulated host (5 s were too short in the v2 guest).
fn wait_gone(pid: i32) {
    if pid <= 0 {
        return;
    }
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    while Instant::now() < deadline {
        let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        if !crate::network::proxyctl::process_alive(pid) {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn err(reason: String) -> NetworkError {
    NetworkError::Dns { reason }
}
