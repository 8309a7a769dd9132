//! Monitors forked by the zygote (`Runtime::with_zygote`) behave like exec'd ones: same sealed
//! binary, empty environment, the same fds, detached from the starter; exit codes recorded;
//! and the zygote itself is gone once its Runtime is.

#[path = "runtime_common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::time::Duration;

use berth::runtime::{Runtime, Status};
use common::*;

/// What a monitor process looks like from /proc: (fd targets with pids and inode numbers
/// blanked, environment, parent pid, session leader?).
fn shape(pid: i32) -> (Vec<String>, Vec<u8>, i32, bool) {
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .map(|e| {
            let target = std::fs::read_link(e.path()).map(|t| t.display().to_string()).unwrap_or_default();
            let kind = target.split(':').next().unwrap_or("").to_string();
            let kind = if kind.starts_with('/') {
                Path::new(&target).file_name().unwrap().to_string_lossy().into()
            } else {
                kind
            };
            format!("{}={kind}", e.file_name().to_string_lossy())
        })
        .collect();
    fds.sort();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ppid: i32 = fields[1].parse().unwrap();
    let sid: i32 = fields[3].parse().unwrap();
    (fds, environ, ppid, sid == pid)
}

/// Both tests count the zygotes of this process: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Root only: the serial lock, a test env, and a zygote-enabled runtime on its state root.
fn setup() -> Option<(std::sync::MutexGuard<'static, ()>, Env, Runtime)> {
    if !support::require_root() {
        return None;
    }
    let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let env = env();
    let rt = Runtime::new(&env.roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor")).with_zygote();
    Some((serial, env, rt))
}

fn zygotes_of(parent: u32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok());
            comm.trim() == "berth-zygote" && ppid == Some(parent)
        })
        .collect()
}

#[test]
fn forked_monitors_match_execd_ones_and_the_zygote_goes_with_its_runtime() {
    let Some((_serial, env, rt)) = setup() else { return };
    let ids: Vec<String> = (0..4).map(|i| id(&format!("zy{i}"))).collect();
    for (i, cid) in ids.iter().enumerate() {
        let script = format!("echo hello {i}; sleep 1000");
        rt.create(&config(&env, cid, &["sh", "-c", &script])).unwrap();
    }
    for cid in &ids {
        rt.start(cid).unwrap();
    }
    // The first start exec'd the helper; the rest came from one zygote, a child of ours.
    assert_eq!(zygotes_of(std::process::id()).len(), 1, "one zygote while the runtime lives");
    // Logs flow through every monitor; once each has logged, each is past its setup (its fds
    // are those it keeps while the container runs).
    let t0 = std::time::Instant::now();
    for (i, cid) in ids.iter().enumerate() {
        while !output(&env, cid, false).contains(&format!("hello {i}")) {
            assert!(t0.elapsed() < support::patience(Duration::from_secs(10)), "no log line from {cid}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    let monitors: Vec<i32> = ids.iter().map(|c| rt.state(c).unwrap().monitor_pid.unwrap()).collect();
    let first = shape(monitors[0]);
    assert!(first.1.is_empty(), "exec'd monitor has an environment");
    assert_ne!(first.2, std::process::id() as i32, "exec'd monitor not detached");
    assert!(!first.3, "the monitor is the fork after setsid, not the session leader");
    let cwd0 = std::fs::read_link(format!("/proc/{}/cwd", monitors[0])).unwrap();
    assert_eq!(cwd0, env.roots.container_state(&ids[0]), "exec'd monitor works from its state dir");
    for (i, m) in monitors.iter().enumerate().skip(1) {
        let s = shape(*m);
        assert_eq!(s.0, first.0, "monitor {i}: fds differ from the exec'd monitor's");
        assert_eq!(s.1, first.1, "monitor {i}: environment differs");
        assert_ne!(s.2, std::process::id() as i32, "monitor {i} not detached");
        assert_eq!(s.3, first.3, "monitor {i}: session differs");
        let cwd = std::fs::read_link(format!("/proc/{m}/cwd")).unwrap();
        assert_eq!(cwd, env.roots.container_state(&ids[i]), "monitor {i} works from its state dir");
        let exe = std::fs::read_link(format!("/proc/{m}/exe")).unwrap();
        let exe0 = std::fs::read_link(format!("/proc/{}/exe", monitors[0])).unwrap();
        assert_eq!(exe, exe0, "monitor {i} runs another binary");
    }
    // Exit codes are recorded by forked monitors as by the exec'd one.
    for cid in ids.iter() {
        let st = rt.stop(cid, Some(Duration::from_secs(5))).unwrap();
        assert!(matches!(st.status, Status::Exited { code: 137, .. }), "{cid}: {:?}", st.status);
        remove_and_check(&env, cid);
    }
    drop(rt);
    assert!(zygotes_of(std::process::id()).is_empty(), "the zygote outlived its runtime");
}

#[test]
fn a_killed_zygote_falls_back_to_exec() {
    let Some((_serial, env, rt)) = setup() else { return };
    let ids: Vec<String> = (0..3).map(|i| id(&format!("zk{i}"))).collect();
    for cid in &ids {
        rt.create(&config(&env, cid, &["sleep", "1000"])).unwrap();
    }
    rt.start(&ids[0]).unwrap();
    rt.start(&ids[1]).unwrap();
    let zygotes = zygotes_of(std::process::id());
    assert_eq!(zygotes.len(), 1);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(zygotes[0]), nix::sys::signal::Signal::SIGKILL).unwrap();
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(zygotes[0]), None);
    rt.start(&ids[2]).expect("start after the zygote died");
    assert!(rt.state(&ids[2]).unwrap().is_running());
    for cid in &ids {
        rt.stop(cid, Some(Duration::from_secs(5))).unwrap();
        remove_and_check(&env, cid);
    }
}

#[test]
fn monitor_log_is_made_only_when_the_monitor_has_something_to_say() {
    if !support::require_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let env = env();
    let (ok, bad) = (id("mlok"), id("mlbad"));
    env.rt.create(&config(&env, &ok, &["sleep", "1000"])).unwrap();
    env.rt.create(&config(&env, &bad, &["/no/such/program"])).unwrap();
    env.rt.start(&ok).unwrap();
    let err = env.rt.start(&bad).expect_err("a missing program cannot start");
    let log = env.roots.container_state(&bad).join("monitor.log");
    let text = std::fs::read_to_string(&log).expect("monitor.log of the failed start");
    assert!(text.contains("/no/such/program"), "monitor.log says: {text}");
    assert!(err.to_string().contains("/no/such/program"), "error: {err}");
    assert!(!env.roots.container_state(&ok).join("monitor.log").exists(), "an empty monitor.log was made");
    env.rt.stop(&ok, Some(Duration::from_secs(5))).unwrap();
    remove_and_check(&env, &ok);
    remove_and_check(&env, &bad);
}
