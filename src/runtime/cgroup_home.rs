//! Where berth's own processes live in the cgroup tree, and which controllers berth switches on.
//!
//! Helpers (container monitors, the monitor zygote, the per-project supervisor, the port proxy)
//! must outlive whatever launched `berth up -d`. systemd stops a unit by killing every process
//! in the unit's cgroup (KillMode=control-group), and a logind session with KillUserProcesses
//! does the same to the session's scope, so a helper that stays in its launcher's cgroup dies
//! with it (DESIGN.md: "helpers live in berth's own cgroup subtree"). Each helper therefore moves
//! itself, first thing, into `berth/helpers` — a leaf beside the containers' cgroups
//! (`berth/<id>`) — in every hierarchy the host has:
//!
//! - pure v2 (systemd as PID 1): `/sys/fs/cgroup/berth/helpers`. systemd only manages the
//!   cgroups of its own units (slices, services, scopes) and leaves a top-level directory it
//!   did not create alone: stopping a unit, `daemon-reload` and `daemon-reexec` do not touch
//!   it (verified in the Debian 12 guest, see tests/systemd_v2.rs). A transient scope made
//!   through systemd's D-Bus API (`StartTransientUnit`, `Delegate=yes`) would be the other way;
//!   it needs a D-Bus client in every helper's start path and only works where systemd runs,
//!   while the directory works on every host, with or without systemd, through the same code.
//! - v1 and hybrid: `<hierarchy>/berth/helpers` in every mounted hierarchy (name=systemd and the
//!   hybrid `unified` one are what systemd tracks processes by; memory and pids would otherwise
//!   charge the helpers to the launcher's unit), except cpuset, whose fresh cgroups start with no
//!   CPUs (a helper left in the root cpuset is harmless: nothing kills by cpuset).
//!
//! cgroup v2's "no internal processes" rule is why helpers have a leaf of their own: `berth/`
//! delegates controllers to its children, so it may hold no process itself.
//!
//! Controllers on v2 ([`delegate_v2`]): only those a container needs (memory and pids always,
//! cpu, cpuset and io when its limits use them) are enabled, at the root only when missing (a
//! Debian 12 systemd host has memory and pids there) and in `berth/`; what berth had to switch
//! on at the root is switched off again when the last of berth's cgroups goes, so the root is
//! left as it was. cgroups-rs alone would enable every controller the kernel has at the root
//! (cpuset, hugetlb, rdma, misc…) for good, changing every systemd slice.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::config::Resources;

/// The cgroup v2 mount (cgroups-rs's test for "pure v2" is this being cgroup2).
pub const V2_ROOT: &str = "/sys/fs/cgroup";
/// berth's directory under each hierarchy's root.
pub const BERTH_DIR: &str = "berth";
/// The helpers' leaf, beside the containers' cgroups. Container ids never equal it.
pub const HELPERS_DIR: &str = "helpers";

/// Set once this process (or the zygote it was forked from) is in the helpers' cgroup.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// The controllers a container with resources `r` needs in `berth/` on cgroup v2. memory and
/// pids always (OOM reports, stats, `top`); the rest only when a limit asks for them, so a host
/// whose root lacks cpuset (say) is left without it.
pub fn v2_needed(r: &Resources) -> Vec<&'static str> {
    let mut v = vec!["memory", "pids"];
    if r.cpus.is_some() || r.cpu_shares.is_some() {
        v.push("cpu");
    }
    if r.cpuset_cpus.is_some() || r.cpuset_mems.is_some() {
        v.push("cpuset");
    }
    if r.blkio_weight.is_some() || !r.blkio_devices.is_empty() {
        v.push("io");
    }
    v
}

