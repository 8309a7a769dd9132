//! `berth attach SERVICE`: a running service container's output from now on, on our stdout and
//! stderr, until it exits; our exit code is then the container's (as `docker compose attach`).
//! With `--sig-proxy` (the default) SIGINT and SIGTERM sent to us go to the container.
//!
//! Only output: a stack's containers are started with stdin on /dev/null (`stdin_open` is not
//! honoured yet, so there is no stdin to attach to), and `--no-stdin` is accepted as a no-op.

use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::{ArgAction, Args};
use nix::sys::signal::Signal;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::reconciler::ops::select;
use crate::runtime::attach::LogFollower;
use crate::runtime::{Runtime, Status};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Do not attach stdin (stdin is never attached: see `berth attach --help`).
    #[arg(long)]
    pub no_stdin: bool,
    /// Pass SIGINT and SIGTERM on to the container (`--sig-proxy=false` to not).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    pub service: String,
}

/// The last signal caught and not yet passed on (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

pub fn run(g: &GlobalOpts, a: &AttachArgs) -> anyhow::Result<ExitCode> {
    let project = project_name(g)?;
    let roots = roots(g);
    let c = select::running(select::all(&roots, &project, false)?, &project, &a.service, a.index)?;
    let rt = Runtime::new(&roots);
    if a.sig_proxy {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only stores to an atomic.
            unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
        }
    }
    let mut follower = LogFollower::open(&rt.log_path(&c.id));
    // Only what is written from now on, as docker attach (its `logs` shows the rest).
    follower.poll_records(&mut |_| {});
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        follower.poll(&mut out, &mut err);
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
