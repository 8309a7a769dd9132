//! The top level of a stack file and the resources it declares: networks, volumes, secrets,
//! configs, models and included files.

use super::common::{EXTERNAL, LIST_OR_DICT, OPTIONS, STRINGS, STRING_OR_LIST};
use super::service::SERVICE;
use super::shape::{closed, f, obj, obj_req, warn, KeyRule, Obj, Shape};

pub static ROOT: Shape = Shape::Obj(&TOP);

pub static TOP: Obj = obj(&[
    warn("version", Shape::Str, "the top-level `version` is obsolete and ignored; remove it"),
    f("name", Shape::Str),
    f("include", Shape::List(&Shape::OneOf(&[Shape::Str, Shape::Obj(&INCLUDE)]))),
    // Empty sections (`volumes:` with nothing under it) are common in override files.
    f("services", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Obj(&SERVICE)))),
    f("models", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Obj(&MODEL)))),
    f("networks", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Opt(&Shape::Obj(&NETWORK))))),
    f("volumes", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Opt(&Shape::Obj(&VOLUME))))),
    f("secrets", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Obj(&SECRET)))),
    f("configs", Shape::Opt(&Shape::Dict(KeyRule::Name, &Shape::Obj(&CONFIG)))),
]);

/// `include:` long form. The reference schema does not require `path`, but an include
/// without one names nothing, so berth requires it.
static INCLUDE: Obj =
    closed(&[f("path", STRING_OR_LIST), f("env_file", STRING_OR_LIST), f("project_directory", Shape::Str)], &["path"]);

pub static NETWORK: Obj = obj(&[
    f("name", Shape::Str),
    f("driver", Shape::Str),
    f("driver_opts", OPTIONS),
    f("ipam", Shape::Obj(&IPAM)),
    f("external", EXTERNAL),
    f("internal", Shape::Bool),
    f("enable_ipv4", Shape::Bool),
    f("enable_ipv6", Shape::Bool),
    f("attachable", Shape::Bool),
    f("labels", LIST_OR_DICT),
]);

static IPAM: Obj = obj(&[
    f("driver", Shape::Str),
    f("config", Shape::List(&Shape::Obj(&IPAM_POOL))),
    f("options", Shape::Dict(KeyRule::Any, &Shape::Str)),
]);

static IPAM_POOL: Obj = obj(&[
    f("subnet", Shape::Str),
    f("ip_range", Shape::Str),
    f("gateway", Shape::Str),
    f("aux_addresses", Shape::Dict(KeyRule::Any, &Shape::Str)),
]);

pub static VOLUME: Obj = obj(&[
    f("name", Shape::Str),
    f("driver", Shape::Str),
    f("driver_opts", OPTIONS),
    f("external", EXTERNAL),
    f("labels", LIST_OR_DICT),
]);

pub static SECRET: Obj = obj(&[
    f("name", Shape::Str),
    f("environment", Shape::Str),
    f("file", Shape::Str),
    f("external", EXTERNAL),
    f("labels", LIST_OR_DICT),
    f("driver", Shape::Str),
    f("driver_opts", OPTIONS),
    f("template_driver", Shape::Str),
]);

pub static CONFIG: Obj = obj(&[
    f("name", Shape::Str),
    f("content", Shape::Str),
    f("environment", Shape::Str),
    f("file", Shape::Str),
    f("external", EXTERNAL),
    f("labels", LIST_OR_DICT),
    f("template_driver", Shape::Str),
]);

pub static MODEL: Obj = obj_req(
    &[f("name", Shape::Str), f("model", Shape::Str), f("context_size", Shape::Int), f("runtime_flags", STRINGS)],
    &["model"],
);
