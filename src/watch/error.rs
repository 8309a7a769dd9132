//! Errors of watch mode: each names the service, container or path involved.

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WatchError {
    #[error("none of the selected services is configured for watch, consider setting a 'develop' section")]
    NothingToWatch,
    #[error("watch {path}: {reason}")]
    Watcher { path: PathBuf, reason: String },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("container `{container}`: {reason}")]
    Container { container: String, reason: String },
    #[error("service `{service}`: {reason}")]
    Service { service: String, reason: String },
}

pub type Result<T> = std::result::Result<T, WatchError>;

impl WatchError {
    pub fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        WatchError::Io { op, path: path.to_path_buf(), source }
    }

    pub fn container(container: &str, reason: impl std::fmt::Display) -> Self {
        WatchError::Container { container: container.to_string(), reason: reason.to_string() }
    }

    pub fn service(service: &str, reason: impl std::fmt::Display) -> Self {
        WatchError::Service { service: service.to_string(), reason: reason.to_string() }
    }
}
