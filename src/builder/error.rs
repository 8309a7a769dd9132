//! Errors of the image builder. Every error about the Dockerfile names `FILE:LINE`; wrapped
//! errors of the lower layers are `#[source]`s (print the chain, e.g. anyhow's `{:#}`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A syntax error, or an instruction that cannot be applied (bad flag, unknown stage…).
    #[error("{file}:{line}: {message}")]
    Dockerfile { file: String, line: usize, message: String },

    /// A RUN step's command exited non-zero; `hint` (empty, or a new line and a hint) says
    /// what network the step had when its output reported a name that did not resolve.
    #[error("{file}:{line}: `{command}` failed: exit code {code}{hint}")]
    RunFailed { file: String, line: usize, command: String, code: i32, hint: String },

    /// A step failed in a lower layer (runtime, image store, file system).
    #[error("{file}:{line}: {what}")]
    Step {
        file: String,
        line: usize,
        what: String,
        #[source]
        source: Box<BuildError>,
    },

    #[error("i/o error on {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("image store")]
    Image(#[from] crate::image::ImageError),

    #[error("container runtime")]
    Runtime(#[from] crate::runtime::RuntimeError),

    /// SIGINT/SIGTERM/SIGHUP arrived; everything the build had made is removed.
    #[error("build interrupted by {signal}")]
    Interrupted { signal: String },

    /// A bad request (no Dockerfile, unknown target, bad --build-arg…).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, BuildError>;

/// Attach the path to an `io::Error`.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.into();
    move |source| BuildError::Io { path, source }
}

/// Where in the Dockerfile an error happened; turns messages and lower errors into located ones.
#[derive(Debug, Clone)]
pub struct Loc {
    pub file: String,
    pub line: usize,
}

impl Loc {
    pub fn new(file: &str, line: usize) -> Loc {
        Loc { file: file.to_string(), line }
    }

    pub fn err(&self, message: impl Into<String>) -> BuildError {
        BuildError::Dockerfile { file: self.file.clone(), line: self.line, message: message.into() }
    }

    /// Wrap a lower error, unless it already names a Dockerfile line.
    pub fn wrap(&self, what: &str, e: BuildError) -> BuildError {
        match e {
            e @ (BuildError::Dockerfile { .. }
            | BuildError::RunFailed { .. }
            | BuildError::Step { .. }
            | BuildError::Interrupted { .. }) => e,
            e => BuildError::Step {
                file: self.file.clone(),
                line: self.line,
                what: what.to_string(),
                source: Box::new(e),
            },
        }
    }
}
