//! Docker's "copy-up": on the first mount of an empty volume, the image's content at the mount
//! target is copied into the volume with its owners, modes, symlinks and xattrs.
//!
//! The image is read straight from its unpacked layer directories as overlayfs would merge them
//! (overlayfs(5)): the top-most layer wins, a whiteout (a 0/0 character device) hides the name
//! in every lower layer, and an opaque directory (`trusted.overlay.opaque=y`) hides the lower
//! layers' content of that directory. Nothing in a layer is ever followed: entries are read with
//! lstat semantics, a symlink is copied as a symlink, and a symlink on the way to the target
//! means "nothing to copy" (the runtime resolves such a target inside the rootfs; copying
//! through it could read outside the layer).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use super::xattrs;
use crate::fsat;

/// What a name resolves to in a merged directory.
enum Lookup {
    /// Absent, or hidden by a whiteout.
    Missing,
    /// A directory: its layer dirs, top-most first (stops at an opaque one).
    Dir(Vec<PathBuf>),
    /// Anything else, from the top-most layer that has it.
    Other(PathBuf, Metadata),
}

fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// Look `name` up in a merged directory given by its layer dirs (top-most first).
fn lookup(stack: &[PathBuf], name: &OsStr) -> io::Result<Lookup> {
    let mut dirs = Vec::new();
    for d in stack {
        let p = d.join(name);
        let m = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if is_whiteout(&m) {
            break;
        }
        if !m.is_dir() {
            if dirs.is_empty() {
                return Ok(Lookup::Other(p, m));
            }
            break;
        }
        let opaque = xattrs::is_opaque(&p);
        dirs.push(p);
        if opaque {
            break;
        }
    }
    Ok(if dirs.is_empty() { Lookup::Missing } else { Lookup::Dir(dirs) })
}

/// The merged directory at `target` (absolute, in the container), if the image has one there.
fn resolve_target(layers: &[PathBuf], target: &str) -> io::Result<Option<Vec<PathBuf>>> {
    let mut stack: Vec<PathBuf> = layers.iter().rev().cloned().collect();
    for c in Path::new(target).components() {
        let name = match c {
            Component::RootDir | Component::CurDir => continue,
            Component::Normal(n) => n,
            // `..` in a target: nothing sensible to copy (and never a way out of the layer).
            Component::ParentDir | Component::Prefix(_) => return Ok(None),
        };
        match lookup(&stack, name)? {
            Lookup::Dir(dirs) => stack = dirs,
            Lookup::Missing => return Ok(None),
            Lookup::Other(p, _) => {
                tracing::debug!(path = %p.display(), "mount target is not a directory in the image; nothing copied");
                return Ok(None);
            }
        }
    }
    Ok(Some(stack))
}

/// Copy the image content at `target` (layers lowest first) into the open, empty directory
/// `dest`, and give `dest` the owner and mode of the image's directory. Returns false when
/// the image has no directory at `target`.
pub fn copy_up(layers: &[PathBuf], target: &str, dest: &File) -> io::Result<bool> {
    let Some(stack) = resolve_target(layers, target)? else { return Ok(false) };
    copy_dir(&stack, dest)?;
    let m = fs::symlink_metadata(&stack[0])?;
    apply_owner_mode(dest, &m)?;
    Ok(true)
}

fn copy_dir(stack: &[PathBuf], dest: &File) -> io::Result<()> {
    let mut names: BTreeSet<OsString> = BTreeSet::new();
    for d in stack {
        for e in fs::read_dir(d)? {
            names.insert(e?.file_name());
        }
    }
    for name in names {
        match lookup(stack, &name)? {
            Lookup::Missing => {}
            Lookup::Dir(sub) => {
                fsat::mkdir_at(dest, &name, 0o700)?;
                let child = fsat::open_dir_at(dest, &name)?;
                copy_dir(&sub, &child)?;
                let m = fs::symlink_metadata(&sub[0])?;
                xattrs::copy_xattrs(&sub[0], &child);
                apply_owner_mode(&child, &m)?;
                fsat::futimes(&child, m.atime(), m.mtime())?;
            }
            Lookup::Other(src, m) => copy_other(&src, &m, dest, &name)?,
        }
    }
    Ok(())
}

