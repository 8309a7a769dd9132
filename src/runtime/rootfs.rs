//! The container's root filesystem and standard mounts, done by the container child inside its
//! own mount namespace (mount_namespaces(7)), so the host never sees any of them and they all
//! vanish with the namespace. Errors are plain strings: they travel back to the CLI over the
//! child's error pipe.

use std::fs;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::config::{Mount, Propagation};
pub(super) use super::securepath::{fd_path, open_dir, open_in_root, secure_target};

pub type R<T = ()> = Result<T, String>;

/// OCI runtime-spec default masked paths: hidden behind /dev/null or an empty read-only tmpfs
/// (kernel memory, keyrings and timers that leak host information: CVE-2016-? class of leaks).
pub const MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// OCI runtime-spec default read-only paths (host-wide knobs reachable through procfs).
pub const READ_ONLY: &[&str] = &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

pub(super) fn mnt(src: Option<&str>, target: &Path, fstype: Option<&str>, flags: MsFlags, data: Option<&str>) -> R {
    mount(src, target, fstype, flags, data).map_err(|e| {
        format!("mount {} on {} ({}): {e}", src.unwrap_or("none"), target.display(), fstype.unwrap_or("bind"))
    })
}

/// Step: make every mount private, so nothing we mount propagates back to the host.
pub fn make_private() -> R {
    mnt(None, Path::new("/"), None, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None)
}

