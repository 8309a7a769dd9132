//! Shared harness of the volume integration tests: a temp state root, the busybox rootfs as the
//! lowest layer, stacks loaded from a compose file written in the test's temp dir, containers
//! run to completion through `berth::runtime::Runtime`, and leak checks (no container record,
//! no mount of the test's dirs in any process, no volume left).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth::paths::Roots;
use berth::runtime::{logs, ContainerConfig, Mount, Runtime, Status};
use berth::spec::model::Stack;
use berth::volumes::VolumeManager;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub roots: Roots,
    pub rt: Runtime,
    pub vm: VolumeManager,
    pub busybox: PathBuf,
    /// A unique project name for this test.
    pub project: String,
}

/// A failing test must not leak either: containers are force-removed, then every volume.
impl Drop for Env {
    fn drop(&mut self) {
        for st in self.rt.list().unwrap_or_default() {
            let _ = self.rt.remove(&st.id, true);
        }
        let _ = self.vm.prune(None);
    }
}

pub fn env(test: &str) -> Env {
    let dir = tempfile::Builder::new().prefix("berth-vol-").tempdir().expect("tempdir");
    let roots = Roots::new(Some(&dir.path().join("root")));
    let busybox = crate::support::busybox_rootfs(dir.path());
    let rt = Runtime::new(&roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
    let vm = berth::reconciler::mounts::volume_manager(&roots);
    let project = format!("v{}{}", std::process::id(), test.replace('_', ""));
    Env { dir, roots, rt, vm, busybox, project }
}

impl Env {
    /// A container id unique to this test.
    pub fn id(&self, name: &str) -> String {
        format!("{}-{name}", self.project)
    }

    /// An extra image layer directory, filled by `fill`.
    pub fn layer(&self, name: &str, fill: impl FnOnce(&Path)) -> PathBuf {
        let l = self.dir.path().join("layers").join(name);
        fs::create_dir_all(&l).expect("layer dir");
        fill(&l);
        l
    }

    /// Write `yaml` as compose.yaml in `<tmp>/<subdir>` and load it, with the working
    /// directory elsewhere (the temp dir itself) to prove paths resolve from the file's dir.
    pub fn stack(&self, subdir: &str, yaml: &str) -> Stack {
        let proj = self.dir.path().join(subdir);
        fs::create_dir_all(&proj).expect("project dir");
        let file = proj.join("compose.yaml");
        fs::write(&file, format!("name: {}\n{yaml}", self.project)).expect("write compose.yaml");
        let opts = berth::spec::load::LoadOptions {
            files: vec![file],
            working_dir: self.dir.path().to_path_buf(),
            environ: std::env::vars().collect(),
            ..Default::default()
        };
        match berth::spec::load::load(&opts) {
            Ok(l) => l.stack,
            Err(e) => panic!("load stack: {e:?}"),
        }
    }

    /// The mounts of one container of `service`.
    pub fn mounts(
        &self,
        stack: &Stack,
        service: &str,
        id: &str,
        layers: &[PathBuf],
    ) -> berth::volumes::Result<Vec<Mount>> {
        let image = berth::volumes::ImageMounts { layers, ..Default::default() };
        let requests = berth::reconciler::mounts::mount_requests(service, &stack.services[service], stack)?;
        self.vm.mounts_for(service, &requests, &stack.name, id, &image)
    }

    pub fn config(&self, id: &str, layers: Vec<PathBuf>, mounts: Vec<Mount>, script: &str) -> ContainerConfig {
        ContainerConfig {
            id: id.to_string(),
            name: id.to_string(),
            layers,
            mounts,
            process: berth::runtime::ProcessConfig {
                args: vec!["sh".into(), "-c".into(), script.into()],
                env: vec!["PATH=/bin:/usr/bin".into()],
                ..Default::default()
            },
            stop_grace: Some(Duration::from_secs(5)),
            ..Default::default()
        }
    }

    /// Create, start and wait for a container; returns (exit code, stdout+stderr). Not removed.
    pub fn run(&self, cfg: &ContainerConfig) -> (i32, String) {
        self.rt.create(cfg).expect("create");
        self.rt.start(&cfg.id).expect("start");
        let st = self.rt.wait_timeout(&cfg.id, Duration::from_secs(60)).expect("wait").expect("exit within 60 s");
        let Status::Exited { code, .. } = st.status else { panic!("unexpected status {:?}", st.status) };
        let out = logs::read_all(&self.rt.log_path(&cfg.id)).into_iter().map(|l| l.log).collect();
        (code, out)
    }

    /// Run a script with these mounts over the busybox rootfs (plus `extra` layers), remove the
    /// container, check it left nothing, and return (exit code, output).
    pub fn sh(&self, name: &str, extra: &[PathBuf], mounts: Vec<Mount>, script: &str) -> (i32, String) {
        let id = self.id(name);
        let mut layers = vec![self.busybox.clone()];
        layers.extend_from_slice(extra);
        let cfg = self.config(&id, layers, mounts.clone(), script);
        let result = self.run(&cfg);
        self.rt.remove(&id, true).expect("remove container");
        self.assert_no_container_left(&id, &mounts);
        result
    }

    /// Nothing of the container remains: no record, and no process has any of its mount
    /// sources (or its state dir) mounted.
    pub fn assert_no_container_left(&self, id: &str, mounts: &[Mount]) {
        let state = self.roots.container_state(id);
        assert!(!state.exists(), "state dir of {id} left behind");
        assert!(!self.roots.container_run(id).exists(), "run dir of {id} left behind");
        let left = crate::support::berth_cgroups_named(&berth::runtime::cgroup::leaf(self.roots.id(), id));
        assert!(left.is_empty(), "cgroups left behind: {left:?}");
        let mut needles = vec![state.to_string_lossy().into_owned()];
        for m in mounts {
            if let Mount::Bind { source, .. } = m {
                needles.push(source.to_string_lossy().into_owned());
            }
        }
        assert_not_mounted(&needles);
    }
}

/// No process's mount table names any of `needles` (mountinfo's root or mount point fields).
pub fn assert_not_mounted(needles: &[String]) {
    for e in fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(mi) = fs::read_to_string(format!("/proc/{pid}/mountinfo")) else { continue };
        for n in needles {
            assert!(!mi.contains(n.as_str()), "process {pid} still has a mount of {n}");
        }
    }
}

/// A chown that only fails loudly.
pub fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).expect("chown");
}
