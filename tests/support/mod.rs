//! Shared support for berth's integration tests: `mod support;` in a test file brings these in.
//! Not every test uses every helper, hence the crate-wide allow.
#![allow(dead_code, unused_imports)]

pub mod fixture;
pub mod oneoff;
pub mod stack;
pub mod unpriv;

pub use fixture::{busybox_rootfs, busybox_rootfs_tar, import_busybox, remove_default_network, require_root};
