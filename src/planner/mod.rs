//! The planner: a pure function from (desired, actual) to a DAG of actions.
//!
//! - [`actual`]: the observed state ([`Actual`]), filled by the reconciler (empty until then).
//! - [`hash`]: the normalized config of a service and its hash, the drift detector.
//! - [`graph`]: the service dependency graph (explicit and implicit edges, cycle errors).
//! - `decide` / `build`: per-container decisions, then the DAG of [`Action`]s ([`plan()`]).
//! - [`Plan`]: the DAG with its ready-set and levels views, for concurrent execution.
//! - [`down`]: the plan of `down`, from the observed state alone.
//! - [`render`]: the readable diff and the JSON form.
//!
//! No I/O anywhere here: every test is a unit test.

pub mod action;
pub mod actual;
mod build;
mod decide;
pub mod down;
pub mod graph;
pub mod hash;
mod plan;
pub mod render;
#[cfg(test)]
mod tests;

use indexmap::IndexMap;

pub use action::{Action, ContainerRef, RemoveReason};
pub use actual::{
    Actual, ContainerState, ContainerStatus, FirewallDrift, Health, ImageState, NetworkState, ResourceState,
    VolumeState,
};
pub use build::{plan, plan_orphans};
pub(crate) use decide::image_ref;
pub use down::{plan_down, DownOptions};
pub use graph::ServiceGraph;
pub use hash::{changed_fields, config_hash, normalized_config};
pub use plan::{ActionId, Note, Plan};

/// Options of `up` that change the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Target services (`up web db`); empty = every service.
    pub services: Vec<String>,
    /// Recreate every existing container of the target services (all of them when `services`
    /// is empty), as Compose's `--force-recreate`.
    pub force_recreate: bool,
    /// Recreate every existing container of the targets' dependencies too
    /// (`--always-recreate-deps`).
    pub always_recreate_deps: bool,
    /// Never recreate an existing container, even when its config changed.
    pub no_recreate: bool,
    /// `-V`: recreate the containers with new anonymous volumes instead of their old ones
    /// (implies `force_recreate`, as in Compose since 2.29).
    pub renew_anon_volumes: bool,
    /// Do not bring up the targets' dependencies.
    pub no_deps: bool,
    /// Remove containers of services no longer in the stack (else they are only reported).
    pub remove_orphans: bool,
    /// `--all-resources`: every network and volume of the file is made, even one no service
    /// uses (else only those the created containers need, as Compose).
    pub all_resources: bool,
    /// `--scale SERVICE=N`: replicas overriding the file.
    pub scale: IndexMap<String, u32>,
    /// `create` / `up --no-start`: create (or recreate) containers, start none.
    pub no_start: bool,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Services in dependency order: `a -> b` means a depends on b; the last repeats the first.
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("service `{service}` {via} `{dependency}`, which is not a service of the stack")]
    UnknownDependency { service: String, dependency: String, via: &'static str },
    #[error("no such service: `{0}`")]
    UnknownService(String),
    #[error("{0} and {1} cannot be used together")]
    ConflictingOptions(&'static str, &'static str),
    #[error("service `{service}` cannot have {replicas} replicas: container_name `{name}` must be unique; remove container_name to scale")]
    ContainerNameScaled { service: String, name: String, replicas: u32 },
}
