//! Extended attributes of image layer files, read for volume copy-up: copying them onto the
//! volume's files, and overlayfs' opaque-directory marker. Layer paths are never followed
//! (llistxattr(2), lgetxattr(2)).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fsat::cstr;

/// Copy the extended attributes of `src` (a path inside an image layer, not followed) onto
/// the open `dst`, where the file system allows; overlayfs' own `trusted.overlay.*` never.
pub fn copy_xattrs(src: &Path, dst: &File) {
    let Ok(p) = cstr(src.as_os_str().as_bytes()) else { return };
    let mut names = vec![0u8; 4096];
    // SAFETY: valid C string and a buffer of the given length.
    let n = unsafe { libc::llistxattr(p.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return;
    }
    names.truncate(n as usize);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(b"trusted.overlay.") {
            continue;
        }
        let Ok(cname) = cstr(name) else { continue };
        let mut value = vec![0u8; 65536];
        // SAFETY: valid C strings and a buffer of the given length.
        let len = unsafe { libc::lgetxattr(p.as_ptr(), cname.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if len < 0 {
            continue;
        }
        // SAFETY: valid fd, C string, and a value buffer of `len` bytes.
        let rc = unsafe { libc::fsetxattr(dst.as_raw_fd(), cname.as_ptr(), value.as_ptr().cast(), len as usize, 0) };
        if rc < 0 {
            tracing::debug!(file = %src.display(), xattr = %String::from_utf8_lossy(name), "xattr not copied: {}",
                io::Error::last_os_error());
        }
    }
}

/// Is there an overlay opaque marker (`trusted.overlay.opaque=y`) on this layer directory?
pub fn is_opaque(dir: &Path) -> bool {
    let (Ok(p), Ok(name)) = (cstr(dir.as_os_str().as_bytes()), cstr(b"trusted.overlay.opaque")) else {
        return false;
    };
    let mut v = [0u8; 4];
    // SAFETY: valid C strings and a buffer of the given length.
    let n = unsafe { libc::lgetxattr(p.as_ptr(), name.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
    n == 1 && v[0] == b'y'
}
