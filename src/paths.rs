//! Where berth keeps things. State (images, volumes, container records) lives under one root,
//! default `/var/lib/berth`; runtime files (sockets, pid files, locks) under `/run/berth`.
//! `--root DIR` / `BERTH_ROOT` moves both under DIR (runtime files in `DIR/run`), so tests can
//! isolate themselves completely.

use std::path::{Path, PathBuf};

pub const DEFAULT_STATE_DIR: &str = "/var/lib/berth";
pub const DEFAULT_RUN_DIR: &str = "/run/berth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// Persistent state: images/, volumes/, containers/, projects/.
    pub state: PathBuf,
    /// Volatile runtime files: containers/<id>/ (monitor sockets, pid files), locks/.
    pub run: PathBuf,
}

impl Roots {
    /// The roots for an optional `--root` override.
    pub fn new(root: Option<&Path>) -> Self {
        match root {
            // Absolute: monitors work from their state dir, and these paths reach them (and the
            // container's mounts) as arguments and in records.
            Some(r) => {
                let r = std::path::absolute(r).unwrap_or_else(|_| r.to_path_buf());
                Roots { state: r.clone(), run: r.join("run") }
            }
            None => Roots { state: PathBuf::from(DEFAULT_STATE_DIR), run: PathBuf::from(DEFAULT_RUN_DIR) },
        }
    }

    pub fn images(&self) -> PathBuf {
        self.state.join("images")
    }

    pub fn volumes(&self) -> PathBuf {
        self.state.join("volumes")
    }

    /// Persistent per-container state (config, upper dir, exit status, logs).
    pub fn container_state(&self, id: &str) -> PathBuf {
        self.state.join("containers").join(id)
    }

    /// Volatile per-container files (monitor socket, pid file).
    pub fn container_run(&self, id: &str) -> PathBuf {
        self.run.join("containers").join(id)
    }

    /// The roots a container state dir (`<state>/containers/<id>`, as `container_state`
    /// makes it) belongs to: its monitor is given only that dir.
    pub fn of_container_state(dir: &Path) -> Option<Roots> {
        let state = dir.parent()?.parent()?;
        Some(if state == Path::new(DEFAULT_STATE_DIR) { Roots::new(None) } else { Roots::new(Some(state)) })
    }

    pub fn projects(&self) -> PathBuf {
        self.state.join("projects")
    }

    /// The root-unique id host-global kernel object names (cgroups, bridges, veths) derive
    /// from: "" for the default root, else the id kept in `<state>/root-id` (see `rootid`).
    pub fn id(&self) -> &'static str {
        crate::rootid::of(&self.state)
    }
}

/// Make the state and run roots private, as Docker made its root 0700/0710 for CVE-2021-41091:
/// image layers, container upper dirs and volumes hold setuid-root files and device nodes that
/// any local user could otherwise execute or open through their host paths, and records hold
/// environment values. A missing root is made 0700; an existing one with group or other bits
/// (an older berth made them 0755) is tightened, and its records (`*.json`, `*.log`, `*.lock`)
/// are made 0600 as they are now created. Ok(true) when something was tightened.
pub fn secure_roots(roots: &Roots) -> std::io::Result<bool> {
    let mut tightened = false;
    for dir in [&roots.state, &roots.run] {
        tightened |= secure_dir(dir)?;
    }
    Ok(tightened)
}

fn secure_dir(dir: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::metadata(dir) {
        Ok(m) if m.permissions().mode() & 0o077 == 0 => Ok(false),
        Ok(_) => {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            tighten_records(dir, 0);
            tracing::info!("made {} private (0700) and its records 0600", dir.display());
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
                _ => Ok(false),
            }
        }
        Err(e) => Err(e),
    }
}

/// chmod 0600 the records under `dir` (best effort, symlinks not followed), without entering
/// what belongs to images and containers' own files (layers, upper dirs, volume data): those
/// keep the modes their images gave them, and the private root is what guards them.
fn tighten_records(dir: &Path, depth: usize) {
    use std::os::unix::fs::PermissionsExt;
    const SKIP: &[&str] = &["images", "_data", "upper", "work", "rootfs", "merged", "layers", "blobs"];
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let (Ok(ft), name) = (e.file_type(), e.file_name()) else { continue };
        let name = name.to_string_lossy();
        if ft.is_dir() && depth < 6 && !SKIP.contains(&name.as_ref()) {
            tighten_records(&e.path(), depth + 1);
        } else if ft.is_file() && [".json", ".log", ".lock"].iter().any(|x| name.ends_with(x)) {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// Make `run` a tmpfs of its own when the filesystem it would sit on is not one (a host
/// without systemd, whose /run is a plain directory of the root disk), so that what it holds
/// (netns bind points, sandbox records, locks, hosts files) goes with a reboot as the run dir
/// promises, and so that the per-container files made there on every `up` cost no disk inodes:
/// on a journal-less ext4 each inode made near recently freed ones costs ~100 µs of scanning.
///
/// Every berth process holds a shared flock on `<run>.lock` for its whole life (the returned
/// file; keep it open). The mount happens only when this process gets that lock exclusively
/// (no other berth command, supervisor or port proxy is running) and no mount lives under the
/// run dir (no container's netns): what the tmpfs hides then is stale (dead locks, old logs).
/// Ok((file, true)) when this call mounted it.
pub fn ensure_volatile_run_dir(run: &Path) -> std::io::Result<(std::fs::File, bool)> {
    use nix::sys::statfs::{statfs, FsType, TMPFS_MAGIC};
    const RAMFS_MAGIC: FsType = FsType(0x8584_58f6);
    let volatile = |p: &Path| statfs(p).is_ok_and(|s| [TMPFS_MAGIC, RAMFS_MAGIC].contains(&s.filesystem_type()));
    let mut lock_path = run.as_os_str().to_owned();
    lock_path.push(".lock");
    let users = crate::fsutil::open_lock_file(Path::new(&lock_path))?;
    let shared = |f: &std::fs::File| {
        crate::fsutil::flock_wait(f, Path::new(&lock_path), libc::LOCK_SH, crate::fsutil::lock_timeout())
    };
    if volatile(run) || crate::fsutil::flock(&users, libc::LOCK_EX | libc::LOCK_NB).is_err() {
        shared(&users)?;
        return Ok((users, false));
    }
    let mounted = !mounts_under(run)? && mount_tmpfs(run).is_ok();
    shared(&users)?;
    Ok((users, mounted))
}

fn mounts_under(dir: &Path) -> std::io::Result<bool> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(info.lines().filter_map(|l| l.split(' ').nth(4)).any(|p| Path::new(p).starts_with(dir)))
}

fn mount_tmpfs(run: &Path) -> std::io::Result<()> {
    use nix::mount::{mount, MsFlags};
    std::fs::create_dir_all(run)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("tmpfs"), run, Some("tmpfs"), flags, Some("mode=0700,size=256m")).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_moves_everything_under_one_dir() {
        let r = Roots::new(Some(Path::new("/tmp/x")));
        assert_eq!(r.images(), Path::new("/tmp/x/images"));
        assert_eq!(r.container_run("c1"), Path::new("/tmp/x/run/containers/c1"));
        assert_eq!(Roots::new(None).state, Path::new(DEFAULT_STATE_DIR));
        let rel = Roots::new(Some(Path::new("rel/root")));
        assert!(rel.state.is_absolute() && rel.state.ends_with("rel/root"), "{}", rel.state.display());
    }
}
