//! berth: a declarative multi-container orchestrator with its own container runtime.
//!
//! The layers, top to bottom (see DESIGN.md):
//! - [`spec`]: the stack file, parsed, interpolated, validated and normalized into a [`spec::Stack`].
//! - [`planner`]: a pure function from (desired, actual) to a DAG of actions.
//! - [`reconciler`]: executes plans against the lower layers until actual == desired.
//! - [`runtime`], [`network`], [`volumes`], [`image`]: the kernel-facing layers.
//! - [`cli`]: the `berth` command line.
//! - [`fsutil`], [`fsat`], [`timefmt`]: low-level helpers any layer may use (atomic state
//!   files and flock, no-follow fd-relative file operations, RFC 3339 timestamps);
//!   [`paths`] and [`rootid`]: where state lives, and the id kernel object names derive from.

pub mod builder;
pub mod cli;
pub mod common;
pub mod convert;
pub mod copy;
pub mod errchain;
pub mod fsat;
pub mod fsutil;
pub mod image;
pub mod network;
pub mod paths;
pub mod planner;
pub mod reconciler;
pub mod rootid;
pub mod runtime;
pub mod spec;
pub mod term;
pub mod timefmt;
pub mod timing;
pub mod volumes;
pub mod watch;
