//! `ContainerConfig`: the plain, serializable description of one container, handed in by the
//! caller (the reconciler, or `berth run`). The runtime never reads a stack file or an image
//! store: layers arrive as directories, networks as a netns path, volumes as bind mounts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::common::mount::{Mount, Propagation};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerConfig {
    /// Unique id; names the state dir and the cgroup (`berth/<id>`).
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Unpacked image layer directories, lowest first.
    pub layers: Vec<PathBuf>,
    pub rootfs: RootfsConfig,
    pub process: ProcessConfig,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub namespaces: NamespaceConfig,
    pub mounts: Vec<Mount>,
    /// Size of /dev/shm in bytes (default 64 MiB, as Docker).
    pub shm_size: Option<u64>,
    /// Namespaced sysctls (`net.*`, `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`).
    pub sysctls: BTreeMap<String, String>,
    pub caps: CapsConfig,
    pub seccomp: SeccompMode,
    pub resources: Resources,
    /// Put berth's signal-forwarding, zombie-reaping init in front of the workload.
    pub init: bool,
    /// Signal name or number sent by `stop` (default SIGTERM).
    pub stop_signal: Option<String>,
    /// How long `stop` waits before SIGKILL (default 10 s).
    pub stop_grace: Option<Duration>,
    /// Rotate the container log when it reaches this many bytes (default 10 MiB).
    pub log_max_size: Option<u64>,
    /// Log files kept in all, the live one included (json-file's `max-file`; default 2, and
    /// berth keeps at most 2: with 1 a rotation starts the log over).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_max_files: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RootfsConfig {
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProcessConfig {
    /// argv; args[0] is looked up in the container's PATH when it has no slash.
    pub args: Vec<String>,
    /// `KEY=VALUE` entries.
    pub env: Vec<String>,
    /// Working directory inside the container (default `/`).
    pub cwd: Option<String>,
    /// `name|uid[:group|gid]`, resolved against the image's /etc/passwd and /etc/group.
    pub user: Option<String>,
    /// Extra supplementary groups (names or gids).
    pub group_add: Vec<String>,
    pub tty: bool,
    /// With `tty`: the pty's size when the process starts (the caller's terminal's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<super::tty::ConsoleSize>,
    /// Keep stdin open (the caller hands in the fd at start).
    pub stdin: bool,
    pub ulimits: Vec<Ulimit>,
    pub oom_score_adj: Option<i32>,
    /// prctl(2) PR_SET_NO_NEW_PRIVS. Default off, as Docker (`security_opt:
    /// [no-new-privileges:true]` turns it on): images that use sudo/su rely on setuid working.
    pub no_new_privs: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ulimit {
    /// e.g. `nofile`, `nproc`, `core`.
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NamespaceConfig {
    pub net: NetNs,
    /// Share the host's pid namespace.
    pub pid_host: bool,
    pub ipc_host: bool,
    pub uts_host: bool,
    /// Optional user namespace.
    pub user: Option<UserNs>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum NetNs {
    /// A fresh network namespace (loopback only).
    #[default]
    New,
    /// Join a network namespace prepared by the caller (e.g. /run/netns/x, /proc/PID/ns/net).
    Path(PathBuf),
    Host,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserNs {
    pub uid_map: Vec<IdMap>,
    pub gid_map: Vec<IdMap>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CapsConfig {
    /// Capability names with or without the `CAP_` prefix, any case; `ALL` allowed.
    pub add: Vec<String>,
    pub drop: Vec<String>,
    pub privileged: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum SeccompMode {
    /// Docker's default profile (`seccomp_default`).
    #[default]
    Default,
    Unconfined,
    /// A profile file in Docker's JSON format (absolute path, on the host); `Runtime::create`
    /// reads it into [`SeccompMode::Profile`], so the container keeps what it started with.
    File(PathBuf),
    Profile(Box<super::seccomp_profile::Profile>),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory + swap limit in bytes (-1 = unlimited swap).
    pub memory_swap: Option<i64>,
    /// CPUs as a fraction (0.5 = half a CPU); becomes quota/period.
    pub cpus: Option<f64>,
    pub cpu_shares: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    /// Per-device weights and throttles (`blkio_config`), device numbers resolved.
    #[serde(skip_serializing_if = "super::blkio::BlkioDevices::is_empty")]
    pub blkio_devices: super::blkio::BlkioDevices,
}

/// A process to run inside a running container (`exec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ExecConfig {
    pub args: Vec<String>,
    /// Added to (and overriding) the container's env.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    /// Default: the container's user.
    pub user: Option<String>,
    /// Sets TERM; the pty itself comes with `Runtime::exec_tty` (`exec_command` keeps the
    /// caller's stdio).
    pub tty: bool,
    /// With `exec_tty`: the pty's size when the command starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<super::tty::ConsoleSize>,
    /// Every capability (`exec --privileged`, as Docker); the container's seccomp filter stays.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
}

impl ContainerConfig {
    pub fn no_new_privs(&self) -> bool {
        self.process.no_new_privs.unwrap_or(false)
    }

    pub fn stop_grace(&self) -> Duration {
        self.stop_grace.unwrap_or(Duration::from_secs(10))
    }

    pub fn log_max_size(&self) -> u64 {
        self.log_max_size.unwrap_or(10 << 20)
    }

    pub fn log_max_files(&self) -> u32 {
        self.log_max_files.unwrap_or(2)
    }

    pub fn shm_size(&self) -> u64 {
        self.shm_size.unwrap_or(64 << 20)
    }
}
