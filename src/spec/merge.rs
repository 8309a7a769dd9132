//! Merging canonical trees: several `-f` files (later over earlier), and a service over the
//! service it `extends`. The rules are Compose's (compose-spec "Merge"): mappings merge key by
//! key, scalars are replaced, sequences are appended (without duplicates); `command`,
//! `entrypoint` and `healthcheck.test` are replaced; `ports`, `volumes`, `secrets`, `configs`,
//! `devices` and `env_file` hold unique resources, and an overlay entry with the same unique
//! key replaces the base entry instead of being appended.
//!
//! The trees must be canonical (long syntax), so that a port or a volume has one shape.
//! Positions of replaced values come from the overlay, so a diagnostic points at the file
//! that set the value.
//!
//! compose-go's merge tags are honoured (loader/reset.go): an overlay value tagged `!reset`
//! removes the key from the base and is not merged; `!override` replaces the base value
//! instead of merging into it. [`strip_tags`] drops what is left of them once merging is done
//! (a `!reset` with nothing under it removes its own key).

use std::collections::{HashMap, HashSet};

use super::yaml::{Key, Map, MergeTag, Node, Value};

/// How sequences under a key merge.
#[derive(Debug, Clone, Copy)]
enum SeqMode {
    /// Append overlay items not already present (Compose's rule for plain sequences).
    AppendUnique,
    /// The overlay sequence replaces the base (command, entrypoint, healthcheck.test).
    Replace,
    /// Entries are identified by a key computed from each item; same key → overlay replaces.
    Keyed(fn(&Node) -> String),
}

/// Merge a whole stack file tree `overlay` over `base`.
pub fn merge(base: &mut Node, overlay: Node) {
    // The base's own `!reset` nodes go first, as compose-go drops them while parsing.
    strip_tags(base);
    merge_entries(base, overlay, |existing, value, key| match key {
        "services" => merge_entries(existing, value, |svc, over, _| merge_service(svc, over)),
        "networks" => merge_entries(existing, value, |net, over, _| merge_network(net, over)),
        _ => merge_node(existing, value, SeqMode::AppendUnique),
    });
}

/// One top-level network over another: `ipam.config` pools are matched by subnet, a pool of
/// the overlay merging into the base's pool for the same subnet (compose-go mergeIPAMConfig).
fn merge_network(base: &mut Node, overlay: Node) {
    merge_entries(base, overlay, |existing, value, key| {
        if key != "ipam" {
            return merge_node(existing, value, SeqMode::AppendUnique);
        }
        merge_entries(existing, value, |pools, over, key| match (&mut pools.value, over.value) {
            (Value::Seq(b), Value::Seq(o)) if key == "config" => {
                for pool in o {
                    let subnet = field(&pool, "subnet");
                    match b.iter_mut().find(|p| field(p, "subnet") == subnet) {
                        Some(same) => merge_node(same, pool, SeqMode::AppendUnique),
                        None => b.push(pool),
                    }
                }
            }
            (_, value) => merge_node(pools, Node::new(value, over.pos), SeqMode::AppendUnique),
        });
    });
}

/// Merge one top-level resource (network, volume, config, secret) over another.
pub fn merge_resource(base: &mut Node, overlay: Node) {
    merge_node(base, overlay, SeqMode::AppendUnique);
}

/// Merge one service's tree over another (used by multi-file merge and by `extends`).
pub fn merge_service(base: &mut Node, overlay: Node) {
    merge_entries(base, overlay, |existing, value, key| {
        // Options of another logging driver mean nothing to this one: the overlay replaces
        // (compose-go mergeLogging).
        if key == "logging" && logging_driver_differs(existing, &value) {
            *existing = value;
            return;
        }
        merge_node(existing, value, service_key_mode(key))
    });
}

fn logging_driver_differs(base: &Node, overlay: &Node) -> bool {
    let driver = |n: &Node| n.as_map().and_then(|m| m.get("driver")).and_then(Node::scalar_string);
    matches!((driver(base), driver(overlay)), (Some(a), Some(b)) if a != b)
}

