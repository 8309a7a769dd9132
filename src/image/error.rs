//! Errors of the image store: one enum, messages lower-case and naming the image, file or path.
//! Wrapped errors are `#[source]`s and not repeated in the message (print the chain, e.g.
//! anyhow's `{:#}`, to see them).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image `{reference}` not found in the local store; import it with `berth image import`")]
    NotFound { reference: String },

    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidReference { reference: String, reason: String },

    #[error("image reference `{reference}` is ambiguous: it matches {count} images; use a longer id")]
    Ambiguous { reference: String, count: usize },

    #[error("i/o error on {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid json in {what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },

    #[error("invalid image archive {}: {reason}", path.display())]
    InvalidArchive { path: PathBuf, reason: String },

    #[error("unsafe entry `{entry}` in layer {layer}: {reason}")]
    UnsafeEntry { layer: String, entry: String, reason: String },

    #[error("cannot extract `{entry}` of layer {layer}")]
    Extract {
        layer: String,
        entry: String,
        #[source]
        source: std::io::Error,
    },

    #[error("image {id} is in use by a container; stop and remove it first, or use --force to untag only")]
    InUse { id: String },

    #[error("image {id} has several tags ({tags}); remove them by name, or use --force")]
    MultipleTags { id: String, tags: String },

    #[error("unsupported {what}: {value}")]
    Unsupported { what: String, value: String },
}

pub type Result<T> = std::result::Result<T, ImageError>;

/// Attach the path to an `io::Error` (the closure form keeps call sites short).
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ImageError {
    let path = path.into();
    move |source| ImageError::Io { path, source }
}

/// Attach a description to a `serde_json::Error`.
pub(crate) fn json_err(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> ImageError {
    let what = what.into();
    move |source| ImageError::Json { what, source }
}
