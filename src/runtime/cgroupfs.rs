//! Step: the container's own cgroup at /sys/fs/cgroup, read-only, as Docker mounts it with a
//! private cgroup namespace: the workload reads its limits (memory.limit_in_bytes, pids.max,
//! cpu.cfs_quota_us, or memory.max and friends on v2) and sees its own cgroup as the root
//! (cgroup_namespaces(7)), but cannot change anything.
//!
//! v1 and hybrid hosts: a tmpfs with one mount per host hierarchy (same controller options,
//! `cgroup2` for the unified one), then the tmpfs turned read-only. Pure v2 hosts: one cgroup2.

use std::path::Path;

use nix::mount::MsFlags;

use super::rootfs::{fd_path, mnt, open_dir, open_in_root, R};

/// A cgroup hierarchy mounted on the host: (directory name under /sys/fs/cgroup, fstype, options).
pub fn host_hierarchies(mountinfo: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let point = left.split(' ').nth(4).unwrap_or("");
        let mut r = right.split(' ');
        let (Some(fstype), Some(_src), Some(opts)) = (r.next(), r.next(), r.next()) else { continue };
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let Some(name) = point.strip_prefix("/sys/fs/cgroup") else { continue };
        let name = name.trim_start_matches('/');
        let controllers: Vec<&str> = opts.split(',').filter(|o| *o != "rw" && *o != "ro").collect();
        out.push((name.to_string(), fstype.to_string(), controllers.join(",")));
    }
    out
}

type Hierarchies = Vec<(String, String, String)>;

static HIERARCHIES: std::sync::OnceLock<Result<Hierarchies, String>> = std::sync::OnceLock::new();

/// The host's hierarchies, read from mountinfo once per process. The zygote reads them before
/// it forks monitors, and a monitor before it clones the container's child, so the copies
/// inherit them: rendering mountinfo showed in every container start's profile.
pub fn hierarchies() -> Result<Hierarchies, String> {
    HIERARCHIES
        .get_or_init(|| {
            let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("read mountinfo: {e}"))?;
            Ok(host_hierarchies(&info))
        })
        .clone()
}

/// Mount the cgroup view under `root` (before pivot_root, after the cgroup namespace exists).
pub fn mount(root: &Path, read_only: bool) -> R {
    let rootfd = open_dir(root)?;
    // /sys is a read-only sysfs: use its cgroup directory if it has one, never create it.
    let Ok(target) = open_in_root(&rootfd, "sys/fs/cgroup") else { return Ok(()) };
    let t = fd_path(&target);
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    let hier = hierarchies()?;
    if let Some((_, _, _)) = hier.iter().find(|(name, fstype, _)| name.is_empty() && fstype == "cgroup2") {
        return mnt(Some("cgroup"), &t, Some("cgroup2"), flags, None);
    }
    let rw = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mnt(Some("tmpfs"), &t, Some("tmpfs"), rw, Some("mode=755"))?;
    // Re-resolve to reach the tmpfs just mounted (keep the fd open while its path is in use).
    let dirfd = open_in_root(&rootfd, "sys/fs/cgroup")?;
    let dir = fd_path(&dirfd);
    for (name, fstype, opts) in hier.iter().filter(|(n, _, _)| !n.is_empty() && !n.contains('/')) {
        let sub = dir.join(name);
        std::fs::create_dir(&sub).map_err(|e| format!("mkdir /sys/fs/cgroup/{name}: {e}"))?;
        let data = (fstype == "cgroup").then_some(opts.as_str());
        mnt(Some("cgroup"), &sub, Some(fstype), flags, data)?;
    }
    mnt(None, &dir, None, flags | MsFlags::MS_REMOUNT, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_v1_hybrid_and_v2_hierarchies() {
        let info = "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n\
                    31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                    32 25 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n\
                    40 1 0:30 / /proc rw - proc proc rw\n";
        let h = host_hierarchies(info);
        assert_eq!(h[0], ("memory".into(), "cgroup".into(), "memory".into()));
        assert_eq!(h[1], ("unified".into(), "cgroup2".into(), "".into()));
        assert_eq!(h[2], ("systemd".into(), "cgroup".into(), "xattr,name=systemd".into()));
        assert_eq!(h.len(), 3);
        let v2 = host_hierarchies("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        assert_eq!(v2, [("".to_string(), "cgroup2".to_string(), "nsdelegate".to_string())]);
    }
}
