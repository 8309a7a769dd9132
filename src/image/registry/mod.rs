//! A client for OCI distribution (registry v2) registries: `pull` images into the local store
//! and `push` them out of it.
//!
//! Files: `endpoint` (reference → base URL and API paths; http for loopback registries),
//! `auth` (WWW-Authenticate challenges, ~/.docker/config.json credentials), `client` (HTTP
//! with ureq, the token dance, error mapping), `manifest` (manifest kinds, platform selection),
//! `pull`, `push`, `artifact` (Compose projects as OCI artifacts), `error`.
//!
//! References are parsed by [`crate::image::Reference`] (Docker's defaults: `docker.io`,
//! `library/`, `:latest`).

pub mod artifact;
mod auth;
mod client;
#[cfg(test)]
mod client_tests;
mod endpoint;
mod error;
pub mod login;
pub mod manifest;
mod pull;
mod push;

pub use endpoint::INSECURE_ENV;
pub use error::{RegistryError, Result};
pub use pull::{pull, remote_digest, LayerEvent, LayerStatus, PullReport};
pub use push::{push, push_to, PushReport};
