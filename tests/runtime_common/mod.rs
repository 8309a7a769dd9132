//! Shared harness of the runtime integration tests: a temp state root, the busybox rootfs as
//! the only layer, helpers to run a container to completion, and the leak check every test
//! ends with (no state dir, no cgroup, no mount, no process left).
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use berth::paths::Roots;
use berth::runtime::{logs, ContainerConfig, Runtime};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub roots: Roots,
    pub rt: Runtime,
    pub rootfs: PathBuf,
}

/// A failing test must not leak either: whatever containers remain are force-removed.
impl Drop for Env {
    fn drop(&mut self) {
        for st in self.rt.list().unwrap_or_default() {
            let _ = self.rt.remove(&st.id, true);
        }
    }
}

pub fn env() -> Env {
    let dir = tempfile::Builder::new().prefix("berth-rt-").tempdir().expect("tempdir");
    let roots = Roots::new(Some(&dir.path().join("root")));
    let rootfs = crate::support::busybox_rootfs(dir.path());
    let rt = Runtime::new(&roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
    Env { dir, roots, rt, rootfs }
}

/// A unique container id for this test.
pub fn id(name: &str) -> String {
    format!("t{}-{name}", std::process::id())
}

pub fn config(env: &Env, id: &str, args: &[&str]) -> ContainerConfig {
    ContainerConfig {
        id: id.to_string(),
        name: id.to_string(),
        layers: vec![env.rootfs.clone()],
        process: berth::runtime::ProcessConfig {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/bin:/usr/bin".into()],
            ..Default::default()
        },
        stop_grace: Some(Duration::from_secs(10)),
        ..Default::default()
    }
}

/// The container's stdout (and stderr when `with_err`) from its log.
pub fn output(env: &Env, id: &str, with_err: bool) -> String {
    logs::read_all(&env.rt.log_path(id))
        .into_iter()
        .filter(|l| with_err || l.stream == "stdout")
        .map(|l| l.log)
        .collect()
}

/// Create, start, wait; returns (exit code, oom, stdout+stderr). Does not remove.
pub fn run(env: &Env, cfg: &ContainerConfig) -> (i32, bool, String) {
    env.rt.create(cfg).expect("create");
    env.rt.start(&cfg.id).expect("start");
    let st =
        env.rt.wait_timeout(&cfg.id, Duration::from_secs(60)).expect("wait").expect("container did not exit in 60 s");
    let (code, oom) = match st.status {
        berth::runtime::Status::Exited { code, oom } => (code, oom),
        other => panic!("unexpected status {other:?}"),
    };
    (code, oom, output(env, &cfg.id, true))
}

/// Run a shell script in a default container, remove it, check for leaks.
pub fn sh(env: &Env, name: &str, script: &str) -> (i32, String) {
    let id = id(name);
    let cfg = config(env, &id, &["sh", "-c", script]);
    let (code, _, out) = run(env, &cfg);
    remove_and_check(env, &id);
    (code, out)
}

/// Remove the container and assert nothing of it remains.
pub fn remove_and_check(env: &Env, id: &str) {
    env.rt.remove(id, true).expect("remove");
    assert_nothing_left(&env.roots, id);
}

pub fn assert_nothing_left(roots: &Roots, id: &str) {
    assert!(!roots.container_state(id).exists(), "state dir of {id} left behind");
    assert!(!roots.container_run(id).exists(), "run dir of {id} left behind");
    let left = crate::support::berth_cgroups_named(&berth::runtime::cgroup::leaf(roots.id(), id));
    assert!(left.is_empty(), "cgroups left behind: {left:?}");
    let state = roots.container_state(id);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(state.to_str().unwrap()), "mount under {} left behind", state.display());
    // No process anywhere still has its cwd/root or a mount in the state dir.
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if let Ok(mi) = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")) {
            assert!(!mi.contains(state.to_str().unwrap()), "process {pid} still has a mount of {id}");
        }
    }
}
