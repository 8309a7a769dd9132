//! The container's cgroup (`berth/<id>`) through cgroups-rs, on cgroup v1, hybrid and v2
//! hosts. cgroups-rs decides v2 only when /sys/fs/cgroup itself is cgroup2, so a hybrid host
//! (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) is correctly treated as v1.

use std::fs;
use std::path::PathBuf;

use cgroups_rs::{hierarchies, Cgroup, CgroupPid, Controller, MaxValue};

use super::config::Resources;
use super::devices_bpf::{self, DEVICE_ALLOW};
use super::error::{Result, RuntimeError};

/// CFS period used for `cpus` (as Docker: 100 ms).
const CPU_PERIOD: u64 = 100_000;

pub fn name(id: &str) -> String {
    format!("berth/{id}")
}

fn cg_err(id: &str, reason: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Cgroup { path: name(id), reason: reason.to_string() }
}

/// The cgroups-rs view of our resources (cpus → quota/period, shares → weight on v2).
pub fn to_resources(r: &Resources, v2: bool) -> cgroups_rs::Resources {
    let mut res = cgroups_rs::Resources::default();
    res.memory.memory_hard_limit = r.memory;
    res.memory.memory_swap_limit = r.memory_swap;
    if let Some(cpus) = r.cpus {
        res.cpu.quota = Some((cpus * CPU_PERIOD as f64).round() as i64);
        res.cpu.period = Some(CPU_PERIOD);
    }
    res.cpu.shares = r.cpu_shares.map(|s| if v2 { shares_to_weight(s) } else { s });
    res.cpu.cpus = r.cpuset_cpus.clone();
    res.cpu.mems = r.cpuset_mems.clone();
    res.pid.maximum_number_of_processes = r.pids_limit.map(|n| if n <= 0 { MaxValue::Max } else { MaxValue::Value(n) });
    res.blkio.weight = r.blkio_weight;
    res
}

/// cgroup v2 cpu.weight from v1 shares (the formula runc and crun use).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}

/// Create the cgroup, apply the limits and, unless `privileged` (Docker: all devices), the
/// device allowlist.
pub fn create(id: &str, r: &Resources, privileged: bool) -> Result<Cgroup> {
    let v2 = hierarchies::auto().v2();
    // The shared parent `berth/` is removed when its last container goes (see `destroy`), so a
    // concurrent removal may delete it between our mkdir of the parent and of the child: retry.
    let mut attempt = 0;
    let cg = loop {
        match Cgroup::new(hierarchies::auto(), name(id)) {
            Ok(cg) => break cg,
            Err(_) if attempt < 5 => attempt += 1,
            Err(e) => return Err(cg_err(id, format!("create: {e}"))),
        }
    };
    cg.apply(&to_resources(r, v2)).map_err(|e| cg_err(id, format!("apply limits: {e}")))?;
    // cgroups-rs swallows some write errors; verify the ones a user asked for.
    if let (Some(want), Some(path)) = (r.memory, memory_dir(&cg)) {
        let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
        let got = fs::read_to_string(path.join(file)).unwrap_or_default();
        if got.trim().parse::<i64>().ok() != Some(want) {
            return Err(cg_err(id, format!("memory limit {want} not applied ({file} = {})", got.trim())));
        }
    }
    match (privileged, v2) {
        (true, _) => {}
        (false, false) => restrict_devices(id, &cg)?,
        (false, true) => restrict_devices_v2(id, &cg)?,
    }
    Ok(cg)
}

/// cgroup v2 has no devices.allow: attach the allowlist compiled to a BPF_CGROUP_DEVICE
/// program (see devices_bpf). Only reached when /sys/fs/cgroup itself is cgroup2 (cgroups-rs's
/// test), so a hybrid host's /sys/fs/cgroup/unified is never used here.
fn restrict_devices_v2(id: &str, cg: &Cgroup) -> Result<()> {
    let dir = PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT).join(cg.path());
    let rules = devices_bpf::parse_rules(DEVICE_ALLOW).map_err(|e| cg_err(id, e))?;
    devices_bpf::apply(&dir, &rules).map_err(|e| cg_err(id, e))
}

