//! The container's cgroup (`berth/<id>`, or `berth/<id>@<root id>` outside the default state
//! root: see [`name`]) through cgroups-rs, on cgroup v1, hybrid and v2 hosts. cgroups-rs decides v2 only when /sys/fs/cgroup itself is cgroup2, so a hybrid host
//! (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) is correctly treated as v1.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use cgroups_rs::hierarchies::{self, V1};
use cgroups_rs::{Cgroup, CgroupPid, Controller, Controllers, Hierarchy, MaxValue, Subsystem};

use super::config::Resources;
use super::devices_bpf::{self, DEVICE_ALLOW};
use super::error::{Result, RuntimeError};
use super::{blkio, cgroup_home};

/// CFS period used for `cpus` (as Docker: 100 ms).
const CPU_PERIOD: u64 = 100_000;

/// The cgroup of container `id` of the state root with id `root_id` (`Roots::id`). Cgroups
/// are host-wide, so two roots with a container of the same name (one project name in two CI
/// jobs' roots) must not share one: a `down` in one would kill the other's processes, and a
/// limit set in one would change the other's. `@` never occurs in a container name, so no
/// name of the default root (whose id is empty and whose names are those of earlier
/// versions, kept across an upgrade) can be another root's. Flat under `berth/`, so cgroup
/// v2's no-internal-process rule and the removal of `berth/` work as before.
pub fn name(root_id: &str, id: &str) -> String {
    format!("berth/{}", leaf(root_id, id))
}

/// The last component of [`name`]: the container's directory under `berth/`.
pub fn leaf(root_id: &str, id: &str) -> String {
    if root_id.is_empty() {
        id.to_string()
    } else {
        format!("{id}@{root_id}")
    }
}

/// cgroups-rs's v1 hierarchy minus its hugetlb controller, whose construction compiles a regex
/// per huge page size (cgroups-rs 0.3 hugetlb.rs, parse_size): about 1 ms per `Cgroup` handle,
/// paid once in the monitor and once at removal, a tenth of a whole `berth run`. berth sets no
/// hugetlb limit; the container still gets (and joins) its own hugetlb cgroup, made and removed
/// here by path (see [`hugetlb_dir`]).
#[derive(Debug)]
struct LeanV1(V1);

impl Hierarchy for LeanV1 {
    /// V1's list, in V1's order (blkio before memory: cgroup writeback), without hugetlb.
    fn subsystems(&self) -> Vec<Subsystem> {
        use cgroups_rs::{blkio, cpu, cpuacct, cpuset, devices, freezer, memory, net_cls, net_prio, perf_event, pid};
        use cgroups_rs::{rdma, systemd};
        let mut subs = Vec::new();
        let mut add = |c: Controllers, make: fn(PathBuf) -> Subsystem| {
            if let Some(root) = self.0.get_mount_point(c) {
                subs.push(make(root));
            }
        };
        add(Controllers::BlkIo, |r| Subsystem::BlkIo(blkio::BlkIoController::new(r, false)));
        add(Controllers::Mem, |r| Subsystem::Mem(memory::MemController::new(r, false)));
        add(Controllers::Pids, |r| Subsystem::Pid(pid::PidController::new(r, false)));
        add(Controllers::CpuSet, |r| Subsystem::CpuSet(cpuset::CpuSetController::new(r, false)));
        add(Controllers::CpuAcct, |r| Subsystem::CpuAcct(cpuacct::CpuAcctController::new(r)));
        add(Controllers::Cpu, |r| Subsystem::Cpu(cpu::CpuController::new(r, false)));
        add(Controllers::Devices, |r| Subsystem::Devices(devices::DevicesController::new(r)));
        add(Controllers::Freezer, |r| Subsystem::Freezer(freezer::FreezerController::new(r, false)));
        add(Controllers::NetCls, |r| Subsystem::NetCls(net_cls::NetClsController::new(r)));
        add(Controllers::PerfEvent, |r| Subsystem::PerfEvent(perf_event::PerfEventController::new(r)));
        add(Controllers::NetPrio, |r| Subsystem::NetPrio(net_prio::NetPrioController::new(r)));
        add(Controllers::Rdma, |r| Subsystem::Rdma(rdma::RdmaController::new(r)));
        add(Controllers::Systemd, |r| Subsystem::Systemd(systemd::SystemdController::new(r, false)));
        subs
    }
    fn root(&self) -> PathBuf {
        self.0.root()
    }
    fn root_control_group(&self) -> Cgroup {
        self.0.root_control_group()
    }
    fn parent_control_group(&self, path: &str) -> Cgroup {
        self.0.parent_control_group(path)
    }
    fn v2(&self) -> bool {
        false
    }
}

