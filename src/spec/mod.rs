//! The stack file: discovery, parsing with positions, interpolation, validation against the
//! Compose schema, merging of several files, and normalization into a typed [`Stack`].
//! Knows nothing of the kernel.

pub mod diag;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Pos, Severity};
