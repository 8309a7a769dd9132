//! Which mounts a container may be given. Refused, as runc refuses them (runc
//! `libcontainer/rootfs_linux.go` checkProcMount, CVE-2019-19921 / CVE-2019-16884 class): a mount
//! on `/`, on `/proc` or inside it (it would hide the container's procfs, or put a host file
//! where the kernel's masked and read-only paths are applied), and on `/sys` itself (it would
//! replace the read-only sysfs and its masks). Mounts inside /sys other than that stay allowed
//! (`/sys/fs/cgroup` binds are common); the masks are applied after them. Checked twice: on the
//! path as written at create (a clear error before anything is made), and on the path as it
//! resolves inside the rootfs at mount time (a symlink in the image such as `/x -> /proc` must
//! not lead around the first check).
//!
//! Warned about, not refused (Docker allows them; they are the user's explicit choice but
//! give a container the host): bind sources `/`, `/proc`, `/sys`, `/dev`, and the sockets of
//! container engines.

use std::path::{Component, Path, PathBuf};

/// Files inside /proc that may be bind-mounted over, as runc allows (lxcfs provides these).
const PROC_ALLOWED: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Host paths whose bind mount hands a container control of the host.
const DANGEROUS_SOURCES: &[(&str, &str)] = &[
    ("/", "the host's whole filesystem"),
    ("/proc", "the host's processes and kernel knobs"),
    ("/sys", "the host's kernel and device settings"),
    ("/dev", "the host's devices"),
    ("/var/run/docker.sock", "the Docker engine's API (root on the host)"),
    ("/run/docker.sock", "the Docker engine's API (root on the host)"),
    ("/run/containerd/containerd.sock", "containerd's API (root on the host)"),
    ("/run/podman/podman.sock", "podman's API (root on the host)"),
    ("/var/run/crio/crio.sock", "CRI-O's API (root on the host)"),
];

/// `p` with `.` and `..` applied and repeated slashes dropped, without touching the disk.
pub fn normalize(p: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(p).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Refuse a mount target that would cover `/`, `/proc` (or a path in it) or `/sys`.
pub fn check_target(target: &str) -> Result<(), String> {
    let t = normalize(target);
    let shown = t.display();
    if t == Path::new("/") {
        return Err(format!("mount target {target:?} is the container's root: mount it somewhere below /"));
    }
    if t == Path::new("/sys") {
        return Err(format!(
            "mount target {target:?} would replace the container's read-only /sys and its masked paths; mount below it instead"
        ));
    }
    if t.starts_with("/proc") && !PROC_ALLOWED.iter().any(|a| t == Path::new(a)) {
        return Err(format!(
            "mount target {target:?} ({shown}) is inside /proc: a mount there would hide the container's procfs or its masked paths (refused as runc does)"
        ));
    }
    Ok(())
}

/// Why a bind of `source` is dangerous, if it is.
pub fn dangerous_source(source: &Path) -> Option<&'static str> {
    let s = normalize(&source.to_string_lossy());
    DANGEROUS_SOURCES.iter().find(|(p, _)| s == Path::new(p)).map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_sys_and_root_targets_are_refused() {
        for t in
            ["/proc", "/proc/", "/proc/self", "/proc/sys/kernel", "//proc", "/x/../proc/kcore", "/sys", "/", "/a/.."]
        {
            assert!(check_target(t).is_err(), "{t} should be refused");
        }
        for t in ["/data", "/sys/fs/cgroup", "/procfs", "/proc/cpuinfo", "/proc/uptime", "/srv/proc"] {
            assert!(check_target(t).is_ok(), "{t} should be allowed");
        }
        let e = check_target("/proc/kcore").unwrap_err();
        assert!(e.contains("/proc") && e.contains("runc"), "{e}");
    }

    #[test]
    fn dangerous_sources_are_named() {
        assert!(dangerous_source(Path::new("/")).is_some());
        assert!(dangerous_source(Path::new("/var/run/docker.sock")).unwrap().contains("Docker"));
        assert!(dangerous_source(Path::new("/proc/")).is_some());
        assert!(dangerous_source(Path::new("/srv/data")).is_none());
    }
}
