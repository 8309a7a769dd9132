//! The client side of the DNS server: `sync` makes the root's server (started when none
//! runs) match the network store, and returns once it does — so a container's resolver is
//! listening before the container's first instruction, and a removed container's sockets are
//! closed before its namespace is deleted (a socket would keep the namespace, and its veths,
//! alive).
//!
//! Starting a server is serialized across processes (a lock file, [`Files::spawn_lock`]): a
//! client that finds no server takes it, looks again, and only then starts one and waits for
//! it. Without it, two clients that both found none each started a server; one was answered by
//! the other's, and its own, slow to start, took over the root's lock after the first had
//! exited and waited for a `sync` that never came — a server left behind by `down` (seen in
//! the emulated v2 guest).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
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
        self.sync_answer(true).map(drop)
    }

    /// Only the store needs nothing served (a container's names withdrawn): tell a running
    /// server, start none.
    pub fn sync_if_running(&self) -> Result<()> {
        self.sync_answer(false).map(drop)
    }

    /// Tell the server to re-read the store; with `start`, start one when none runs. Whether
    /// a server runs after it (it had containers to serve).
    ///
    /// A server that closes the connection unanswered was exiting (it had told another client
    /// `bye`): it is waited for, and then asked again — or, without `start`, nothing is left
    /// to tell: no server serves anything.
    fn sync_answer(&self, start: bool) -> Result<Serving> {
        let mut last = String::new();
        for _ in 0..4 {
            let running = crate::network::proxyctl::helper_pid(&self.files.pid, &self.helper_args());
            let stream = match UnixStream::connect(&self.files.socket) {
                Ok(s) => s,
                Err(_) if !start => return Ok(Serving::No),
                Err(_) => match self.connect_or_spawn() {
                    Ok(s) => s,
                    Err(e) => {
                        last = e;
                        continue;
                    }
                },
            };
            match exchange(stream) {
                Ok(reply) if reply == "ok" => return Ok(Serving::Yes),
                Ok(reply) if reply.starts_with("bye") => {
                    wait_gone(reply.trim_start_matches("bye").trim().parse().unwrap_or(0));
                    return Ok(Serving::No);
                }
                Ok(reply) if reply.starts_with("error ") => {
                    return Err(err(format!("the DNS server cannot serve {}", &reply[6..])));
                }
                Ok(reply) => last = format!("unexpected answer {reply:?}"),
                Err(e) => last = e.to_string(),
            }
            if let Some(pid) = running {
                wait_gone(pid);
            }
        }
        Err(err(format!("no answer from the DNS server ({last}); log: {}", self.log())))
    }

    /// What a server of this root has on its command line.
    fn helper_args(&self) -> [&[u8]; 2] {
        [b"__dns", self.roots.state.as_os_str().as_encoded_bytes()]
    }

    /// No container of the root uses the server any more: make sure it is gone. It is told
    /// (a sync, which it answers with `bye` and exits), and one still running that cannot be
    /// told — its socket gone, say, when an `up` was killed half-way — is sent SIGTERM (it
    /// exits on it) and waited for. `down` leaves no server behind either way. A server that
    /// answers it has containers to serve (another project's `up` registered one meanwhile)
    /// stays.
    pub fn stop_idle(&self) -> Result<()> {
        if self.sync_answer(false)? == Serving::Yes {
            return Ok(());
        }
        // Not while a client starts a server (it holds this lock until it is connected).
        let Ok(file) = std::fs::File::create(&self.files.spawn_lock) else { return Ok(()) };
        let Ok(_guard) = Flock::lock(file, FlockArg::LockExclusive) else { return Ok(()) };
        if let Some(pid) = crate::network::proxyctl::helper_pid(&self.files.pid, &self.helper_args()) {
            tracing::debug!(pid, "DNS server still running with no container to serve: stopping it");
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
            wait_gone(pid);
        }
        Ok(())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.files.log).unwrap_or_default().trim().to_string()
    }

    /// Under the spawn lock: the server that runs now, or one started here. The lock is held
    /// until this client is connected, so no other client starts a server meanwhile: the
    /// connection is to the server started here (or to one that was already running).
    fn connect_or_spawn(&self) -> std::result::Result<UnixStream, String> {
        std::fs::create_dir_all(&self.files.dir).map_err(|e| e.to_string())?;
        let file = std::fs::File::create(&self.files.spawn_lock).map_err(|e| e.to_string())?;
        let _guard = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| format!("locking {}: {e}", self.files.spawn_lock.display()))?;
        if let Ok(s) = UnixStream::connect(&self.files.socket) {
            return Ok(s);
        }
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            match self.spawn_and_connect(deadline)? {
                Some(s) => return Ok(s),
                // It lost the root's lock to a server that was exiting: start another.
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// Start a server detached (own process group, output to its log) and wait for its
    /// socket. None when it exited at once with success: it lost the root's lock to a server
    /// that is on its way out (no other client starts one while we hold the spawn lock).
    fn spawn_and_connect(&self, deadline: Instant) -> std::result::Result<Option<UnixStream>, String> {
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
        loop {
            if let Ok(s) = UnixStream::connect(&self.files.socket) {
                return Ok(Some(s));
            }
            if let Some(status) = child.try_wait().ok().flatten() {
                if status.success() && Instant::now() < deadline {
                    return Ok(None);
                }
                return Err(format!("the DNS server exited ({status}); log: {}", self.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("the DNS server did not start within {ANSWER_TIMEOUT:?}; log: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Whether a server runs after a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serving {
    Yes,
    No,
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
