//! The smaller short forms: `KEY=VAL` lists → maps, `depends_on`/`networks` lists → maps,
//! command strings → argv, string-or-list keys → lists, and the short refs of env_file, build,
//! secrets/configs, ulimits, devices and expose.

use super::super::diag::Diagnostics;
use super::super::yaml::{Map, Node, Value};
use super::{key, map_node, set_default, shellwords, str_node, Missing};

fn bool_node(b: bool, at: &Node) -> Node {
    Node::new(Value::Bool(b), at.pos.clone())
}

/// `environment`/`build.args` lists: a name ending in whitespace (`- DEBUG = true`) is an
/// error, as in compose-go (types/mapping.go): the variable would be named `DEBUG `.
pub(super) fn env_list(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    if let Value::Seq(items) = &node.value {
        for (i, item) in items.iter().enumerate() {
            let text = item.scalar_string().unwrap_or_default();
            let name = text.split_once('=').map_or(text.as_str(), |(k, _)| k);
            if name.ends_with(char::is_whitespace) {
                let msg = format!("environment variable `{name}` is declared with a trailing space");
                diags.error(Some(&item.pos), format!("{path}[{i}]"), msg);
            }
        }
    }
    to_map(node, Missing::Null);
}

/// `[A=1, B]` → `{A: "1", B: null | ""}`; a later duplicate wins. Maps are left as they are.
pub(super) fn to_map(node: &mut Node, missing: Missing) {
    let Value::Seq(items) = &node.value else { return };
    let mut map = Map::default();
    for item in items {
        let Some(text) = item.scalar_string() else { continue };
        let (k, v) = match text.split_once('=') {
            Some((k, v)) => (k, str_node(v, &item.pos)),
            None if missing == Missing::Null => (text.as_str(), Node::new(Value::Null, item.pos.clone())),
            None => (text.as_str(), str_node("", &item.pos)),
        };
        map.insert(key(k.trim(), &item.pos), v);
    }
    node.value = Value::Map(map);
}

/// `["db:10.0.0.2", "db=10.0.0.3"]` or `{db: 10.0.0.2}` → `{db: ["10.0.0.2", "10.0.0.3"]}`.
pub(super) fn extra_hosts(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    let mut map = Map::default();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let text = item.scalar_string().unwrap_or_default();
                let split = text.split_once('=').or_else(|| text.split_once(':'));
                let Some((host, ip)) = split.filter(|(h, ip)| !h.is_empty() && !ip.is_empty()) else {
                    let msg = format!("invalid extra host `{text}`; expected HOST:IP or HOST=IP");
                    diags.error(Some(&item.pos), format!("{path}[{i}]"), msg);
                    continue;
                };
                // `h=ip1,ip2` is two addresses (compose-go NewHostsList).
                for ip in ip.split(',') {
                    push_host(&mut map, host, ip, item);
                }
            }
        }
        Value::Map(m) => {
            for (k, v) in m.iter() {
                let ips: Vec<&Node> = match &v.value {
                    Value::Seq(s) => s.iter().collect(),
                    _ => vec![v],
                };
                for ip in ips {
                    push_host(&mut map, &k.name, &ip.scalar_string().unwrap_or_default(), ip);
                }
            }
        }
        _ => return,
    }
    node.value = Value::Map(map);
}

fn push_host(map: &mut Map, host: &str, ip: &str, at: &Node) {
    let ip = ip.trim();
    let ip = ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')).unwrap_or(ip);
    let ip = str_node(ip, &at.pos);
    match map.get_mut(host).map(|n| &mut n.value) {
        Some(Value::Seq(list)) => list.push(ip),
        _ => map.insert(key(host, &at.pos), Node::new(Value::Seq(vec![ip]), at.pos.clone())),
    }
}

/// `depends_on: [db]` → `{db: {condition: service_started, required: true}}`. Long entries get
/// no defaults here: an override file's partial entry (`db: {required: false}`) must merge over
/// the earlier file's `condition`, as in compose-go, which adds defaults after merging; the
/// conversion of the merged tree applies them (and requires `condition`).
pub(super) fn depends_on(node: &mut Node) {
    if let Value::Seq(items) = &node.value {
        let mut map = Map::default();
        for item in items {
            if let Some(name) = item.scalar_string() {
                let mut dep = Map::default();
                let at = Node::new(Value::Null, item.pos.clone());
                set_default(&mut dep, "condition", str_node("service_started", &item.pos));
                set_default(&mut dep, "required", bool_node(true, &at));
                map.insert(key(&name, &item.pos), Node::new(Value::Map(dep), item.pos.clone()));
            }
        }
        node.value = Value::Map(map);
    }
    let Some(map) = node.as_map_mut() else { return };
    for (_, dep) in map.iter_mut() {
        if dep.is_null() {
            dep.value = Value::Map(Map::default());
        }
    }
}

