//! Shapes shared by several parts of the Compose Specification (its `definitions`).

use super::shape::{closed, f, obj, obj_req, KeyRule, Obj, Shape};

/// A scalar value of a mapping such as `environment:` (strings, numbers, booleans, null).
pub const SCALAR_OR_NULL: Shape = Shape::Opt(&Shape::OneOf(&[Shape::Str, Shape::Bool]));
pub const STRINGS: Shape = Shape::List(&Shape::Str);
pub const STRING_OR_LIST: Shape = Shape::OneOf(&[Shape::Str, STRINGS]);
/// `environment`, `labels`, `sysctls`, build `args` …: `{K: V}` or `["K=V"]`.
pub const LIST_OR_DICT: Shape = Shape::OneOf(&[Shape::Dict(KeyRule::Any, &SCALAR_OR_NULL), STRINGS]);
/// `command`, `entrypoint`: null, a string (shell words) or a list.
pub const COMMAND: Shape = Shape::Opt(&STRING_OR_LIST);
/// `driver_opts`: string or number values.
pub const OPTIONS: Shape = Shape::Dict(KeyRule::Any, &Shape::Str);
/// `extra_hosts`: `["host:ip"]`, or `{host: ip}` / `{host: [ip, ip]}`.
pub const EXTRA_HOSTS: Shape = Shape::OneOf(&[Shape::Dict(KeyRule::Any, &STRING_OR_LIST), STRINGS]);

/// `external:` of networks, volumes, secrets and configs: a boolean, or the old `{name: …}`.
pub const EXTERNAL: Shape = Shape::OneOf(&[Shape::Bool, Shape::Obj(&EXTERNAL_OBJ)]);
static EXTERNAL_OBJ: Obj = obj(&[super::shape::warn(
    "name",
    Shape::Str,
    "`external.name` is deprecated; set `name:` next to `external: true` instead",
)]);

/// Service-level `secrets:` and `configs:`: a name, or the long form.
pub const CONFIG_OR_SECRET_REFS: Shape = Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&CONFIG_OR_SECRET_REF)]));
static CONFIG_OR_SECRET_REF: Obj = obj(&[
    f("source", Shape::Str),
    f("target", Shape::Str),
    f("uid", Shape::Str),
    f("gid", Shape::Str),
    // An octal mode is usually written as a string ("0440"); a number is taken as written.
    f("mode", Shape::Str),
]);

/// `ulimits`: `{nofile: 1024}` or `{nofile: {soft: 1024, hard: 2048}}`.
pub const ULIMITS: Shape = Shape::Dict(KeyRule::Lower, &Shape::OneOf(&[Shape::Int, Shape::Obj(&ULIMIT)]));
static ULIMIT: Obj = obj_req(&[f("hard", Shape::Int), f("soft", Shape::Int)], &["soft", "hard"]);

/// `post_start`, `pre_stop` and `develop.watch[].exec`.
pub static HOOK: Obj = obj_req(
    &[
        f("command", COMMAND),
        f("user", Shape::Str),
        f("privileged", Shape::Bool),
        f("working_dir", Shape::Str),
        f("environment", LIST_OR_DICT),
    ],
    &["command"],
);

/// A `pre_start` init container (current Compose schema `pre_start_hook`): a hook plus its
/// own image and whether it runs per replica; `command` is optional (the image's entrypoint
/// may be the step).
pub static PRE_START_HOOK: Obj = obj(&[
    f("command", COMMAND),
    f("image", Shape::Str),
    f("user", Shape::Str),
    f("privileged", Shape::Bool),
    f("working_dir", Shape::Str),
    f("environment", LIST_OR_DICT),
    f("per_replica", Shape::OneOf(&[Shape::Bool, Shape::Str])),
]);

/// A device request (deploy reservations, gpus).
pub const DEVICE_FIELDS: &[super::shape::Field] = &[
    f("capabilities", STRINGS),
    f("count", super::checks::COUNT),
    f("device_ids", STRINGS),
    f("driver", Shape::Str),
    f("options", LIST_OR_DICT),
];
pub static DEVICE_REQUEST: Obj = obj_req(DEVICE_FIELDS, &["capabilities"]);
/// `gpus:` items: like a device request, `capabilities` optional (gpus implies it).
pub static GPU: Obj = obj(DEVICE_FIELDS);

/// `blkio_config` throttles: `{path, rate}`; bps rates are byte sizes, iops rates integers.
pub static BLKIO_BPS: Obj = closed(&[f("path", Shape::Str), f("rate", super::checks::BYTES)], &[]);
pub static BLKIO_IOPS: Obj = closed(&[f("path", Shape::Str), f("rate", Shape::Int)], &[]);
pub static BLKIO_WEIGHT: Obj = closed(&[f("path", Shape::Str), f("weight", Shape::Int)], &[]);
