//! Typed values after interpolation, as compose-go casts them (loader/interpolate.go
//! `interpolateTypeCastMapping`): interpolation always yields text, so `replicas: ${N}` or
//! `privileged: "true"` are turned into the number or boolean they spell at the keys where the
//! Compose model holds one. Everywhere else text stays text. A value that does not parse is left
//! as it is, for validation to report.

use super::yaml::{Node, Value};

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Float,
    Bool,
}

/// Key paths under a service (`*`: any entry of a mapping or item of a list) and their type.
const SERVICE: &[(&[&str], Cast)] = &[
    (&["cpu_count"], Cast::Int),
    (&["cpu_percent"], Cast::Float),
    (&["cpu_period"], Cast::Int),
    (&["cpu_quota"], Cast::Int),
    (&["cpu_rt_period"], Cast::Int),
    (&["cpu_rt_runtime"], Cast::Int),
    (&["cpus"], Cast::Float),
    (&["cpu_shares"], Cast::Int),
    (&["init"], Cast::Bool),
    (&["depends_on", "*", "required"], Cast::Bool),
    (&["depends_on", "*", "restart"], Cast::Bool),
    (&["deploy", "replicas"], Cast::Int),
    (&["deploy", "update_config", "parallelism"], Cast::Int),
    (&["deploy", "update_config", "max_failure_ratio"], Cast::Float),
    (&["deploy", "rollback_config", "parallelism"], Cast::Int),
    (&["deploy", "rollback_config", "max_failure_ratio"], Cast::Float),
    (&["deploy", "restart_policy", "max_attempts"], Cast::Int),
    (&["deploy", "placement", "max_replicas_per_node"], Cast::Int),
    (&["healthcheck", "retries"], Cast::Int),
    (&["healthcheck", "disable"], Cast::Bool),
    (&["oom_kill_disable"], Cast::Bool),
    (&["oom_score_adj"], Cast::Int),
    (&["pids_limit"], Cast::Int),
    (&["ports", "*", "target"], Cast::Int),
    (&["privileged"], Cast::Bool),
    (&["read_only"], Cast::Bool),
    (&["scale"], Cast::Int),
    (&["stdin_open"], Cast::Bool),
    (&["tty"], Cast::Bool),
    (&["ulimits", "*"], Cast::Int),
    (&["ulimits", "*", "hard"], Cast::Int),
    (&["ulimits", "*", "soft"], Cast::Int),
    (&["volumes", "*", "read_only"], Cast::Bool),
    (&["volumes", "*", "volume", "nocopy"], Cast::Bool),
];

/// Key paths under a top-level resource of each section.
const RESOURCE: &[(&str, &str, Cast)] = &[
    ("networks", "external", Cast::Bool),
    ("networks", "internal", Cast::Bool),
    ("networks", "attachable", Cast::Bool),
    ("networks", "enable_ipv4", Cast::Bool),
    ("networks", "enable_ipv6", Cast::Bool),
    ("volumes", "external", Cast::Bool),
    ("secrets", "external", Cast::Bool),
    ("configs", "external", Cast::Bool),
];

/// Cast the text values of an interpolated file's tree in place.
pub fn cast(root: &mut Node) {
    let Some(top) = root.as_map_mut() else { return };
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        for (_, svc) in services.iter_mut() {
            for (path, kind) in SERVICE {
                at(svc, path, *kind);
            }
        }
    }
    for (section, key, kind) in RESOURCE {
        if let Some(entries) = top.get_mut(section).and_then(Node::as_map_mut) {
            for (_, obj) in entries.iter_mut() {
                at(obj, &[key], *kind);
            }
        }
    }
}

fn at(node: &mut Node, path: &[&str], kind: Cast) {
    let Some((first, rest)) = path.split_first() else {
        convert(node, kind);
        return;
    };
    match (&mut node.value, *first) {
        (Value::Map(m), "*") => m.iter_mut().for_each(|(_, v)| at(v, rest, kind)),
        (Value::Seq(items), "*") => items.iter_mut().for_each(|v| at(v, rest, kind)),
        (Value::Map(m), key) => {
            if let Some(v) = m.get_mut(key) {
                at(v, rest, kind);
            }
        }
        _ => {}
    }
}

fn convert(node: &mut Node, kind: Cast) {
    let Value::Str(s) = &node.value else { return };
    let text = s.trim();
    let value = match kind {
        Cast::Int => text.parse::<i64>().ok().map(Value::Int),
        Cast::Float => text.parse::<f64>().ok().filter(|f| f.is_finite()).map(|_| Value::Float(text.to_string())),
        // compose-go's toBoolean: YAML 1.1 spellings too.
        Cast::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Some(Value::Bool(true)),
            "false" | "n" | "no" | "off" => Some(Value::Bool(false)),
            _ => None,
        },
    };
    if let Some(v) = value {
        node.value = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse;

    #[test]
    fn text_becomes_numbers_and_booleans_where_compose_casts() {
        let mut root = parse(
            "services:\n  a:\n    scale: '2'\n    tty: 'yes'\n    image: '3'\n    deploy: {update_config: {parallelism: '4', max_failure_ratio: '0.5'}}\n    \
             ports: [{target: '80'}]\n    ulimits: {nproc: '10', nofile: {soft: '1', hard: '2'}}\nnetworks:\n  n: {external: 'true'}\n",
            "c.yaml",
        )
        .unwrap();
        cast(&mut root);
        let j = root.to_json();
        let a = &j["services"]["a"];
        assert_eq!(a["scale"], 2);
        assert_eq!(a["tty"], true);
        assert_eq!(a["image"], "3");
        assert_eq!(a["deploy"]["update_config"]["parallelism"], 4);
        assert_eq!(a["deploy"]["update_config"]["max_failure_ratio"], 0.5);
        assert_eq!(a["ports"][0]["target"], 80);
        assert_eq!(a["ulimits"], serde_json::json!({"nproc": 10, "nofile": {"soft": 1, "hard": 2}}));
        assert_eq!(j["networks"]["n"]["external"], true);
    }

    #[test]
    fn text_that_does_not_parse_stays() {
        let mut root = parse("services:\n  a:\n    scale: lots\n", "c.yaml").unwrap();
        cast(&mut root);
        assert_eq!(root.to_json()["services"]["a"]["scale"], "lots");
    }
}
