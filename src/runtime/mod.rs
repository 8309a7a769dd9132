//! The built-in container runtime: one container with namespaces, cgroups and hardening.
//!
//! Shape (DESIGN.md "Runtime baseline"): the caller (reconciler, `berth run`) hands a plain
//! [`ContainerConfig`] to [`Runtime::create`]; [`Runtime::start`] spawns a small per-container
//! monitor (`berth-monitor`, run from a sealed memfd copy against CVE-2019-5736) which detaches,
//! creates the cgroup, clones the container child into its namespaces and supervises it; the
//! caller never forks a container itself, so a multi-threaded caller is safe.
//!
//! Files: `config` (what is asked), `state` (what happened, atomic), `lifecycle` (the
//! [`Runtime`] API), `monitor` (the per-container supervisor), `child` (the init sequence inside
//! the container, as a numbered list of steps), `rootfs` and `cgroupfs` (mounts), `securepath`
//! (openat2 RESOLVE_IN_ROOT lookups), `process` (user, caps, no_new_privs, seccomp, exec),
//! `pid1` (the built-in init), `exec`, `stop`, `cgroup`, `logs`, `attach`, `console` (attach input of a container started detached) and `tty`
//! (terminals, log following), `lograte` (the monitor's log pace), `autoremove` (`run --rm`
//! without its CLI), `caps`, `seccomp` (with `seccomp_profile`, Docker's JSON format,
//! `seccomp_default`, Docker's default profile as a table, and `seccomp_nrs`, syscall numbers),
//! `mountpolicy` (mounts refused or warned about), `user`, `limits`, `binary` (the helper and
//! its CVE-2019-5736 guard), `helper` (the helper binary's modes).
//!
//! Monitor footprint: the monitor is a separate small binary (`berth-monitor`), not a re-exec of
//! `berth` (which would run clap and touch much more of a larger binary), and once set up it
//! drops the clean file-backed pages setup touched (see `monitor::trim_rss`). Measured VmRSS of
//! an idle monitor: about 0.7 MiB with a release build (about 1.4 MiB while copying a burst of
//! output; back to ~0.75 MiB two seconds after), about 1.4 MiB with a debug build.

pub mod attach;
pub mod autoremove;
pub mod binary;
pub mod blkio;
pub mod caps;
pub mod cgroup;
pub mod cgroup_home;
mod cgroupfs;
mod child;
mod clone3;
pub mod config;
mod console;
pub use console::AttachClient;
pub mod devices_bpf;
pub mod error;
pub mod exec;
pub mod freeze;
pub mod fsaccess;
pub mod helper;
mod lifecycle;
pub mod limits;
pub mod lograte;
pub mod logs;
mod monitor;
mod mountpoints;
pub mod mountpolicy;
mod pid1;
pub mod process;
pub mod proctitle;
mod rootfs;
pub mod seccomp;
pub mod seccomp_default;
mod seccomp_nrs;
pub mod seccomp_profile;
pub mod securepath;
pub mod state;
pub mod stop;
pub mod tty;
pub mod user;
mod zygote;

pub use config::{
    CapsConfig, ContainerConfig, ExecConfig, IdMap, Mount, NamespaceConfig, NetNs, ProcessConfig, Propagation,
    Resources, RootfsConfig, SeccompMode, Ulimit, UserNs,
};
pub use error::{Result, RuntimeError};
pub use lifecycle::{monitor_rss_kib, validate, Runtime};
pub use rootfs::{MASKED, READ_ONLY};
pub use state::{ContainerState, Status};
