//! berth's own description of the Compose Specification against the reference JSON schema
//! (../shared/reference/compose-spec.json, read at test time, never embedded in berth).
//!
//! The test walks every object of the reference schema that lists properties (following
//! `$ref`, `oneOf`/`anyOf`, `items`, `patternProperties` and `additionalProperties`), and for
//! each checks that berth has a mapping at the same key path accepting exactly the same keys,
//! and that every enum value the reference lists is accepted by berth.

use std::collections::BTreeSet;

use berth::spec::schema::{enum_at, keys_at, service_keys, top_level_keys, validate};
use berth::spec::{yaml, Diagnostics};
use serde_json::Value;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/compose-spec.json");

/// Keys of the current Compose schema (compose-go's schema/compose-spec.json, late 2025) that
/// the reference copy in ../shared predates; berth accepts them because Compose does (issue 15).
/// The reference is read-only here: refresh it and empty this list.
const NEWER_THAN_REFERENCE: &[(&str, &str)] = &[("services.*", "pre_start"), ("services.*.build", "no_cache_filter")];

fn newer(path: &str, key: &str) -> bool {
    NEWER_THAN_REFERENCE.contains(&(path, key)) || path.starts_with("services.*.pre_start")
}

/// The reference schema, or None with a loud SKIP line where ../shared is not beside the
/// repository (a user's own clone); CI and the development machines have it.
fn reference() -> Option<Value> {
    let text = match std::fs::read_to_string(REFERENCE) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let name = std::thread::current().name().unwrap_or("test").to_string();
            let line = format!(
                "SKIP: {name}: no reference Compose schema at {REFERENCE} (../shared is not beside this clone)"
            );
            eprintln!("{line}");
            println!("{line}");
            return None;
        }
        Err(e) => panic!("cannot read the reference Compose schema at {REFERENCE}: {e}"),
    };
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{REFERENCE} is not valid JSON: {e}")))
}

/// An object of the reference schema: its key path and its property names.
struct RefObject {
    path: Vec<String>,
    keys: BTreeSet<String>,
}

struct RefEnum {
    path: Vec<String>,
    values: Vec<String>,
}

#[derive(Default)]
struct Walk {
    objects: Vec<RefObject>,
    enums: Vec<RefEnum>,
}

impl Walk {
    fn node(&mut self, node: &Value, defs: &Value, path: &mut Vec<String>) {
        if let Some(name) = node.get("$ref").and_then(Value::as_str) {
            let name = name.trim_start_matches("#/definitions/");
            let target = defs.get(name).unwrap_or_else(|| panic!("unresolved $ref {name}"));
            return self.node(target, defs, path);
        }
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            let values = values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
            self.enums.push(RefEnum { path: path.clone(), values });
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            self.objects.push(RefObject { path: path.clone(), keys: props.keys().cloned().collect() });
            for (key, child) in props {
                self.nested(child, defs, path, key);
            }
        }
        for combinator in ["oneOf", "anyOf", "allOf"] {
            for alt in node.get(combinator).and_then(Value::as_array).into_iter().flatten() {
                self.node(alt, defs, path);
            }
        }
        if let Some(items) = node.get("items") {
            self.nested(items, defs, path, "*");
        }
        for (pattern, child) in node.get("patternProperties").and_then(Value::as_object).into_iter().flatten() {
            if pattern != "^x-" {
                self.nested(child, defs, path, "*");
            }
        }
        if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
            self.nested(extra, defs, path, "*");
        }
    }

    fn nested(&mut self, node: &Value, defs: &Value, path: &mut Vec<String>, segment: &str) {
        path.push(segment.to_string());
        self.node(node, defs, path);
        path.pop();
    }
}

fn walk_reference() -> Option<Walk> {
    let schema = reference()?;
    let defs = schema.get("definitions").cloned().unwrap_or(Value::Null);
    let mut walk = Walk::default();
    walk.node(&schema, &defs, &mut Vec::new());
    Some(walk)
}

#[test]
fn every_reference_object_has_the_same_keys_in_berth() {
    let Some(walk) = walk_reference() else { return };
    assert!(
        walk.objects.len() > 50,
        "the walk found too few objects ({}); is the reference complete?",
        walk.objects.len()
    );
    let mut problems = Vec::new();
    for obj in &walk.objects {
        let path: Vec<&str> = obj.path.iter().map(String::as_str).collect();
        let shown = if path.is_empty() { "(top level)".to_string() } else { path.join(".") };
        let Some(berth) = keys_at(&path) else {
            problems.push(format!("{shown}: berth has no mapping here; the reference lists {:?}", obj.keys));
            continue;
        };
        let berth: BTreeSet<String> = berth.iter().map(|k| k.to_string()).collect();
        let missing: Vec<_> = obj.keys.difference(&berth).collect();
        let extra: Vec<_> = berth.difference(&obj.keys).filter(|k| !newer(&shown, k)).collect();
        if !missing.is_empty() {
            problems.push(format!("{shown}: berth does not accept {missing:?}"));
        }
        if !extra.is_empty() {
            problems.push(format!("{shown}: berth accepts {extra:?}, which the reference lacks"));
        }
    }
    assert!(problems.is_empty(), "berth's schema differs from the reference:\n{}", problems.join("\n"));
}

#[test]
fn service_and_top_level_keys_match_exactly() {
    let Some(schema) = reference() else { return };
    let names =
        |v: &Value| -> BTreeSet<String> { v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default() };
    let reference_service = names(&schema["definitions"]["service"]["properties"]);
    let berth_service: BTreeSet<String> =
        service_keys().iter().filter(|k| !newer("services.*", k)).map(|k| k.to_string()).collect();
    assert_eq!(berth_service, reference_service, "service keys differ");
    let newer_service = NEWER_THAN_REFERENCE.iter().filter(|(p, _)| *p == "services.*").count();
    assert_eq!(
        reference_service.len() + newer_service,
        service_keys().len(),
        "no duplicate service keys in berth's table"
    );
    let berth_top: BTreeSet<String> = top_level_keys().iter().map(|k| k.to_string()).collect();
    assert_eq!(berth_top, names(&schema["properties"]), "top-level keys differ");
}

#[test]
fn every_reference_enum_value_is_accepted() {
    let Some(walk) = walk_reference() else { return };
    let mut problems = Vec::new();
    for e in &walk.enums {
        let path: Vec<&str> = e.path.iter().map(String::as_str).collect();
        match enum_at(&path) {
            Some(berth) => {
                for v in &e.values {
                    if !berth.contains(&v.as_str()) {
                        problems.push(format!("{}: berth rejects `{v}`", path.join(".")));
                    }
                }
            }
            None => problems.push(format!("{}: berth has no enum here (reference: {:?})", path.join("."), e.values)),
        }
    }
    assert!(problems.is_empty(), "enum differences:\n{}", problems.join("\n"));
}

#[test]
fn a_service_using_every_reference_key_passes_the_key_check() {
    // Each service key with a null value: berth may object to the value, never to the key.
    let mut src = String::from("services:\n  all:\n");
    for key in service_keys() {
        src.push_str(&format!("    {key}:\n"));
    }
    let root = yaml::parse(&src, "compose.yaml").expect("generated yaml parses");
    let mut d = Diagnostics::new();
    validate(&root, &mut d);
    let unknown: Vec<String> =
        d.errors().filter(|e| e.message.starts_with("unknown key")).map(|e| e.to_string()).collect();
    assert!(unknown.is_empty(), "{unknown:#?}");
}
