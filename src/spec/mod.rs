//! The stack file: discovery, parsing with positions, interpolation, validation against the
//! Compose schema, merging of several files, and normalization into a typed [`Stack`].
//! Knows nothing of the kernel.
//!
//! Pipeline, per file: [`yaml::parse`] → [`interpolate`] → [`cast`] → [`schema::validate`] →
//! [`canonical::canonicalize`] (short syntax → long syntax, on the node tree, positions kept);
//! then across files: [`include`], [`extends`], [`merge`]; then [`convert`] (nodes → typed
//! [`Stack`]), [`semantic`] and [`consistency`] checks, and [`normalize`]. [`load::load`] runs it all; [`project`] finds the files
//! and the project name.

pub mod canonical;
pub mod cast;
pub mod consistency;
pub mod convert;
pub mod deps;
pub mod diag;
pub mod envfile;
pub mod extends;
pub mod hooks;
pub mod include;
pub mod interpolate;
pub mod load;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod policy;
pub mod project;
pub mod relpath;
pub mod schema;
pub mod semantic;
pub mod units;
pub mod variables;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Pos, Severity};
pub use model::{Service, Stack};
