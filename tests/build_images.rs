//! berth's own image builder through the real binary: a Dockerfile with ARG/ENV/WORKDIR/RUN/
//! COPY (.dockerignore)/USER/CMD, run with `berth run`; a fully cached rebuild; a failing RUN
//! that names its line and leaves nothing; multi-stage COPY --from; a stack with `build:` that
//! `up` builds and `up --build` rebuilds (recreating the service). Each test has its own root.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::stack::{sh_until_ok, Stack};
use support::{import_busybox, require_root};

/// A private state root with busybox:latest imported.
struct Root {
    tmp: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        let tmp = tempfile::Builder::new().prefix("berth-build-").tempdir().expect("tempdir");
        import_busybox(&berth::paths::Roots::new(Some(tmp.path())), "busybox:latest");
        Root { tmp }
    }

    fn berth(&self, args: &[&str]) -> support::stack::Run {
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("--root")
            .arg(self.tmp.path())
            .args(args)
            .env_remove("BERTH_ROOT")
            .output()
            .expect("run berth");
        support::stack::Run { out }
    }

    /// A context dir with these files.
    fn context(&self, name: &str, files: &[(&str, &str)]) -> String {
        let dir = self.tmp.path().join(name);
        for (rel, text) in files {
            let p = dir.join(rel);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(p, text).expect("write");
        }
        dir.to_string_lossy().into_owned()
    }

    /// No build container, mount, cgroup or temp dir is left.
    #[track_caller]
    fn assert_nothing_left(&self) {
        let containers = self.tmp.path().join("containers");
        let left: Vec<_> = fs::read_dir(&containers).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "containers left: {left:?}");
        let root = self.tmp.path().to_string_lossy().into_owned();
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        assert!(!mounts.contains(&root), "mount left under {root}");
        // Build cgroups are named by random ids, not by root: one without processes may belong
        // to a parallel test's build being removed right now, so it must be gone within 3 s.
        let t0 = std::time::Instant::now();
        loop {
            let dead = dead_build_cgroups();
            if dead.is_empty() {
                break;
            }
            assert!(t0.elapsed() < support::patience(std::time::Duration::from_secs(3)), "cgroups left: {dead:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let tmp: Vec<_> = fs::read_dir(self.tmp.path().join("images/tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(tmp.is_empty(), "temp files left in the image store: {tmp:?}");
    }
}

impl Drop for Root {
    /// A failed test still must not leak its build containers.
    fn drop(&mut self) {
        let roots = berth::paths::Roots::new(Some(self.tmp.path()));
        let rt = berth::runtime::Runtime::new(&roots);
        for st in rt.list().unwrap_or_default() {
            let _ = rt.remove(&st.id, true);
            let _ = berth::network::release_container(&roots, &st.id);
        }
        // RUN steps and `berth run` made the root's default bridge (kept, as docker0 is).
        let _ = support::remove_default_network(self.tmp.path());
    }
}

/// `build-*` cgroups with no process in them.
fn dead_build_cgroups() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for cg in support::berth_cgroups() {
        if cg.file_name().unwrap_or_default().to_string_lossy().starts_with("build-") && !cgroup_live(&cg) {
            out.push(cg);
        }
    }
    out
}

/// A build cgroup of another test running in parallel still has processes.
fn cgroup_live(p: &Path) -> bool {
    fs::read_to_string(p.join("cgroup.procs")).is_ok_and(|s| !s.trim().is_empty())
}

const APP: &str = r#"# a test image
ARG GREETING=hello
FROM busybox:latest
ARG GREETING
ENV APP_HOME=/srv/app \
    SAID=${GREETING:-nothing}
WORKDIR $APP_HOME
RUN echo "$GREETING from run" > made.txt && rm /etc/hostname
COPY . ./
USER app
EXPOSE 8080
LABEL org.example.kind="test image"
CMD ["cat", "/srv/app/made.txt"]
"#;

