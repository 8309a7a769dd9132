//! The library behind the operations commands (`ps`, `logs`, `exec`, `run SERVICE`,
//! `stop`/`start`/`restart`/`kill`/`rm`/`wait`, `top`, `stats`, `port`, `ls`): everything
//! they do to a project's containers that is not argument parsing or printing.
//!
//! They work from what exists ([`super::project_containers`]: the runtime's records filtered
//! by the project label, joined with the project state dir), never from the stack file, so
//! they keep working when the file has changed or is gone.
//!
//! Files: `select` (which containers a command means), `status` (ps's sentences), `control`
//! (stop/start/kill/rm/wait), `logs` (read, merge, follow), `procs` (top), `stats`
//! (cgroup and netns counters), `oneoff` (`run SERVICE`), `standalone` (containers
//! outside any project: `berth container …`), `human` and `table` (rendering).

pub mod control;
pub mod human;
pub mod logs;
pub mod oneoff;
pub mod procs;
pub mod select;
pub mod standalone;
pub mod stats;
pub mod status;
pub mod table;

use thiserror::Error;

use super::ReconcileError;
use crate::runtime::RuntimeError;

#[derive(Debug, Error)]
pub enum OpsError {
    #[error("no container of service `{service}` in project `{project}`; run `berth up` first")]
    NoContainer { service: String, project: String },
    #[error("no containers in project `{project}`; run `berth up` first")]
    NoContainers { project: String },
    #[error("service `{service}` has no container number {index} in project `{project}` (it has {count})")]
    NoReplica { service: String, project: String, index: u32, count: usize },
    #[error("container `{container}` of service `{service}` is not running; start it with `berth start {service}`")]
    NotRunning { container: String, service: String },
    #[error(
        "container `{container}` of service `{service}` is paused; unpause it first with `berth unpause {service}`"
    )]
    Paused { container: String, service: String },
    #[error("service `{service}` does not publish port {port}/{protocol}")]
    NoPort { service: String, port: u16, protocol: String },
    #[error(
        "container `{0}` is running; stop it first (`berth container stop`) or remove it with `berth container rm -f`"
    )]
    RunningNoForce(String),
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("container id prefix `{prefix}` is ambiguous: it matches {}; give more of the id, or the name", .matches.join(", "))]
    Ambiguous { prefix: String, matches: Vec<String> },
    #[error("container `{container}`: {reason}")]
    Container { container: String, reason: String },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// Several errors, one a line (commands acting on many containers report them all).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<OpsError>),
}

pub type Result<T> = std::result::Result<T, OpsError>;

impl OpsError {
    pub fn container(container: &str, reason: impl std::fmt::Display) -> Self {
        OpsError::Container { container: container.to_string(), reason: reason.to_string() }
    }

    /// None as Ok, one as itself, several as [`OpsError::Many`].
    pub fn collect(mut errors: Vec<OpsError>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(OpsError::Many(errors)),
        }
    }
}
