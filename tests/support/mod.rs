//! Shared support for berth's integration tests: `mod support;` in a test file brings these in.
//! Not every test uses every helper, hence the crate-wide allow.
#![allow(dead_code, unused_imports)]

pub mod debian;
pub mod fixture;
pub mod http;
pub mod oneoff;
pub mod registry;
pub mod stack;
pub mod unpriv;

pub use fixture::{busybox_rootfs, busybox_rootfs_tar, import_busybox, remove_default_network, require_root};

/// Every cgroup directory berth made, on any host layout: the children of `berth/` at the root
/// of a pure cgroup v2 host (`/sys/fs/cgroup/berth/…`) and in every v1 hierarchy (and a hybrid
/// host's `unified`): `/sys/fs/cgroup/<hierarchy>/berth/…`. Leak checks look here, so on a v2
/// host they see what they see on a v1 one.
pub fn berth_cgroups() -> Vec<std::path::PathBuf> {
    let base = std::path::Path::new("/sys/fs/cgroup");
    let mut parents = vec![base.join("berth")];
    parents.extend(std::fs::read_dir(base).into_iter().flatten().flatten().map(|e| e.path().join("berth")));
    let mut out = Vec::new();
    for dir in parents {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                out.push(e.path());
            }
        }
    }
    out
}

/// [`berth_cgroups`] named `name` (a container id).
pub fn berth_cgroups_named(name: &str) -> Vec<std::path::PathBuf> {
    berth_cgroups().into_iter().filter(|p| p.file_name().is_some_and(|n| n == name)).collect()
}

/// How long to wait for something before giving up: `d` times `BERTH_TEST_PATIENCE` (default
/// 1). scripts/test-v2 raises it for its emulated guest, 5-10 times slower than this machine.
/// Only for give-up bounds of waits: speed is measured in benchmarks (bench/), not tests.
pub fn patience(d: std::time::Duration) -> std::time::Duration {
    d * patience_factor()
}

/// Waits until `f` holds, polling every `poll`, for at most `timeout` scaled by the test
/// patience; fails naming `what`.
#[allow(dead_code)]
pub fn eventually(what: &str, timeout: std::time::Duration, poll: std::time::Duration, mut f: impl FnMut() -> bool) {
    let timeout = patience(timeout);
    let t0 = std::time::Instant::now();
    while !f() {
        assert!(t0.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(poll);
    }
}

/// `BERTH_TEST_PATIENCE` (at least 1): above 1, the host is declared slow (an emulated guest).
pub fn patience_factor() -> u32 {
    let factor = std::env::var("BERTH_TEST_PATIENCE").ok().and_then(|v| v.trim().parse::<u32>().ok());
    factor.unwrap_or(1).max(1)
}
