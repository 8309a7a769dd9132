//! The runtime's error type. Messages are lower-case and name the container, path or setting
//! involved, so a user can act on them without reading code.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("container {0} already exists")]
    Exists(String),
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("container {id} is {status}; {hint}")]
    BadState { id: String, status: String, hint: String },
    #[error("invalid container config for {id}: {reason}")]
    InvalidConfig { id: String, reason: String },
    #[error(transparent)]
    Io(#[from] crate::fsutil::PathError),
    #[error("{op}: {source}")]
    Sys {
        op: String,
        #[source]
        source: nix::Error,
    },
    #[error("container state file {path} is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cgroup {path}: {reason}")]
    Cgroup { path: String, reason: String },
    #[error("starting container {id}: {reason}")]
    Start { id: String, reason: String },
    #[error("cannot find the berth-monitor helper binary (looked at {looked}); set BERTH_MONITOR")]
    NoHelper { looked: String },
    #[error("seccomp: {0}")]
    Seccomp(String),
    #[error(transparent)]
    SeccompProfile(#[from] super::seccomp_profile::ProfileError),
    #[error("removing container {id}: {errors}")]
    Teardown { id: String, errors: String },
}

pub type Result<T> = std::result::Result<T, RuntimeError>;

/// Shorthand for wrapping an `io::Error` with the operation and path it concerns.
pub(crate) fn io_err(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let path = path.into();
    move |source| crate::fsutil::PathError { op, path, source }.into()
}

/// Shorthand for wrapping a `nix::Error` with a description of the call.
pub(crate) fn sys_err(op: impl Into<String>) -> impl FnOnce(nix::Error) -> RuntimeError {
    let op = op.into();
    move |source| RuntimeError::Sys { op, source }
}
