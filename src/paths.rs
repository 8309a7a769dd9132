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
///
/// A shared directory (`--root /tmp`: sticky or world-writable) is refused, naming it, rather
/// than made private; and the records of a directory are tightened only when it holds berth's
/// entries (not the files of a `--root $HOME`).
pub fn secure_roots(roots: &Roots) -> std::io::Result<bool> {
    let mut tightened = false;
    for dir in [&roots.state, &roots.run] {
        tightened |= secure_dir(dir)?;
    }
    Ok(tightened)
}

/// What berth itself makes directly in a state or run root (the run root of a custom root is
/// its `run/`): a directory holding one of these is a berth root.
const ROOT_ENTRIES: &[&str] = &[
    "root-id",
    "images",
    "containers",
    "networks",
    "projects",
    "volumes",
    "builds",
    "run",
    "locks",
    "supervisors",
    "sandboxes",
    "netns",
    "network",
    "dns",
    "berth.lock",
    "berth-ipam.lock",
    "secrets",
    "events",
    "cache",
    "tmp",
    "build-cache",
];

fn secure_dir(dir: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::metadata(dir) {
        Ok(m) if m.permissions().mode() & 0o077 == 0 => Ok(false),
        Ok(m) if is_shared(m.permissions().mode()) => Err(std::io::Error::other(format!(
            "{} is a shared directory (mode {:o}), not a berth root: berth would make it private (0700); \
             give berth a directory of its own, e.g. {}",
            dir.display(),
            m.permissions().mode() & 0o7777,
            dir.join("berth").display()
        ))),
        Ok(_) => {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            if holds_berth_entries(dir) {
                tighten_records(dir, 0);
            }
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

/// Sticky or world-writable: a directory others write into (/tmp, /var/tmp).
fn is_shared(mode: u32) -> bool {
    mode & 0o1000 != 0 || mode & 0o002 != 0
}

/// Whether `dir` holds something berth makes in a root (so its records are berth's).
fn holds_berth_entries(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        ROOT_ENTRIES.contains(&name.as_str()) || name.starts_with(".root-id.")
    })
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

    #[test]
    fn only_berth_roots_are_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let set = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        // An older berth's root (0755, its own entries): tightened, records 0600.
        let old = tmp.path().join("old");
        std::fs::create_dir_all(old.join("containers")).unwrap();
        std::fs::write(old.join("root-id"), "abc").unwrap();
        std::fs::write(old.join("containers/c.json"), "{}").unwrap();
        set(&old, 0o755);
        set(&old.join("containers/c.json"), 0o644);
        assert!(secure_roots(&Roots::new(Some(&old))).unwrap());
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("containers/c.json")), 0o600);
        // A shared directory (sticky, world-writable: /tmp) is refused and left as it was.
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        set(&shared, 0o1777);
        let err = secure_roots(&Roots::new(Some(&shared))).unwrap_err().to_string();
        assert!(err.contains("shared directory") && err.contains("shared/berth"), "{err}");
        assert_eq!(mode(&shared), 0o1777);
        // A directory of someone's files: made private itself, its files left as they were.
        let home = tmp.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("notes.json"), "mine").unwrap();
        set(&home, 0o755);
        set(&home.join("notes.json"), 0o644);
        assert!(secure_roots(&Roots::new(Some(&home))).unwrap());
        assert_eq!((mode(&home), mode(&home.join("notes.json"))), (0o700, 0o644));
        // An empty directory made for berth: made private.
        let fresh = tmp.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        set(&fresh, 0o755);
        assert!(secure_roots(&Roots::new(Some(&fresh))).unwrap());
        assert_eq!(mode(&fresh), 0o700);
    }
}