fn apply_owner_mode(f: &File, m: &Metadata) -> io::Result<()> {
    fsat::fchown(f, m.uid(), m.gid())?;
    fsat::fchmod(f, m.mode())
}

/// A file, symlink or fifo; device nodes and sockets are skipped (a volume is no place for
/// them, and the container gets its own /dev).
fn copy_other(src: &Path, m: &Metadata, dest: &File, name: &OsStr) -> io::Result<()> {
    let ft = m.file_type();
    if ft.is_symlink() {
        let target = fs::read_link(src)?;
        fsat::symlink_at(target.as_os_str(), dest, name)?;
        return fsat::lchown_at(dest, name, m.uid(), m.gid());
    }
    if ft.is_fifo() {
        // Opening a fifo would block, so it gets its mode at creation (less the umask).
        fsat::mkfifo_at(dest, name, m.mode() & 0o777)?;
        return fsat::lchown_at(dest, name, m.uid(), m.gid());
    }
    if !ft.is_file() {
        tracing::debug!(path = %src.display(), "special file not copied into the volume");
        return Ok(());
    }
    let mut input = fsat::open_file(src)?;
    let mut out = fsat::create_at(dest, name)?;
    io::copy(&mut input, &mut out)?;
    xattrs::copy_xattrs(src, &out);
    apply_owner_mode(&out, m)?;
    fsat::futimes(&out, m.atime(), m.mtime())
}

/// Is the directory empty (the condition for a copy-up)?
pub fn is_empty(dir: &Path) -> io::Result<bool> {
    Ok(fs::read_dir(dir)?.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn layer(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let l = root.join(name);
        for (p, data) in files {
            let p = l.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, data).unwrap();
        }
        fs::create_dir_all(&l).unwrap();
        l
    }

    #[test]
    fn top_most_layer_wins_and_symlinks_stay_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let low = layer(tmp.path(), "l0", &[("data/a", "low"), ("data/b", "low-b")]);
        let high = layer(tmp.path(), "l1", &[("data/a", "high")]);
        symlink("/etc/passwd", high.join("data/link")).unwrap();
        fs::set_permissions(high.join("data/a"), fs::Permissions::from_mode(0o640)).unwrap();
        let dest = tmp.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let d = fsat::open_dir(&dest).unwrap();
        assert!(copy_up(&[low, high], "/data", &d).unwrap());
        assert_eq!(fs::read_to_string(dest.join("a")).unwrap(), "high");
        assert_eq!(fs::read_to_string(dest.join("b")).unwrap(), "low-b");
        assert_eq!(fs::metadata(dest.join("a")).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_link(dest.join("link")).unwrap(), Path::new("/etc/passwd"));
    }

    #[test]
    fn symlinked_target_copies_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layer(tmp.path(), "l0", &[("etc/x", "x")]);
        symlink("/etc", l.join("data")).unwrap();
        let dest = tmp.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let d = fsat::open_dir(&dest).unwrap();
        assert!(!copy_up(std::slice::from_ref(&l), "/data", &d).unwrap());
        assert!(!copy_up(&[l], "/data/../etc", &d).unwrap());
        assert!(is_empty(&dest).unwrap());
    }

    #[test]
    fn missing_target_copies_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let l = layer(tmp.path(), "l0", &[("a", "x")]);
        let d = fsat::open_dir(tmp.path()).unwrap();
        assert!(!copy_up(std::slice::from_ref(&l), "/nope", &d).unwrap());
        assert!(!copy_up(&[l], "/a", &d).unwrap());
    }
}
