//! The built-in container runtime: one container with namespaces, cgroups and hardening.
//!
//! Shape (DESIGN.md "Runtime baseline"): the caller (reconciler, `berth run`) hands a plain
//! [`ContainerConfig`] to [`Runtime::create`]; [`Runtime::start`] spawns a small per-container
//! monitor (`berth-monitor`, run from a sealed memfd copy against CVE-2019-5736) which detaches,
//! creates the cgroup, clones the container child into its namespaces and supervises it; the
//! caller never forks a container itself, so a multi-threaded caller is safe.
//!
//! Files: `config` (what is asked), `state` (what happened, atomic), `child` (the init sequence
//! inside the container), `rootfs` (mounts), `process` (user, caps, seccomp, exec), `monitor`,
//! `pid1` (the built-in init), `exec`, `stop`, `cgroup`, `logs`, `caps`, `seccomp`, `user`,
//! `limits`, `binary` (helper lookup, sealed copy), `lifecycle` (the [`Runtime`] API).
//!
//! Monitor RSS: a separate small helper binary rather than a re-exec of `berth` (which would
//! run clap and map far more of a much larger binary); see `lifecycle::monitor_rss_kib`.

pub mod attach;
pub mod binary;
pub mod caps;
pub mod cgroup;
mod child;
pub mod config;
pub mod error;
pub mod exec;
pub mod helper;
mod lifecycle;
pub mod limits;
pub mod logs;
mod monitor;
mod pid1;
pub mod process;
mod rootfs;
pub mod seccomp;
pub mod state;
pub mod stop;
pub mod tty;
pub mod user;

pub use config::{
    CapsConfig, ContainerConfig, ExecConfig, IdMap, Mount, NamespaceConfig, NetNs, ProcessConfig, Propagation,
    Resources, RootfsConfig, SeccompMode, Ulimit, UserNs,
};
pub use error::{Result, RuntimeError};
pub use lifecycle::{monitor_rss_kib, Runtime};
pub use rootfs::{MASKED, READ_ONLY};
pub use state::{ContainerState, Status};