/// `networks: [front, back]` → `{front: null, back: null}`.
pub(super) fn networks(node: &mut Node) {
    let Value::Seq(items) = &node.value else { return };
    let mut map = Map::default();
    for item in items {
        if let Some(name) = item.scalar_string() {
            map.insert(key(&name, &item.pos), Node::new(Value::Null, item.pos.clone()));
        }
    }
    node.value = Value::Map(map);
}

/// `command: "a 'b c'"` → `["a", "b c"]`, split like Compose does (no shell involved).
pub(super) fn shell_command(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    let Value::Str(text) = &node.value else { return };
    match shellwords::split(text) {
        Ok(words) => {
            let pos = node.pos.clone();
            node.value = Value::Seq(words.into_iter().map(|w| str_node(w, &pos)).collect());
        }
        Err(e) => diags.error(Some(&node.pos), path, format!("cannot split `{text}` into words: {e}")),
    }
}

/// `test: "curl -f localhost"` → `["CMD-SHELL", "curl -f localhost"]`.
pub(super) fn healthcheck(node: &mut Node) {
    let Some(test) = node.as_map_mut().and_then(|m| m.get_mut("test")) else { return };
    if let Value::Str(s) = &test.value {
        let cmd = str_node(s.clone(), &test.pos);
        test.value = Value::Seq(vec![str_node("CMD-SHELL", &test.pos), cmd]);
    }
}

/// `env_file: a.env` / `[a.env]` → `[{path: a.env, required: true}]`.
pub(super) fn env_file(node: &mut Node) {
    if let Value::Str(_) = node.value {
        node.value = Value::Seq(vec![node.clone()]);
    }
    let Value::Seq(items) = &mut node.value else { return };
    for item in items.iter_mut() {
        if let Value::Str(_) = item.value {
            *item = map_node(vec![("path", item.clone())], &item.pos);
        }
        let at = item.clone();
        if let Some(m) = item.as_map_mut() {
            set_default(m, "required", bool_node(true, &at));
        }
    }
}

/// `build: ./dir` → `{context: ./dir}`; `args`/`labels` lists → maps.
pub(super) fn build(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    if let Value::Str(_) = node.value {
        *node = map_node(vec![("context", node.clone())], &node.pos);
    }
    let Some(m) = node.as_map_mut() else { return };
    if let Some(args) = m.get_mut("args") {
        env_list(args, &format!("{path}.args"), diags);
    }
    if let Some(labels) = m.get_mut("labels") {
        to_map(labels, Missing::Empty);
    }
    if let Some(contexts) = m.get_mut("additional_contexts") {
        to_map(contexts, Missing::Null);
    }
}

/// Service `secrets`/`configs`: `- name` → `- {source: name}`.
pub(super) fn file_refs(node: &mut Node) {
    let Value::Seq(items) = &mut node.value else { return };
    for item in items.iter_mut() {
        if let Value::Str(_) = item.value {
            *item = map_node(vec![("source", item.clone())], &item.pos);
        }
    }
}

/// `ulimits: {nproc: 65535}` → `{nproc: {soft: 65535, hard: 65535}}`.
pub(super) fn ulimits(node: &mut Node) {
    let Some(m) = node.as_map_mut() else { return };
    for (_, v) in m.iter_mut() {
        if matches!(v.value, Value::Int(_) | Value::Str(_)) {
            *v = map_node(vec![("soft", v.clone()), ("hard", v.clone())], &v.pos);
        }
    }
}

/// `devices: ["/dev/fuse:/dev/fuse:rwm"]` → `[{source, target, permissions}]`.
pub(super) fn devices(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    let Value::Seq(items) = &mut node.value else { return };
    let mut out = Vec::with_capacity(items.len());
    for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
        if let Value::Str(text) = &item.value {
            match parse_device(text) {
                Ok((s, t, p, warning)) => {
                    let pos = &item.pos;
                    if let Some(w) = warning {
                        diags.warning(Some(pos), format!("{path}[{i}]"), w);
                    }
                    out.push(map_node(
                        vec![
                            ("source", str_node(s, pos)),
                            ("target", str_node(t, pos)),
                            ("permissions", str_node(p, pos)),
                        ],
                        pos,
                    ));
                }
                Err(e) => diags.error(Some(&item.pos), format!("{path}[{i}]"), format!("invalid device `{text}`: {e}")),
            }
            continue;
        }
        let at = item.clone();
        if let Some(m) = item.as_map_mut() {
            if let Some(src) = m.get("source").cloned() {
                set_default(m, "target", src);
            }
            set_default(m, "permissions", str_node("rwm", &at.pos));
        }
        out.push(item);
    }
    *items = out;
}