/// Step: the overlay of the image layers (lowest first) with the per-container upper dir.
pub fn mount_overlay(layers: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> R {
    if layers.is_empty() {
        return Err("no image layers given".into());
    }
    for l in layers {
        let s = l.to_string_lossy();
        if s.contains(':') || s.contains(',') {
            return Err(format!("layer path {s} contains ':' or ',' which overlayfs cannot take"));
        }
    }
    let lower = lower_dirs(layers);
    let opts = format!("lowerdir={},upperdir={},workdir={}", lower.join(":"), upper.display(), work.display());
    mnt(Some("overlay"), target, Some("overlay"), MsFlags::empty(), Some(&opts))
}

/// overlayfs's `lowerdir` list (top-most first) for `layers` (lowest first), each directory
/// once. An image may hold the same layer twice (two `RUN`s that change nothing both make the
/// empty layer; Docker keys its snapshots by chain id, so it never notices), and overlayfs
/// refuses a directory listed twice with ELOOP. Keeping only the top-most occurrence gives the
/// same tree: whatever a lower copy says of a path, the identical upper copy says again on top.
fn lower_dirs(layers: &[PathBuf]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    layers.iter().rev().filter(|p| seen.insert(p.as_path())).map(|p| p.to_string_lossy().into_owned()).collect()
}

fn propagation_flags(p: Propagation) -> MsFlags {
    match p {
        Propagation::Rprivate => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        Propagation::Private => MsFlags::MS_PRIVATE,
        Propagation::Rslave => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        Propagation::Slave => MsFlags::MS_SLAVE,
        Propagation::Rshared => MsFlags::MS_SHARED | MsFlags::MS_REC,
        Propagation::Shared => MsFlags::MS_SHARED,
    }
}

/// Step: a mount handed in by the caller (volume, bind, tmpfs), target resolved in the rootfs.
pub fn handed_in(root: &Path, m: &Mount) -> R {
    // The target as it resolves in the rootfs (symlinks of the image followed, confined to
    // it) must pass the same policy as the path as written (see mountpolicy).
    let target = match m {
        Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target,
    };
    let resolved = super::securepath::resolve_in_root(&open_dir(root)?, target)?;
    super::mountpolicy::check_target(&format!("/{resolved}"))
        .map_err(|e| format!("{e} (the image's symlinks lead {target} there)"))?;
    match m {
        Mount::Bind { source, target, read_only, propagation } => {
            let meta = fs::metadata(source).map_err(|e| format!("bind source {}: {e}", source.display()))?;
            let fd = secure_target(root, target, !meta.is_dir())?;
            let t = fd_path(&fd);
            let src = source.to_string_lossy();
            mnt(Some(&src), &t, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
            // Re-resolve: the fd still names the covered directory, not the new mount.
            let fd = secure_target(root, target, !meta.is_dir())?;
            let t = fd_path(&fd);
            if *read_only {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC;
                mnt(None, &t, None, flags, None)?;
            }
            mnt(None, &t, None, propagation_flags(*propagation), None)
        }
        Mount::Tmpfs { target, size, mode } => {
            let fd = secure_target(root, target, false)?;
            let mut opts = format!("mode={:o}", mode.unwrap_or(0o1777));
            if let Some(s) = size {
                opts.push_str(&format!(",size={s}"));
            }
            mnt(Some("tmpfs"), &fd_path(&fd), Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some(&opts))
        }
    }
}

/// Step: /proc (of the container's pid namespace).
pub fn mount_proc(root: &Path) -> R {
    let fd = secure_target(root, "proc", false)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mnt(Some("proc"), &fd_path(&fd), Some("proc"), flags, None)
}

/// Step: /sys read-only (a fresh sysfs needs our own netns; otherwise a read-only rbind);
/// read-write for a privileged container, as Docker.
pub fn mount_sys(root: &Path, privileged: bool) -> R {
    let fd = secure_target(root, "sys", false)?;
    let t = fd_path(&fd);
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if !privileged {
        flags |= MsFlags::MS_RDONLY;
    }
    if mount(Some("sysfs"), &t, Some("sysfs"), flags, None::<&str>).is_ok() {
        return Ok(());
    }
    mnt(Some("/sys"), &t, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
    let fd = secure_target(root, "sys", false)?;
    mnt(None, &fd_path(&fd), None, flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT, None)
}

/// Step: /dev as a tmpfs with the standard nodes, /dev/pts (own instance), /dev/shm, /dev/mqueue.
pub fn mount_dev(root: &Path, shm_size: u64, own_ipc: bool) -> R {
    let fd = secure_target(root, "dev", false)?;
    mnt(
        Some("tmpfs"),
        &fd_path(&fd),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    // Work through the resolved fd from here on, never through root/dev (it may be a symlink).
    let devfd = secure_target(root, "dev", false)?;
    let dev = fd_path(&devfd);
    for (name, major, minor) in
        [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
    {
        let p = dev.join(name);
        if mknod(&p, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(major, minor)).is_ok() {
            // mknod honours the umask: set the mode explicitly.
            let mode = Mode::from_bits_truncate(0o666);
            nix::sys::stat::fchmodat(None, &p, mode, nix::sys::stat::FchmodatFlags::FollowSymlink)
                .map_err(|e| format!("chmod {}: {e}", p.display()))?;
        } else {
            // In a user namespace mknod is refused: bind the host's node instead.
            fs::write(&p, b"").map_err(|e| format!("create {}: {e}", p.display()))?;
            mnt(Some(&format!("/dev/{name}")), &p, None, MsFlags::MS_BIND, None)?;
        }
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        symlink(target, dev.join(link)).map_err(|e| format!("symlink /dev/{link}: {e}"))?;
    }
    let mkdir = |d: &str| fs::create_dir(dev.join(d)).map_err(|e| format!("mkdir /dev/{d}: {e}"));
    mkdir("pts")?;
    mnt(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    mkdir("shm")?;
    let shm_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mnt(Some("shm"), &dev.join("shm"), Some("tmpfs"), shm_flags, Some(&format!("mode=1777,size={shm_size}")))?;
    mkdir("mqueue")?;
    if own_ipc {
        mnt(Some("mqueue"), &dev.join("mqueue"), Some("mqueue"), shm_flags, None)?;
    }
    Ok(())
}

/// Directories of the host's /dev that hold no device of the host's own, or that the
/// container gets a fresh instance of (runc's `HostDevices`, which Docker's `--privileged` uses).
const HOST_DEV_SKIP: &[&str] = &["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];

/// Step (privileged only): every char and block device node of the host's /dev (not yet
/// pivoted, so `/dev` is still the host's), made at the same path in the container's /dev
/// tmpfs with the same mode and owner, as Docker's `--privileged` does; nodes the standard
/// set already made are left alone. Symlinks, fifos, sockets and /dev/console are skipped.
pub fn host_devices(root: &Path) -> R {
    let devfd = secure_target(root, "dev", false)?;
    let dev = fd_path(&devfd);
    copy_device_dir(Path::new("/dev"), &dev)
}

fn copy_device_dir(host: &Path, into: &Path) -> R {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let entries = fs::read_dir(host).map_err(|e| format!("read {}: {e}", host.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Ok(ft) = entry.file_type() else { continue };
        let (src, dst) = (host.join(&name), into.join(&name));
        if ft.is_dir() {
            if host == Path::new("/dev") && HOST_DEV_SKIP.iter().any(|s| name == *s) {
                continue;
            }
            if fs::create_dir(&dst).is_ok() {
                copy_device_dir(&src, &dst)?;
                // Only the parents of devices stay (a dir of symlinks such as /dev/block goes).
                let _ = fs::remove_dir(&dst);
            }
            continue;
        }
        if !(ft.is_char_device() || ft.is_block_device()) || (host == Path::new("/dev") && name == "console") {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&src) else { continue };
        if fs::symlink_metadata(&dst).is_ok() {
            continue;
        }
        let kind = if ft.is_char_device() { SFlag::S_IFCHR } else { SFlag::S_IFBLK };
        let mode = Mode::from_bits_truncate(meta.mode() & 0o7777);
        if mknod(&dst, kind, mode, meta.rdev()).is_ok() {
            let perm = fs::Permissions::from_mode(meta.mode() & 0o7777);
            fs::set_permissions(&dst, perm).map_err(|e| format!("chmod {}: {e}", dst.display()))?;
            std::os::unix::fs::lchown(&dst, Some(meta.uid()), Some(meta.gid()))
                .map_err(|e| format!("chown {}: {e}", dst.display()))?;
        } else {
            // In a user namespace mknod is refused: bind the host's node instead.
            fs::write(&dst, b"").map_err(|e| format!("create {}: {e}", dst.display()))?;
            mnt(Some(&src.to_string_lossy()), &dst, None, MsFlags::MS_BIND, None)?;
        }
    }
    Ok(())
}

/// Step: pivot_root(".", ".") then detach the old root stacked on top (pivot_root(2) NOTES),
/// which needs no temporary directory inside the container's rootfs.
pub fn pivot(root: &Path) -> R {
    nix::unistd::chdir(root).map_err(|e| format!("chdir {}: {e}", root.display()))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| format!("pivot_root {}: {e}", root.display()))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detach the old root: {e}"))?;
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))
}

/// Step (after pivot): mask and make read-only the OCI default paths.
pub fn mask_and_protect() -> R {
    for p in MASKED {
        let path = Path::new(p);
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => mnt(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, Some("size=0"))?,
            Ok(_) => mnt(Some("/dev/null"), path, None, MsFlags::MS_BIND, None)?,
            Err(_) => {}
        }
    }
    for p in READ_ONLY {
        let path = Path::new(p);
        if fs::symlink_metadata(path).is_err() {
            continue;
        }
        mnt(Some(p), path, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
        let flags = MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC;
        mnt(None, path, None, flags, None)?;
    }
    Ok(())
}

/// Step (after pivot): the read-only root, when asked.
pub fn root_read_only() -> R {
    mnt(None, Path::new("/"), None, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_listed_twice_is_lowered_once_at_its_top_most_place() {
        let p = |s: &str| PathBuf::from(s);
        let layers = [p("/l/base"), p("/l/empty"), p("/l/app"), p("/l/empty")];
        assert_eq!(lower_dirs(&layers), ["/l/empty", "/l/app", "/l/base"]);
        assert_eq!(lower_dirs(&[p("/l/a"), p("/l/b")]), ["/l/b", "/l/a"]);
    }
}
