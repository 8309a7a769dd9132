//! The reconciler's error type. Messages are lower-case and name the project, service,
//! container or path involved, and what to do.
//!
//! The lower layers' errors are kept typed (`Runtime`, `Plan`, `Network`, `Volume`, `Image`
//! …), never flattened to text: a caller can match on them. Each variant's message already
//! ends with its cause's (`what: cause`), so the variants carry the cause as a plain field
//! rather than as `source()`: printing the chain would say it twice.

use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReconcileError {
    #[error("another berth command is working on project `{project}` (pid {pid}); try again when it finishes")]
    Locked { project: String, pid: String },
    #[error(transparent)]
    Io(#[from] crate::fsutil::PathError),
    #[error("corrupt state file {path}: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("write state file {path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error(transparent)]
    Plan(#[from] crate::planner::PlanError),
    #[error(transparent)]
    Secrets(#[from] super::secrets::SecretsError),
    #[error("service `{service}`: {reason}")]
    Service { service: String, reason: String },
    #[error("service `{service}` uses image `{image}`, which is not in the local store (and was not pulled: `pull_policy: never` or `--pull never`?); pull it with `berth image pull {image}` or import it with `berth image import FILE {image}`")]
    MissingImage { service: String, image: String },
    #[error("container {container}: {reason}")]
    Container { container: String, reason: String },
    /// An error of the network layer about `what` (a service, container or network). Shared:
    /// a failed firewall install is reported to every action waiting for it.
    #[error("{what}: {error}")]
    Network { what: String, error: Arc<crate::network::NetworkError> },
    /// An error of the runtime about `what` ("container NAME" or "service `NAME`").
    #[error("{what}: {error}")]
    RuntimeFor { what: String, error: crate::runtime::RuntimeError },
    /// berth's builder failed for a service's `build:`.
    #[error("service `{service}`: cannot build image `{image}`: {}", crate::errchain::chain(error))]
    Build { service: String, image: String, error: Box<crate::builder::BuildError> },
    /// A pull failed (shared by every service of that image).
    #[error("service `{service}`: cannot pull image `{image}`: {}", crate::errchain::chain(error.as_ref()))]
    Pull { service: String, image: String, error: Arc<crate::image::registry::RegistryError> },
    /// An error of the volumes layer about `what` (a service or volume).
    #[error("{what}: {error}")]
    Volume { what: String, error: crate::volumes::VolumeError },
    /// The image store failed (not "image missing": that is [`ReconcileError::MissingImage`]).
    #[error("service `{service}`: {error}")]
    Image { service: String, error: crate::image::ImageError },
    /// A lifecycle hook (`post_start`/`pre_stop`, see `reconciler::hooks`) failed or could not
    /// run; `index` counts from 0 as the file's list does. The message leaves the container
    /// out: callers name it already (the progress line, `container X: …` of the ops commands).
    #[error("service `{service}`: {kind}[{index}] hook `{command}` {reason}")]
    Hook { service: String, container: String, kind: &'static str, index: usize, command: String, reason: String },
    #[error("{0}")]
    Other(String),
    /// Several errors, each on its own line (teardown and parallel execution report them all).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<ReconcileError>),
}

pub type Result<T> = std::result::Result<T, ReconcileError>;

pub fn io_err<'a>(op: &'static str, path: &'a std::path::Path) -> impl FnOnce(std::io::Error) -> ReconcileError + 'a {
    move |source| crate::fsutil::PathError { op, path: path.to_path_buf(), source }.into()
}

impl ReconcileError {
    pub fn service(service: &str, reason: impl std::fmt::Display) -> Self {
        ReconcileError::Service { service: service.to_string(), reason: reason.to_string() }
    }

    pub fn container(container: &str, reason: impl std::fmt::Display) -> Self {
        ReconcileError::Container { container: container.to_string(), reason: reason.to_string() }
    }

    /// A runtime error about container `container`.
    pub fn in_container(container: &str, error: crate::runtime::RuntimeError) -> Self {
        ReconcileError::RuntimeFor { what: format!("container {container}"), error }
    }

    /// A runtime error about service `service`.
    pub fn in_service(service: &str, error: crate::runtime::RuntimeError) -> Self {
        ReconcileError::RuntimeFor { what: format!("service `{service}`"), error }
    }

    /// One error as is, several as [`ReconcileError::Many`], none as Ok.
    pub fn collect(mut errors: Vec<ReconcileError>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ReconcileError::Many(errors)),
        }
    }
}
