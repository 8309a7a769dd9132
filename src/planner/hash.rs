//! The drift detector: a hash of what a service's container is made of.
//!
//! [`normalized_config`] is the service's normalized config (the typed model serialized with
//! serde_json), reduced to what changes the container and canonicalized; [`config_hash`] is the
//! sha256 of its compact JSON text. A container whose recorded hash equals the desired one is
//! left alone, which is what makes `up` on an unchanged file a no-op.
//!
//! IN (a change recreates the container): everything the container is made of: image, command,
//! entrypoint, environment (the final values, env_file contents included), ports, expose,
//! mounts (named volumes by their real name), tmpfs, networks (by their real name, with
//! aliases and addresses), network_mode, healthcheck, restart, user, hostname, labels,
//! resources (deploy.resources, mem_limit, cpus, pids_limit, …), ulimits, capabilities,
//! security options, sysctls, dns, extra_hosts, devices, links, volumes_from, secrets and
//! configs (each reference with the declaration of its source: the file's path, the variable's
//! name, or a digest of a config's inline content; never a secret's value, and not a file's
//! content, as Compose), container_name, logging, and every unmodelled key kept in `other`.
//!
//! OUT (changing them never recreates): `scale` and `deploy.replicas` (scaling adds or removes
//! containers instead), `depends_on` (start order only), `profiles` (selection only),
//! `develop` (watch rules act from the outside), `build` and `pull_policy` (how the image is
//! obtained; a rebuilt or re-pulled image is noticed through its id instead), and `env_file`
//! (its contents are already merged into `environment`). Top-level network and volume
//! definitions are not hashed into containers: berth does not recreate networks or volumes
//! whose definition changed (neither does Compose without `down`).
//!
//! Semantically equal configs hash equal: object keys are sorted at every level, so the order of
//! environment variables, labels or sysctls in the file does not matter; list order (command,
//! ports, mounts) is kept because it can matter.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::spec::model::{Service, Stack};

/// Top-level service keys that never change the container (see the module doc).
const EXCLUDED: &[&str] = &["scale", "depends_on", "profiles", "develop", "build", "pull_policy", "env_file"];

/// The canonical normalized config of `service` in `stack` (the hash's input; the reconciler
/// records it in [`super::ContainerState::config`] so a later plan can name changed fields).
pub fn normalized_config(service: &Service, stack: &Stack) -> Value {
    // Serializing the model cannot fail (string keys, no custom errors); keep going regardless.
    let mut value =
        serde_json::to_value(service).unwrap_or_else(|e| Value::String(format!("unserializable service config: {e}")));
    if let Value::Object(map) = &mut value {
        for key in EXCLUDED {
            map.shift_remove(*key);
        }
        strip_replicas(map);
        resolve_network_names(map, stack);
        resolve_volume_names(map, stack);
        resolve_file_sources(map, stack);
    }
    canonicalize(&mut value);
    value
}

/// sha256 (hex) of the canonical JSON text of [`normalized_config`].
pub fn config_hash(service: &Service, stack: &Stack) -> String {
    hash_value(&normalized_config(service, stack))
}

/// sha256 (hex) of an already normalized config.
pub fn hash_value(config: &Value) -> String {
    crate::common::ids::sha256_hex(&config.to_string())
}

/// The top-level keys whose values differ between two normalized configs, sorted.
pub fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<String> = old.keys().chain(new.keys()).filter(|k| old.get(*k) != new.get(*k)).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

fn strip_replicas(map: &mut Map<String, Value>) {
    let now_empty = match map.get_mut("deploy") {
        Some(Value::Object(deploy)) => {
            deploy.shift_remove("replicas");
            deploy.is_empty()
        }
        _ => false,
    };
    if now_empty {
        map.shift_remove("deploy");
    }
}

/// Network keys → real names, so renaming a network (`name:`) recreates its containers but
/// renaming only the key in the file does not.
fn resolve_network_names(map: &mut Map<String, Value>, stack: &Stack) {
    let Some(Value::Object(nets)) = map.get_mut("networks") else { return };
    // A network joined without settings is printed `null`; it hashes as the `{}` it was.
    let resolved: Map<String, Value> = std::mem::take(nets)
        .into_iter()
        .map(|(key, v)| (network_name(stack, &key), if v.is_null() { Value::Object(Map::new()) } else { v }))
        .collect();
    *nets = resolved;
}

fn resolve_volume_names(map: &mut Map<String, Value>, stack: &Stack) {
    let Some(Value::Array(mounts)) = map.get_mut("volumes") else { return };
    for m in mounts.iter_mut().filter_map(Value::as_object_mut) {
        if m.get("type").and_then(Value::as_str) != Some("volume") {
            continue;
        }
        if let Some(Value::String(src)) = m.get_mut("source") {
            *src = volume_name(stack, src);
        }
    }
}

