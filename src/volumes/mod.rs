//! Volumes: named and anonymous volumes (directories under the state root with a small metadata file),
//! bind mounts and tmpfs mounts, translated into the runtime's mount list per container.
//!
//! Files: `store` (volumes on disk, atomic metadata), `manager` ([`VolumeManager`]: ensure,
//! create, list, remove, prune, in-use checks), `anonymous` (image `VOLUME`s and `- /path`
//! entries: fresh names, handing them over on recreate), `request` ([`MountRequest`]: what a
//! container asks for, plain data), `mounts` (requests → runtime mounts), `binds` (bind
//! entries), `copyup` (image content into a fresh volume, as overlayfs merges
//! the layers, with [`crate::fsat`]'s no-follow, fd-relative file operations), `xattrs`
//! (layer files' extended attributes and opaque markers).
//!
//! Mount targets are resolved by the runtime inside the container's rootfs with openat2(2)
//! RESOLVE_IN_ROOT (src/runtime/rootfs.rs `secure_target`), so a symlink at a target in the
//! image cannot redirect a volume onto the host (CVE-2021-30465 class).

mod anonymous;
mod binds;
pub mod copyup;
pub mod error;
mod manager;
mod mounts;
mod request;
pub mod store;
mod xattrs;

pub use anonymous::{anonymous_mounts, new_anonymous_name};
pub use binds::parse_propagation;
pub use error::{Result, VolumeError};
pub use manager::{labels, MountUsers, VolumeInfo, VolumeManager, VolumeSpec};
pub use mounts::ImageMounts;
pub use request::MountRequest;
