//! The root-unique id that host-global kernel object names derive from (DESIGN.md: "two roots
//! never share a kernel object"). Cgroups (`berth/<container>@<id>`), bridges and veths (hashes
//! that include it) live in namespaces every state root shares, so two `--root`s running a
//! project of the same name (two CI jobs on one host) must not compute the same names.
//!
//! The id is 10 random hex digits, made once and kept in `<state>/root-id` (0600), so it
//! survives moving the root. The default root (`/var/lib/berth`) has the empty id: its names
//! are those older berth versions made, so containers and networks started before an upgrade
//! are still found and removed. Read once per process and state root.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file holding a root's id, in its state dir.
pub const FILE: &str = "root-id";
const LEN: usize = 10;

/// Ids read so far in this process, by state dir (leaked: a process knows one or two roots).
static CACHE: Mutex<Vec<(PathBuf, &'static str)>> = Mutex::new(Vec::new());

/// The id of the root whose state dir is `state` ("" for the default root), made when
/// missing. When it can neither be read nor made (a read-only or missing root), a hash of the
/// path stands in, with a warning: such a root holds no containers whose names it could miss.
pub fn of(state: &Path) -> &'static str {
    if state == Path::new(crate::paths::DEFAULT_STATE_DIR) {
        return "";
    }
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, id)) = cache.iter().find(|(p, _)| p == state) {
        return id;
    }
    match ensure(state) {
        Ok(id) => {
            let id: &'static str = Box::leak(id.into_boxed_str());
            cache.push((state.to_path_buf(), id));
            id
        }
        // Not cached: a root made later gets its real id.
        Err(e) => {
            if state.is_dir() {
                tracing::warn!("state root {}: no root id ({e}); using a hash of its path", state.display());
            }
            Box::leak(crate::common::ids::short_hash(&state.to_string_lossy(), LEN).into_boxed_str())
        }
    }
}

/// Read `<state>/root-id`, or make it (in an existing state dir): a temp file written and
/// fsynced, then hard-linked into place, so two processes making it at once agree on the one
/// that won (link(2) never replaces), and nobody ever reads a half-written id.
pub fn ensure(state: &Path) -> std::io::Result<String> {
    let path = state.join(FILE);
    match read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => return other,
    }
    let tmp = state.join(format!(".{FILE}.{}", std::process::id()));
    let made = write_new(&tmp).and_then(|()| std::fs::hard_link(&tmp, &path));
    let _ = std::fs::remove_file(&tmp);
    match made {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    if let Ok(dir) = std::fs::File::open(state) {
        let _ = dir.sync_all();
    }
    read(&path)
}

fn read(path: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let id = text.trim();
    if valid(id) {
        Ok(id.to_string())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} holds {id:?}, not {LEN} hex digits; remove it only when no container of this root exists",
                path.display()
            ),
        ))
    }
}

fn valid(id: &str) -> bool {
    id.len() == LEN && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn write_new(tmp: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; LEN / 2];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(tmp)?;
    f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = ensure(dir.path()).unwrap();
        assert!(valid(&a), "{a}");
        assert_eq!(ensure(dir.path()).unwrap(), a, "read back, not made again");
        let mode = std::fs::metadata(dir.path().join(FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(of(dir.path()), a);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(of(other.path()), a);
        assert_eq!(of(Path::new(crate::paths::DEFAULT_STATE_DIR)), "");
        std::fs::write(dir.path().join(FILE), "junk\n").unwrap();
        assert!(ensure(dir.path()).is_err(), "a damaged id is an error, never silently replaced");
    }
}
