//! RUN: a short-lived container of berth's own runtime over the current layers (as overlay
//! lower dirs; the container's upper dir becomes the step's layer). Network, as Docker's: by
//! default a sandbox on the state root's default bridge (egress through masquerade; the
//! host's resolv.conf and an /etc/hosts of its own are bound in, and their mount points kept
//! out of the layer), loopback only with `none`, the host's with `host` (`RUN --network=`,
//! the stack's `build.network`, `berth image build --network`). Output is streamed line by
//! line with the step's prefix, and watched for name resolution failures (see
//! [`resolution_failure`]). The container and its sandbox are removed on every path
//! (success, failure, error, Ctrl-C: see `interrupt`) by a drop guard, which takes its
//! cgroup, mounts, state dir, veth and address with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{BuildError, Result};
use super::{BuildLog, BuildNetwork};
use crate::network::{NetworkManager, OneoffNet};
use crate::runtime::attach::LogFollower;
use crate::runtime::{ContainerConfig, NetNs, Runtime, Status};

/// What a RUN container runs.
pub struct RunSpec<'a> {
    pub layers: Vec<PathBuf>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub network: BuildNetwork,
    /// The container's memory limit in bytes (`build -m`).
    pub memory: Option<i64>,
    /// Printed before each output line (`#4 `).
    pub prefix: &'a str,
}

/// Removes the build container (and its network sandbox, if it has one) when dropped.
pub struct BuildContainer<'a> {
    rt: &'a Runtime,
    pub id: String,
    networked: bool,
}

impl Drop for BuildContainer<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.rt.remove(&self.id, true) {
            if !matches!(e, crate::runtime::RuntimeError::NotFound(_)) {
                tracing::warn!(container = %self.id, error = %e, "could not remove a build container");
            }
        }
        if self.networked {
            if let Err(e) = NetworkManager::new(self.rt.roots()).teardown_sandbox(&self.id) {
                tracing::warn!(container = %self.id, error = %e, "could not remove a build container's network");
            }
        }
    }
}

/// The files bound into a networked RUN container (Docker binds the same two).
const BOUND_FILES: [&str; 2] = ["hosts", "resolv.conf"];

impl BuildContainer<'_> {
    /// The container's overlay upper dir: what the command changed.
    pub fn upper(&self) -> PathBuf {
        self.rt.state_dir(&self.id).join("upper")
    }

    /// Removes the mount points of the bound files from the upper dir, so they stay out of the
    /// layer: made empty when the image lacked the file (see runtime::mountpoints), and the
    /// step could not have written them (its writes went to the bound files).
    fn drop_mountpoints(&self) {
        if !self.networked {
            return;
        }
        let etc = self.upper().join("etc");
        for f in BOUND_FILES {
            let p = etc.join(f);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_file() && m.len() == 0) {
                let _ = std::fs::remove_file(&p);
            }
        }
        // Made only to hold them: an empty upper /etc changes nothing the layers have.
        let _ = std::fs::remove_dir(&etc);
    }
}

/// How a RUN step ended.
pub struct Finished<'a> {
    pub container: BuildContainer<'a>,
    pub code: i32,
    /// Its output said a name did not resolve (see [`resolution_failure`]).
    pub resolution_failed: bool,
}

/// Run `spec` to completion; returns the (exited) container, its exit code, and whether its
/// output reported a name resolution failure.
pub fn run<'a>(rt: &'a Runtime, spec: &RunSpec<'_>, log: &dyn BuildLog) -> Result<Finished<'a>> {
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
    cfg.resources.memory = spec.memory;
    cfg.namespaces.net = if spec.network == BuildNetwork::Host { NetNs::Host } else { NetNs::New };
    let networked = spec.network == BuildNetwork::Default;
    // From here on the guard removes whatever exists of the container and its sandbox.
    let guard = BuildContainer { rt, id: id.clone(), networked };
    if networked {
        let req = OneoffNet {
            network: crate::network::DEFAULT_NETWORK.to_string(),
            hostname: id[..id.len().min(12)].to_string(),
            files: BOUND_FILES.to_vec(),
            ..Default::default()
        };
        let setup = NetworkManager::new(rt.roots())
            .prepare_oneoff(&id, &req)
            .map_err(|e| BuildError::Invalid(format!("the RUN container's network (the default bridge): {e}")))?;
        cfg.namespaces.net = NetNs::Path(setup.netns);
        cfg.mounts.extend(setup.mounts);
    }
    rt.create(&cfg)?;
    rt.start(&guard.id)?;
    let (code, resolution_failed) = follow(rt, &guard.id, spec.prefix, log)?;
    guard.drop_mountpoints();
    Ok(Finished { container: guard, code, resolution_failed })
}

/// Whether an output line reports a host name that did not resolve (apt, curl, wget,
/// busybox, glibc's and musl's getaddrinfo messages).
pub fn resolution_failure(line: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "Temporary failure resolving",
        "Temporary failure in name resolution",
        "Could not resolve",
        "Name or service not known",
        "bad address",
        "No address associated with hostname",
    ];
    SIGNS.iter().any(|s| line.contains(s))
}

/// The hint appended to a failed RUN step whose output reported a resolution failure.
pub fn resolution_hint(network: BuildNetwork) -> String {
    match network {
        BuildNetwork::None => {
            "hint: this build's RUN steps have no network (network: none); to give them the \
             default bridge with egress, drop `build.network: none` / `--network none` (or use `RUN --network=default`)"
                .to_string()
        }
        BuildNetwork::Default => "hint: this build's RUN steps have network (the default bridge, egress through \
             masquerade, the host's /etc/resolv.conf); check that the name exists and the host resolves it, or \
             use `build.network: host` / `--network host` to use the host's network"
            .to_string(),
        BuildNetwork::Host => "hint: this build's RUN steps use the host's network (network: host); check that \
             the host resolves the name"
            .to_string(),
    }
}

/// Stream the container's log with `prefix` until it exits; returns the exit code and
/// whether a line reported a resolution failure.
fn follow(rt: &Runtime, id: &str, prefix: &str, log: &dyn BuildLog) -> Result<(i32, bool)> {
    let mut follower = LogFollower::new(&rt.log_path(id));
    let monitor = rt.state(id)?.monitor_pid;
    let mut unresolved = false;
    let mut emit = |rec: crate::runtime::logs::LogLine| {
        let line = rec.log.trim_end_matches('\n');
        unresolved |= resolution_failure(line);
        log.output(prefix, line)
    };
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
            return Ok((code, unresolved));
        }
        if st.status == Status::Running && monitor.is_some_and(|m| !Path::new(&format!("/proc/{m}")).exists()) {
            // The monitor died without recording an exit: wait_timeout reports it.
            rt.wait_timeout(id, Duration::from_millis(10))?;
        }
    }
}

fn random_hex() -> Result<String> {
    crate::common::ids::hex_id(8).map_err(|e| BuildError::Invalid(format!("getrandom: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_failures_are_recognised_and_the_hint_names_the_mode() {
        assert!(resolution_failure("Err:1 http://deb.debian.org bookworm InRelease Temporary failure resolving 'x'"));
        assert!(resolution_failure("wget: bad address 'nonexistent.invalid'"));
        assert!(resolution_failure("curl: (6) Could not resolve host: example.invalid"));
        assert!(!resolution_failure("E: Unable to locate package nope"));
        assert!(resolution_hint(BuildNetwork::None).contains("no network (network: none)"));
        assert!(resolution_hint(BuildNetwork::Default).contains("have network"));
        assert!(resolution_hint(BuildNetwork::Host).contains("host's network"));
    }
}
