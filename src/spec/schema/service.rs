//! A service: every key the Compose Specification lists for it, with its shape. Build,
//! deploy and develop live in [`super::service_parts`].

use super::checks::{
    BYTES, BYTES_OR_UNLIMITED, CONTAINER_NAME, DURATION, MICROS_OR_DURATION, NON_NEGATIVE, OOM_SCORE_ADJ, PERCENT,
    PULL_POLICY,
};
use super::common::{
    BLKIO_BPS, BLKIO_IOPS, BLKIO_WEIGHT, COMMAND, CONFIG_OR_SECRET_REFS, EXTRA_HOSTS, GPU, HOOK, LIST_OR_DICT, OPTIONS,
    PRE_START_HOOK, STRINGS, STRING_OR_LIST, ULIMITS,
};
use super::service_parts::{BUILD, DEPLOY, DEVELOP};
use super::shape::{closed, f, obj, obj_req, KeyRule, Obj, Shape};

pub static SERVICE: Obj = obj(&[
    f("annotations", LIST_OR_DICT),
    f("attach", Shape::Bool),
    f("blkio_config", Shape::Obj(&BLKIO)),
    f("build", Shape::OneOf(&[Shape::Str, Shape::Obj(&BUILD)])),
    f("cap_add", STRINGS),
    f("cap_drop", STRINGS),
    f("cgroup", Shape::Enum(&["host", "private"])),
    f("cgroup_parent", Shape::Str),
    f("command", COMMAND),
    f("configs", CONFIG_OR_SECRET_REFS),
    f("container_name", CONTAINER_NAME),
    f("cpu_count", NON_NEGATIVE),
    f("cpu_percent", PERCENT),
    f("cpu_period", Shape::Int),
    f("cpu_quota", Shape::Int),
    f("cpu_rt_period", MICROS_OR_DURATION),
    f("cpu_rt_runtime", MICROS_OR_DURATION),
    f("cpu_shares", Shape::Int),
    f("cpus", Shape::Num),
    f("cpuset", Shape::Str),
    f("credential_spec", Shape::Obj(&CREDENTIAL_SPEC)),
    f("depends_on", Shape::OneOf(&[STRINGS, Shape::Dict(KeyRule::Name, &Shape::Obj(&DEPENDENCY))])),
    f("deploy", Shape::Opt(&Shape::Obj(&DEPLOY))),
    f("develop", Shape::Opt(&Shape::Obj(&DEVELOP))),
    f("device_cgroup_rules", STRINGS),
    f("devices", Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&DEVICE)]))),
    f("dns", STRING_OR_LIST),
    f("dns_opt", STRINGS),
    f("dns_search", STRING_OR_LIST),
    f("domainname", Shape::Str),
    f("entrypoint", COMMAND),
    f("env_file", Shape::OneOf(&[Shape::Str, Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&ENV_FILE)]))])),
    f("environment", LIST_OR_DICT),
    f("expose", STRINGS),
    f("extends", Shape::OneOf(&[Shape::Str, Shape::Obj(&EXTENDS)])),
    f("external_links", STRINGS),
    f("extra_hosts", EXTRA_HOSTS),
    f("gpus", Shape::OneOf(&[Shape::Enum(&["all"]), Shape::List(&Shape::Obj(&GPU))])),
    f("group_add", STRINGS),
    f("healthcheck", Shape::Obj(&HEALTHCHECK)),
    f("hostname", Shape::Str),
    f("image", Shape::Str),
    f("init", Shape::Bool),
    f("ipc", Shape::Str),
    f("isolation", Shape::Str),
    f("label_file", STRING_OR_LIST),
    f("labels", LIST_OR_DICT),
    f("links", STRINGS),
    f("logging", Shape::Obj(&LOGGING)),
    f("mac_address", Shape::Str),
    f("mem_limit", BYTES),
    f("mem_reservation", BYTES),
    f("mem_swappiness", PERCENT),
    f("memswap_limit", BYTES_OR_UNLIMITED),
    f("models", Shape::OneOf(&[STRINGS, Shape::Dict(KeyRule::Name, &Shape::Obj(&MODEL_REF))])),
    f("network_mode", Shape::Str),
    f("networks", Shape::OneOf(&[STRINGS, Shape::Dict(KeyRule::Name, &Shape::Opt(&Shape::Obj(&NETWORK_REF)))])),
    f("oom_kill_disable", Shape::Bool),
    f("oom_score_adj", OOM_SCORE_ADJ),
    f("pid", Shape::Opt(&Shape::Str)),
    f("pids_limit", Shape::Int),
    f("platform", Shape::Str),
    f("ports", Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&PORT)]))),
    f("post_start", Shape::List(&Shape::Obj(&HOOK))),
    f("pre_start", Shape::List(&Shape::Obj(&PRE_START_HOOK))),
    f("pre_stop", Shape::List(&Shape::Obj(&HOOK))),
    f("privileged", Shape::Bool),
    f("profiles", STRINGS),
    f("provider", Shape::Obj(&PROVIDER)),
    f("pull_policy", PULL_POLICY),
    f("pull_refresh_after", Shape::Str),
    f("read_only", Shape::Bool),
    // Any string, as in the Compose schema: an unknown policy is a warning (convert).
    f("restart", Shape::Str),
    f("runtime", Shape::Str),
    f("scale", Shape::Int),
    f("secrets", CONFIG_OR_SECRET_REFS),
    f("security_opt", STRINGS),
    f("shm_size", BYTES),
    f("stdin_open", Shape::Bool),
    f("stop_grace_period", DURATION),
    f("stop_signal", Shape::Str),
    f("storage_opt", Shape::Dict(KeyRule::Any, &Shape::Any)),
    f("sysctls", LIST_OR_DICT),
    f("tmpfs", STRING_OR_LIST),
    f("tty", Shape::Bool),
    f("ulimits", ULIMITS),
    f("use_api_socket", Shape::Bool),
    f("user", Shape::Str),
    f("userns_mode", Shape::Str),
    f("uts", Shape::Str),
    f("volumes", Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&MOUNT)]))),
    f("volumes_from", STRINGS),
    f("working_dir", Shape::Str),
]);

