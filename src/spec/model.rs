//! The typed, normalized stack: what berth understood from the stack file(s), after
//! interpolation, merging, extends/include and short-to-long syntax normalization.
//! Serialized, it is `berth config`'s output; hashed per service, it is the drift detector.
//! Keys of the Compose schema that berth does not model (yet) are kept verbatim in `other`
//! so they are printed, hashed and warned about, never silently dropped.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use super::policy::{PullPolicy, RestartPolicy};
use super::units::{ByteSize, DurationSpec};

pub type Extensions = IndexMap<String, serde_json::Value>;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Stack {
    /// Normalized project name (lower-case, [a-z0-9_-], starting with a letter or digit).
    pub name: String,
    /// The project directory: relative paths in the files resolve against it.
    #[serde(skip)]
    pub project_dir: PathBuf,
    /// The files this stack was loaded from, in merge order.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
    pub services: IndexMap<String, Service>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Network>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, Volume>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub configs: IndexMap<String, FileObject>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub secrets: IndexMap<String, FileObject>,
    /// Top-level `models:` (AI models for services' `models:`), kept as written: berth does
    /// not run them yet.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub models: IndexMap<String, serde_json::Value>,
    /// Top-level `x-*` keys.
    #[serde(flatten)]
    pub extensions: Extensions,
    /// `--compatibility` or COMPOSE_COMPATIBILITY: names joined with `_`, as docker-compose v1
    /// (see [`Stack::separator`]).
    #[serde(skip)]
    pub compatibility: bool,
}

