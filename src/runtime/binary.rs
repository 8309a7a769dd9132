//! berth's helper binary (`berth-monitor`: monitor, init and exec modes) and its sealed copy.
//!
//! CVE-2019-5736: a container that can reach the host binary of its runtime through
//! /proc/<pid>/exe (e.g. by making the runtime exec `#!/proc/self/exe`) can overwrite it. berth
//! never runs its helper through a writable path: every monitor, init and exec helper is
//! executed through a fd that is either
//! - the binary inside a detached, read-only bind mount (open_tree(2) OPEN_TREE_CLONE +
//!   mount_setattr(2) MOUNT_ATTR_RDONLY; runc 1.2's choice): no copy, and any open of
//!   /proc/<pid>/exe for writing fails with EROFS; or, on kernels without those calls,
//! - a memfd copy sealed against writes, growth, shrinking and further sealing
//!   (memfd_create(2), fcntl(2) F_ADD_SEALS).

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::error::{Result, RuntimeError};

pub const HELPER_NAME: &str = "berth-monitor";

/// Where the helper is: $BERTH_MONITOR, else next to the running executable (or one level up,
/// which covers cargo's target/debug/deps test binaries).
pub fn locate() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_MONITOR") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| RuntimeError::NoHelper { looked: format!("current_exe: {e}") })?;
    let mut looked = Vec::new();
    for dir in exe.ancestors().skip(1).take(2) {
        let cand = dir.join(HELPER_NAME);
        if cand.is_file() {
            return Ok(cand);
        }
        looked.push(cand.display().to_string());
    }
    Err(RuntimeError::NoHelper { looked: looked.join(", ") })
}

/// A fd to execute `path` through that can never be opened for writing.
pub fn sealed_copy(path: &Path) -> Result<OwnedFd> {
    match read_only_bind(path) {
        Ok(fd) => Ok(fd),
        Err(_) => memfd_copy(path),
    }
}

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `path` inside a detached read-only bind mount of itself (kernel 5.12+).
pub fn read_only_bind(path: &Path) -> std::io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: u64 = 1;
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
    // SAFETY: open_tree(2) reads the NUL-terminated `c`, alive for the call; nix 0.29 has no
    // wrapper for it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new fd that open_tree just returned, owned by nothing else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr { attr_set: MOUNT_ATTR_RDONLY, attr_clr: 0, propagation: 0, userns_fd: 0 };
    // SAFETY: mount_setattr(2) reads `attr`, a #[repr(C)] struct mount_attr (MOUNT_ATTR_SIZE_VER0)
    // whose size is passed along, and an empty C string; both outlive the call. No wrapper in nix.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            owned.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(owned)
}

/// A sealed, executable memfd holding a copy of `path`.
pub fn memfd_copy(path: &Path) -> Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let name = c"berth-monitor";
    // MFD_EXEC (6.3+) states the intent under vm.memfd_noexec; older kernels reject the flag.
    const MFD_EXEC: MemFdCreateFlag = MemFdCreateFlag::from_bits_retain(0x10);
    let base = MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING;
    let owned = memfd_create(name, base | MFD_EXEC)
        .or_else(|_| memfd_create(name, base))
        .map_err(|e| io("memfd_create", path, e.into()))?;
    let mut src = File::open(path).map_err(|e| io("open", path, e))?;
    let mut dst = File::from(owned);
    std::io::copy(&mut src, &mut dst).map_err(|e| io("copy", path, e))?;
    dst.flush().map_err(|e| io("copy", path, e))?;
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    let seals = SealFlag::F_SEAL_SEAL | SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE;
    fcntl(dst.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals)).map_err(|e| io("seal memfd copy of", path, e.into()))?;
    Ok(OwnedFd::from(dst))
}

fn io(op: &'static str, path: &Path, source: std::io::Error) -> RuntimeError {
    crate::fsutil::PathError { op, path: path.to_path_buf(), source }.into()
}

/// The path through which a child process execs the sealed copy.
pub fn exec_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memfd_copy_is_sealed_and_executable() {
        let fd = memfd_copy(Path::new("/bin/true")).unwrap();
        let seals = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GET_SEALS).unwrap();
        assert!(seals & libc::F_SEAL_WRITE != 0 && seals & libc::F_SEAL_SEAL != 0, "seals {seals:#x}");
        let status = std::process::Command::new(exec_path(&fd)).status().unwrap();
        assert!(status.success());
        // Writing through any path to it fails.
        assert!(std::fs::OpenOptions::new()
            .write(true)
            .open(exec_path(&fd))
            .and_then(|mut f| f.write_all(b"x"))
            .is_err());
    }
}
