//! The larger sub-objects of a service: `build`, `deploy` and `develop`.

use super::checks::{BYTES, DURATION};
use super::common::{
    CONFIG_OR_SECRET_REFS, DEVICE_REQUEST, EXTRA_HOSTS, HOOK, LIST_OR_DICT, STRINGS, STRING_OR_LIST, ULIMITS,
};
use super::shape::{f, obj, obj_req, Obj, Shape};

pub static BUILD: Obj = obj(&[
    f("context", Shape::Str),
    f("dockerfile", Shape::Str),
    f("dockerfile_inline", Shape::Str),
    f("entitlements", STRINGS),
    f("args", LIST_OR_DICT),
    f("ssh", LIST_OR_DICT),
    f("labels", LIST_OR_DICT),
    f("cache_from", STRINGS),
    f("cache_to", STRINGS),
    f("no_cache", Shape::Bool),
    f("no_cache_filter", STRING_OR_LIST),
    f("additional_contexts", LIST_OR_DICT),
    f("network", Shape::Str),
    f("provenance", Shape::OneOf(&[Shape::Bool, Shape::Str])),
    f("sbom", Shape::OneOf(&[Shape::Bool, Shape::Str])),
    f("pull", Shape::Bool),
    f("target", Shape::Str),
    f("shm_size", BYTES),
    f("extra_hosts", EXTRA_HOSTS),
    f("isolation", Shape::Str),
    f("privileged", Shape::Bool),
    f("secrets", CONFIG_OR_SECRET_REFS),
    f("tags", STRINGS),
    f("ulimits", ULIMITS),
    f("platforms", STRINGS),
]);

pub static DEPLOY: Obj = obj(&[
    f("mode", Shape::Enum(&["replicated", "global", "replicated-job", "global-job"])),
    f("endpoint_mode", Shape::Enum(&["vip", "dnsrr"])),
    f("replicas", Shape::Int),
    f("labels", LIST_OR_DICT),
    f("rollback_config", Shape::Obj(&UPDATE_CONFIG)),
    f("update_config", Shape::Obj(&UPDATE_CONFIG)),
    f("resources", Shape::Obj(&RESOURCES)),
    f("restart_policy", Shape::Obj(&RESTART_POLICY)),
    f("placement", Shape::Obj(&PLACEMENT)),
]);

static UPDATE_CONFIG: Obj = obj(&[
    f("parallelism", Shape::Int),
    f("delay", DURATION),
    f("failure_action", Shape::Enum(&["continue", "rollback", "pause"])),
    f("monitor", DURATION),
    f("max_failure_ratio", Shape::Num),
    f("order", Shape::Enum(&["start-first", "stop-first"])),
]);

static RESOURCES: Obj = obj(&[f("limits", Shape::Obj(&LIMITS)), f("reservations", Shape::Obj(&RESERVATIONS))]);

static LIMITS: Obj = obj(&[f("cpus", Shape::Num), f("memory", BYTES), f("pids", Shape::Int)]);

static RESERVATIONS: Obj = obj(&[
    f("cpus", Shape::Num),
    f("memory", BYTES),
    f("generic_resources", Shape::List(&Shape::Obj(&GENERIC_RESOURCE))),
    f("devices", Shape::List(&Shape::Obj(&DEVICE_REQUEST))),
]);

static GENERIC_RESOURCE: Obj = obj(&[f("discrete_resource_spec", Shape::Obj(&DISCRETE_RESOURCE))]);

static DISCRETE_RESOURCE: Obj = obj(&[f("kind", Shape::Str), f("value", Shape::Num)]);

static RESTART_POLICY: Obj = obj(&[
    // Any string, as in the current Compose schema; docker compose maps it onto a restart
    // policy (convert/resources.rs).
    f("condition", Shape::Str),
    f("delay", DURATION),
    f("max_attempts", Shape::Int),
    f("window", DURATION),
]);

static PLACEMENT: Obj = obj(&[
    f("constraints", STRINGS),
    f("preferences", Shape::List(&Shape::Obj(&PREFERENCE))),
    f("max_replicas_per_node", Shape::Int),
]);

static PREFERENCE: Obj = obj(&[f("spread", Shape::Str)]);

pub static DEVELOP: Obj = obj(&[f("watch", Shape::List(&Shape::Obj(&WATCH)))]);

static WATCH: Obj = obj_req(
    &[
        f("ignore", STRING_OR_LIST),
        f("include", STRING_OR_LIST),
        f("path", Shape::Str),
        f("action", Shape::Enum(&["rebuild", "sync", "restart", "sync+restart", "sync+exec"])),
        f("target", Shape::Str),
        f("exec", Shape::Obj(&HOOK)),
        f("initial_sync", Shape::Bool),
    ],
    &["path", "action"],
);