fn is_perms(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
}

/// `HOST[:CONTAINER][:PERMISSIONS]` (`/dev/sda:rwm` is the host path with permissions, as
/// `docker run --device` reads it). Like compose-go, the loader takes any paths and
/// permissions (a CDI name such as `vendor.com/gpu=all` is not a path); what is odd is a
/// warning.
fn parse_device(text: &str) -> Result<(String, String, String, Option<String>), String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (s, t, p) = match parts.as_slice() {
        [s] => (*s, *s, "rwm"),
        [s, p] if is_perms(p) => (*s, *s, *p),
        [s, t] => (*s, *t, "rwm"),
        [s, t, p] => (*s, *t, *p),
        _ => return Err("confusing device mapping; use the long syntax (source, target, permissions)".into()),
    };
    let t = if t.is_empty() { s } else { t };
    let warning = if !s.starts_with('/') || !t.starts_with('/') {
        Some(format!("device `{text}`: not an absolute device path (a CDI name?)"))
    } else if !is_perms(p) {
        Some(format!("device `{text}`: permissions `{p}` are not a combination of r, w and m"))
    } else {
        None
    };
    Ok((s.into(), t.into(), p.into(), warning))
}

/// `expose: [3000, "8000-8010/udp"]` → all strings.
pub(super) fn expose(node: &mut Node) {
    let Value::Seq(items) = &mut node.value else { return };
    for item in items.iter_mut() {
        if let Value::Int(i) = item.value {
            item.value = Value::Str(i.to_string());
        }
    }
}

/// A string-or-list key (`tmpfs: /run`, `dns: 8.8.8.8`) → a one-item list.
pub(super) fn string_to_list(node: &mut Node) {
    if let Value::Str(_) = node.value {
        node.value = Value::Seq(vec![node.clone()]);
    }
}

/// `dns`: a string → a list, without empty entries (`dns: ${UNSET}` means no server; compose-go
/// loader/omitEmpty.go).
pub(super) fn dns(node: &mut Node) {
    string_to_list(node);
    if let Value::Seq(items) = &mut node.value {
        items.retain(|i| !(i.is_null() || i.as_str() == Some("")));
    }
}

