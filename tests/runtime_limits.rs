//! cgroup limits, as root on the real kernel: memory (+swap), pids, cpu quota/shares visible in
//! the container's cgroup files and enforced; an OOM kill recorded as such.

#[path = "runtime_common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use berth::runtime::{cgroup, Resources, Status};
use common::*;

fn read(env: &Env, id: &str, ctrl: &str, file: &str) -> String {
    let p = cgroup::controller_dir(env.roots.id(), id, ctrl).join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())).trim().to_string()
}

fn v2() -> bool {
    cgroups_rs::hierarchies::is_cgroup2_unified_mode()
}

#[test]
fn limits_are_written_to_the_cgroup() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("limits");
    let mut cfg = config(&env, &id, &["sleep", "30"]);
    cfg.resources = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(64 << 20),
        cpus: Some(0.5),
        cpu_shares: Some(512),
        pids_limit: Some(20),
        cpuset_cpus: Some("0".into()),
        ..Default::default()
    };
    env.rt.create(&cfg).unwrap();
    let pid = env.rt.start(&id).unwrap();
    assert_eq!(read(&env, &id, "cpuset", "cpuset.cpus"), "0");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|l| l == "Cpus_allowed_list:\t0"), "PID 1 runs on CPU 0 only:\n{status}");
    if v2() {
        assert_eq!(read(&env, &id, "memory", "memory.max"), (64u64 << 20).to_string());
        assert_eq!(read(&env, &id, "cpu", "cpu.max"), "50000 100000");
        // 512 shares in v1 terms, as runc and crun convert them.
        assert_eq!(read(&env, &id, "cpu", "cpu.weight"), "20");
    } else {
        assert_eq!(read(&env, &id, "memory", "memory.limit_in_bytes"), (64u64 << 20).to_string());
        assert_eq!(read(&env, &id, "memory", "memory.memsw.limit_in_bytes"), (64u64 << 20).to_string());
        assert_eq!(read(&env, &id, "cpu", "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&env, &id, "cpu", "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&env, &id, "cpu", "cpu.shares"), "512");
    }
    assert_eq!(read(&env, &id, "pids", "pids.max"), "20");
    assert!(read(&env, &id, "pids", "cgroup.procs").lines().any(|l| l == pid.to_string()), "PID 1 is in the cgroup");
    let st = env.rt.stop(&id, Some(Duration::from_secs(5))).unwrap();
    assert!(matches!(st.status, Status::Exited { .. }));
    remove_and_check(&env, &id);
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("pids");
    let mut cfg = config(
        &env,
        &id,
        &[
            "sh",
            "-c",
            // ash exits when fork fails, so the bomb runs in a child shell; counting uses builtins only.
            "sh -c 'i=0; while [ $i -lt 60 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/null; set -- /proc/[0-9]*; echo $#",
        ],
    );
    cfg.resources.pids_limit = Some(16);
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    let n: usize = out.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(999);
    assert!(n <= 16, "{n} processes despite pids limit 16 (exit {code}):\n{out}");
}

#[test]
fn oom_kill_is_detected_and_reported() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("oom");
    // dd's 64 MiB buffer cannot fit in 16 MiB (swap forbidden too).
    let mut cfg = config(&env, &id, &["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=4"]);
    cfg.resources.memory = Some(16 << 20);
    cfg.resources.memory_swap = Some(16 << 20);
    let (code, oom, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert!(oom, "OOM not reported (code {code}): {out}");
    assert_eq!(code, 137, "{out}");
}

#[test]
fn within_limits_nothing_is_oom() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("nooom");
    let mut cfg = config(&env, &id, &["dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=4"]);
    cfg.resources.memory = Some(32 << 20);
    let (code, oom, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!((code, oom), (0, false), "{out}");
}

#[test]
fn limits_are_visible_from_inside_read_only() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("inside");
    let script = if v2() {
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; echo 1 > /sys/fs/cgroup/pids.max 2>/dev/null || echo ro"
    } else {
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us; \
         echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo ro; grep -c . /proc/self/cgroup >/dev/null; cat /proc/self/cgroup | grep memory"
    };
    let mut cfg = config(&env, &id, &["sh", "-c", script]);
    cfg.resources = Resources { memory: Some(48 << 20), pids_limit: Some(30), cpus: Some(0.25), ..Default::default() };
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&(48u64 << 20).to_string()), "{out}");
    assert!(out.contains("30\n"), "{out}");
    assert!(out.contains("25000"), "{out}");
    assert!(out.contains("ro\n"), "{out}");
    if !v2() {
        assert!(out.contains("memory:/\n"), "the container's cgroup is its root: {out}");
    }
}