/// Where the hugetlb v1 hierarchy is mounted (None: v2, or not mounted).
static HUGETLB_ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The hierarchy every handle here uses: cgroups-rs's own on v2, [`LeanV1`] on v1/hybrid.
fn hierarchy() -> Box<dyn Hierarchy> {
    if hierarchies::is_cgroup2_unified_mode() {
        let _ = HUGETLB_ROOT.set(None);
        return hierarchies::auto();
    }
    let v1 = V1::new();
    let _ = HUGETLB_ROOT.set(v1.get_mount_point(Controllers::HugeTlb));
    Box::new(LeanV1(v1))
}

/// The container's directory in the hugetlb hierarchy, when there is one (v1 only).
fn hugetlb_dir(cg: &Cgroup) -> Option<PathBuf> {
    if cg.v2() {
        return None;
    }
    let root = HUGETLB_ROOT.get_or_init(|| V1::new().get_mount_point(Controllers::HugeTlb));
    root.as_ref().map(|r| r.join(cg.path()))
}

/// Make the cgroup in every hierarchy: cgroups-rs's controllers, then hugetlb's directory. On
/// v2, only the controllers `r` needs are enabled, and only in berth's subtree (see
/// `cgroup_home::delegate_v2`): cgroups-rs left alone enables every one at the root.
fn make(path: &str, r: &Resources) -> std::result::Result<Cgroup, String> {
    let hier = hierarchy();
    let cg = if hier.v2() {
        let root = hier.root();
        let delegated = cgroup_home::delegate_v2(&root, &cgroup_home::v2_needed(r))
            .map_err(|e| format!("mkdir {}/{}: {e}", root.display(), cgroup_home::BERTH_DIR))?;
        Cgroup::new_with_specified_controllers(hier, path, Some(delegated))
    } else {
        Cgroup::new(hier, path)
    }
    .map_err(|e| e.to_string())?;
    if let Some(h) = hugetlb_dir(&cg) {
        fs::create_dir_all(&h).map_err(|e| format!("mkdir {}: {e}", h.display()))?;
    }
    Ok(cg)
}

fn cg_err(path: &str, reason: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Cgroup { path: path.to_string(), reason: reason.to_string() }
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
    // blkio_config is written by `blkio` (weights missing on most hosts warn, not fail).
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
pub fn create(root_id: &str, id: &str, r: &Resources, privileged: bool) -> Result<Cgroup> {
    let path = &name(root_id, id);
    // The shared parent `berth/` is removed when its last container goes (see `destroy`), so a
    // concurrent removal may delete it between our mkdir of the parent and of the child: retry.
    let mut attempt = 0;
    let cg = loop {
        match make(path, r) {
            Ok(cg) => break cg,
            Err(_) if attempt < 5 => attempt += 1,
            Err(e) => return Err(cg_err(path, format!("create: {e}"))),
        }
    };
    let v2 = cg.v2();
    cg.apply(&to_resources(r, v2)).map_err(|e| cg_err(path, format!("apply limits: {e}")))?;
    // cgroups-rs swallows some write errors; verify the ones a user asked for.
    if let (Some(want), Some(dir)) = (r.memory, memory_dir(&cg)) {
        let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
        let got = fs::read_to_string(dir.join(file)).unwrap_or_default();
        if got.trim().parse::<i64>().ok() != Some(want) {
            return Err(cg_err(path, format!("memory limit {want} not applied ({file} = {})", got.trim())));
        }
    }
    apply_blkio(path, &cg, r)?;
    match (privileged, v2) {
        (true, _) => {}
        (false, false) => restrict_devices(path, &cg)?,
        (false, true) => restrict_devices_v2(path, &cg)?,
    }
    Ok(cg)
}

/// `blkio_config`: see [`blkio`]. A weight the kernel cannot take is logged (the reconciler
/// warned the user before creating the container, see `blkio::weight_supported`).
fn apply_blkio(path: &str, cg: &Cgroup, r: &Resources) -> Result<()> {
    if r.blkio_weight.is_none() && r.blkio_devices.is_empty() {
        return Ok(());
    }
    let (dir, writes) = if cg.v2() {
        let dir = PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT).join(cg.path());
        let bfq = dir.join("io.bfq.weight").exists();
        let writes = blkio::v2_writes(r.blkio_weight, &r.blkio_devices, bfq);
        (dir, writes)
    } else {
        let Some(c) = cg.controller_of::<cgroups_rs::blkio::BlkIoController>() else {
            return Err(cg_err(
                path,
                "blkio_config needs the blkio cgroup controller, which this host has not mounted",
            ));
        };
        (c.path().to_path_buf(), blkio::v1_writes(r.blkio_weight, &r.blkio_devices))
    };
    for warning in blkio::apply(&dir, &writes).map_err(|e| cg_err(path, e))? {
        tracing::warn!(cgroup = path, "{warning}");
    }
    Ok(())
}