/// The controllers to write as `+name` to a `cgroup.subtree_control` whose current content is
/// `enabled`, in a cgroup whose `cgroup.controllers` is `available`: the `needed` ones that are
/// available and not yet enabled. Controllers the kernel does not offer are left out (the limit
/// that needed one then fails its own check, naming the file).
pub fn to_enable(available: &str, enabled: &str, needed: &[&str]) -> Vec<String> {
    let has = |list: &str, c: &str| list.split_whitespace().any(|x| x == c);
    needed.iter().filter(|c| has(available, c) && !has(enabled, c)).map(|c| c.to_string()).collect()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Enable `needed` in `dir`'s subtree_control, one write per controller (a controller that
/// cannot be enabled does not stop the others); returns the ones this call enabled.
fn enable_in(dir: &Path, needed: &[&str]) -> Vec<String> {
    let control = dir.join("cgroup.subtree_control");
    let mut added = Vec::new();
    for c in to_enable(&read(&dir.join("cgroup.controllers")), &read(&control), needed) {
        match fs::write(&control, format!("+{c}")) {
            Ok(()) => added.push(c),
            Err(e) => {
                tracing::debug!(dir = %dir.display(), controller = %c, error = %e, "cannot enable cgroup controller")
            }
        }
    }
    added
}

/// The xattr on `berth/` (v2) listing the controllers berth enabled at the root, so the
/// last removal of `berth/` switches them off again and leaves the root as it was.
const ROOT_ADDED_XATTR: &str = "trusted.berth.root_added";

/// Make `<root>/berth` delegate `needed` (v2): enabled at `root` only where missing (and
/// remembered, see [`ROOT_ADDED_XATTR`]), then in `berth/`. Returns the controllers `berth/`
/// delegates, for cgroups-rs to use (and enable nothing beyond). A concurrent last removal of
/// `berth/` may switch a root controller off between the two steps: checked, and done again.
pub fn delegate_v2(root: &Path, needed: &[&str]) -> io::Result<Vec<String>> {
    let berth = root.join(BERTH_DIR);
    let mut delegated = Vec::new();
    for _ in 0..3 {
        let added = enable_in(root, needed);
        mkdir(&berth)?;
        if !added.is_empty() {
            let mut all: Vec<String> =
                get_xattr(&berth, ROOT_ADDED_XATTR).split_whitespace().map(str::to_string).collect();
            all.extend(added);
            all.sort();
            all.dedup();
            set_xattr(&berth, ROOT_ADDED_XATTR, &all.join(" "));
        }
        enable_in(&berth, needed);
        let now = read(&berth.join("cgroup.subtree_control"));
        delegated = now.split_whitespace().map(str::to_string).collect();
        if to_enable(&read(&root.join("cgroup.controllers")), &now, needed).is_empty() {
            break;
        }
    }
    Ok(delegated)
}

/// rmdir `<root>/berth` (fails while anything is in it); when that worked, switch off at the
/// root what berth had switched on there (v2). A controller some other cgroup now delegates
/// stays (the kernel refuses with EBUSY).
fn remove_berth_dir(root: &Path) {
    let berth = root.join(BERTH_DIR);
    let added = get_xattr(&berth, ROOT_ADDED_XATTR);
    if fs::remove_dir(&berth).is_err() {
        return;
    }
    for c in added.split_whitespace() {
        let _ = fs::write(root.join("cgroup.subtree_control"), format!("-{c}"));
    }
}

/// An xattr's value ("" when absent or unreadable; getxattr(2), following symlinks).
fn get_xattr(p: &Path, name: &str) -> String {
    match xattr::get_deref(p, name) {
        Ok(Some(v)) => String::from_utf8_lossy(&v).into_owned(),
        _ => String::new(),
    }
}

fn set_xattr(p: &Path, name: &str, value: &str) {
    if let Err(e) = xattr::set_deref(p, name, value.as_bytes()) {
        tracing::debug!(path = %p.display(), error = %e, "cannot record the root's controllers");
    }
}

fn mkdir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// The hierarchies' roots a helper joins `berth/helpers` in, and whether each is cgroup2:
/// `/sys/fs/cgroup` on a pure v2 host; every v1 hierarchy but cpuset, and a hybrid host's
/// `unified`, otherwise. `hierarchies` is `cgroupfs::host_hierarchies`'s output.
pub fn helper_roots(hierarchies: &[(String, String, String)]) -> Vec<(PathBuf, bool)> {
    let base = Path::new(V2_ROOT);
    if let Some((_, _, _)) = hierarchies.iter().find(|(name, fstype, _)| name.is_empty() && fstype == "cgroup2") {
        return vec![(base.to_path_buf(), true)];
    }
    hierarchies
        .iter()
        .filter(|(name, _, _)| !name.is_empty() && !name.contains('/'))
        .filter(|(_, _, opts)| !opts.split(',').any(|o| o == "cpuset"))
        .map(|(name, fstype, _)| (base.join(name), fstype == "cgroup2"))
        .collect()
}

/// The helpers' leaf under one hierarchy root.
pub fn helpers_dir(root: &Path) -> PathBuf {
    root.join(BERTH_DIR).join(HELPERS_DIR)
}

/// Move the calling process into `berth/helpers` of every hierarchy (see the module doc). Call
/// it first thing in a helper; a process forked from one that did (the zygote's monitors) is
/// there already. A single-threaded caller on v1 writes "0" to `tasks`, which skips the
/// kernel's global threadgroup lock (see `cgroup::self_join_files`).
/// Why a helper could not move into berth's helpers' cgroup.
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    #[error("reading the cgroup hierarchies: {0}")]
    Hierarchies(String),
    #[error("joining {}", .dir.display())]
    Join {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub fn enter() -> Result<(), EnterError> {
    if ENTERED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let roots = helper_roots(&super::cgroupfs::hierarchies().map_err(EnterError::Hierarchies)?);
    let single = fs::read_dir("/proc/self/task").map(|d| d.count() == 1).unwrap_or(false);
    for (root, v2) in roots {
        join(&root, v2, single)?;
    }
    ENTERED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Join `berth/helpers` under `root`, making it as needed; a concurrent [`prune`] may remove
/// it between the mkdir and the write, so retry.
fn join(root: &Path, v2: bool, single_threaded: bool) -> Result<(), EnterError> {
    let dir = helpers_dir(root);
    let (file, what) = match (v2, single_threaded) {
        (false, true) => ("tasks", "0".to_string()),
        _ => ("cgroup.procs", std::process::id().to_string()),
    };
    let mut last = io::Error::other("not tried");
    for _ in 0..5 {
        let made = mkdir(&root.join(BERTH_DIR)).and_then(|()| mkdir(&dir));
        match made.and_then(|()| fs::write(dir.join(file), &what)) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(EnterError::Join { dir, source: last })
}

/// Remove `berth/helpers` (and `berth/` itself, when that empties it) in every hierarchy where
/// no process is left in it. rmdir fails (EBUSY) while a process or child cgroup is there,
/// which is exactly the check wanted; a racing helper retries its join.
pub fn prune() {
    let Ok(entries) = fs::read_dir(V2_ROOT) else { return };
    let mut roots = vec![PathBuf::from(V2_ROOT)];
    roots.extend(entries.flatten().map(|e| e.path()));
    for root in roots {
        if root.join(BERTH_DIR).is_dir() {
            let _ = fs::remove_dir(helpers_dir(&root));
            remove_berth_dir(&root);
        }
    }
}

/// A helper about to exit: when it is the last process in `berth/helpers`, step out to the
/// root cgroup and [`prune`], so a host without berth processes keeps no berth cgroups. Others
/// leave the pruning to the last one (or to the next container removal).
pub fn leave() {
    if !ENTERED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(hier) = super::cgroupfs::hierarchies() else { return };
    let roots = helper_roots(&hier);
    let me = std::process::id().to_string();
    let alone = roots.iter().all(|(root, _)| {
        read(&helpers_dir(root).join("cgroup.procs")).lines().all(|l| l.trim() == me || l.trim().is_empty())
    });
    if !alone {
        return;
    }
    for (root, _) in &roots {
        let _ = fs::write(root.join("cgroup.procs"), &me);
    }
    ENTERED.store(false, Ordering::Relaxed);
    prune();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_controllers_follow_the_limits() {
        assert_eq!(v2_needed(&Resources::default()), ["memory", "pids"]);
        let r =
            Resources { cpus: Some(0.5), cpuset_cpus: Some("0".into()), blkio_weight: Some(300), ..Default::default() };
        assert_eq!(v2_needed(&r), ["memory", "pids", "cpu", "cpuset", "io"]);
        // A throttle alone (no weight) needs io too; cpu_shares alone needs cpu.
        let throttle = crate::runtime::blkio::BlkioDevices {
            read_bps: vec![crate::runtime::blkio::DeviceValue { major: 8, minor: 0, value: 1 }],
            ..Default::default()
        };
        let r = Resources { cpu_shares: Some(512), blkio_devices: throttle, ..Default::default() };
        assert_eq!(v2_needed(&r), ["memory", "pids", "cpu", "io"]);
    }

    #[test]
    fn enables_only_what_is_needed_available_and_missing() {
        let available = "cpuset cpu io memory hugetlb pids rdma misc\n";
        // A systemd host's root: cpu io memory pids already on; nothing to add.
        assert!(to_enable(available, "cpu io memory pids\n", &["memory", "pids", "cpu"]).is_empty());
        // A bare root: only the needed ones, never hugetlb/rdma/misc.
        assert_eq!(to_enable(available, "", &["memory", "pids", "cpuset"]), ["memory", "pids", "cpuset"]);
        // A controller the kernel lacks is left out.
        assert_eq!(to_enable("memory pids", "memory", &["memory", "pids", "io"]), ["pids"]);
        // Whole names only: "cpu" is not satisfied by "cpuset".
        assert_eq!(to_enable(available, "cpuset", &["cpu"]), ["cpu"]);
    }

    fn h(name: &str, fstype: &str, opts: &str) -> (String, String, String) {
        (name.into(), fstype.into(), opts.into())
    }

    #[test]
    fn helpers_join_every_hierarchy_but_cpuset() {
        let v2 = [h("", "cgroup2", "nsdelegate")];
        assert_eq!(helper_roots(&v2), [(PathBuf::from("/sys/fs/cgroup"), true)]);
        let hybrid = [
            h("memory", "cgroup", "memory"),
            h("cpuset", "cgroup", "cpuset"),
            h("unified", "cgroup2", ""),
            h("systemd", "cgroup", "xattr,name=systemd"),
            h("cpu,cpuacct", "cgroup", "cpu,cpuacct"),
        ];
        let got: Vec<(String, bool)> =
            helper_roots(&hybrid).into_iter().map(|(p, v2)| (p.display().to_string(), v2)).collect();
        assert_eq!(
            got,
            [
                ("/sys/fs/cgroup/memory".to_string(), false),
                ("/sys/fs/cgroup/unified".to_string(), true),
                ("/sys/fs/cgroup/systemd".to_string(), false),
                ("/sys/fs/cgroup/cpu,cpuacct".to_string(), false),
            ]
        );
        assert_eq!(helpers_dir(Path::new("/sys/fs/cgroup")), PathBuf::from("/sys/fs/cgroup/berth/helpers"));
    }
}
