//! Shared harness of the ops integration tests: a temp state root with the busybox image, a
//! stack file, `berth up -d` (and a direct path that builds containers as `up` does, for
//! checks below the reconciler), the `berth` binary run against that root and project, and
//! the leak check every test ends with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use berth::image::ImageStore;
use berth::paths::Roots;
use berth::reconciler::state::{ContainerRecord, ProjectDir};
use berth::reconciler::translate::{container_config, Target};
use berth::runtime::Runtime;
use berth::spec::load::{load, LoadOptions};
use berth::spec::Stack;

pub struct Proj {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub roots: Roots,
    pub project: String,
    pub stack: Stack,
    pub rt: Runtime,
    /// Set by a completed [`Proj::teardown`].
    done: bool,
}

/// A failing test must not leak either: `berth rm -s` and `berth down -v` tear down what the
/// test made (network sandboxes, bridges, volumes, supervisor), then the runtime removes any
/// straggler, before the temp dir goes.
impl Drop for Proj {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let _ = self.berth(&["rm", "-s", "--force"]);
        let _ = self.berth(&["down", "-v"]);
        for st in self.rt.list().unwrap_or_default() {
            let _ = self.rt.remove(&st.id, true);
        }
        let _ = crate::support::remove_default_network(&self.root);
    }
}

/// A project `<tag>-<pid>` with `compose` as its stack file (`name:` is added).
pub fn project(tag: &str, compose: &str) -> Proj {
    let dir = tempfile::Builder::new().prefix("berth-ops-").tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let roots = Roots::new(Some(&root));
    crate::support::import_busybox(&roots, "busybox:test");
    let project = format!("{tag}-{}", std::process::id());
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, format!("name: {project}\n{compose}")).expect("write compose.yaml");
    let opts = LoadOptions {
        files: vec![file],
        project_name: None,
        project_dir: None,
        env_files: Vec::new(),
        profiles: Vec::new(),
        enabled_services: Vec::new(),
        working_dir: dir.path().to_path_buf(),
        environ: Default::default(),
        no_interpolate: false,
        no_normalize: false,
        no_consistency: false,
        no_env_resolution: false,
        no_path_resolution: false,
        compatibility: false,
    };
    let stack = load(&opts).expect("load the test stack").stack;
    let rt = Runtime::new(&roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
    Proj { dir, root, roots, project, stack, rt, done: false }
}

impl Proj {
    /// `berth up -d SERVICE` (with its dependencies); returns the id of replica `number`.
    pub fn up(&self, service: &str, number: u32) -> String {
        self.ok(&["up", "-d", service]);
        format!("{}-{service}-{number}", self.project)
    }

    /// Create and start replica `number` of `service` as `up` does, without `up` (for the
    /// runtime-level checks that must not depend on the reconciler); returns its id.
    pub fn up_direct(&self, service: &str, number: u32) -> String {
        let svc = &self.stack.services[service];
        let name = format!("{}-{service}-{number}", self.project);
        let store = ImageStore::open(&self.roots).expect("store");
        let image = store.resolve(svc.image.as_deref().expect("image")).expect("resolve");
        let hash = berth::planner::config_hash(svc, &self.stack);
        let t =
            Target { stack: &self.stack, service_name: service, service: svc, number, name: &name, config_hash: &hash };
        let cfg = container_config(&t, &image).expect("container config");
        let rec = ContainerRecord {
            service: service.into(),
            number,
            id: name.clone(),
            name: name.clone(),
            config_hash: hash.clone(),
            config: Some(berth::planner::normalized_config(svc, &self.stack)),
            ..Default::default()
        };
        ProjectDir::new(&self.roots, &self.project).write_record(&rec).expect("record");
        self.rt.create(&cfg).expect("create");
        self.rt.start(&name).expect("start");
        name
    }

    /// `berth --root ROOT -p PROJECT ARGS…` (run in the stack file's directory).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
        c.current_dir(self.dir.path()).env_remove("BERTH_PROJECT_NAME").env_remove("COMPOSE_FILE");
        c.arg("--root").arg(&self.root).arg("-p").arg(&self.project).args(args);
        c
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run berth")
    }

    /// Run berth and return stdout, asserting success.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(out.status.success(), "berth {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the container's log contains `text` (at most 10 s).
    pub fn wait_log(&self, id: &str, text: &str) {
        let deadline = Instant::now() + crate::support::patience(Duration::from_secs(10));
        loop {
            let log: String =
                berth::runtime::logs::read_all(&self.rt.log_path(id)).into_iter().map(|l| l.log).collect();
            if log.contains(text) {
                return;
            }
            assert!(Instant::now() < deadline, "{id} never logged {text:?}; log: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_exit(&self, id: &str) -> i32 {
        match self.rt.wait_timeout(id, Duration::from_secs(20)).expect("wait").expect("exit in 20 s").status {
            berth::runtime::Status::Exited { code, .. } => code,
            other => panic!("{id}: {other:?}"),
        }
    }

    /// Remove every container through `berth rm -s`, the rest through `berth down`, and
    /// assert nothing of the project remains: no container, record, process, cgroup, mount,
    /// netns, bridge, supervisor or project state.
    pub fn teardown(mut self) {
        let states = self.rt.list().unwrap_or_default();
        let pids: Vec<i32> = states.iter().flat_map(|s| [s.pid, s.monitor_pid]).flatten().collect();
        let ids: Vec<String> = states.iter().map(|s| s.id.clone()).collect();
        if !ids.is_empty() {
            let out = self.berth(&["rm", "-s", "--force"]);
            assert!(out.status.success(), "rm -s failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(self.rt.list().unwrap().is_empty(), "containers left: {:?}", self.rt.list());
        // `berth run IMAGE` made the root's default bridge (kept, as docker0 is).
        crate::support::remove_default_network(&self.root).unwrap();
        let records = ProjectDir::new(&self.roots, &self.project).records().unwrap();
        assert!(records.is_empty(), "container records left: {:?}", records.keys());
        for id in &ids {
            assert_nothing_left(&self.roots, id);
        }
        let out = self.berth(&["down"]);
        assert!(out.status.success(), "down failed: {}", String::from_utf8_lossy(&out.stderr));
        for pid in pids {
            assert!(wait_gone(pid), "process {pid} of the project still runs");
        }
        assert!(!berth::reconciler::supervisor::is_running(&self.roots, &self.project).unwrap(), "supervisor left");
        assert!(!self.roots.projects().join(&self.project).exists(), "project state left");
        let bridge = berth::network::names::bridge_name(self.roots.id(), &format!("{}_default", self.project));
        assert!(!Path::new("/sys/class/net").join(&bridge).exists(), "bridge {bridge} left");
        let netns: Vec<_> =
            std::fs::read_dir(self.roots.run.join("netns")).map(|d| d.flatten().collect()).unwrap_or_default();
        assert!(netns.is_empty(), "netns files left: {netns:?}");
        self.done = true;
    }
}

fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + crate::support::patience(Duration::from_secs(5));
    while Instant::now() < deadline {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie not yet reaped by its (non-berth) parent.
        if stat.is_empty() || stat.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub fn assert_nothing_left(roots: &Roots, id: &str) {
    assert!(!roots.container_state(id).exists(), "state dir of {id} left behind");
    assert!(!roots.container_run(id).exists(), "run dir of {id} left behind");
    let left = crate::support::berth_cgroups_named(&berth::runtime::cgroup::leaf(roots.id(), id));
    assert!(left.is_empty(), "cgroups left behind: {left:?}");
    let state = roots.container_state(id);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(state.to_str().unwrap()), "mount under {} left behind", state.display());
}