/// Directory of the container's blkio (v1) or io (v2) files.
pub fn blkio_dir(root_id: &str, id: &str) -> PathBuf {
    let cg = load(root_id, id);
    match cg.controller_of::<cgroups_rs::blkio::BlkIoController>() {
        Some(c) if !cg.v2() => c.path().to_path_buf(),
        _ => PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT).join(name(root_id, id)),
    }
}

/// cgroup v2 has no devices.allow: attach the allowlist compiled to a BPF_CGROUP_DEVICE
/// program (see devices_bpf). Only reached when /sys/fs/cgroup itself is cgroup2 (cgroups-rs's
/// test), so a hybrid host's /sys/fs/cgroup/unified is never used here.
fn restrict_devices_v2(path: &str, cg: &Cgroup) -> Result<()> {
    let dir = PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT).join(cg.path());
    let rules = devices_bpf::parse_rules(DEVICE_ALLOW).map_err(|e| cg_err(path, e))?;
    devices_bpf::apply(&dir, &rules).map_err(|e| cg_err(path, e))
}

fn restrict_devices(path: &str, cg: &Cgroup) -> Result<()> {
    let Some(dev) = cg.controller_of::<cgroups_rs::devices::DevicesController>() else {
        return Ok(());
    };
    let dir = dev.path().to_path_buf();
    let open = |file: &str| fs::OpenOptions::new().write(true).open(dir.join(file));
    let fail = |file: &str, v: &str, e: std::io::Error| cg_err(path, format!("{file} {v}: {e}"));
    open("devices.deny").and_then(|mut f| f.write_all(b"a")).map_err(|e| fail("devices.deny", "a", e))?;
    // One rule per write(2) (the kernel parses one rule per call), through one open file.
    let mut allow = open("devices.allow").map_err(|e| fail("devices.allow", "", e))?;
    for rule in DEVICE_ALLOW {
        allow.write_all(rule.as_bytes()).map_err(|e| fail("devices.allow", rule, e))?;
    }
    Ok(())
}

pub fn load(root_id: &str, id: &str) -> Cgroup {
    Cgroup::load(hierarchy(), name(root_id, id))
}

/// The `tasks` file of every v1 hierarchy of `cg`, for the container's first process to join
/// by itself (writing "0", see `child::join_cgroup`); None on cgroup v2.
///
/// Why not the monitor writing the child's pid to `cgroup.procs`: moving another process takes
/// the kernel's global `cgroup_threadgroup_rwsem` for writing, whose first writer after an idle
/// spell waits out an RCU grace period (7-15 ms on this 2-CPU host: the single biggest cost of
/// a start, paid by crun and runc too). A single thread moving itself ("0" in `tasks`) skips
/// that lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start: "If the thread is `current`,
/// it won't exit(2) under our hands"), and the container's first process is single-threaded.
pub fn self_join_files(cg: &Cgroup) -> Option<Vec<PathBuf>> {
    if cg.v2() {
        return None;
    }
    let mut files: Vec<PathBuf> = cg.subsystems().iter().map(|s| s.to_controller().path().join("tasks")).collect();
    files.extend(hugetlb_dir(cg).map(|h| h.join("tasks")));
    (!files.is_empty()).then_some(files)
}

/// The cgroup's directory when it is a v2 one (for `clone3::clone_into_cgroup`).
pub fn v2_dir(cg: &Cgroup) -> Option<PathBuf> {
    cg.v2().then(|| PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT).join(cg.path()))
}

/// Move process `pid` into the cgroup. The calling process itself, when single-threaded, joins
/// like the container's first process (see [`self_join_files`]: no grace-period wait).
pub fn add_pid(cg: &Cgroup, pid: i32) -> Result<()> {
    let fail = |e: String| cg_err(cg.path(), format!("add pid {pid}: {e}"));
    if pid as u32 == std::process::id() && single_threaded() {
        if let Some(files) = self_join_files(cg) {
            for f in files {
                fs::write(&f, "0").map_err(|e| fail(format!("{}: {e}", f.display())))?;
            }
            return Ok(());
        }
    }
    cg.add_task_by_tgid(CgroupPid::from(pid as u64)).map_err(|e| fail(e.to_string()))?;
    if let Some(h) = hugetlb_dir(cg) {
        fs::write(h.join("cgroup.procs"), pid.to_string()).map_err(|e| fail(format!("{}: {e}", h.display())))?;
    }
    Ok(())
}

