//! Containers outside any project (`berth container ls|stop|kill|rm|logs|inspect`): the ones
//! `berth run IMAGE` makes, with `-d` or with `--rm` whose CLI died. They carry no project
//! label, so the project commands (`ps`, `stop`, `rm` …) never see them; these do, by name or
//! unique id prefix, as `docker container …` does.
//!
//! Such a container has no project volume (its mounts are binds), and no project network:
//! its network is `none`, `host`, or a sandbox of the network layer (on the default bridge or
//! a named network), so [`remove_by_id`] — `Runtime::remove` (process, cgroup, mounts, state
//! and run dirs), then the sandbox's teardown (veth, address, hosts files, published ports) —
//! leaves nothing behind.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::{OpsError, Result};
use crate::paths::Roots;
use crate::planner::actual::labels;
use crate::runtime::state::StateDir;
use crate::runtime::{autoremove, ContainerConfig, ContainerState, Runtime, RuntimeError};

/// Label `berth run` puts on its containers: the image as the user named it.
pub const IMAGE_REF_LABEL: &str = "berth.image-ref";
/// Label of the containers of build steps (`builder::runstep`): the builder's own, not listed.
const BUILD_LABEL: &str = "io.berth.build";

/// One container outside any project.
#[derive(Debug, Clone)]
pub struct Standalone {
    pub id: String,
    pub name: String,
    pub config: ContainerConfig,
    pub state: ContainerState,
}

impl Standalone {
    pub fn is_running(&self) -> bool {
        self.state.is_running()
    }

    /// The image as the user named it, else the first 12 hex digits of its id.
    pub fn image(&self) -> String {
        if let Some(r) = self.config.labels.get(IMAGE_REF_LABEL) {
            return r.clone();
        }
        let id = self.config.labels.get(labels::IMAGE).cloned().unwrap_or_default();
        id.strip_prefix("sha256:").unwrap_or(&id).chars().take(12).collect()
    }
}

/// Every container under the root that belongs to no project, oldest first. A `--rm`
/// container that has exited with no CLI left to remove it is removed now, not listed (see
/// `runtime::autoremove`); one whose removal fails stays listed, with a warning.
pub fn list(rt: &Runtime) -> Result<Vec<Standalone>> {
    let mut out = Vec::new();
    for state in rt.list()? {
        // Removed between list and config: skip it.
        let Ok(config) = rt.config(&state.id) else { continue };
        if config.labels.contains_key(labels::PROJECT) || config.labels.contains_key(BUILD_LABEL) {
            continue;
        }
        if autoremove::orphaned(&StateDir(rt.state_dir(&state.id)), &config, &state) {
            match remove_by_id(rt, rt.roots(), &state.id, false) {
                Ok(()) | Err(RuntimeError::NotFound(_)) => continue,
                Err(e) => tracing::warn!(container = %config.name, "removing an exited --rm container: {e}"),
            }
        }
        out.push(Standalone { id: state.id.clone(), name: config.name.clone(), config, state });
    }
    Ok(out)
}

/// The container `key` means: an exact name or id first, else the one id starting with it.
pub fn resolve<'a>(all: &'a [Standalone], key: &str) -> Result<&'a Standalone> {
    if key.is_empty() {
        return Err(OpsError::NoSuchContainer(key.to_string()));
    }
    if let Some(c) = all.iter().find(|c| c.name == key || c.id == key) {
        return Ok(c);
    }
    let matches: Vec<&Standalone> = all.iter().filter(|c| c.id.starts_with(key)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(OpsError::NoSuchContainer(key.to_string())),
        many => Err(OpsError::Ambiguous {
            prefix: key.to_string(),
            matches: many.iter().map(|c| format!("{} ({})", &c.id[..c.id.len().min(12)], c.name)).collect(),
        }),
    }
}

/// Every key resolved, or every key that could not be, one error a line.
pub fn resolve_all<'a>(all: &'a [Standalone], keys: &[String]) -> Result<Vec<&'a Standalone>> {
    let (mut found, mut errors) = (Vec::new(), Vec::new());
    for k in keys {
        match resolve(all, k) {
            Ok(c) => found.push(c),
            Err(e) => errors.push(e),
        }
    }
    OpsError::collect(errors)?;
    Ok(found)
}

