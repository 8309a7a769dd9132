//! The loader never panics: arbitrary YAML-ish text, and arbitrary trees built from Compose
//! keys, either load or give diagnostics. In-process (no binary), no root, a few seconds.

use std::path::Path;

use berth::spec::load::{load, LoadOptions};
use proptest::prelude::*;

/// Fragments that steer random text towards the interesting corners of the loader: anchors,
/// merge keys, interpolation, include and extends (also of the file itself), short syntax.
const TOKENS: &[&str] = &[
    "services:",
    "\n",
    "\n  ",
    "\n    ",
    "\n      ",
    "  ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "web",
    "db",
    "image",
    "busybox",
    "ports",
    "\"8080:80\"",
    "80:80/udp",
    "volumes",
    "./data:/data:ro",
    "data:/x",
    "command",
    "echo hi",
    "environment",
    "A=1",
    "${A:-x}",
    "${B:?boom}",
    "$$",
    "${",
    "&a",
    "*a",
    "<<",
    "extends",
    "file",
    "service",
    "compose.yaml",
    "other.yaml",
    "include",
    "path",
    "depends_on",
    "condition",
    "service_healthy",
    "profiles",
    "[debug]",
    "networks",
    "healthcheck",
    "test",
    "CMD-SHELL",
    "x-ext",
    "name",
    "~",
    "null",
    "1",
    "-1",
    "0x1F",
    "1.5",
    "true",
    "'q'",
    "\"",
    "#",
    "!!str",
    "---",
    "...",
    "|",
    ">",
    "\t",
    "é",
    "😀",
];

/// Service keys (and nested keys) for random trees.
const KEYS: &[&str] = &[
    "image",
    "build",
    "context",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "target",
    "published",
    "protocol",
    "volumes",
    "type",
    "source",
    "read_only",
    "networks",
    "aliases",
    "ipv4_address",
    "depends_on",
    "condition",
    "required",
    "restart",
    "healthcheck",
    "test",
    "interval",
    "retries",
    "deploy",
    "resources",
    "limits",
    "memory",
    "cpus",
    "replicas",
    "ulimits",
    "nofile",
    "soft",
    "hard",
    "profiles",
    "extends",
    "service",
    "file",
    "develop",
    "watch",
    "path",
    "action",
    "labels",
    "secrets",
    "configs",
    "network_mode",
    "tmpfs",
    "expose",
    "x-custom",
    "heathcheck",
];

fn load_text(dir: &Path, text: &str) {
    std::fs::write(dir.join("compose.yaml"), text).expect("write");
    let opts = LoadOptions {
        files: vec![dir.join("compose.yaml")],
        working_dir: dir.to_path_buf(),
        profiles: vec!["debug".into()],
        ..LoadOptions::default()
    };
    // Errors are fine; a panic fails the test.
    let _ = load(&opts);
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        prop::sample::select(TOKENS).prop_map(serde_json::Value::from),
        "[a-z0-9:/._${}-]{0,12}".prop_map(serde_json::Value::from),
    ]
}

fn tree() -> impl Strategy<Value = serde_json::Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|entries| {
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(parts in prop::collection::vec(prop::sample::select(TOKENS), 0..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        load_text(dir.path(), &parts.concat());
    }

    #[test]
    fn arbitrary_service_trees_never_panic(services in prop::collection::vec(("[a-c]", tree()), 1..4), top in tree()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let services: serde_json::Map<String, serde_json::Value> = services.into_iter().collect();
        let doc = serde_json::json!({ "services": services, "x-top": top, "volumes": {"data": {}} });
        let text = serde_yaml::to_string(&doc).expect("yaml");
        load_text(dir.path(), &text);
    }
}