#[test]
fn dockerfile_builds_runs_and_rebuilds_from_cache() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    let ctx = r.context(
        "ctx",
        &[("Dockerfile", APP), (".dockerignore", "secret.txt\n"), ("data.txt", "data\n"), ("secret.txt", "no\n")],
    );
    let b = r.berth(&["image", "build", "-t", "myapp:1", &ctx]);
    b.success();
    assert!(b.stderr().contains("RUN echo"), "{}", b.text());
    let out = r.berth(&["run", "--rm", "myapp:1"]);
    assert_eq!(out.success().stdout(), "hello from run\n");
    let probe = "ls /srv/app; test -e /etc/hostname && echo HOSTNAME-EXISTS; pwd; id -u; echo $SAID";
    // No network: its /etc/hostname would be bound in, and this asks what the layers hold.
    let o = r.berth(&["run", "--rm", "--network", "none", "myapp:1", "sh", "-c", probe]);
    let text = o.success().stdout();
    assert!(text.contains("data.txt") && text.contains("made.txt"), "{text}");
    assert!(!text.contains("secret.txt"), ".dockerignore must exclude secret.txt: {text}");
    assert!(!text.contains("HOSTNAME-EXISTS"), "the RUN deleted /etc/hostname: {text}");
    assert!(text.contains("/srv/app\n1000\nhello\n"), "workdir, user, env: {text}");
    let inspect = r.berth(&["image", "inspect", "myapp:1"]).success().stdout();
    assert!(inspect.contains("8080/tcp") && inspect.contains("test image"), "{inspect}");
    let id1 = r.berth(&["image", "build", "-q", "-t", "myapp:1", &ctx]).success().stdout();
    let t0 = std::time::Instant::now();
    let again = r.berth(&["image", "build", "-t", "myapp:1", &ctx]);
    let took = t0.elapsed();
    again.success();
    assert!(again.stderr().contains("3 cached"), "every layer step (WORKDIR, RUN, COPY) cached: {}", again.text());
    assert!(!again.stderr().contains("hello from run"), "the RUN did not run again: {}", again.text());
    assert!(took < support::patience(std::time::Duration::from_secs(5)), "cached rebuild took {took:?}");
    let id2 = r.berth(&["image", "build", "-q", "-t", "myapp:1", &ctx]).success().stdout();
    assert_eq!(id1, id2, "a fully cached rebuild gives the same image id");
    let changed = r.berth(&["image", "build", "-q", "--build-arg", "GREETING=hi", "-t", "myapp:2", &ctx]);
    assert_ne!(changed.success().stdout(), id1);
    assert_eq!(r.berth(&["run", "--rm", "myapp:2"]).success().stdout(), "hi from run\n");
    r.assert_nothing_left();
}

#[test]
fn failing_run_names_the_line_and_leaves_nothing() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    let ctx =
        r.context("ctx", &[("Dockerfile", "FROM busybox:latest\nRUN echo step-one\nRUN echo about to fail; exit 3\n")]);
    let b = r.berth(&["image", "build", "-t", "bad:1", &ctx]);
    b.failure();
    assert!(b.stderr().contains("Dockerfile:3:"), "{}", b.text());
    assert!(b.stderr().contains("exit code 3"), "{}", b.text());
    assert!(b.stderr().contains("about to fail"), "output is streamed: {}", b.text());
    assert!(r.berth(&["image", "inspect", "bad:1"]).out.status.code() != Some(0));
    r.assert_nothing_left();
    let ctx2 = r.context("ctx2", &[("Dockerfile", "FROM busybox:latest\nRUN true\nBOGUS x\n")]);
    let p = r.berth(&["image", "build", "-t", "bad:2", &ctx2]);
    assert!(p.failure().stderr().contains("Dockerfile:3: unknown instruction `BOGUS`"), "{}", p.text());
}

