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
    if volatile(run) || crate::fsutil::flock(&users, libc::LOCK_EX | libc::LOCK_NB).is_err() {
        crate::fsutil::flock(&users, libc::LOCK_SH)?;
        return Ok((users, false));
    }
    let mounted = !mounts_under(run)? && mount_tmpfs(run).is_ok();
    crate::fsutil::flock(&users, libc::LOCK_SH)?;
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
    mount(Some("tmpfs"), run, Some("tmpfs"), flags, Some("mode=0755,size=256m")).map_err(std::io::Error::from)
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
