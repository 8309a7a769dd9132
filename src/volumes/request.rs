//! What a container asks of the volumes layer, one entry per mount, as plain data: the
//! reconciler translates a service's `volumes:`/`tmpfs:` into these (src/reconciler/mounts.rs),
//! so this layer never reads a stack file's types.

use super::manager::VolumeSpec;

#[derive(Debug, Clone, PartialEq)]
pub enum MountRequest {
    /// A host path (absolute, resolved by the loader) bind-mounted at `target`.
    Bind {
        source: Option<String>,
        target: String,
        read_only: bool,
        /// Create a missing source as a directory (the short syntax's behaviour).
        create_host_path: bool,
        /// Compose's propagation name (`rslave` …); None = rprivate.
        propagation: Option<String>,
        /// `z`/`Z`: accepted, a no-op without SELinux.
        selinux: Option<String>,
    },
    /// A tmpfs at `target`.
    Tmpfs { target: String, size: Option<u64>, mode: Option<u32> },
    /// A named volume (`Some`: its spec, ensured here) or an anonymous one (`None`).
    Volume { volume: Option<VolumeSpec>, target: String, read_only: bool, nocopy: bool, subpath: Option<String> },
    /// A mount type berth does not perform (`npipe`, `cluster`, `image` …).
    Unsupported { kind: String, target: String },
}

impl MountRequest {
    pub fn target(&self) -> &str {
        match self {
            MountRequest::Bind { target, .. }
            | MountRequest::Tmpfs { target, .. }
            | MountRequest::Volume { target, .. }
            | MountRequest::Unsupported { target, .. } => target,
        }
    }
}
