//! Errors of the registry client. Each names the image reference and the registry it was
//! talking to, and says what to do where there is something to do.

use crate::image::ImageError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("image `{reference}` not found on registry {registry}{}", detail_suffix(.detail))]
    NotFound { reference: String, registry: String, detail: String },

    #[error("registry {registry} refused access to `{reference}` (unauthorized){}; log in with `docker login {registry}` (credentials are read from ~/.docker/config.json)", detail_suffix(.detail))]
    Unauthorized { reference: String, registry: String, detail: String },

    #[error("cannot reach registry {registry} for `{reference}`: {reason}")]
    Connect { reference: String, registry: String, reason: String },

    #[error("registry {registry} answered {status} to {method} {url} for `{reference}`{}", detail_suffix(.detail))]
    Status { reference: String, registry: String, method: String, url: String, status: u16, detail: String },

    #[error("registry {registry} sent {what} of `{reference}` with digest {actual}, expected {expected}: refusing it")]
    DigestMismatch { reference: String, registry: String, what: String, expected: String, actual: String },

    #[error("registry {registry} sent {what} of `{reference}` of {actual} bytes, expected {expected}: refusing it")]
    SizeMismatch { reference: String, registry: String, what: String, expected: u64, actual: u64 },

    #[error("`{reference}` on registry {registry} is a schema 1 manifest, which is deprecated and not supported; re-push the image with a current client (docker/podman push write schema 2 or OCI)")]
    Schema1 { reference: String, registry: String },

    #[error("`{reference}` on registry {registry} has no image for {platform} (it has: {available})")]
    NoPlatform { reference: String, registry: String, platform: String, available: String },

    #[error("invalid {what} of `{reference}` from registry {registry}: {reason}")]
    Invalid { reference: String, registry: String, what: String, reason: String },

    #[error("i/o error talking to registry {registry} for `{reference}`")]
    Io {
        reference: String,
        registry: String,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Store(#[from] ImageError),
}

pub type Result<T> = std::result::Result<T, RegistryError>;

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}