static BLKIO: Obj = closed(
    &[
        f("device_read_bps", Shape::List(&Shape::Obj(&BLKIO_BPS))),
        f("device_read_iops", Shape::List(&Shape::Obj(&BLKIO_IOPS))),
        f("device_write_bps", Shape::List(&Shape::Obj(&BLKIO_BPS))),
        f("device_write_iops", Shape::List(&Shape::Obj(&BLKIO_IOPS))),
        f("weight", Shape::Int),
        f("weight_device", Shape::List(&Shape::Obj(&BLKIO_WEIGHT))),
    ],
    &[],
);

static CREDENTIAL_SPEC: Obj = obj(&[f("config", Shape::Str), f("file", Shape::Str), f("registry", Shape::Str)]);

// `condition` is required, but on the merged files (convert/refs.rs): an override file may
// give only `required:` or `restart:` (compose-go validates after merging).
static DEPENDENCY: Obj = obj(&[
    f("condition", Shape::Enum(&["service_started", "service_healthy", "service_completed_successfully"])),
    f("required", Shape::Bool),
    f("restart", Shape::Bool),
]);

static DEVICE: Obj =
    obj_req(&[f("source", Shape::Str), f("target", Shape::Str), f("permissions", Shape::Str)], &["source"]);

static ENV_FILE: Obj = closed(&[f("path", Shape::Str), f("format", Shape::Str), f("required", Shape::Bool)], &["path"]);

static EXTENDS: Obj = closed(&[f("service", Shape::Str), f("file", Shape::Str)], &["service"]);

static HEALTHCHECK: Obj = obj(&[
    f("disable", Shape::Bool),
    f("interval", DURATION),
    f("retries", Shape::Int),
    f("start_interval", DURATION),
    f("start_period", DURATION),
    f("test", STRING_OR_LIST),
    f("timeout", DURATION),
]);

static LOGGING: Obj =
    obj(&[f("driver", Shape::Str), f("options", Shape::Dict(KeyRule::Any, &Shape::Opt(&Shape::Str)))]);

static MODEL_REF: Obj = obj(&[f("endpoint_var", Shape::Str), f("model_var", Shape::Str)]);

static NETWORK_REF: Obj = obj(&[
    f("aliases", STRINGS),
    f("driver_opts", OPTIONS),
    f("gw_priority", Shape::Num),
    f("interface_name", Shape::Str),
    f("ipv4_address", Shape::Str),
    f("ipv6_address", Shape::Str),
    f("link_local_ips", STRINGS),
    f("mac_address", Shape::Str),
    f("priority", Shape::Num),
]);

/// Long-form port. `published` stays a string-or-number since it may be a range ("8000-8010").
static PORT: Obj = obj(&[
    f("name", Shape::Str),
    f("mode", Shape::Enum(&["host", "ingress"])),
    f("host_ip", Shape::Str),
    f("target", Shape::Int),
    f("published", Shape::Str),
    // The reference leaves protocol a free string; Linux (and Docker) know these three.
    f("protocol", Shape::Enum(&["tcp", "udp", "sctp"])),
    f("app_protocol", Shape::Str),
]);

static PROVIDER: Obj = obj_req(
    &[
        f("type", Shape::Str),
        f(
            "options",
            Shape::Dict(
                KeyRule::Any,
                &Shape::OneOf(&[Shape::Str, Shape::Bool, Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Bool]))]),
            ),
        ),
    ],
    &["type"],
);

/// Long-form volume (a mount).
static MOUNT: Obj = obj_req(
    &[
        f("type", Shape::Enum(&["bind", "volume", "tmpfs", "cluster", "npipe", "image"])),
        f("source", Shape::Str),
        f("target", Shape::Str),
        f("read_only", Shape::Bool),
        f("consistency", Shape::Str),
        f("bind", Shape::Obj(&MOUNT_BIND)),
        f("volume", Shape::Obj(&MOUNT_VOLUME)),
        f("tmpfs", Shape::Obj(&MOUNT_TMPFS)),
        f("image", Shape::Obj(&MOUNT_IMAGE)),
    ],
    &["type"],
);

static MOUNT_BIND: Obj = obj(&[
    f("propagation", Shape::Enum(&["private", "rprivate", "shared", "rshared", "slave", "rslave"])),
    f("create_host_path", Shape::Bool),
    f("recursive", Shape::Enum(&["enabled", "disabled", "writable", "readonly"])),
    f("selinux", Shape::Enum(&["z", "Z"])),
]);

static MOUNT_VOLUME: Obj = obj(&[f("labels", LIST_OR_DICT), f("nocopy", Shape::Bool), f("subpath", Shape::Str)]);

/// tmpfs `mode` is usually octal, written as a string ("1777") or a number.
static MOUNT_TMPFS: Obj = obj(&[f("size", BYTES), f("mode", Shape::Str)]);

static MOUNT_IMAGE: Obj = obj(&[f("subpath", Shape::Str)]);