fn restrict_devices(id: &str, cg: &Cgroup) -> Result<()> {
    let Some(dev) = cg.controller_of::<cgroups_rs::devices::DevicesController>() else {
        return Ok(());
    };
    let dir = dev.path().to_path_buf();
    let write = |file: &str, v: &str| fs::write(dir.join(file), v).map_err(|e| cg_err(id, format!("{file} {v}: {e}")));
    write("devices.deny", "a")?;
    for rule in DEVICE_ALLOW {
        write("devices.allow", rule)?;
    }
    Ok(())
}

pub fn load(id: &str) -> Cgroup {
    Cgroup::load(hierarchies::auto(), name(id))
}

pub fn add_pid(id: &str, cg: &Cgroup, pid: i32) -> Result<()> {
    cg.add_task_by_tgid(CgroupPid::from(pid as u64)).map_err(|e| cg_err(id, format!("add pid {pid}: {e}")))
}

pub fn memory_dir(cg: &Cgroup) -> Option<PathBuf> {
    cg.controller_of::<cgroups_rs::memory::MemController>().map(|m| m.path().to_path_buf())
}

/// Directory of one controller ("memory", "pids", "cpu", …) of the container's cgroup.
pub fn controller_dir(id: &str, controller: &str) -> PathBuf {
    let cg = load(id);
    let found = match controller {
        "memory" => memory_dir(&cg),
        "pids" => cg.controller_of::<cgroups_rs::pid::PidController>().map(|c| c.path().to_path_buf()),
        "cpu" => cg.controller_of::<cgroups_rs::cpu::CpuController>().map(|c| c.path().to_path_buf()),
        _ => None,
    };
    found.unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup").join(name(id)))
}

/// Was a process of the cgroup killed by the OOM killer? v1: `oom_kill N` in
/// memory.oom_control; v2: `oom_kill N` in memory.events.
pub fn oom_killed(cg: &Cgroup) -> bool {
    let Some(dir) = memory_dir(cg) else { return false };
    let text = fs::read_to_string(dir.join("memory.events"))
        .or_else(|_| fs::read_to_string(dir.join("memory.oom_control")))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .any(|(k, v)| k == "oom_kill" && v.trim().parse::<u64>().unwrap_or(0) > 0)
}

/// Every process in the cgroup (any controller).
pub fn procs(cg: &Cgroup) -> Vec<i32> {
    let mut v: Vec<i32> = cg.procs().into_iter().map(|p| p.pid as i32).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Kill every process left in the cgroup and remove it; tolerant of a cgroup already gone.
pub fn destroy(id: &str) -> Result<()> {
    let cg = load(id);
    if !cg.exists() {
        return Ok(());
    }
    for _ in 0..100 {
        let pids = procs(&cg);
        if pids.is_empty() {
            break;
        }
        for p in pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::Signal::SIGKILL);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut last = Ok(());
    for _ in 0..50 {
        last = cg.delete();
        if last.is_ok() && !cg.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    last.map_err(|e| cg_err(id, format!("remove: {e}")))?;
    remove_empty_parent();
    Ok(())
}

/// Remove the shared `berth/` parent in every hierarchy once no container cgroup is left in
/// it, so a host without berth containers carries no berth cgroups. rmdir fails with EBUSY
/// while a child exists, which is exactly the check we want; a racing create retries.
fn remove_empty_parent() {
    let Ok(entries) = fs::read_dir("/sys/fs/cgroup") else { return };
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/sys/fs/cgroup/berth")];
    dirs.extend(entries.flatten().map(|e| e.path().join("berth")));
    for dir in dirs {
        if dir.is_dir() {
            let _ = fs::remove_dir(&dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_become_quota_and_period() {
        let r = Resources { cpus: Some(0.5), cpu_shares: Some(1024), pids_limit: Some(20), ..Default::default() };
        let res = to_resources(&r, false);
        assert_eq!((res.cpu.quota, res.cpu.period, res.cpu.shares), (Some(50_000), Some(CPU_PERIOD), Some(1024)));
        assert_eq!(res.pid.maximum_number_of_processes, Some(MaxValue::Value(20)));
        assert_eq!(to_resources(&r, true).cpu.shares, Some(39));
    }
}