/// Each secret/config reference gets `from`: where its top-level declaration takes the
/// content from, so pointing a secret at another file or variable recreates the container.
fn resolve_file_sources(map: &mut Map<String, Value>, stack: &Stack) {
    for (key, declared) in [("secrets", &stack.secrets), ("configs", &stack.configs)] {
        let Some(Value::Array(refs)) = map.get_mut(key) else { continue };
        for r in refs.iter_mut().filter_map(Value::as_object_mut) {
            // The default target, written out by the loader since compose-go does so, hashes
            // as it did when it was left implicit.
            let source = r.get("source").and_then(Value::as_str).unwrap_or_default().to_string();
            if key == "secrets" && r.get("target").and_then(Value::as_str) == Some(&format!("/run/secrets/{source}")) {
                r.remove("target");
            }
            let Some(obj) = declared.get(&source) else { continue };
            let from = if obj.external {
                serde_json::json!({ "external": true })
            } else if let Some(f) = &obj.file {
                serde_json::json!({ "file": f })
            } else if let Some(v) = &obj.environment {
                serde_json::json!({ "environment": v })
            } else {
                let digest = obj.content.as_deref().map(|c| hex::encode(Sha256::digest(c.as_bytes())));
                serde_json::json!({ "content_sha256": digest })
            };
            r.insert("from".into(), from);
        }
    }
}

/// The real name of network `key` (declared name, else `<project>_<key>`).
pub fn network_name(stack: &Stack, key: &str) -> String {
    match stack.networks.get(key) {
        Some(n) if !n.name.is_empty() => n.name.clone(),
        _ => format!("{}_{key}", stack.name),
    }
}

/// The real name of volume `key` (declared name, else `<project>_<key>`).
pub fn volume_name(stack: &Stack, key: &str) -> String {
    match stack.volumes.get(key) {
        Some(v) if !v.name.is_empty() => v.name.clone(),
        _ => format!("{}_{key}", stack.name),
    }
}

/// Object keys sorted at every level, in place (serde_json keeps insertion order in this crate).
fn canonicalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(canonicalize);
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(yaml: &str) -> Stack {
        serde_yaml::from_str(yaml).unwrap()
    }

    const BASE: &str = "
name: demo
services:
  web:
    image: nginx:1.27
    environment: {A: '1', B: '2'}
    networks: {default: {}}
networks:
  default: {name: demo_default}
";

    #[test]
    fn env_order_does_not_matter() {
        let a = stack(BASE);
        let b = stack(&BASE.replace("{A: '1', B: '2'}", "{B: '2', A: '1'}"));
        assert_eq!(config_hash(&a.services["web"], &a), config_hash(&b.services["web"], &b));
    }

    #[test]
    fn scale_and_depends_on_are_out() {
        let a = stack(BASE);
        let mut b = a.clone();
        let web = b.services.get_mut("web").unwrap();
        web.scale = Some(3);
        web.deploy = Some(crate::spec::model::Deploy { replicas: Some(3), ..Default::default() });
        web.profiles = vec!["x".into()];
        assert_eq!(config_hash(&a.services["web"], &a), config_hash(&b.services["web"], &b));
    }

    #[test]
    fn env_change_is_in_and_named() {
        let a = stack(BASE);
        let b = stack(&BASE.replace("A: '1'", "A: '9'"));
        let (old, new) = (normalized_config(&a.services["web"], &a), normalized_config(&b.services["web"], &b));
        assert_ne!(hash_value(&old), hash_value(&new));
        assert_eq!(changed_fields(&old, &new), vec!["environment"]);
    }

    #[test]
    fn secrets_hash_their_declaration_not_their_value() {
        let base =
            "name: demo\nservices:\n  db:\n    image: x\n    secrets: [{source: pw}]\n    configs: [{source: c}]\n\
                    secrets:\n  pw: {environment: PW}\nconfigs:\n  c: {content: 'a=1'}\n";
        let a = stack(base);
        let mut with_value = a.clone();
        with_value.secrets["pw"].env_value = Some(crate::spec::model::SecretText("hunter2".into()));
        let cfg = normalized_config(&with_value.services["db"], &with_value);
        assert_eq!(cfg["secrets"][0]["from"], serde_json::json!({"environment": "PW"}));
        assert!(!cfg.to_string().contains("hunter2"));
        assert_eq!(config_hash(&a.services["db"], &a), config_hash(&with_value.services["db"], &with_value));
        let other_var = stack(&base.replace("environment: PW", "environment: PW2"));
        assert_ne!(config_hash(&a.services["db"], &a), config_hash(&other_var.services["db"], &other_var));
        let other_content = stack(&base.replace("a=1", "a=2"));
        let (old, new) = (
            normalized_config(&a.services["db"], &a),
            normalized_config(&other_content.services["db"], &other_content),
        );
        assert_eq!(changed_fields(&old, &new), vec!["configs"]);
        assert!(!new.to_string().contains("a=2"), "the digest, not the content");
    }

    #[test]
    fn networks_hash_by_real_name() {
        let a = stack(BASE);
        let b = stack(&BASE.replace("name: demo_default", "name: other"));
        let cfg = normalized_config(&b.services["web"], &b);
        assert!(cfg["networks"].get("other").is_some());
        assert_ne!(config_hash(&a.services["web"], &a), config_hash(&b.services["web"], &b));
    }
}
