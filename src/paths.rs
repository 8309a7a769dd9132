//! Where berth keeps things. State (images, volumes, container records) lives under one root,
//! default `/var/lib/berth`; runtime files (sockets, pid files, locks) under `/run/berth`.
//! `--root DIR` / `BERTH_ROOT` moves both under DIR (runtime files in `DIR/run`), so tests can
//! isolate themselves completely.

use std::path::{Path, PathBuf};

pub const DEFAULT_STATE_DIR: &str = "/var/lib/berth";
pub const DEFAULT_RUN_DIR: &str = "/run/berth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// Persistent state: images/, volumes/, containers/, projects/.
    pub state: PathBuf,
    /// Volatile runtime files: containers/<id>/ (monitor sockets, pid files), locks/.
    pub run: PathBuf,
}

impl Roots {
    /// The roots for an optional `--root` override.
    pub fn new(root: Option<&Path>) -> Self {
        match root {
            Some(r) => Roots { state: r.to_path_buf(), run: r.join("run") },
            None => Roots { state: PathBuf::from(DEFAULT_STATE_DIR), run: PathBuf::from(DEFAULT_RUN_DIR) },
        }
    }

    pub fn images(&self) -> PathBuf {
        self.state.join("images")
    }

    pub fn volumes(&self) -> PathBuf {
        self.state.join("volumes")
    }

    /// Persistent per-container state (config, upper dir, exit status, logs).
    pub fn container_state(&self, id: &str) -> PathBuf {
        self.state.join("containers").join(id)
    }

    /// Volatile per-container files (monitor socket, pid file).
    pub fn container_run(&self, id: &str) -> PathBuf {
        self.run.join("containers").join(id)
    }

    pub fn projects(&self) -> PathBuf {
        self.state.join("projects")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_moves_everything_under_one_dir() {
        let r = Roots::new(Some(Path::new("/tmp/x")));
        assert_eq!(r.images(), Path::new("/tmp/x/images"));
        assert_eq!(r.container_run("c1"), Path::new("/tmp/x/run/containers/c1"));
        assert_eq!(Roots::new(None).state, Path::new(DEFAULT_STATE_DIR));
    }
}