#[test]
fn multi_stage_copies_from_an_earlier_stage() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    let df = "FROM busybox:latest AS builder\nRUN mkdir /out && echo built > /out/artifact && echo junk > /out/junk\n\
              FROM busybox:latest\nCOPY --from=builder /out/artifact /artifact\nCOPY --from=0 --chown=app:app /out/junk /home/app/\n\
              CMD [\"cat\", \"/artifact\"]\n";
    let ctx = r.context("ctx", &[("Dockerfile", df)]);
    r.berth(&["image", "build", "-t", "multi:1", &ctx]).success();
    assert_eq!(r.berth(&["run", "--rm", "multi:1"]).success().stdout(), "built\n");
    let o = r.berth(&["run", "--rm", "multi:1", "sh", "-c", "stat -c %u /home/app/junk; test -d /out || echo no-out"]);
    assert_eq!(o.success().stdout(), "1000\nno-out\n");
    r.berth(&["image", "build", "--target", "builder", "-t", "multi:builder", &ctx]).success();
    let o = r.berth(&["run", "--rm", "multi:builder", "cat", "/out/artifact"]);
    assert_eq!(o.success().stdout(), "built\n");
    r.assert_nothing_left();
}

#[test]
fn stack_with_build_comes_up_and_up_build_rebuilds() {
    if !require_root() {
        return;
    }
    let mut s = Stack::new("build").image("busybox:latest").file(
        "services:\n  app:\n    build:\n      context: ./app\n      args: {WORD: one}\n    command: [sleep, '600']\n",
    );
    let app = s.dir.join("app");
    fs::create_dir_all(&app).expect("mkdir app");
    fs::write(app.join("Dockerfile"), "FROM busybox:latest\nARG WORD\nCOPY msg /msg\nRUN echo $WORD > /word\n")
        .expect("write");
    fs::write(app.join("msg"), "first\n").expect("write");
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "app", "cat /msg /word"), "first\none\n");
    let before = s.runtime_state("app", 1).expect("container").created_at;
    s.up(&["-d"]).success();
    assert_eq!(s.runtime_state("app", 1).expect("container").created_at, before, "no change, no recreate");
    fs::write(app.join("msg"), "second\n").expect("write");
    let up = s.up(&["-d", "--build"]);
    up.success();
    assert_eq!(sh_until_ok(&s, "app", "cat /msg"), "second\n");
    assert_ne!(s.runtime_state("app", 1).expect("container").created_at, before, "recreated with the new image");
    let b = s.berth(&["build", "-q"]);
    assert!(b.success().stdout().starts_with("sha256:"), "{}", b.text());
    s.down_clean();
}

/// `build -m` limits each RUN container's memory (as Compose's classic builder; Compose's
/// deprecated `--compress`, `--force-rm`, `--no-rm` are accepted), and in compatibility mode
/// the built image is named `<project>_<service>`, the name `up` then runs.
#[test]
fn build_memory_limit_and_compatibility_image_name() {
    if !require_root() {
        return;
    }
    let mut s = Stack::new("buildmem")
        .image("busybox:latest")
        .file("services:\n  app:\n    build: ./app\n    command: [sleep, '600']\n");
    let app = s.dir.join("app");
    fs::create_dir_all(&app).expect("mkdir app");
    let probe = "RUN echo limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)";
    fs::write(app.join("Dockerfile"), format!("FROM busybox:latest\n{probe}\n")).expect("write");
    let b = s.berth(&["--compatibility", "build", "-m", "48m", "--compress", "--force-rm", "--no-rm"]);
    b.success();
    assert!(b.stderr().contains(&format!("limit={}", 48u64 << 20)), "{}", b.text());
    let image = format!("{}_app", s.project);
    s.berth(&["image", "inspect", &image]).success();
    let bad = s.berth(&["build", "-m", "1k", "--no-cache"]);
    assert!(bad.failure().stderr().contains("the minimum is 6 MiB"), "{}", bad.text());
    s.berth(&["--compatibility", "up", "-d"]).success();
    let ps = s.berth(&["--compatibility", "ps", "--format", "{{.Name}} {{.Image}}"]);
    assert_eq!(ps.success().stdout(), format!("{}_app_1 {image}\n", s.project));
    s.down_clean();
    s.berth(&["image", "rm", &image]).success();
}

