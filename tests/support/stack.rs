//! A small fluent builder for end-to-end stack tests: a private state root, a unique project
//! name, the busybox fixture imported as the images the stack names, the real `berth` binary,
//! and after the test `down -v` plus a check that nothing of the project remains.
//!
//! ```ignore
//! let s = Stack::new("demo").image("busybox:latest").file("services: {web: {image: busybox, command: [sleep, '60']}}");
//! s.up(&["-d"]).success();
//! s.down_clean();
//! ```

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth::paths::Roots;
use berth::reconciler::{ContainerRecord, ProjectDir};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Stack {
    pub tmp: tempfile::TempDir,
    pub roots: Roots,
    pub project: String,
    pub dir: PathBuf,
    /// Where the root's embedded DNS server forwards names that are not the project's
    /// (`BERTH_DNS_UPSTREAM`): by default the discard port of 127.0.0.1, so no test ever
    /// queries the machine's real resolver; DNS tests put their own responder here.
    pub dns_upstream: String,
    cleaned: bool,
}

/// A finished command, with assertions that print everything it said.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(self.code(), 0, "command failed:\n--- stdout\n{}\n--- stderr\n{}", self.stdout(), self.stderr());
        self
    }
    #[track_caller]
    pub fn failure(&self) -> &Self {
        assert_ne!(self.code(), 0, "command should have failed:\n{}", self.text());
        self
    }
}

impl Stack {
    /// A fresh root and a unique project `<name>-<pid>-<n>`.
    pub fn new(name: &str) -> Self {
        let tmp = tempfile::Builder::new().prefix("berth-stack-").tempdir().expect("tempdir");
        let roots = Roots::new(Some(tmp.path()));
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let project = format!("{name}-{}-{n}", std::process::id());
        let dir = tmp.path().join("project");
        std::fs::create_dir_all(&dir).expect("project dir");
        Stack { tmp, roots, project, dir, dns_upstream: "127.0.0.1:9".into(), cleaned: false }
    }

    /// A fresh root like [`Stack::new`], with the project name of `other` (two roots running
    /// one project, as two CI jobs on one host).
    pub fn same_project_as(name: &str, other: &Stack) -> Self {
        let mut s = Stack::new(name);
        s.project = other.project.clone();
        s
    }

    /// Import the busybox fixture under `reference`.
    pub fn image(self, reference: &str) -> Self {
        super::import_busybox(&self.roots, reference);
        self
    }

    /// Write compose.yaml.
    pub fn file(self, yaml: &str) -> Self {
        self.write(yaml);
        self
    }

    pub fn write(&self, yaml: &str) {
        std::fs::write(self.dir.join("compose.yaml"), yaml).expect("write compose.yaml");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("--root").arg(self.tmp.path()).arg("-p").arg(&self.project);
        cmd.arg("-f").arg(self.dir.join("compose.yaml"));
        cmd.args(args).current_dir(&self.dir);
        cmd.env_remove("BERTH_ROOT").env_remove("COMPOSE_FILE").env_remove("BERTH_PROJECT_NAME");
        cmd.env("BERTH_DNS_UPSTREAM", &self.dns_upstream);
        cmd
    }

    /// `berth ARGS` with `input` on its stdin (written from a thread, so a command that
    /// answers before reading it all cannot deadlock the test).
    pub fn piped(&self, args: &[&str], input: Vec<u8>) -> Run {
        use std::io::Write as _;
        use std::process::Stdio;
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn berth");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for berth");
        writer.join().expect("writer");
        Run { out }
    }

    pub fn berth(&self, args: &[&str]) -> Run {
        Run { out: self.command(args).output().expect("run berth") }
    }

    pub fn up(&self, args: &[&str]) -> Run {
        let mut all = vec!["up"];
        all.extend_from_slice(args);
        self.berth(&all)
    }

    /// `<project>-<service>-<n>`.
    pub fn name(&self, service: &str, n: u32) -> String {
        format!("{}-{service}-{n}", self.project)
    }

    pub fn record(&self, service: &str, n: u32) -> Option<ContainerRecord> {
        ProjectDir::new(&self.roots, &self.project).record(&self.name(service, n)).expect("read record")
    }

    pub fn runtime_state(&self, service: &str, n: u32) -> Option<berth::runtime::ContainerState> {
        berth::runtime::Runtime::new(&self.roots).state(&self.name(service, n)).ok()
    }

    /// Poll `f` every 50 ms until it is true; panic with `what` after `timeout` (times
    /// [`super::patience`]).
    #[track_caller]
    pub fn eventually(&self, timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
        let timeout = super::patience(timeout);
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `down -v`, then assert nothing of the project remains.
    #[track_caller]
    pub fn down_clean(&mut self) {
        self.berth(&["down", "-v", "-t", "1"]).success();
        // A `berth run IMAGE` or a build of the test made the root's default bridge.
        super::remove_default_network(&self.roots.state).unwrap();
        self.cleaned = true;
        assert_clean(&self.roots, &self.project);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if !self.cleaned {
            // A failed test still must not leak: best effort, without the stack file.
            let _ = self.command(&["down", "-v", "-t", "0"]).output();
            let _ = super::remove_default_network(&self.roots.state);
        }
    }
}