/// Two mappings: new keys are appended, common keys go through `each`. Anything else: the
/// overlay replaces the base (unless it is null).
fn merge_entries(base: &mut Node, overlay: Node, each: impl Fn(&mut Node, Node, &str)) {
    if base.as_map().is_none() || overlay.as_map().is_none() {
        replace_unless_null(base, overlay);
        return;
    }
    let (Some(base_map), Value::Map(over_map)) = (base.as_map_mut(), overlay.value) else { return };
    for (key, value) in over_map {
        if tagged(base_map, &key.name, &value) {
            continue;
        }
        match base_map.get_mut(&key.name) {
            Some(existing) => each(existing, value, &key.name),
            None => base_map.insert(key, value),
        }
    }
}

/// Apply a merge tag on an overlay entry; true when the entry is done with.
fn tagged(base: &mut Map, key: &str, value: &Node) -> bool {
    match value.tag {
        Some(MergeTag::Reset) => {
            base.remove(key);
            true
        }
        Some(MergeTag::Override) => {
            base.remove(key);
            false
        }
        None => false,
    }
}

/// A `!reset` entry taken out of a tree: the keys of its parent mapping, and its own key.
pub type ResetEntry = (Vec<String>, Key);

/// Take the `!reset` entries out of a file's tree, so that validation and canonicalization
/// see the file as compose-go does (it drops them while parsing); [`put_resets`] puts them
/// back, as null `!reset` markers, for [`merge`] to act on.
pub fn take_resets(node: &mut Node) -> Vec<ResetEntry> {
    fn walk(node: &mut Node, path: &mut Vec<String>, out: &mut Vec<ResetEntry>) {
        // A `!reset` item of a sequence is dropped at once (compose-go resolveContainer).
        if let Value::Seq(items) = &mut node.value {
            items.retain(|i| i.tag != Some(MergeTag::Reset));
            return;
        }
        let Some(m) = node.as_map_mut() else { return };
        let reset: Vec<String> =
            m.iter().filter(|(_, v)| v.tag == Some(MergeTag::Reset)).map(|(k, _)| k.name.clone()).collect();
        for k in reset {
            if let Some((key, _)) = m.get_entry(&k).map(|(key, v)| (key.clone(), v)) {
                m.remove(&k);
                out.push((path.clone(), key));
            }
        }
        for (k, v) in m.iter_mut() {
            path.push(k.name.clone());
            walk(v, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(node, &mut Vec::new(), &mut out);
    out
}

/// Put back what [`take_resets`] took (entries whose parent is gone are dropped).
pub fn put_resets(node: &mut Node, resets: Vec<ResetEntry>) {
    for (path, key) in resets {
        let parent = path.iter().try_fold(&mut *node, |n, k| n.as_map_mut()?.get_mut(k));
        if let Some(m) = parent.and_then(Node::as_map_mut) {
            let pos = key.pos.clone();
            m.insert(key, Node { value: Value::Null, pos, tag: Some(MergeTag::Reset) });
        }
    }
}

/// Remove `!reset` nodes left in a tree (keys and sequence items) and forget `!override`:
/// run on the result of merging, and on a file that is merged over nothing.
pub fn strip_tags(node: &mut Node) {
    node.tag = None;
    match &mut node.value {
        Value::Map(m) => {
            let reset: Vec<String> =
                m.iter().filter(|(_, v)| v.tag == Some(MergeTag::Reset)).map(|(k, _)| k.name.clone()).collect();
            for k in reset {
                m.remove(&k);
            }
            for (_, v) in m.iter_mut() {
                strip_tags(v);
            }
        }
        Value::Seq(items) => {
            items.retain(|v| v.tag != Some(MergeTag::Reset));
            items.iter_mut().for_each(strip_tags);
        }
        _ => {}
    }
}

/// The sequence rule for a service key (nested maps use [`nested_mode`]).
fn service_key_mode(key: &str) -> SeqMode {
    match key {
        "command" | "entrypoint" | "healthcheck" => SeqMode::Replace,
        "ports" => SeqMode::Keyed(port_key),
        "volumes" | "devices" => SeqMode::Keyed(|n| field(n, "target")),
        "secrets" => SeqMode::Keyed(secret_key),
        "configs" => SeqMode::Keyed(config_key),
        "env_file" => SeqMode::Keyed(|n| field(n, "path")),
        _ => SeqMode::AppendUnique,
    }
}

/// The service lists whose entries are unique by a key (compose-go override/uncity.go): when
/// one list holds two entries with one key, the later one takes the earlier one's place.
fn unique_key(key: &str) -> Option<fn(&Node) -> String> {
    Some(match key {
        "ports" => port_key,
        "volumes" | "devices" => |n| field(n, "target"),
        "secrets" => secret_key,
        "configs" => config_key,
        "env_file" => |n| field(n, "path"),
        "tmpfs" | "dns" | "dns_opt" | "dns_search" | "cap_add" | "cap_drop" | "profiles" | "links" | "expose" => {
            key_before_equals
        }
        _ => return None,
    })
}

/// Enforce compose-go's unicity rules on a canonical tree (one file, or merged files).
pub fn enforce_unicity(root: &mut Node) {
    let Some(services) = root.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) else {
        return;
    };
    for (_, svc) in services.iter_mut() {
        let Some(svc) = svc.as_map_mut() else { continue };
        for (key, node) in svc.iter_mut() {
            if let (Some(key_of), Value::Seq(items)) = (unique_key(&key.name), &mut node.value) {
                dedupe(items, key_of);
            }
        }
        let nets = svc.get_mut("networks").and_then(Node::as_map_mut);
        for (_, net) in nets.into_iter().flat_map(|m| m.iter_mut()) {
            for list in ["aliases", "link_local_ips"] {
                if let Some(Value::Seq(items)) = net.as_map_mut().and_then(|m| m.get_mut(list)).map(|n| &mut n.value) {
                    dedupe(items, key_before_equals);
                }
            }
        }
        if let Some(Value::Seq(tags)) =
            svc.get_mut("build").and_then(Node::as_map_mut).and_then(|b| b.get_mut("tags")).map(|n| &mut n.value)
        {
            dedupe(tags, key_before_equals);
        }
    }
}

/// Keep one entry per key: the last one, at the first one's place.
fn dedupe(items: &mut Vec<Node>, key_of: fn(&Node) -> String) {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    for item in std::mem::take(items) {
        let k = key_of(&item);
        match at.get(&k) {
            Some(&i) => out[i] = item,
            None => {
                at.insert(k, out.len());
                out.push(item);
            }
        }
    }
    *items = out;
}

/// A plain entry is unique by the text before its first `=` (compose-go keyValueIndexer).
fn key_before_equals(n: &Node) -> String {
    let text = n.scalar_string().unwrap_or_else(|| n.to_json().to_string());
    text.split('=').next().unwrap_or_default().to_string()
}

/// Inside a mapping, sequence rules do not carry over, except Replace (healthcheck.test).
fn nested_mode(mode: SeqMode) -> SeqMode {
    match mode {
        SeqMode::Replace => SeqMode::Replace,
        _ => SeqMode::AppendUnique,
    }
}

fn merge_node(base: &mut Node, overlay: Node, mode: SeqMode) {
    match (&mut base.value, overlay.value) {
        (Value::Map(b), Value::Map(o)) => merge_maps(b, o, nested_mode(mode)),
        (Value::Seq(b), Value::Seq(o)) => match mode {
            SeqMode::Replace => *b = o,
            SeqMode::AppendUnique => {
                // A set of the items' canonical forms, not a scan per item: long lists in two
                // files would otherwise merge in quadratic time.
                let mut seen: HashSet<String> = b.iter().map(canonical_json).collect();
                for item in o {
                    if seen.insert(canonical_json(&item)) {
                        b.push(item);
                    }
                }
            }
            SeqMode::Keyed(key_of) => merge_keyed(b, o, key_of),
        },
        (_, value) => replace_unless_null(base, Node::new(value, overlay.pos)),
    }
}

fn merge_maps(base: &mut Map, overlay: Map, mode: SeqMode) {
    for (key, value) in overlay {
        if tagged(base, &key.name, &value) {
            continue;
        }
        match base.get_mut(&key.name) {
            Some(existing) => merge_node(existing, value, mode),
            None => base.insert(key, value),
        }
    }
}

fn merge_keyed(base: &mut Vec<Node>, overlay: Vec<Node>, key_of: fn(&Node) -> String) {
    // Key → index of its first item in `base` (an index, not a scan per overlay item).
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, x) in base.iter().enumerate() {
        at.entry(key_of(x)).or_insert(i);
    }
    for item in overlay {
        let k = key_of(&item);
        match at.get(&k) {
            Some(&i) => base[i] = item,
            None => {
                at.insert(k, base.len());
                base.push(item);
            }
        }
    }
}

/// An overlay `null` (an empty `web:` in an override file) keeps a base mapping or sequence;
/// any other overlay value replaces the base.
fn replace_unless_null(base: &mut Node, overlay: Node) {
    if overlay.is_null() && matches!(base.value, Value::Map(_) | Value::Seq(_)) {
        return;
    }
    *base = overlay;
}

/// A node as JSON text with mapping keys sorted: equal for nodes that are equal as JSON values
/// (whose mappings compare without regard to order).
fn canonical_json(n: &Node) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.into_iter().map(|(k, v)| (k, sort(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    sort(n.to_json()).to_string()
}

/// A field of a mapping entry as text (missing → ""); a non-map item is keyed by its JSON form.
fn field(n: &Node, name: &str) -> String {
    match n.as_map() {
        Some(m) => m.get(name).and_then(Node::scalar_string).unwrap_or_default(),
        None => n.to_json().to_string(),
    }
}

/// Ports are unique by (host_ip, published, target, protocol); protocol defaults to tcp.
fn port_key(n: &Node) -> String {
    let proto = field(n, "protocol");
    let proto = if proto.is_empty() { "tcp".to_string() } else { proto };
    format!("{}|{}|{}|{}", field(n, "host_ip"), field(n, "published"), field(n, "target"), proto)
}

/// Secrets are unique by target, which defaults to `/run/secrets/<source>` (compose-go
/// mountIndexer("/run/secrets")).
fn secret_key(n: &Node) -> String {
    mount_key(n, "/run/secrets")
}

/// Configs are unique by target, which defaults to `/<source>`.
fn config_key(n: &Node) -> String {
    mount_key(n, "")
}

fn mount_key(n: &Node, dir: &str) -> String {
    let target = field(n, "target");
    if target.is_empty() {
        format!("{dir}/{}", field(n, "source"))
    } else {
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse;

    fn merged(base: &str, overlay: &str) -> serde_json::Value {
        let mut b = parse(base, "base.yaml").unwrap();
        merge(&mut b, parse(overlay, "over.yaml").unwrap());
        b.to_json()
    }

    fn web(base: &str, overlay: &str) -> serde_json::Value {
        merged(base, overlay)["services"]["web"].clone()
    }

    #[test]
    fn maps_merge_and_scalars_replace() {
        let w = web("services: {web: {image: a, user: u}}", "services: {web: {image: b, tty: true}}");
        assert_eq!(w, serde_json::json!({"image": "b", "user": "u", "tty": true}));
    }

    #[test]
    fn new_services_and_top_level_keys_are_added() {
        let m = merged("services: {a: {image: x}}", "services: {b: {image: y}}\nvolumes: {data: {}}\n");
        assert_eq!(m["services"]["b"]["image"], "y");
        assert_eq!(m["services"]["a"]["image"], "x");
        assert!(m["volumes"]["data"].is_object());
    }

    #[test]
    fn plain_sequences_append_without_duplicates() {
        let w = web(
            "services: {web: {dns: [1.1.1.1], cap_add: [NET_ADMIN]}}",
            "services: {web: {dns: [8.8.8.8, 1.1.1.1], cap_add: [NET_ADMIN]}}",
        );
        assert_eq!(w["dns"], serde_json::json!(["1.1.1.1", "8.8.8.8"]));
        assert_eq!(w["cap_add"], serde_json::json!(["NET_ADMIN"]));
    }

    #[test]
    fn command_entrypoint_and_healthcheck_test_are_replaced() {
        let w = web(
            "services: {web: {command: [echo, foo], entrypoint: [sh, -c], healthcheck: {test: [CMD, a], retries: 3}}}",
            "services: {web: {command: [echo, bar], entrypoint: [ash], healthcheck: {test: [CMD-SHELL, b]}}}",
        );
        assert_eq!(w["command"], serde_json::json!(["echo", "bar"]));
        assert_eq!(w["entrypoint"], serde_json::json!(["ash"]));
        assert_eq!(w["healthcheck"], serde_json::json!({"test": ["CMD-SHELL", "b"], "retries": 3}));
    }

    #[test]
    fn ports_are_unique_by_ip_published_target_protocol() {
        let w = web(
            "services: {web: {ports: [{target: 80, published: '8080', protocol: tcp, mode: ingress}, {target: 53, published: '53', protocol: udp}]}}",
            "services: {web: {ports: [{target: 80, published: '8080', protocol: tcp, mode: host}, {target: 53, published: '53', protocol: tcp}]}}",
        );
        let ports = w["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 3);
        assert_eq!(ports[0]["mode"], "host");
        assert_eq!(ports[2]["protocol"], "tcp");
    }

    #[test]
    fn volumes_are_unique_by_target() {
        let w = web(
            "services: {web: {volumes: [{type: bind, source: ./a, target: /data}, {type: volume, source: logs, target: /logs}]}}",
            "services: {web: {volumes: [{type: bind, source: ./b, target: /data}]}}",
        );
        let vols = w["volumes"].as_array().unwrap();
        assert_eq!(vols.len(), 2);
        assert_eq!(vols[0]["source"], "./b");
    }

    #[test]
    fn secrets_and_configs_are_unique_by_target_or_source() {
        let w = web(
            "services: {web: {secrets: [{source: a}, {source: b, target: /x}], configs: [{source: c}]}}",
            "services: {web: {secrets: [{source: a, mode: 256}, {source: z, target: /x}], configs: [{source: d}]}}",
        );
        assert_eq!(w["secrets"], serde_json::json!([{"source": "a", "mode": 256}, {"source": "z", "target": "/x"}]));
        assert_eq!(w["configs"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn environment_labels_networks_depends_on_merge_by_key() {
        let w = web(
            "services: {web: {environment: {A: '1', B: '2'}, labels: {x: a}, networks: {front: null}, depends_on: {db: {condition: service_started}}}}",
            "services: {web: {environment: {B: '3', C: '4'}, labels: {y: b}, networks: {back: {aliases: [w]}}, depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}}}",
        );
        assert_eq!(w["environment"], serde_json::json!({"A": "1", "B": "3", "C": "4"}));
        assert_eq!(w["labels"], serde_json::json!({"x": "a", "y": "b"}));
        assert_eq!(w["networks"], serde_json::json!({"front": null, "back": {"aliases": ["w"]}}));
        assert_eq!(w["depends_on"]["db"]["condition"], "service_healthy");
        assert_eq!(w["depends_on"]["cache"]["condition"], "service_started");
    }

    #[test]
    fn env_file_unique_by_path_and_null_overlay_keeps_base() {
        let w = web(
            "services: {web: {env_file: [{path: a.env, required: true}], build: {context: ., args: {A: '1'}}}}",
            "services: {web: {env_file: [{path: a.env, required: false}, {path: b.env}], build: {args: {B: '2'}}}}",
        );
        assert_eq!(w["env_file"], serde_json::json!([{"path": "a.env", "required": false}, {"path": "b.env"}]));
        assert_eq!(w["build"], serde_json::json!({"context": ".", "args": {"A": "1", "B": "2"}}));
        let kept = web("services: {web: {image: a}}", "services: {web: }");
        assert_eq!(kept, serde_json::json!({"image": "a"}));
    }

    #[test]
    fn replaced_values_keep_the_overlay_position() {
        let mut b = parse("services:\n  web:\n    image: a\n", "base.yaml").unwrap();
        merge(&mut b, parse("services:\n  web:\n\n    image: b\n", "over.yaml").unwrap());
        let image = b.as_map().unwrap().get("services").unwrap().as_map().unwrap().get("web").unwrap();
        let image = image.as_map().unwrap().get("image").unwrap();
        assert_eq!((&*image.pos.file, image.pos.line), ("over.yaml", 4));
    }

    #[test]
    fn type_change_replaces() {
        let w = web("services: {web: {command: echo hi}}", "services: {web: {command: [a]}}");
        assert_eq!(w["command"], serde_json::json!(["a"]));
    }

    #[test]
    fn long_lists_merge_without_duplicates_in_order() {
        let n = 20_000;
        let list = |from: usize, to: usize| (from..to).map(|i| format!("'d{i}'")).collect::<Vec<_>>().join(", ");
        let mut base = parse(&format!("services:\n  a:\n    dns: [{}]\n", list(0, n)), "a.yaml").unwrap();
        let over = parse(&format!("services:\n  a:\n    dns: [{}]\n", list(n / 2, n + 10)), "b.yaml").unwrap();
        merge(&mut base, over);
        let a = base.to_json()["services"]["a"].clone();
        let dns = a["dns"].as_array().unwrap();
        assert_eq!(dns.len(), n + 10);
        assert_eq!((dns[0].as_str(), dns[n + 9].as_str()), (Some("d0"), Some("d20009")));
    }
}
