//! `berth run` end to end through the real binary: image resolution, flags, exit codes, --rm
//! leaving nothing, and a SIGKILLed CLI not taking its container (or its exit code) with it.

#[path = "runtime_common/mod.rs"]
mod common;
mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use berth::paths::Roots;
use berth::runtime::{Runtime, Status};

use support::oneoff::Cli;

fn cli() -> Cli {
    support::oneoff::cli("berth-cli-")
}

fn berth(c: &Cli, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("--root").arg(&c.root).args(args);
    cmd
}

fn containers(c: &Cli) -> usize {
    std::fs::read_dir(c.root.join("containers")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn run_rm_propagates_output_and_exit_code_and_leaves_nothing() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let out =
        berth(&c, &["run", "--rm", "busybox:test", "sh", "-c", "echo hi; echo err >&2; exit 5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(containers(&c), 0);
}

#[test]
fn run_flags_reach_the_container() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let script = "id -u; id -G; hostname; pwd; echo $FOO; grep CapEff /proc/self/status; cat /v/f; touch /z 2>/dev/null || echo ro";
    let vol = c.root.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("f"), "vol-ok\n").unwrap();
    let v = format!("{}:/v:ro", vol.display());
    let args = [
        "run",
        "--rm",
        "-u",
        "app",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp",
        "--hostname",
        "h1",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--memory",
        "64m",
        "--pids-limit",
        "32",
        "--cpus",
        "0.5",
        "-v",
        &v,
        "busybox:test",
        "sh",
        "-c",
        script,
    ];
    let out = berth(&c, &args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for want in ["1000\n", "2000", "h1\n", "/tmp\n", "bar\n", "CapEff:\t0000000000000000", "vol-ok", "ro\n"] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert_eq!(containers(&c), 0);
}

#[test]
fn missing_executable_is_a_clear_error() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let out = berth(&c, &["run", "--rm", "busybox:test", "/bin/nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exec: `/bin/nope` not found in the image"), "{err}");
    assert_eq!(containers(&c), 0);
}

#[test]
fn sigkill_of_the_cli_does_not_kill_the_container() {
    if !support::require_root() {
        return;
    }
    let c = cli();
    let mut child = berth(&c, &["run", "busybox:test", "sh", "-c", "sleep 2; echo done; exit 3"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let roots = Roots::new(Some(&c.root));
    let rt = Runtime::new(&roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
    // Kill the CLI once the container runs (however long a slow host takes to get there).
    let t0 = std::time::Instant::now();
    while !rt.list().unwrap().iter().any(|st| st.is_running()) {
        assert!(t0.elapsed() < support::patience(Duration::from_secs(10)), "the container never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let list = rt.list().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0].id.clone();
    let st = rt.wait_timeout(&id, support::patience(Duration::from_secs(10))).unwrap().expect("container exited");
    assert_eq!(st.status, Status::Exited { code: 3, oom: false });
    let log: String = berth::runtime::logs::read_all(&rt.log_path(&id)).into_iter().map(|l| l.log).collect();
    assert_eq!(log, "done\n");
    // Removed as a user would (`container rm`): the container and the network sandbox the
    // killed CLI had made for it (netns mount, veth, address).
    let rm = berth(&c, &["container", "rm", &id]).output().unwrap();
    assert!(rm.status.success(), "{}", String::from_utf8_lossy(&rm.stderr));
    common::assert_nothing_left(&roots, &id);
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(!mounts.contains(c.root.to_str().unwrap()), "a mount of the run is left:\n{mounts}");
}
