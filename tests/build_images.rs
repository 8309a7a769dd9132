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
        for ctrl in fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            for e in fs::read_dir(ctrl.path().join("berth")).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let ours = Path::new(&containers).join(&name).exists() || name.starts_with("build-");
                assert!(!ours || !name.starts_with("build-") || cgroup_live(&e.path()), "cgroup {name} left");
            }
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
    let o = r.berth(&["run", "--rm", "myapp:1", "sh", "-c", probe]);
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
    assert!(again.stderr().contains("2 cached"), "every layer step cached: {}", again.text());
    assert!(!again.stderr().contains("hello from run"), "the RUN did not run again: {}", again.text());
    assert!(took < std::time::Duration::from_secs(5), "cached rebuild took {took:?}");
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
