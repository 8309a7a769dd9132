//! The build cache: after each step, the resulting [`ImageState`] is stored under a key that
//! hashes the previous step's key (the chain back to the base image id), the instruction as it
//! will run (variables substituted, env/user/workdir/shell of the moment, build args in
//! effect) and, for COPY/ADD, a hash of the copied content. An unchanged rebuild finds every
//! step here and runs nothing. Entries whose layers garbage collection removed are misses.

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::state::ImageState;
use crate::image::ImageStore;
use crate::paths::Roots;

pub struct Cache {
    dir: PathBuf,
    /// `--no-cache`: never read (still written, so the next build can use it).
    read: bool,
}

impl Cache {
    pub fn new(roots: &Roots, read: bool) -> Cache {
        Cache { dir: roots.state.join("build-cache"), read }
    }

    /// The key of a step: its parent's key and everything that decides its result.
    pub fn key(parent: &str, parts: &[&str]) -> String {
        let mut h = Sha256::new();
        h.update(parent.as_bytes());
        for p in parts {
            h.update([0u8]);
            h.update(p.as_bytes());
        }
        hex::encode(h.finalize())
    }

    pub fn get(&self, store: &ImageStore, key: &str) -> Option<ImageState> {
        if !self.read {
            return None;
        }
        let bytes = std::fs::read(self.dir.join(key)).ok()?;
        let state: ImageState = serde_json::from_slice(&bytes).ok()?;
        state.layers.iter().all(|l| l.present(store)).then_some(state)
    }

    /// Best effort: a cache that cannot be written only makes the next build slower.
    pub fn put(&self, key: &str, state: &ImageState) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        if let Err(e) = crate::fsutil::write_json_atomic(&self.dir.join(key), state) {
            tracing::warn!(error = %e, "could not write the build cache");
        }
    }
}
