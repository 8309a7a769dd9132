//! A private state root with the busybox fixture imported as `busybox:test`, for tests of
//! commands outside any project (`berth run IMAGE`, `berth container …`). Whatever containers
//! remain when it is dropped are force-removed, so a failing test does not leak.

use std::path::PathBuf;

use berth::paths::Roots;
use berth::runtime::Runtime;

pub struct Cli {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Drop for Cli {
    fn drop(&mut self) {
        let rt = Runtime::new(&Roots::new(Some(&self.root))).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
        for st in rt.list().unwrap_or_default() {
            let _ = rt.remove(&st.id, true);
            let _ = berth::network::release_container(&Roots::new(Some(&self.root)), &st.id);
        }
        // `berth run` made the root's default bridge (kept, as docker0 is).
        let _ = super::remove_default_network(&self.root);
    }
}

/// A fresh root under a temp dir named `<prefix>…`.
pub fn cli(prefix: &str) -> Cli {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("tempdir");
    let root = dir.path().join("root");
    super::import_busybox(&Roots::new(Some(&root)), "busybox:test");
    Cli { _dir: dir, root }
}
