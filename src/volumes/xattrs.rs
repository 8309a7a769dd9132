//! Extended attributes of image layer files, read for volume copy-up: copying them onto the
//! volume's files, and overlayfs' opaque-directory marker. Layer paths are never followed
//! (llistxattr(2), lgetxattr(2)).

use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use xattr::FileExt;

/// Copy the extended attributes of `src` (a path inside an image layer, not followed) onto
/// the open `dst`, where the file system allows; overlayfs' own `trusted.overlay.*` never.
pub fn copy_xattrs(src: &Path, dst: &File) {
    let Ok(names) = xattr::list(src) else { return };
    for name in names {
        if name.as_bytes().starts_with(b"trusted.overlay.") {
            continue;
        }
        let Ok(Some(value)) = xattr::get(src, &name) else { continue };
        if let Err(e) = dst.set_xattr(&name, &value) {
            tracing::debug!(file = %src.display(), xattr = %name.to_string_lossy(), "xattr not copied: {e}");
        }
    }
}

/// Is there an overlay opaque marker (`trusted.overlay.opaque=y`) on this layer directory?
pub fn is_opaque(dir: &Path) -> bool {
    matches!(xattr::get(dir, "trusted.overlay.opaque"), Ok(Some(v)) if v == b"y")
}