/// Only this thread in the process (/proc/self/task has one entry).
fn single_threaded() -> bool {
    fs::read_dir("/proc/self/task").map(|d| d.count() == 1).unwrap_or(false)
}

pub fn memory_dir(cg: &Cgroup) -> Option<PathBuf> {
    cg.controller_of::<cgroups_rs::memory::MemController>().map(|m| m.path().to_path_buf())
}

/// Directory of one controller ("memory", "pids", "cpu", …) of the container's cgroup.
pub fn controller_dir(root_id: &str, id: &str, controller: &str) -> PathBuf {
    let cg = load(root_id, id);
    let found = match controller {
        "memory" => memory_dir(&cg),
        "pids" => cg.controller_of::<cgroups_rs::pid::PidController>().map(|c| c.path().to_path_buf()),
        "cpu" => cg.controller_of::<cgroups_rs::cpu::CpuController>().map(|c| c.path().to_path_buf()),
        "cpuset" => cg.controller_of::<cgroups_rs::cpuset::CpuSetController>().map(|c| c.path().to_path_buf()),
        _ => None,
    };
    found.unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup").join(name(root_id, id)))
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
    if let Some(text) = hugetlb_dir(cg).and_then(|h| fs::read_to_string(h.join("cgroup.procs")).ok()) {
        v.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Kill every process left in the cgroup and remove it; tolerant of a cgroup already gone.
pub fn destroy(root_id: &str, id: &str) -> Result<()> {
    let cg = load(root_id, id);
    let path = &name(root_id, id);
    let hugetlb = hugetlb_dir(&cg).filter(|h| h.is_dir());
    if !cg.exists() && hugetlb.is_none() {
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
        // A paused container's tasks die only once thawed (v1 freezer).
        let _ = super::freeze::thaw_if_frozen(root_id, id);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut last = Ok(());
    for _ in 0..50 {
        last = cg.delete().map_err(|e| e.to_string()).and_then(|()| match &hugetlb {
            Some(h) if h.is_dir() => fs::remove_dir(h).map_err(|e| format!("rmdir {}: {e}", h.display())),
            _ => Ok(()),
        });
        if last.is_ok() && !cg.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    last.map_err(|e| cg_err(path, format!("remove: {e}")))?;
    remove_empty_parent();
    Ok(())
}

/// Remove the shared `berth/` parent in every hierarchy once no container cgroup is left in
/// it, so a host without berth containers carries no berth cgroups. rmdir fails with EBUSY
/// while a child exists, which is exactly the check we want; a racing create retries.
fn remove_empty_parent() {
    cgroup_home::prune();
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

    /// What cgroups-rs writes on cgroup v2 for `cpus`, `cpu_shares` and `pids_limit`, on a
    /// fake cgroup directory holding the kernel's defaults (the real v2 files are tested in
    /// the v2 guest's runtime_limits run).
    #[test]
    fn v2_files_for_cpu_and_pids() {
        use cgroups_rs::{cpu::CpuController, pid::PidController};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("cpu.max"), "max 100000\n").unwrap();
        fs::write(p.join("cpu.weight"), "100\n").unwrap();
        fs::write(p.join("pids.max"), "max\n").unwrap();
        let r = Resources { cpus: Some(1.5), cpu_shares: Some(512), pids_limit: Some(64), ..Default::default() };
        let res = to_resources(&r, true);
        CpuController::new(p.to_path_buf(), true).apply(&res).unwrap();
        PidController::new(p.to_path_buf(), true).apply(&res).unwrap();
        let read = |f: &str| fs::read_to_string(p.join(f)).unwrap().trim().to_string();
        assert_eq!(read("cpu.max"), "150000 100000");
        assert_eq!(read("cpu.weight"), shares_to_weight(512).to_string());
        assert_eq!(read("cpu.weight"), "20");
        assert_eq!(read("pids.max"), "64");
        // pids_limit 0 or -1: unlimited.
        let unlimited = Resources { pids_limit: Some(-1), ..Default::default() };
        PidController::new(p.to_path_buf(), true).apply(&to_resources(&unlimited, true)).unwrap();
        assert_eq!(read("pids.max"), "max");
    }
}
