//! `berth attach SERVICE`: a running service container's output from now on, on our stdout and
//! stderr, until it exits; our exit code is then the container's (as `docker compose attach`).
//! With `--sig-proxy` (the default) SIGINT and SIGTERM sent to us go to the container.
//!
//! Input, as Compose's: a container with `tty: true` or `stdin_open: true` gets what we read
//! on stdin (through its monitor's attach socket, `runtime::console`; our terminal in raw mode
//! when the container has a tty), unless `--no-stdin`. The detach keys (`--detach-keys`,
//! default ctrl-p,ctrl-q) leave it running and end `attach` with 0; the end of our stdin
//! only stops the input. A container without either has no stdin to write to: output only.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::{ArgAction, Args};
use nix::sys::signal::Signal;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::reconciler::ops::select;
use crate::runtime::attach::{caller_window_size, take_winch, LogFollower, RawMode, WinchRelay};
use crate::runtime::{AttachClient, Runtime, Status};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Do not attach stdin (output only).
    #[arg(long)]
    pub no_stdin: bool,
    /// The keys that detach from the container, leaving it running (e.g. `ctrl-p,ctrl-q`,
    /// `ctrl-a,d`).
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
    /// Pass SIGINT and SIGTERM on to the container (`--sig-proxy=false` to not).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    pub service: String,
}

/// The last signal caught and not yet passed on (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Set once the detach keys were typed.
static DETACHED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

pub fn run(g: &GlobalOpts, a: &AttachArgs) -> anyhow::Result<ExitCode> {
    let project = project_name(g)?;
    let roots = roots(g);
    let c = select::running(select::all(&roots, &project, false)?, &project, &a.service, a.index)?;
    let rt = Runtime::new(&roots);
    let keys = detach_keys(&a.detach_keys)?;
    let cfg = rt.config(&c.id).with_context(|| format!("container {}", c.name))?;
    let input = !a.no_stdin && (cfg.process.tty || cfg.process.stdin);
    let _raw = (input && cfg.process.tty && std::io::stdin().is_terminal()).then(RawMode::enable);
    let socket = rt.attach_socket(&c.id);
    let stream = match input {
        true => Some(rt.connect_attach(&c.id).with_context(|| {
            format!(
                "container {}: its input ({}) is not served (it was not started by `up` or `start`); \
                 `attach --no-stdin` shows its output",
                c.name,
                socket.display()
            )
        })?),
        false => None,
    }
    .map(std::sync::Arc::new);
    // Our terminal's size goes to the container's terminal, now and after each resize.
    let winch = (stream.is_some() && cfg.process.tty && caller_window_size().is_some()).then(WinchRelay::install);
    if a.sig_proxy {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only stores to an atomic.
            unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
        }
    }
    let mut follower = LogFollower::open(&rt.log_path(&c.id));
    // Only what is written from now on, as docker attach (its `logs` shows the rest).
    follower.poll_records(&mut |_| {});
    // Input only now: what it makes the container write is after the point we follow from.
    if let Some(stream) = stream.clone() {
        std::thread::spawn(move || forward_input(&stream, &keys));
    }
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        if let (Some(stream), Some(_)) = (&stream, &winch) {
            if take_winch() {
                if let Some(size) = caller_window_size() {
                    let _ = stream.send_size(size);
                }
            }
        }
        follower.poll(&mut out, &mut err);
        if DETACHED.load(Ordering::SeqCst) {
            let _ = out.flush();
            return Ok(ExitCode::SUCCESS);
        }
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if sig != 0 {
            if let Ok(s) = Signal::try_from(sig) {
                rt.kill(&c.id, s).with_context(|| format!("passing {s} on to container {}", c.name))?;
            }
        }
        let st = rt.state(&c.id).with_context(|| format!("container {}", c.name))?;
        if let Status::Exited { code, .. } = st.status {
            follower.poll(&mut out, &mut err);
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Copy our stdin to the container's attach socket until it ends, or until the detach keys
/// are typed (they are not passed on; a partial match is, once it stops matching).
fn forward_input(to: &AttachClient, keys: &[u8]) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 4096];
    let mut matched = 0;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if !keys.is_empty() && b == keys[matched] {
                matched += 1;
                if matched == keys.len() {
                    let _ = to.send_input(&out);
                    DETACHED.store(true, Ordering::SeqCst);
                    return;
                }
                continue;
            }
            out.extend_from_slice(&keys[..matched]);
            matched = 0;
            if !keys.is_empty() && b == keys[0] {
                matched = 1;
            } else {
                out.push(b);
            }
        }
        if to.send_input(&out).is_err() {
            return;
        }
    }
}

/// `--detach-keys`: comma-separated keys, each one character or `ctrl-X` (X a letter or one
/// of `@[\\]^_`), as Docker reads them.
fn detach_keys(spec: &str) -> anyhow::Result<Vec<u8>> {
    spec.split(',')
        .map(|k| {
            let bad = || anyhow::anyhow!("--detach-keys {spec}: `{k}` is not a key (one character, or ctrl-X)");
            match k.strip_prefix("ctrl-") {
                Some(x) if x.len() == 1 => {
                    let c = x.as_bytes()[0].to_ascii_uppercase();
                    if c.is_ascii_uppercase() || b"@[\\]^_".contains(&c) {
                        Ok(c & 0x1f)
                    } else {
                        Err(bad())
                    }
                }
                Some(_) => Err(bad()),
                None if k.len() == 1 => Ok(k.as_bytes()[0]),
                None => Err(bad()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_read_as_docker_reads_them() {
        assert_eq!(detach_keys("ctrl-p,ctrl-q").unwrap(), [0x10, 0x11]);
        assert_eq!(detach_keys("ctrl-a,d").unwrap(), [0x01, b'd']);
        assert_eq!(detach_keys("ctrl-@,ctrl-\\").unwrap(), [0x00, 0x1c]);
        assert!(detach_keys("ctrl-1").is_err());
        assert!(detach_keys("abc").is_err());
    }
}
