//! Paths inside a container's rootfs that the image cannot redirect to the host.
//!
//! An image controls every symlink in its rootfs; a mount target such as `/data` may be a
//! symlink to `/../../host/etc` or be swapped for one mid-way (CVE-2021-30465, the
//! symlink-exchange escape). Every lookup here goes through openat2(2) with RESOLVE_IN_ROOT,
//! so symlinks resolve as if the rootfs were `/`; missing parts are created one by one under a
//! parent opened the same way; and mounts go onto the resulting O_PATH fd
//! (`/proc/self/fd/N`), never onto a path re-walked from the host.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

type R<T> = Result<T, String>;

/// Symlinks followed at most, as the kernel's own limit (path_resolution(7)).
const MAX_LINKS: usize = 40;

pub fn open_dir(p: &Path) -> R<OwnedFd> {
    // open(2) with O_PATH | O_DIRECTORY | O_CLOEXEC (std adds O_CLOEXEC; O_RDONLY is 0).
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(p)
        .map(OwnedFd::from)
        .map_err(|e| format!("open {}: {e}", p.display()))
}

/// O_PATH fd of `rel` resolved inside `root` (RESOLVE_IN_ROOT, no magic links).
pub fn open_in_root(root: &OwnedFd, rel: &str) -> R<OwnedFd> {
    let rel = if rel.is_empty() { "." } else { rel };
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = nix::fcntl::openat2(root.as_raw_fd(), rel, how)
        .map_err(|e| format!("resolve {rel} in the rootfs: {}", std::io::Error::from(e)))?;
    // SAFETY: a new descriptor that openat2 just returned, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The path through which the kernel reaches an O_PATH fd (mount(2) accepts it as a target).
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The target of symlink `name` in directory `dir`, or None if it is not a symlink.
fn read_link_at(dir: &OwnedFd, name: &str) -> Option<String> {
    nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name).ok()?.into_string().ok()
}

/// `rel` with every existing symlink expanded as if `root` were `/` and every `..` clamped at
/// the root: a plain relative path that stays inside the rootfs (securejoin's algorithm).
pub fn resolve_in_root(rootfd: &OwnedFd, rel: &str) -> R<String> {
    let mut todo: VecDeque<String> = rel.split('/').map(str::to_string).collect();
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        match c.as_str() {
            "" | "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let parent = open_in_root(rootfd, &done.join("/"));
        let Some(target) = parent.ok().and_then(|p| read_link_at(&p, &c)) else {
            done.push(c);
            continue;
        };
        links += 1;
        if links > MAX_LINKS {
            return Err(format!("resolve {rel} in the rootfs: too many levels of symbolic links"));
        }
        if target.starts_with('/') {
            done.clear();
        }
        for (i, part) in target.split('/').enumerate() {
            todo.insert(i, part.to_string());
        }
    }
    Ok(done.join("/"))
}

/// Open `rel` inside `root` as an O_PATH fd, creating what is missing (directories, and the
/// last component as an empty file when `file` is set), every step confined to the rootfs.
pub fn secure_target(root: &Path, rel: &str, file: bool) -> R<OwnedFd> {
    let rootfd = open_dir(root)?;
    let resolved = resolve_in_root(&rootfd, rel)?;
    let comps: Vec<&str> = resolved.split('/').filter(|c| !c.is_empty()).collect();
    for i in 0..comps.len() {
        let here = comps[..=i].join("/");
        if open_in_root(&rootfd, &here).is_ok() {
            continue;
        }
        let parent = open_in_root(&rootfd, &comps[..i].join("/"))?;
        let (at, name) = (Some(parent.as_raw_fd()), comps[i]);
        let last = i + 1 == comps.len();
        let made = if last && file {
            let flags = OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            nix::fcntl::openat(at, name, flags, Mode::from_bits_truncate(0o644)).map(|fd| {
                let _ = nix::unistd::close(fd);
            })
        } else {
            nix::sys::stat::mkdirat(at, name, Mode::from_bits_truncate(0o755))
        };
        match made {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(format!("create mount target {rel} in the rootfs: {}", std::io::Error::from(e))),
        }
    }
    open_in_root(&rootfd, &resolved)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root_and_targets_are_created_there() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        symlink(&outside, root.join("abs")).unwrap();
        symlink("../../../../outside", root.join("rel")).unwrap();
        symlink("etc", root.join("e")).unwrap();
        let rootfd = open_dir(&root).unwrap();
        assert_eq!(resolve_in_root(&rootfd, "/e/x").unwrap(), "etc/x");
        assert_eq!(resolve_in_root(&rootfd, "/rel/y").unwrap(), "outside/y");
        let abs = resolve_in_root(&rootfd, "abs/z").unwrap();
        assert_eq!(abs, format!("{}/z", outside.display()).trim_start_matches('/'));
        secure_target(&root, "/abs/t1", false).unwrap();
        secure_target(&root, "/rel/t2/f", true).unwrap();
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "created outside the root");
        assert!(root.join("outside/t2/f").is_file());
        symlink("loop", root.join("loop")).unwrap();
        assert!(resolve_in_root(&rootfd, "loop/x").unwrap_err().contains("too many levels"));
    }
}
