//! Watch mode (`berth watch`, `berth up --watch`): Compose's `develop.watch` rules, applied to
//! the running stack as files change on the host.
//!
//! Files: `rules` (a rule compiled: path matching, ignore/include patterns, the build
//! context's `.dockerignore`), `batch` (debouncing the watcher's events into batches), `sync`
//! (files into a running container: tar through the runtime's exec, deletions by `rm`),
//! `action` (per-service dispatch: sync, restart, exec hooks), `rebuild` (build + recreate),
//! `session` (the watcher and the loop), `error`.

pub mod action;
pub mod batch;
pub mod error;
pub mod rebuild;
pub mod rules;
pub mod session;
pub mod sync;

pub use error::{Result, WatchError};
pub use session::{watch, Report, StderrReport, WatchOptions};
