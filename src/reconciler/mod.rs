//! The reconciler: joins the layers. It observes what exists ([`observe`]), asks the planner
//! what to do, executes the plan's DAG concurrently with the runtime, network, volume and image
//! layers, and keeps the stack converged (restart policies, health checks) while it is up.
//!
//! Files: `state` (the project state dir), `lock` (per-project flock), `observe` (→
//! `planner::Actual`, and [`ProjectContainer`]s for the ops commands), `layers` (the seam to
//! network and volumes), `seam` (what one container's steps ask of the image store, volumes,
//! secrets, network and runtime: the `Layers` trait, faked in container.rs's tests), `translate` (Service → `runtime::ContainerConfig`), `secrets` (secrets and configs as
//! read-only files), `container` (one container's create/start/stop/remove), `hooks` (post_start/pre_stop), `pre_start` (hook containers before a service starts), `execute` (a plan's DAG, concurrently), `up`, `down`,
//! `attach` (attached mode's logs and exit), `supervisor` + `restart` + `health` (keeping a
//! detached stack converged), `progress` (Compose-style lines), `ops` (ps/logs/exec/… helpers).

pub mod acquire;
pub mod attach;
pub mod container;
pub mod down;
pub mod error;
pub mod events;
pub mod execute;
pub mod health;
pub mod hooks;
pub(crate) mod layers;
pub mod lock;
pub mod mounts;
pub mod observe;
pub mod ops;
pub mod pre_start;
pub mod progress;
pub mod restart;
pub mod seam;
pub mod secrets;
pub mod state;
pub mod supervisor;
pub mod translate;
pub mod up;
pub mod wait;

pub use error::{ReconcileError, Result};
pub use lock::ProjectLock;
pub use observe::{list_projects, observe, project_containers, ProjectContainer};
pub use state::{ContainerRecord, HealthStatus, PortRecord, ProjectDir, ProjectMeta};