/// A build of a Dockerfile whose RUN sleeps (its shell's command line holds `marker`):
/// `berth build` of a stack service when `compose`, else `berth image build`; returns the
/// build and its RUN container's id once that runs.
#[allow(clippy::zombie_processes)] // the caller waits for the child it gets back
fn start_sleeping_build(r: &Root, marker: &str, compose: bool) -> (std::process::Child, String) {
    let df = format!("FROM busybox:latest\nRUN echo started; sleep 3600; echo {marker}\n");
    let stack = "services:\n  sleepy:\n    build: .\n";
    let ctx = r.context(marker, &[("Dockerfile", &df), ("compose.yaml", stack)]);
    let file = format!("{ctx}/compose.yaml");
    let args: Vec<&str> = if compose {
        vec!["-f", &file, "-p", "sleepy", "build"]
    } else {
        vec!["image", "build", "-t", "sleepy:1", &ctx]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(r.tmp.path())
        .args(args)
        .env_remove("BERTH_ROOT")
        .env_remove("COMPOSE_FILE")
        .env_remove("BERTH_PROJECT_NAME")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn berth");
    let rt = berth::runtime::Runtime::new(&berth::paths::Roots::new(Some(r.tmp.path())));
    let t0 = std::time::Instant::now();
    loop {
        let running = rt.list().unwrap_or_default().into_iter().find(|s| s.id.starts_with("build-") && s.is_running());
        if let Some(st) = running.filter(|_| !processes_with(marker).is_empty()) {
            return (child, st.id);
        }
        if t0.elapsed() > support::patience(std::time::Duration::from_secs(30)) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!("the RUN container did not start: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Pids of processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker) && *pid != std::process::id() as i32)
        })
        .collect()
}

/// Wait for `child` at most 20 s (killing it after that); its exit status and stderr.
fn wait_for(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let t0 = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if t0.elapsed() > support::patience(std::time::Duration::from_secs(20)) {
            let _ = child.kill();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wait");
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// No process, cgroup or state of build container `id` remains.
#[track_caller]
fn assert_container_gone(r: &Root, id: &str, marker: &str) {
    assert!(processes_with(marker).is_empty(), "the RUN's processes survive");
    assert!(!r.tmp.path().join("containers").join(id).exists(), "state of {id} left");
    let left = support::berth_cgroups_named(&berth::runtime::cgroup::leaf(
        berth::paths::Roots::new(Some(r.tmp.path())).id(),
        id,
    ));
    assert!(left.is_empty(), "cgroups of {id} left: {left:?}");
}

#[test]
fn interrupted_build_removes_its_run_container() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    // Ctrl-C on `berth build` (a stack service), SIGTERM on `berth image build`.
    use nix::sys::signal::Signal;
    for (sig, name, compose) in [(Signal::SIGINT, "SIGINT", true), (Signal::SIGTERM, "SIGTERM", false)] {
        let marker = format!("intr-{}-{name}", std::process::id());
        let (child, id) = start_sleeping_build(&r, &marker, compose);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        let (status, stderr) = wait_for(child);
        assert_eq!(status.code(), Some(130), "{name}: {stderr}");
        assert!(stderr.contains(&format!("build interrupted by {name}")), "{stderr}");
        assert_container_gone(&r, &id, &marker);
    }
    for image in ["sleepy:1", "sleepy-sleepy"] {
        assert!(r.berth(&["image", "inspect", image]).out.status.code() != Some(0), "{image} exists");
    }
    r.assert_nothing_left();
}

#[test]
fn sigkilled_build_is_swept_by_the_next_build() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    let marker = format!("killed-{}", std::process::id());
    let (mut child, id) = start_sleeping_build(&r, &marker, false);
    child.kill().expect("SIGKILL the build");
    let _ = child.wait();
    assert!(!processes_with(&marker).is_empty(), "SIGKILL cannot clean up: the RUN still runs");
    assert!(r.tmp.path().join("containers").join(&id).exists());
    let ctx = r.context("next", &[("Dockerfile", "FROM busybox:latest\nLABEL next=1\n")]);
    r.berth(&["image", "build", "-t", "next:1", &ctx]).success();
    assert_container_gone(&r, &id, &marker);
    r.assert_nothing_left();
}

const RULES: &str = r#"FROM busybox:latest
RUN mkdir -p /usr/lib2 && ln -s usr/lib2 /lib2
COPY --chmod=600 a.txt /lib2/
COPY dir /copied
COPY docs /docs
WORKDIR /made/by/root
USER app
WORKDIR /home/app/made
RUN touch mine && id -u > uid
COPY --chown=app a.txt ./owned.txt
COPY a.txt b.txt ./
ADD bundle.tar /unpacked/
"#;

const RULES_PROBE: &str = "test -L /lib2 && echo link-kept; stat -c %a /usr/lib2/a.txt; stat -c %u /copied/f; \
    ls /docs; stat -c %u:%g /made/by/root /home/app/made /home/app/made/mine; cat uid; \
    stat -c %u:%g owned.txt a.txt; cat /unpacked/inner.txt; pwd";

#[test]
fn dockerfile_rules_hold_in_the_image() {
    if !require_root() {
        return;
    }
    let r = Root::new();
    let ctx = r.context(
        "ctx",
        &[
            ("Dockerfile", RULES),
            (".dockerignore", "docs\n!docs/keep.md\n"),
            ("a.txt", "a\n"),
            ("b.txt", "b\n"),
            ("dir/f", "f\n"),
            ("docs/keep.md", "k\n"),
            ("docs/drop.md", "d\n"),
            ("bundle/inner.txt", "inner\n"),
        ],
    );
    // Files of the context owned by someone else still land root-owned.
    std::os::unix::fs::chown(Path::new(&ctx).join("dir/f"), Some(1234), Some(1234)).expect("chown");
    let tar = Command::new("tar").args(["-cf", "bundle.tar", "-C", "bundle", "inner.txt"]).current_dir(&ctx).status();
    assert!(tar.expect("run tar").success());
    r.berth(&["image", "build", "-t", "rules:1", &ctx]).success();
    let o = r.berth(&["run", "--rm", "--user", "root", "rules:1", "sh", "-c", RULES_PROBE]);
    let expected =
        "link-kept\n600\n0\nkeep.md\n0:0\n1000:1000\n1000:1000\n1000\n1000:1000\n0:0\ninner\n/home/app/made\n";
    assert_eq!(o.success().stdout(), expected, "{}", o.text());
    // `-f -`: the Dockerfile from stdin, as `docker build -f- CONTEXT`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(r.tmp.path())
        .args(["image", "build", "-q", "-t", "rules:2", "-f", "-", &ctx])
        .env_remove("BERTH_ROOT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn berth");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"FROM rules:1\nCOPY b.txt /from-stdin\n")
        .expect("write stdin");
    let out = support::stack::Run { out: child.wait_with_output().expect("wait") };
    out.success();
    let o = r.berth(&["run", "--rm", "rules:2", "cat", "/from-stdin"]);
    assert_eq!(o.success().stdout(), "b\n");
    // Heredocs: a script, and a command fed by the shell (`<<-` strips tabs).
    let df = "FROM busybox:latest\nRUN <<EOF\necho one > /h\n# a comment line of the script\necho two >> /h\nEOF\n\
              RUN cat <<-X >> /h\n\tthree\n\tX\nCMD [\"cat\", \"/h\"]\n";
    let hctx = r.context("heredoc", &[("Dockerfile", df)]);
    r.berth(&["image", "build", "-t", "heredoc:1", &hctx]).success();
    assert_eq!(r.berth(&["run", "--rm", "heredoc:1"]).success().stdout(), "one\ntwo\nthree\n");
    r.assert_nothing_left();
}