/// `develop.watch[].ignore/include` strings → lists.
pub(super) fn develop(node: &mut Node) {
    let Some(Value::Seq(rules)) = node.as_map_mut().and_then(|m| m.get_mut("watch")).map(|w| &mut w.value) else {
        return;
    };
    for rule in rules.iter_mut().filter_map(Node::as_map_mut) {
        for k in ["ignore", "include"] {
            if let Some(v) = rule.get_mut(k) {
                string_to_list(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{canon, svc_key};
    use serde_json::json;

    fn svc(body: &str, key: &str) -> serde_json::Value {
        svc_key(&format!("services:\n  a:\n{body}"), "a", key)
    }

    #[test]
    fn environment_and_labels_lists_become_maps() {
        let src = "    environment: [A=1, B, C=x=y, 'D=']\n    labels: [com.x=1, flag]\n";
        assert_eq!(svc(src, "environment"), json!({"A": "1", "B": null, "C": "x=y", "D": ""}));
        assert_eq!(svc(src, "labels"), json!({"com.x": "1", "flag": ""}));
        assert_eq!(svc("    environment: {A: 1, B: null}\n", "environment"), json!({"A": 1, "B": null}));
    }

    #[test]
    fn extra_hosts_forms() {
        let list = "    extra_hosts: ['db:10.0.0.2', 'db=10.0.0.3', 'v6:::1', 'b=[::2]']\n";
        assert_eq!(svc(list, "extra_hosts"), json!({"db": ["10.0.0.2", "10.0.0.3"], "v6": ["::1"], "b": ["::2"]}));
        let map = "    extra_hosts: {db: 10.0.0.2, multi: [1.1.1.1, 2.2.2.2]}\n";
        assert_eq!(svc(map, "extra_hosts"), json!({"db": ["10.0.0.2"], "multi": ["1.1.1.1", "2.2.2.2"]}));
        let (_, d) = canon("services:\n  a:\n    extra_hosts: [nohost]\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:19: services.a.extra_hosts[0]: invalid extra host `nohost`; expected HOST:IP or HOST=IP"
        );
    }

    #[test]
    fn depends_on_and_networks_lists() {
        let started = json!({"condition": "service_started", "required": true});
        assert_eq!(svc("    depends_on: [db, cache]\n", "depends_on"), json!({"db": started, "cache": started}));
        assert_eq!(
            svc("    depends_on:\n      db: {condition: service_healthy, restart: true}\n", "depends_on"),
            // No defaults on long entries: they are applied after merging (compose-go).
            json!({"db": {"condition": "service_healthy", "restart": true}})
        );
        assert_eq!(svc("    networks: [front, back]\n", "networks"), json!({"front": null, "back": null}));
    }

    #[test]
    fn command_and_entrypoint_split() {
        assert_eq!(svc("    command: sh -c 'echo hi'\n", "command"), json!(["sh", "-c", "echo hi"]));
        assert_eq!(svc("    entrypoint: [a, 'b c']\n", "entrypoint"), json!(["a", "b c"]));
        let (_, d) = canon("services:\n  a:\n    command: \"echo 'x\"\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:14: services.a.command: cannot split `echo 'x` into words: unterminated quote"
        );
    }

    #[test]
    fn healthcheck_test_string() {
        assert_eq!(
            svc("    healthcheck: {test: curl -f x}\n", "healthcheck"),
            json!({"test": ["CMD-SHELL", "curl -f x"]})
        );
        assert_eq!(svc("    healthcheck: {test: [CMD, 'true']}\n", "healthcheck"), json!({"test": ["CMD", "true"]}));
    }

    #[test]
    fn env_file_build_refs_ulimits_expose_tmpfs() {
        assert_eq!(svc("    env_file: a.env\n", "env_file"), json!([{"path": "a.env", "required": true}]));
        assert_eq!(
            svc("    env_file: [a.env, {path: b.env, required: false, format: raw}]\n", "env_file"),
            json!([{"path": "a.env", "required": true}, {"path": "b.env", "required": false, "format": "raw"}])
        );
        assert_eq!(svc("    build: ./app\n", "build"), json!({"context": "./app"}));
        assert_eq!(
            svc("    build: {context: ., args: [A=1, B]}\n", "build"),
            json!({"context": ".", "args": {"A": "1", "B": null}})
        );
        assert_eq!(
            svc("    secrets: [s, {source: t, target: /x}]\n", "secrets"),
            json!([{"source": "s"}, {"source": "t", "target": "/x"}])
        );
        assert_eq!(
            svc("    ulimits: {nproc: 65535, nofile: {soft: 1, hard: 2}}\n", "ulimits"),
            json!({"nproc": {"soft": 65535, "hard": 65535}, "nofile": {"soft": 1, "hard": 2}})
        );
        assert_eq!(svc("    expose: [3000, '4000/udp']\n", "expose"), json!(["3000", "4000/udp"]));
        assert_eq!(svc("    tmpfs: /run\n", "tmpfs"), json!(["/run"]));
        assert_eq!(svc("    dns: 1.1.1.1\n", "dns"), json!(["1.1.1.1"]));
    }

    #[test]
    fn devices_forms() {
        assert_eq!(
            svc(
                "    devices: ['/dev/fuse', '/dev/a:/dev/b', '/dev/c:r', '/dev/d:/dev/e:rw', {source: /dev/f}]\n",
                "devices"
            ),
            json!([
                {"source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"},
                {"source": "/dev/a", "target": "/dev/b", "permissions": "rwm"},
                {"source": "/dev/c", "target": "/dev/c", "permissions": "r"},
                {"source": "/dev/d", "target": "/dev/e", "permissions": "rw"},
                {"source": "/dev/f", "target": "/dev/f", "permissions": "rwm"}
            ])
        );
        let (_, d) = canon("services:\n  a:\n    devices: ['/a:/b:xyz']\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:15: warning: services.a.devices[0]: device `/a:/b:xyz`: permissions `xyz` are not a combination of r, w and m"
        );
    }

    #[test]
    fn develop_watch_ignore_string() {
        assert_eq!(
            svc("    develop:\n      watch:\n        - {path: ./src, action: sync, target: /app, ignore: node_modules/}\n", "develop"),
            json!({"watch": [{"path": "./src", "action": "sync", "target": "/app", "ignore": ["node_modules/"]}]})
        );
    }
}
