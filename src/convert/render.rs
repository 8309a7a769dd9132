//! Manifests as bytes: keys sorted recursively, YAML (one document per object) or JSON,
//! and the `kustomization.yaml` listing the files.

use serde_json::{Map, Value};

use super::Manifest;

/// `value` with every object's keys sorted (serde_json keeps insertion order here).
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// One object as YAML that YAML 1.1 readers (kubectl, PyYAML) read back unchanged.
pub fn yaml(value: &Value) -> String {
    super::yaml::to_string(value)
}

pub fn json(value: &Value) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Every object as one multi-document YAML stream.
pub fn yaml_stream(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n");
        out.push_str(&yaml(&m.body));
    }
    out
}

/// Every object as a `v1/List`.
pub fn json_list(manifests: &[Manifest]) -> Result<String, serde_json::Error> {
    let items: Vec<Value> = manifests.iter().map(|m| m.body.clone()).collect();
    json(&serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items }))
}

/// `kustomization.yaml` naming `files` (in the given order) and the namespace.
pub fn kustomization(files: &[String], namespace: Option<&str>) -> String {
    let mut k = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": files,
    });
    if let Some(ns) = namespace {
        k["namespace"] = Value::String(ns.into());
    }
    yaml(&sorted(k))
}
