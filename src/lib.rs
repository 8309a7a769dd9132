//! berth: a declarative multi-container orchestrator with its own container runtime.
//!
//! The layers, top to bottom (see DESIGN.md):
//! - [`spec`]: the stack file, parsed, interpolated, validated and normalized into a [`spec::Stack`].
//! - [`planner`]: a pure function from (desired, actual) to a DAG of actions.
//! - [`reconciler`]: executes plans against the lower layers until actual == desired.
//! - [`runtime`], [`network`], [`volumes`], [`image`]: the kernel-facing layers.
//! - [`cli`]: the `berth` command line.

pub mod cli;
pub mod image;
pub mod network;
pub mod paths;
pub mod planner;
pub mod reconciler;
pub mod runtime;
pub mod spec;
pub mod volumes;
