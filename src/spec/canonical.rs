//! Short syntax → long syntax, on the node tree.
//!
//! Compose lets most service keys be written two ways (`ports: ["8080:80"]` or a list of
//! `{target, published, …}` maps; `environment` as a list or a map …). Rewriting every short
//! form into the long one right after validation means merge, extends and convert only ever see
//! one shape. New nodes take the position of the node they were derived from, so later errors
//! still point into the file. Malformed short syntax is a diagnostic with the item's position
//! and key path (`services.web.ports[2]`); the offending item is dropped.

mod lists;
mod ports;
pub mod shellwords;
mod volumes;

use super::diag::{Diagnostics, Pos};
use super::yaml::{Key, Map, Node, Value};

pub use ports::{parse_port, PortSpec};
pub use volumes::{parse_volume, VolumeSpec};

/// Rewrite every short syntax in one file's tree into the Compose long syntax.
pub fn canonicalize(root: &mut Node, diags: &mut Diagnostics) {
    let Some(top) = root.as_map_mut() else { return };
    for (key, node) in top.iter_mut() {
        let section = key.name.as_str();
        let Some(entries) = node.as_map_mut() else { continue };
        match section {
            "services" => {
                for (name, svc) in entries.iter_mut() {
                    if let Some(svc) = svc.as_map_mut() {
                        service(svc, &format!("services.{}", name.name), diags);
                    }
                }
            }
            "networks" | "volumes" | "configs" | "secrets" => {
                for (_, obj) in entries.iter_mut() {
                    if let Some(labels) = obj.as_map_mut().and_then(|m| m.get_mut("labels")) {
                        lists::to_map(labels, Missing::Empty);
                    }
                }
            }
            _ => {}
        }
    }
}

/// What a list entry without `=` becomes in map form.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Missing {
    /// `environment: [FOO]`: FOO with no value (resolved from the environment later).
    Null,
    /// `labels: [foo]`: an empty string.
    Empty,
}

/// One service's keys, each rewritten in place.
fn service(svc: &mut Map, path: &str, diags: &mut Diagnostics) {
    for (key, node) in svc.iter_mut() {
        let name = key.name.as_str();
        let kpath = format!("{path}.{name}");
        match name {
            "ports" => ports::canonicalize(node, &kpath, diags),
            "volumes" => volumes::canonicalize(node, &kpath, diags),
            "environment" => lists::env_list(node, &kpath, diags),
            "labels" | "annotations" | "sysctls" => lists::to_map(node, Missing::Empty),
            "extra_hosts" => lists::extra_hosts(node, &kpath, diags),
            "depends_on" => lists::depends_on(node),
            "networks" | "models" => lists::networks(node),
            "command" | "entrypoint" => lists::shell_command(node, &kpath, diags),
            "healthcheck" => lists::healthcheck(node),
            "env_file" => lists::env_file(node),
            "build" => lists::build(node, &kpath, diags),
            "secrets" | "configs" => lists::file_refs(node),
            "ulimits" => lists::ulimits(node),
            "devices" => lists::devices(node, &kpath, diags),
            "expose" => lists::expose(node),
            "tmpfs" | "dns_search" | "label_file" => lists::string_to_list(node),
            "dns" => lists::dns(node),
            "develop" => lists::develop(node),
            "deploy" => {
                if let Some(labels) = node.as_map_mut().and_then(|m| m.get_mut("labels")) {
                    lists::to_map(labels, Missing::Empty);
                }
            }
            _ => {}
        }
    }
}

pub(crate) fn key(name: &str, pos: &Pos) -> Key {
    Key { name: name.to_string(), pos: pos.clone() }
}

pub(crate) fn str_node(s: impl Into<String>, pos: &Pos) -> Node {
    Node::new(Value::Str(s.into()), pos.clone())
}

pub(crate) fn map_node(entries: Vec<(&str, Node)>, pos: &Pos) -> Node {
    let entries = entries.into_iter().map(|(k, v)| (key(k, pos), v));
    Node::new(Value::Map(Map::from_entries(entries)), pos.clone())
}

/// Set `key` in a map node unless it is already there (for filling in long-form defaults).
pub(crate) fn set_default(map: &mut Map, name: &str, value: Node) {
    if !map.contains_key(name) {
        let pos = value.pos.clone();
        map.insert(key(name, &pos), value);
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::super::yaml::{parse, Node};
    use super::*;

    /// Parse a stack file, canonicalize it, and return (tree, diagnostics).
    pub fn canon(src: &str) -> (Node, Diagnostics) {
        let mut root = parse(src, "c.yaml").expect("valid yaml");
        let mut diags = Diagnostics::new();
        canonicalize(&mut root, &mut diags);
        (root, diags)
    }

    /// The JSON of `services.<svc>.<key>` after canonicalization (asserting no diagnostics).
    pub fn svc_key(src: &str, svc: &str, key: &str) -> serde_json::Value {
        let (root, diags) = canon(src);
        assert!(diags.is_empty(), "unexpected diagnostics: {diags}");
        root.to_json()["services"][svc][key].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use serde_json::json;

    #[test]
    fn top_level_labels_become_maps() {
        let (root, d) = canon("volumes:\n  data:\n    labels: [a=b, c]\nservices: {}\n");
        assert!(d.is_empty());
        assert_eq!(root.to_json()["volumes"]["data"]["labels"], json!({"a": "b", "c": ""}));
    }

    #[test]
    fn deploy_labels_and_sysctls_become_maps() {
        let src = "services:\n  a:\n    deploy:\n      labels: [x=1]\n    sysctls: [net.core.somaxconn=1024]\n";
        assert_eq!(svc_key(src, "a", "deploy"), json!({"labels": {"x": "1"}}));
        assert_eq!(svc_key(src, "a", "sysctls"), json!({"net.core.somaxconn": "1024"}));
    }

    #[test]
    fn non_map_root_is_left_alone() {
        let (root, d) = canon("- a\n");
        assert!(d.is_empty());
        assert_eq!(root.to_json(), json!(["a"]));
    }
}
