//! Watch mode end to end (`berth watch`, `berth up --watch`): sync of new, edited, deleted and
//! ignored files, sync+restart, sync+exec, rebuild, and the dev-watch example stack. Root only.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::stack::{sh, Stack};

/// A berth watch process in the background; killed (SIGINT, then SIGKILL) when dropped, so a
/// failing test leaves no watcher behind. Declare it after the `Stack`: it drops first, and
/// the stack's own guard then runs `down`.
struct Watcher {
    child: Child,
    log: PathBuf,
}

impl Watcher {
    fn start(s: &Stack, args: &[&str], env: &[(&str, String)]) -> Watcher {
        let log = s.tmp.path().join(format!("watch-{}.log", args.join("_").replace('/', "")));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = s.command(args);
        cmd.stdin(Stdio::null()).stdout(file.try_clone().expect("dup")).stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let w = Watcher { child: cmd.spawn().expect("spawn berth watch"), log };
        w.wait_for("Watch enabled", Duration::from_secs(120));
        w
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[track_caller]
    fn wait_for(&self, text: &str, timeout: Duration) {
        let timeout = support::patience(timeout);
        let t0 = Instant::now();
        while !self.output().contains(text) {
            assert!(t0.elapsed() < timeout, "no `{text}` from berth after {timeout:?}; it said:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGINT (as Ctrl-C) and wait; SIGKILL if it does not go within 30 s.
    fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `cat` in the service's container, or None when it fails.
fn cat(s: &Stack, svc: &str, path: &str) -> Option<String> {
    let r = sh(s, svc, &format!("cat {path}"));
    (r.code() == 0).then(|| r.stdout())
}

#[track_caller]
fn eventually(what: &str, timeout: Duration, f: impl FnMut() -> bool) {
    support::eventually(what, timeout, Duration::from_millis(100), f)
}

fn pid_of(s: &Stack, svc: &str) -> Option<i32> {
    s.runtime_state(svc, 1).and_then(|st| st.pid)
}

#[test]
fn sync_copies_new_edited_and_deleted_files_and_skips_ignored_ones() {
    if !support::require_root() {
        return;
    }
    let s = Stack::new("wsync").image("busybox:latest").file(
        "services:\n  web:\n    image: busybox:latest\n    command: [sleep, '3600']\n    develop:\n      watch:\n        \
         - {action: sync, path: ./src, target: /app/src, ignore: ['*.tmp', 'cache/']}\n",
    );
    let src = s.dir.join("src");
    write(&src.join("keep.txt"), "v1");
    write(&src.join("old.txt"), "old");
    let mut w = Watcher::start(&s, &["watch"], &[]);
    let t = Duration::from_secs(20);
    write(&src.join("new.txt"), "new");
    eventually("new file synced", t, || cat(&s, "web", "/app/src/new.txt").as_deref() == Some("new"));
    w.wait_for("Syncing service \"web\" after", t);
    write(&src.join("keep.txt"), "v2");
    eventually("edited file synced", t, || cat(&s, "web", "/app/src/keep.txt").as_deref() == Some("v2"));
    // The deletion needs the file in the container first.
    eventually("old file synced", t, || {
        std::fs::write(src.join("old.txt"), "old2").unwrap();
        cat(&s, "web", "/app/src/old.txt").is_some()
    });
    std::fs::remove_file(src.join("old.txt")).unwrap();
    eventually("deleted file deleted", t, || cat(&s, "web", "/app/src/old.txt").is_none());
    write(&src.join("sub/dir/deep.txt"), "deep");
    write(&src.join("x.tmp"), "ignored");
    write(&src.join("cache/c.txt"), "ignored");
    eventually("file in a new subdirectory synced", t, || {
        cat(&s, "web", "/app/src/sub/dir/deep.txt").as_deref() == Some("deep")
    });
    // The ignored files were written before the last synced one: they would be there by now.
    std::thread::sleep(Duration::from_millis(500));
    assert!(cat(&s, "web", "/app/src/x.tmp").is_none(), "ignored *.tmp was synced");
    assert!(cat(&s, "web", "/app/src/cache/c.txt").is_none(), "ignored cache/ was synced");
    w.stop();
    let mut s = s;
    s.down_clean();
}

#[test]
fn a_rule_path_made_after_watch_starts_is_picked_up() {
    if !support::require_root() {
        return;
    }
    let s = Stack::new("wlater").image("busybox:latest").file(
        "services:\n  web:\n    image: busybox:latest\n    command: [sleep, '3600']\n    develop:\n      watch:\n        \
         - {action: sync, path: ./gen/out, target: /app/out}\n",
    );
    let mut w = Watcher::start(&s, &["watch"], &[]);
    assert!(w.output().contains("does not exist yet"), "no notice of the missing path:\n{}", w.output());
    let t = Duration::from_secs(20);
    // Made in steps, as a build tool would: the parent, then the dir with a file already in it
    // (written before any watch on the dir could exist), then a later edit.
    std::fs::create_dir(s.dir.join("gen")).unwrap();
    let staging = s.dir.join("gen/.staging");
    write(&staging.join("first.txt"), "one");
    std::fs::rename(&staging, s.dir.join("gen/out")).unwrap();
    w.wait_for("appeared: watching it", t);
    eventually("file made before the watch synced", t, || {
        cat(&s, "web", "/app/out/first.txt").as_deref() == Some("one")
    });
    write(&s.dir.join("gen/out/second.txt"), "two");
    eventually("later file synced", t, || cat(&s, "web", "/app/out/second.txt").as_deref() == Some("two"));
    w.stop();
    let mut s = s;
    s.down_clean();
}

#[test]
fn sync_restart_restarts_and_sync_exec_runs_the_hook() {
    if !support::require_root() {
        return;
    }
    let s = Stack::new("wrestart").image("busybox:latest").file(
        "services:\n  api:\n    image: busybox:latest\n    command: [sleep, '3600']\n    develop:\n      watch:\n        \
         - {action: sync+restart, path: ./conf, target: /etc/api}\n  \
         worker:\n    image: busybox:latest\n    command: [sleep, '3600']\n    develop:\n      watch:\n        \
         - action: sync+exec\n          path: ./jobs\n          target: /jobs\n          \
         exec: {command: [sh, -c, 'cat /jobs/job.txt > /tmp/hook-ran']}\n",
    );
    std::fs::create_dir_all(s.dir.join("conf")).unwrap();
    std::fs::create_dir_all(s.dir.join("jobs")).unwrap();
    let mut w = Watcher::start(&s, &["watch"], &[]);
    let t = Duration::from_secs(30);
    let before = pid_of(&s, "api").expect("api running");
    write(&s.dir.join("conf/api.conf"), "level=debug");
    eventually("api restarted", t, || pid_of(&s, "api").is_some_and(|p| p != before));
    eventually("config synced", t, || cat(&s, "api", "/etc/api/api.conf").as_deref() == Some("level=debug"));
    w.wait_for("Restarting service \"api\"", t);
    write(&s.dir.join("jobs/job.txt"), "job-1");
    eventually("exec hook ran", t, || cat(&s, "worker", "/tmp/hook-ran").as_deref() == Some("job-1"));
    w.stop();
    let mut s = s;
    s.down_clean();
}

#[test]
fn rebuild_recreates_the_container_with_the_new_image() {
    if !support::require_root() {
        return;
    }
    let s = Stack::new("wrebuild").image("busybox:latest").file(
        "services:\n  app:\n    build: ./app\n    command: [sleep, '3600']\n    develop:\n      watch:\n        \
         - {action: rebuild, path: ./app/Dockerfile}\n",
    );
    write(&s.dir.join("app/Dockerfile"), "FROM busybox:latest\nENV V=one\n");
    let mut w = Watcher::start(&s, &["watch", "--prune"], &[]);
    let t = Duration::from_secs(60);
    let v = |s: &Stack| sh(s, "app", "echo $V").stdout().trim().to_string();
    assert_eq!(v(&s), "one");
    let before = pid_of(&s, "app").expect("app running");
    write(&s.dir.join("app/Dockerfile"), "FROM busybox:latest\nENV V=two\n");
    w.wait_for("Rebuilding service \"app\" after changes were detected", t);
    eventually("container recreated from the new image", t, || v(&s) == "two");
    assert_ne!(pid_of(&s, "app"), Some(before));
    w.stop();
    let mut s = s;
    s.down_clean();
}

#[test]
fn services_without_watch_rules_are_an_error() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("wnone").file("services:\n  a:\n    image: busybox:latest\n");
    let r = s.berth(&["watch", "--no-up"]);
    r.failure();
    assert!(r.text().contains("none of the selected services is configured for watch"), "{}", r.text());
    s.down_clean();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn dev_watch_example_syncs_edits_into_the_served_page() {
    if !support::require_root() {
        return;
    }
    let s = Stack::new("devwatch").image("busybox:latest");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks/dev-watch");
    copy_dir(&example, &s.dir);
    let port = free_port();
    let mut w = Watcher::start(&s, &["up", "--watch"], &[("DEV_WATCH_PORT", port.to_string())]);
    let t = Duration::from_secs(30);
    eventually("the page is served", t, || {
        support::http::get_any(port, "/index.html").is_some_and(|b| b.contains("dev-watch"))
    });
    write(&s.dir.join("app/src/index.html"), "<h1>edited by the test</h1>");
    eventually("the edit is served", t, || {
        support::http::get_any(port, "/index.html").is_some_and(|b| b.contains("edited by the test"))
    });
    write(&s.dir.join("app/config/app.conf"), "GREETING=\"hello again\"\n");
    w.wait_for("hello again", t);
    eventually("served after the restart", t, || {
        support::http::get_any(port, "/index.html").is_some_and(|b| b.contains("edited by the test"))
    });
    w.stop();
    let mut s = s;
    s.down_clean();
}