/// Nothing of `project` under `roots` or on the host: no container state, record, lock,
/// supervisor, mount, cgroup, netns or process.
#[track_caller]
pub fn assert_clean(roots: &Roots, project: &str) {
    let prefix = format!("{project}-");
    assert!(!roots.projects().join(project).exists(), "project state dir left behind");
    for dir in [roots.state.join("containers"), roots.run.join("containers"), roots.run.join("netns")] {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(&prefix), "{} left behind in {}", name, dir.display());
        }
    }
    for dir in ["locks", "supervisors"] {
        for e in std::fs::read_dir(roots.run.join(dir)).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(project), "{name} left behind in run/{dir}");
        }
    }
    let root = roots.state.to_string_lossy().into_owned();
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    assert!(!mounts.lines().any(|l| l.contains(&format!("{root}/")) && l.contains(project)), "mount left behind");
    // Container cgroups are `berth/<id>` (default root) or `berth/<id>@<root id>`: only this
    // root's (another root may run a project of the same name).
    let root_id = roots.id();
    for cg in super::berth_cgroups() {
        let name = cg.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let ours = name.rsplit_once('@').map_or("", |(_, r)| r) == root_id;
        assert!(!(ours && name.starts_with(&prefix)), "cgroup {} left behind", cg.display());
    }
    assert!(processes_of(project).is_empty(), "processes left behind: {:?}", processes_of(project));
    let bridge = berth::network::names::bridge_name(roots.id(), &format!("{project}_default"));
    assert!(!std::path::Path::new("/sys/class/net").join(&bridge).exists(), "bridge {bridge} left behind");
    for e in std::fs::read_dir(roots.run.join("network")).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.contains(project), "network state {name} left behind");
    }
    // The root's DNS server exits with its last container.
    let sandboxes_left = std::fs::read_dir(roots.run.join("sandboxes")).into_iter().flatten().flatten().count();
    if sandboxes_left == 0 {
        let dns = format!("__dns --state {root} ");
        let servers: Vec<_> = processes_of(&root).into_iter().filter(|(_, cmd)| cmd.contains(&dns)).collect();
        assert!(servers.is_empty(), "DNS server left behind: {servers:?}");
        assert!(!roots.run.join("dns/control.sock").exists(), "DNS control socket left behind");
    }
}

/// The names of the containers labelled with `project` (any state).
pub fn containers_of(roots: &Roots, project: &str) -> Vec<String> {
    let mut v: Vec<String> =
        berth::reconciler::project_containers(roots, project).expect("list").into_iter().map(|c| c.name).collect();
    v.sort();
    v
}

/// Pids whose command line names the project (supervisor, monitors, probes).
pub fn processes_of(project: &str) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let me = std::process::id() as i32;
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmd.contains(project) {
            out.push((pid, cmd));
        }
    }
    out
}

/// The stack's directory (for tests that write extra files).
pub fn path_in(s: &Stack, rel: &str) -> PathBuf {
    s.dir.join(rel)
}

/// `sh -c CMD` in the first container of `svc`.
pub fn sh(s: &Stack, svc: &str, cmd: &str) -> Run {
    s.berth(&["exec", svc, "sh", "-c", cmd])
}

/// Poll `sh -c CMD` in `svc` until it succeeds; its stdout.
#[track_caller]
pub fn sh_until_ok(s: &Stack, svc: &str, cmd: &str) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        let r = sh(s, svc, cmd);
        if r.code() == 0 {
            return r.stdout();
        }
        last = r.text();
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("`{cmd}` in {svc} never succeeded; last output:\n{last}");
}
