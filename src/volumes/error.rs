//! `VolumeError`: everything that can go wrong with volumes, bind mounts and tmpfs, each
//! message naming the volume, service or path involved and, where there is one, what to do.

use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = VolumeError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum VolumeError {
    #[error("invalid volume name `{0}`: use letters, digits, `_`, `.` and `-`, starting with a letter or digit")]
    InvalidName(String),
    #[error("volume `{0}` not found")]
    NotFound(String),
    #[error("external volume `{0}` not found; create it with `berth volume create {0}`")]
    ExternalNotFound(String),
    #[error("volume `{0}` already exists")]
    AlreadyExists(String),
    #[error("volume `{name}` is in use by container `{container}`; remove the container first")]
    InUse { name: String, container: String },
    #[error(
        "volume `{name}`: unsupported driver_opts {opts}; only {{type: none, o: bind, device: PATH}} is supported"
    )]
    UnsupportedDriverOpts { name: String, opts: String },
    #[error("volume `{name}`: the bind device {} does not exist or is not a directory", path.display())]
    MissingDevice { name: String, path: PathBuf },
    #[error("volume `{name}`: unsupported driver `{driver}`; only `local` is supported")]
    UnsupportedDriver { name: String, driver: String },
    #[error("service `{service}`: volume `{volume}` is not declared in the top-level `volumes:`")]
    Undeclared { service: String, volume: String },
    #[error("service `{service}`: bind mount source {} does not exist; create it or set bind.create_host_path: true", path.display())]
    BindSourceMissing { service: String, path: PathBuf },
    #[error("service `{service}`: bind mount source `{source_path}` must be an absolute path")]
    BindSourceRelative { service: String, source_path: String },
    #[error("service `{service}`: a bind mount to {target} needs a source path")]
    BindWithoutSource { service: String, target: String },
    #[error("service `{service}`: unknown propagation `{value}` for {target}; expected rprivate, private, rslave, slave, rshared or shared")]
    BadPropagation { service: String, target: String, value: String },
    #[error("service `{service}`: invalid tmpfs `{entry}`: {reason}")]
    BadTmpfs { service: String, entry: String, reason: String },
    #[error("service `{service}`: mount type `{kind}` at {target} is not supported")]
    UnsupportedMount { service: String, kind: String, target: String },
    #[error("service `{service}`: mount target `{target}` must be an absolute path")]
    RelativeTarget { service: String, target: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("volume metadata {}: {source}", path.display())]
    Metadata {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot name an anonymous volume: getrandom: {0}")]
    Random(#[source] std::io::Error),
    #[error("copying image content into volume `{name}` at {target}: {source}")]
    CopyUp {
        name: String,
        target: String,
        #[source]
        source: std::io::Error,
    },
}

/// `map_err(io_err(&path))`: wrap an io::Error with the path it concerns.
pub fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io { path: path.to_path_buf(), source }
}
