//! The local image store: a content-addressed OCI image layout under `Roots::images()`, with
//! tags in index.json, imports (plain rootfs tar, `docker save` archive, OCI layout), and a cache
//! of unpacked layers shared by every container (see layout.rs for the files on disk).
//!
//! The runtime and reconciler call [`ImageStore::resolve`] to get an image's unpacked layers
//! (overlay lower dirs) and its [`ImageConfig`] defaults.

mod config;
mod error;
pub mod extract;
mod import;
mod index;
mod layers;
mod layout;
pub mod limits;
pub mod reference;
pub mod registry;
mod remove;
mod save;
mod source;
mod store;

pub use config::{Healthcheck, ImageConfig};
pub use error::{ImageError, Result};
pub use reference::Reference;
pub use save::save_to_file;
pub use store::{ImageId, ImageStore, ImageSummary, RemoveReport, ResolvedImage};