/// Copy a directory tree (the example stack) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read example").flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// GET / on 127.0.0.1:`port`: the response, headers and body.
fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).expect("timeout");
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

#[test]
fn example_build_app_stack_serves_its_built_page() {
    if !require_root() {
        return;
    }
    let mut s = Stack::new("buildapp").image("busybox:latest");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks/build-app");
    copy_tree(&example, &s.dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let up = s.command(&["up", "-d", "--wait"]).env("BUILD_APP_PORT", port.to_string()).output().expect("up");
    let up = support::stack::Run { out: up };
    up.success();
    let page = http_get(port);
    assert!(page.starts_with("HTTP/1.") && page.contains("<p>hello from a berth-built image</p>"), "{page}");
    let image = format!("{}-web", s.project);
    let inspect = s.berth(&["image", "inspect", &image]);
    assert!(inspect.success().stdout().contains("8080/tcp"), "{}", inspect.text());
    let ls = s.berth(&["run", "--rm", &image, "ls", "-A", "/srv/www"]);
    assert_eq!(ls.success().stdout(), "index.html\n", ".dockerignore keeps the Dockerfile out");
    s.berth(&["down", "--rmi", "local", "-t", "1"]).success();
    assert!(s.berth(&["image", "inspect", &image]).out.status.code() != Some(0), "--rmi local removes the build");
    s.berth(&["image", "inspect", "busybox:latest"]).success();
    s.down_clean();
}

#[test]
fn run_builds_a_missing_service_image_and_run_build_rebuilds() {
    if !require_root() {
        return;
    }
    let mut s = Stack::new("runbuild")
        .image("busybox:latest")
        .file("services:\n  app:\n    build:\n      context: ./app\n    command: [cat, /msg]\n");
    let app = s.dir.join("app");
    fs::create_dir_all(&app).expect("mkdir app");
    fs::write(app.join("Dockerfile"), "FROM busybox:latest\nCOPY msg /msg\n").expect("write");
    fs::write(app.join("msg"), "first\n").expect("write");
    // As `docker compose run`: the missing image is built first.
    let r = s.berth(&["run", "--rm", "app"]);
    assert_eq!((r.code(), r.stdout()), (0, "first\n".to_string()), "{}", r.text());
    // Present: used as it is; --build builds it again.
    fs::write(app.join("msg"), "second\n").expect("write");
    assert_eq!(s.berth(&["run", "--rm", "app"]).stdout(), "first\n");
    let r = s.berth(&["run", "--rm", "--build", "app"]);
    assert_eq!((r.code(), r.stdout()), (0, "second\n".to_string()), "{}", r.text());
    s.down_clean();
}

/// `up --no-build` (and `create --no-build`) never builds: a missing image is an error naming
/// the service, and nothing is made; a present one is used as it is, even stale. `--quiet-build`
/// builds without printing the steps (errors still show); `run --quiet-build` too.
#[test]
fn no_build_and_quiet_build() {
    if !require_root() {
        return;
    }
    let mut s = Stack::new("nobuild")
        .image("busybox:latest")
        .file("services:\n  app:\n    build:\n      context: ./app\n    command: [sleep, '1000']\n");
    let app = s.dir.join("app");
    fs::create_dir_all(&app).expect("mkdir app");
    fs::write(app.join("Dockerfile"), "FROM busybox:latest\nCOPY msg /msg\n").expect("write");
    fs::write(app.join("msg"), "first\n").expect("write");
    for cmd in [&["up", "-d", "--no-build"][..], &["create", "--no-build"][..]] {
        let r = s.berth(cmd);
        assert_ne!(r.code(), 0, "{cmd:?}: {}", r.text());
        assert!(r.stderr().contains("service `app`") && r.stderr().contains("--no-build"), "{}", r.text());
        assert!(s.record("app", 1).is_none(), "{cmd:?} made a container");
    }
    assert!(s.berth(&["up", "-d", "--no-build", "--build"]).code() != 0, "--no-build and --build together");
    // Quiet: the build's steps are not printed; without it they are.
    let r = s.berth(&["up", "-d", "--quiet-build"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert!(!r.stderr().contains("COPY msg /msg"), "quiet build printed its steps: {}", r.text());
    let cat = s.berth(&["exec", "app", "cat", "/msg"]);
    assert_eq!(cat.stdout(), "first\n", "{}", cat.text());
    let r = s.berth(&["run", "--rm", "--build", "app", "true"]);
    assert!(r.stderr().contains("COPY msg /msg"), "{}", r.text());
    let r = s.berth(&["run", "--rm", "--build", "--quiet-build", "app", "true"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert!(!r.stderr().contains("COPY msg /msg"), "{}", r.text());
    // Present (and stale): --no-build uses it; the container is not touched.
    fs::write(app.join("msg"), "second\n").expect("write");
    let r = s.berth(&["up", "-d", "--no-build", "-y"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert_eq!(s.berth(&["exec", "app", "cat", "/msg"]).stdout(), "first\n");
    s.down_clean();
}