impl Stack {
    /// What joins the project, service and number in container names (`demo-web-1`) and the
    /// project and service in the name of a built image: `-`, or `_` in compatibility mode
    /// (`demo_web_1`), as Compose's `api.Separator`.
    pub fn separator(&self) -> &'static str {
        if self.compatibility {
            "_"
        } else {
            "-"
        }
    }

    /// The image service `name` runs: its `image:`, else the name a build tags it with
    /// (`<project>-<service>`, joined with [`Stack::separator`]).
    pub fn service_image(&self, name: &str, service: &Service) -> String {
        service.image.clone().unwrap_or_else(|| format!("{}{}{name}", self.name, self.separator()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Service {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Final environment: env_file entries first, `environment:` over them. None = declared
    /// without a value and not set in the loader's environment (passed through unset).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<ServiceVolume>,
    /// `tmpfs:` entries as written ("/run" or "/run:size=64m,mode=1777").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Networks joined (absent when network_mode is set; `default` when neither is given).
    /// A network joined with no settings is printed `null`, as Compose prints it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty", with = "nullable_networks")]
    pub networks: IndexMap<String, ServiceNetwork>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NetworkMode>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, Dependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "RestartPolicy::is_default")]
    pub restart: RestartPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    /// `scale:` (deploy.replicas wins when both are set and agree; a conflict is an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<ByteSize>,
    /// -1 means unlimited swap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<BlkioConfig>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sysctls: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<ByteSize>,
    /// host name -> addresses, in file order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub develop: Option<Develop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_links: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<FileRef>,
    /// Schema keys berth accepts but does not model (each one warned about at load time).
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Build {
    pub context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub args: IndexMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The network RUN steps use: `host`, `none` or `default` (no network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Other build keys (cache_from, ssh, secrets, …), kept verbatim.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvFile {
    pub path: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// `raw`: values taken literally (no quotes, escapes or interpolation); None = Compose's format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

pub use crate::common::port::Protocol;

/// One published or exposed port in long form. A host range with a single container port
/// (`8000-8010:80`) stays one entry with `published: "8000-8010"`; equal-length ranges on both
/// sides (`8000-8001:80-81`) expand into one entry per port, as Compose does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub target: u16,
    /// Host port or range ("8080", "8000-8010"); None = an ephemeral host port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default = "ingress")]
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    /// `x-*` keys of the entry, kept as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

fn ingress() -> String {
    "ingress".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
    Npipe,
    Image,
    Cluster,
}

/// One entry of `volumes:` in long form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceVolume {
    #[serde(rename = "type")]
    pub kind: MountKind,
    /// Bind: an absolute host path (resolved against the project dir, `~` expanded).
    /// Volume: the volume's key in top-level `volumes:`; None = anonymous volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    /// `type: image`: `image.subpath`, the directory of the image to mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMountOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImageMountOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    /// Short syntax creates a missing host path; long syntax only with create_host_path: true.
    #[serde(default = "yes")]
    pub create_host_path: bool,
    /// `z` / `Z` (accepted; a no-op on hosts without SELinux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VolumeOptions {
    #[serde(default, skip_serializing_if = "is_false")]
    pub nocopy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceNetwork {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Keys berth keeps but does not act on (gw_priority, interface_name, link_local_ips,
    /// driver_opts, `x-*`), as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

/// A service's networks with the entries that set nothing written as `null` (`default: null`),
/// as compose-go prints them; read back from either form.
mod nullable_networks {
    use indexmap::IndexMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::ServiceNetwork;

    pub fn serialize<S: Serializer>(nets: &IndexMap<String, ServiceNetwork>, s: S) -> Result<S::Ok, S::Error> {
        let empty = ServiceNetwork::default();
        let out: IndexMap<&String, Option<&ServiceNetwork>> =
            nets.iter().map(|(k, v)| (k, (*v != empty).then_some(v))).collect();
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IndexMap<String, ServiceNetwork>, D::Error> {
        let raw: IndexMap<String, Option<ServiceNetwork>> = IndexMap::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum NetworkMode {
    Bridge,
    Host,
    None,
    /// Share the network namespace of (the first container of) another service.
    Service(String),
    /// Share the network namespace of a named container.
    Container(String),
}

impl From<NetworkMode> for String {
    fn from(m: NetworkMode) -> String {
        match m {
            NetworkMode::Bridge => "bridge".into(),
            NetworkMode::Host => "host".into(),
            NetworkMode::None => "none".into(),
            NetworkMode::Service(s) => format!("service:{s}"),
            NetworkMode::Container(c) => format!("container:{c}"),
        }
    }
}

impl TryFrom<String> for NetworkMode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "bridge" | "default" => Ok(NetworkMode::Bridge),
            "host" => Ok(NetworkMode::Host),
            "none" => Ok(NetworkMode::None),
            _ => {
                if let Some(name) = s.strip_prefix("service:").filter(|n| !n.is_empty()) {
                    Ok(NetworkMode::Service(name.to_string()))
                } else if let Some(name) = s.strip_prefix("container:").filter(|n| !n.is_empty()) {
                    Ok(NetworkMode::Container(name.to_string()))
                } else {
                    Err(format!(
                        "unknown network_mode `{s}`; expected bridge, host, none, service:NAME or container:NAME"
                    ))
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DependsCondition {
    #[default]
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub condition: DependsCondition,
    /// Restart this service when the dependency is recreated or restarted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restart: bool,
    #[serde(default = "yes")]
    pub required: bool,
    /// `x-*` keys of the entry, kept as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

/// Printed as Compose prints it: `["NONE"]`, `["CMD", argv…]`, `["CMD-SHELL", script]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<String>", try_from = "Vec<String>")]
pub enum HealthTest {
    /// `NONE`: disables a health check inherited from the image.
    None,
    /// `CMD`: argv executed directly.
    Cmd(Vec<String>),
    /// `CMD-SHELL` or a plain string: run with `/bin/sh -c`.
    Shell(String),
}

impl From<HealthTest> for Vec<String> {
    fn from(t: HealthTest) -> Vec<String> {
        match t {
            HealthTest::None => vec!["NONE".into()],
            HealthTest::Cmd(argv) => std::iter::once("CMD".to_string()).chain(argv).collect(),
            HealthTest::Shell(script) => vec!["CMD-SHELL".into(), script],
        }
    }
}

impl TryFrom<Vec<String>> for HealthTest {
    type Error = String;
    fn try_from(v: Vec<String>) -> Result<Self, String> {
        match v.split_first() {
            Some((k, [])) if k == "NONE" => Ok(HealthTest::None),
            Some((k, rest)) if k == "CMD" && !rest.is_empty() => Ok(HealthTest::Cmd(rest.to_vec())),
            Some((k, rest)) if k == "CMD-SHELL" && !rest.is_empty() => Ok(HealthTest::Shell(rest.join(" "))),
            _ => Err("a health check test is [\"NONE\"], [\"CMD\", …] or [\"CMD-SHELL\", script]".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Healthcheck {
    /// None = inherit the image's test (only timing overridden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<HealthTest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<DurationSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable: bool,
    /// `x-*` keys, kept as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Other deploy keys (mode, placement, restart_policy, update_config, …), kept verbatim.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ResourceSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
    /// devices, generic_resources: kept verbatim.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BlkioConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<BlkioWeightDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<BlkioRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<BlkioRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<BlkioRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<BlkioRate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlkioWeightDevice {
    pub path: String,
    pub weight: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlkioRate {
    pub path: String,
    /// Bytes per second, or operations per second for the iops variants.
    pub rate: u64,
}

/// `nofile: 1024` sets both; `{soft, hard}` sets each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Develop {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<WatchRule>,
    /// `x-*` keys, kept as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchAction {
    #[serde(rename = "sync")]
    Sync,
    #[serde(rename = "rebuild")]
    Rebuild,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    #[serde(rename = "restart")]
    Restart,
    #[serde(rename = "sync+exec")]
    SyncExec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRule {
    /// Absolute host path (resolved against the project dir).
    pub path: String,
    pub action: WatchAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initial_sync: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Logging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub options: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub source: String,
    pub target: String,
    pub permissions: String,
}

/// A service's reference to a top-level secret or config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Network {
    /// The real network name (default `<project>_<key>`; `name:` overrides).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_ipv6: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Ipam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options, passed to an IPAM driver (berth's own IPAM has none).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub options: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub aux_addresses: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Volume {
    /// The real volume name (default `<project>_<key>`; `name:` overrides).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// `x-*` keys, kept as written.
    #[serde(default, flatten)]
    pub other: Extensions,
}

/// A top-level secret or config (file based, or from the environment / inline content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absolute path of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
    /// Keys berth keeps but does not act on (labels, driver, driver_opts, template_driver,
    /// `x-*`), as written.
    #[serde(default, flatten)]
    pub other: Extensions,
    /// The value of `environment`'s variable in the project's resolved environment (process
    /// environment over `.env`), read at load time as compose-go does. Never serialized: it
    /// is neither printed by `berth config` nor hashed nor recorded.
    #[serde(skip)]
    pub env_value: Option<SecretText>,
}

/// Text that must not be shown: its `Debug` says how long it is, never what it says (a
/// `Stack` in a log line or a panic message must not leak a secret).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

impl Service {
    /// How many containers the service wants (deploy.replicas, else scale, else 1).
    pub fn replicas(&self) -> u32 {
        self.deploy.as_ref().and_then(|d| d.replicas).or(self.scale).unwrap_or(1)
    }
}
