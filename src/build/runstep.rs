//! RUN: a short-lived container of berth's own runtime over the current layers (as overlay
//! lower dirs; the container's upper dir becomes the step's layer). Network: its own empty
//! namespace (builds have no egress here), or the host's with `RUN --network=host` / the
//! stack's `build.network: host`. Output is streamed line by line with the step's prefix. The
//! container is removed on every path (success, failure, error, Ctrl-C: see `interrupt`) by a
//! drop guard, which takes its cgroup, mounts and state dir with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{BuildError, Result};
use super::BuildLog;
use crate::runtime::attach::LogFollower;
use crate::runtime::{ContainerConfig, NetNs, Runtime, Status};

/// What a RUN container runs.
pub struct RunSpec<'a> {
    pub layers: Vec<PathBuf>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub host_network: bool,
    /// Printed before each output line (`#4 `).
    pub prefix: &'a str,
}

/// Removes the build container when dropped.
pub struct BuildContainer<'a> {
    rt: &'a Runtime,
    pub id: String,
}

impl Drop for BuildContainer<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.rt.remove(&self.id, true) {
            tracing::warn!(container = %self.id, error = %e, "could not remove a build container");
        }
    }
}

impl BuildContainer<'_> {
    /// The container's overlay upper dir: what the command changed.
    pub fn upper(&self) -> PathBuf {
        self.rt.state_dir(&self.id).join("upper")
    }
}

/// Run `spec` to completion; returns the (exited) container and its exit code.
pub fn run<'a>(rt: &'a Runtime, spec: &RunSpec<'_>, log: &dyn BuildLog) -> Result<(BuildContainer<'a>, i32)> {
    let id = format!("build-{}", random_hex()?);
    let mut cfg =
        ContainerConfig { id: id.clone(), name: id.clone(), layers: spec.layers.clone(), ..Default::default() };
    cfg.labels.insert("io.berth.build".into(), "true".into());
    // Who runs this build: the next build sweeps the container if that process is gone.
    cfg.labels.insert(super::interrupt::OWNER_LABEL.into(), super::interrupt::owner());
    cfg.process.args = spec.args.clone();
    cfg.process.env = spec.env.clone();
    cfg.process.cwd = spec.cwd.clone();
    cfg.process.user = spec.user.clone();
    cfg.namespaces.net = if spec.host_network { NetNs::Host } else { NetNs::New };
    rt.create(&cfg)?;
    let guard = BuildContainer { rt, id };
    rt.start(&guard.id)?;
    let code = follow(rt, &guard.id, spec.prefix, log)?;
    Ok((guard, code))
}

/// Stream the container's log with `prefix` until it exits; returns the exit code.
fn follow(rt: &Runtime, id: &str, prefix: &str, log: &dyn BuildLog) -> Result<i32> {
    let mut follower = LogFollower::new(&rt.log_path(id));
    let monitor = rt.state(id)?.monitor_pid;
    let mut emit = |rec: crate::runtime::logs::LogLine| log.output(prefix, rec.log.trim_end_matches('\n'));
    loop {
        follower.poll_records(&mut emit);
        // Ctrl-C: return, so the guard kills and removes the container.
        super::interrupt::check()?;
        crate::runtime::stop::wait_for_monitor(monitor, Duration::from_millis(20));
        let st = rt.state(id)?;
        if let Status::Exited { code, .. } = st.status {
            follower.poll_records(&mut emit);
            if let Some(err) = st.error {
                return Err(BuildError::Invalid(format!("the RUN container could not start: {err}")));
            }
            return Ok(code);
        }
        if st.status == Status::Running && monitor.is_some_and(|m| !Path::new(&format!("/proc/{m}")).exists()) {
            // The monitor died without recording an exit: wait_timeout reports it.
            rt.wait_timeout(id, Duration::from_millis(10))?;
        }
    }
}

fn random_hex() -> Result<String> {
    let mut b = [0u8; 8];
    // SAFETY: getrandom(2) into a buffer of the given length.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != b.len() as isize {
        return Err(BuildError::Invalid(format!("getrandom: {}", std::io::Error::last_os_error())));
    }
    Ok(hex::encode(b))
}
