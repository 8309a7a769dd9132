//! Size caps for the JSON documents of images, read whole into memory: from a registry, from a
//! `docker save` / OCI archive, or from the store. Layers are streamed and never read whole
//! (a registry's layer is held to its descriptor's size instead, see registry/pull.rs).
//!
//! The numbers are the ones the reference implementations use, so every image they accept is
//! accepted here: the distribution registry refuses manifests over 4 MiB, and containerd reads
//! at most 4 MiB of a manifest or index and 8 MiB of a config (configs carry the history, and
//! some build tools put large labels there).

/// An image manifest, an image index (manifest list), OCI `index.json`, docker-save
/// `manifest.json`.
pub const MAX_MANIFEST: u64 = 4 << 20;

/// An image config blob.
pub const MAX_CONFIG: u64 = 8 << 20;

/// A manifest or config read back from the store (verified against these limits on the way
/// in), when the caller does not say which it is.
pub const MAX_STORED_DOCUMENT: u64 = MAX_CONFIG;

/// The store's own `index.json`. It is berth's file, not an attacker's, but it grows with the
/// number of tags; 64 MiB is some hundred thousand tags.
pub const MAX_STORE_INDEX: u64 = 64 << 20;