/// A container that vanished under us: a `--rm` one removed by its monitor as it exited.
fn gone(e: &RuntimeError) -> bool {
    matches!(e, RuntimeError::NotFound(_))
}

/// Stop: its stop signal, SIGKILL after `grace` (default: its own). A `--rm` container is
/// removed by its monitor as it exits.
pub fn stop(rt: &Runtime, c: &Standalone, grace: Option<Duration>) -> Result<()> {
    match rt.stop(&c.id, grace) {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(OpsError::container(&c.name, e)),
    }
}

/// Send `sig` to a running container.
pub fn kill(rt: &Runtime, c: &Standalone, sig: Signal) -> Result<()> {
    if !c.is_running() {
        return Err(OpsError::container(&c.name, "is not running"));
    }
    match rt.kill_and_reap(&c.id, sig) {
        Ok(()) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(OpsError::container(&c.name, e)),
    }
}

/// Remove a container and everything it holds; a running one only with `force` (killed
/// first), as `docker rm -f`.
pub fn remove(rt: &Runtime, c: &Standalone, force: bool) -> Result<()> {
    let running = rt.state(&c.id).map(|s| s.is_running()).unwrap_or(false);
    if running && !force {
        return Err(OpsError::RunningNoForce(c.name.clone()));
    }
    match remove_by_id(rt, rt.roots(), &c.id, force) {
        Ok(()) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(OpsError::container(&c.name, e)),
    }
}

/// `Runtime::remove`, then the container's network sandbox, if it has one (also when the
/// container itself was already gone: its monitor may have removed it and died before its
/// network). Both are attempted; the first error is returned.
pub fn remove_by_id(rt: &Runtime, roots: &Roots, id: &str, force: bool) -> std::result::Result<(), RuntimeError> {
    let mut t = crate::timing::Phases::new(format!("remove {id}"));
    // Side by side: both mostly wait on the kernel (cgroup removal, link deletion, unmount).
    let (removed, released) = std::thread::scope(|s| {
        let network = s.spawn(|| crate::network::release_container(roots, id));
        let removed = rt.remove(id, force);
        let panicked = || crate::network::NetworkError::Teardown {
            what: format!("network of {id}"),
            errors: vec!["the thread releasing it panicked".into()],
        };
        (removed, network.join().unwrap_or_else(|_| Err(panicked())))
    });
    t.mark("runtime + network");
    if let Err(RuntimeError::BadState { .. }) = removed {
        return removed;
    }
    if let Err(e) = released {
        tracing::warn!(container = id, "releasing its network: {e}");
        if removed.is_ok() {
            return Err(RuntimeError::Teardown { id: id.to_string(), errors: e.to_string() });
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, name: &str) -> Standalone {
        Standalone {
            id: id.into(),
            name: name.into(),
            config: ContainerConfig::default(),
            state: ContainerState::new(id, String::new()),
        }
    }

    #[test]
    fn names_ids_and_unique_prefixes_resolve() {
        let all = [c("abc123", "web"), c("abd456", "db"), c("ffff", "abc")];
        assert_eq!(resolve(&all, "web").unwrap().id, "abc123");
        assert_eq!(resolve(&all, "abd").unwrap().name, "db");
        // A name wins over an id prefix.
        assert_eq!(resolve(&all, "abc").unwrap().id, "ffff");
        let amb = resolve(&all, "ab").unwrap_err().to_string();
        assert!(amb.contains("ambiguous") && amb.contains("web") && amb.contains("db"), "{amb}");
        assert_eq!(resolve(&all, "zz").unwrap_err().to_string(), "no such container: zz");
        assert!(resolve(&all, "").is_err());
        let both = resolve_all(&all, &["x".into(), "y".into()]).unwrap_err().to_string();
        assert_eq!(both, "no such container: x\nno such container: y");
    }
}
