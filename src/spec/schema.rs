//! Validation of one stack file's raw (interpolated, not yet canonical) tree against berth's own
//! description of the Compose Specification.
//!
//! The description is Rust data ([`shape`]): a table of fields for each mapping of the spec,
//! written from the Compose Specification (berth does not embed its JSON schema;
//! tests/spec_schema.rs compares the two at test time). Every key at every level is checked:
//! an unknown key is an error with a did-you-mean, `x-*` keys are allowed where the spec allows
//! extensions, types are checked ("expected a string or a mapping, found a list"), enums and
//! formats (durations, sizes, restart policies) too. Strings are accepted where a number or a
//! boolean is required when they parse, since interpolation always yields strings. All errors
//! of the file are collected.

mod checks;
mod common;
mod service;
mod service_parts;
pub mod shape;
mod top;

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::diag::{did_you_mean, Diagnostic, Diagnostics};
use super::yaml::{Key, Map, Node, Value};
use shape::{Obj, Shape};

/// Check one file's tree; problems go into `diags` (errors, and warnings for obsolete keys).
/// An empty document (null) is left to the loader to judge.
pub fn validate(root: &Node, diags: &mut Diagnostics) {
    if root.is_null() {
        return;
    }
    // compose-go reads the project name as text before anything else: `name: 123` is refused
    // (unlike the many keys where berth takes an unquoted number as text).
    if let Some(name) = root.as_map().and_then(|m| m.get("name")) {
        if matches!(name.value, Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
            let msg = format!("the project name must be a string, found {}", name.type_name());
            diags.push(Diagnostic::error(Some(&name.pos), "name", msg).with_hint("quote it"));
        }
    }
    let mut path = String::new();
    Validator { diags }.node(&top::ROOT, root, &mut path);
}

/// The message of a missing required key (see [`validate_file`] and [`validate_required`]).
const MISSING_REQUIRED: &str = "missing required key `";

/// [`validate`] without the required-key checks: one file of several, whose mappings may be
/// completed by the files merged with it. compose-go validates the merged files, so an override
/// may give part of an entry; [`validate_required`] checks the merged tree.
pub fn validate_file(root: &Node, diags: &mut Diagnostics) {
    let mut all = Diagnostics::new();
    validate(root, &mut all);
    diags.items.extend(all.items.into_iter().filter(|d| !d.message.starts_with(MISSING_REQUIRED)));
}

/// Only the required-key checks of [`validate`], on the merged (canonical) tree.
pub fn validate_required(root: &Node, diags: &mut Diagnostics) {
    let mut all = Diagnostics::new();
    validate(root, &mut all);
    diags.items.extend(all.items.into_iter().filter(|d| d.is_error() && d.message.starts_with(MISSING_REQUIRED)));
}

/// The keys berth accepts on a service.
pub fn service_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| service::SERVICE.names())
}

/// The keys berth accepts on the top level of a stack file (besides `x-*`).
pub fn top_level_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| top::TOP.names())
}

/// The keys of the mapping at `path`, where a segment is a key name, or `*` for any entry of
/// a list or of a mapping with free keys (`["services", "*", "ports", "*"]` is the long form of
/// a port). Where a value has several forms, the first one with a mapping at `path` counts.
/// None when berth has no mapping with fixed keys there.
pub fn keys_at(path: &[&str]) -> Option<Vec<&'static str>> {
    keys_in(&top::ROOT, path)
}

/// The allowed values when the value at `path` is an enum (same paths as [`keys_at`]).
pub fn enum_at(path: &[&str]) -> Option<&'static [&'static str]> {
    match shape_at(&top::ROOT, path)? {
        Shape::Enum(values) => Some(values),
        _ => None,
    }
}

fn keys_in(shape: &'static Shape, path: &[&str]) -> Option<Vec<&'static str>> {
    match shape_at(shape, path)? {
        Shape::Obj(o) => Some(o.names()),
        _ => None,
    }
}

/// The shape at `path` below `shape`, looking through nullable values and alternatives (the
/// alternative that is a mapping there wins, else the first that has the path at all).
fn shape_at(shape: &'static Shape, path: &[&str]) -> Option<&'static Shape> {
    match shape {
        Shape::Opt(inner) => shape_at(inner, path),
        Shape::OneOf(alts) => {
            let mut found: Vec<&'static Shape> = alts.iter().filter_map(|a| shape_at(a, path)).collect();
            match found.iter().position(|s| matches!(s, Shape::Obj(_))) {
                Some(i) => Some(found.swap_remove(i)),
                None => found.into_iter().next(),
            }
        }
        _ => match path.split_first() {
            None => Some(shape),
            Some((seg, rest)) => match shape {
                Shape::Obj(o) => shape_at(&o.field(seg)?.shape, rest),
                Shape::List(item) | Shape::Dict(_, item) if *seg == "*" => shape_at(item, rest),
                _ => None,
            },
        },
    }
}

struct Validator<'d> {
    diags: &'d mut Diagnostics,
}

impl Validator<'_> {
    /// Check `node` against `shape`; `path` is the node's key path (restored on return).
    fn node(&mut self, shape: &Shape, node: &Node, path: &mut String) {
        match (shape, &node.value) {
            (Shape::Any, _) => {}
            (Shape::Opt(_), Value::Null) => {}
            (Shape::Opt(inner), _) => self.node(inner, node, path),
            (Shape::Str, Value::Str(_) | Value::Int(_) | Value::Float(_)) => {}
            (Shape::Int, Value::Int(_)) | (Shape::Num, Value::Int(_) | Value::Float(_)) => {}
            (Shape::Bool, Value::Bool(_)) => {}
            (Shape::Int | Shape::Num | Shape::Bool, Value::Str(s)) => self.parsed(shape, node, s, path),
            (Shape::Enum(values), Value::Str(_) | Value::Int(_) | Value::Float(_)) => {
                let text = node.scalar_string().unwrap_or_default();
                if !values.contains(&text.as_str()) {
                    let msg = format!("invalid value `{text}`; expected one of {}", values.join(", "));
                    self.diags.error(Some(&node.pos), path.as_str(), msg);
                }
            }
            (Shape::Check(check), Value::Str(_) | Value::Int(_) | Value::Float(_)) => {
                let text = node.scalar_string().unwrap_or_default();
                if let Err(msg) = (check.check)(&text) {
                    self.diags.error(Some(&node.pos), path.as_str(), msg);
                }
            }
            (Shape::List(item), Value::Seq(items)) => {
                for (i, child) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    self.node(item, child, path);
                    path.truncate(len);
                }
            }
            (Shape::Dict(rule, value), Value::Map(map)) => self.dict(*rule, value, map, path),
            (Shape::Obj(obj), Value::Map(map)) => self.object(obj, node, map, path),
            (Shape::OneOf(alts), _) => self.one_of(shape, alts, node, path),
            _ => self.mismatch(shape, node, path),
        }
    }

    /// A string where a number or boolean is required: fine when it parses.
    fn parsed(&mut self, shape: &Shape, node: &Node, text: &str, path: &str) {
        let ok = match shape {
            Shape::Int => node.as_i64().is_some(),
            Shape::Num => node.as_f64().is_some(),
            _ => node.as_bool().is_some(),
        };
        if !ok {
            let msg = format!("invalid value `{text}`; expected {}", shape.describe());
            self.diags.error(Some(&node.pos), path, msg);
        }
    }

    fn mismatch(&mut self, shape: &Shape, node: &Node, path: &str) {
        let msg = format!("expected {}, found {}", shape.describe(), node.type_name());
        self.diags.error(Some(&node.pos), path, msg);
    }

    fn dict(&mut self, rule: shape::KeyRule, value: &Shape, map: &Map, path: &mut String) {
        for (key, child) in map.iter() {
            if let Some(msg) = rule.check(&key.name) {
                self.diags.error(Some(&key.pos), path.as_str(), msg);
            }
            let len = push_key(path, &key.name);
            self.entry(value, key, child, path);
            path.truncate(len);
        }
    }

    fn object(&mut self, obj: &Obj, node: &Node, map: &Map, path: &mut String) {
        for (key, child) in map.iter() {
            let Some(field) = obj.field(&key.name) else {
                if !(obj.ext && key.name.starts_with("x-")) {
                    self.unknown_key(obj, &key.name, key, path);
                }
                continue;
            };
            let len = push_key(path, &key.name);
            if let Some(note) = field.note {
                self.diags.warning(Some(&key.pos), path.as_str(), note);
            }
            self.entry(&field.shape, key, child, path);
            path.truncate(len);
        }
        // A block mapping's own position is where its first key is, which reads best.
        let pos = map.entries().first().map_or(&node.pos, |(k, _)| &k.pos);
        for required in obj.required {
            if !map.contains_key(required) {
                self.diags.error(Some(pos), path.as_str(), format!("missing required key `{required}`"));
            }
        }
    }

    /// The value of a mapping entry. An empty value (`image:`) has no position of its own in
    /// YAML (the parser points past it), so its errors point at the key.
    fn entry(&mut self, shape: &Shape, key: &Key, child: &Node, path: &mut String) {
        if child.is_null() && !accepts_null(shape) {
            self.diags.error(Some(&key.pos), path.as_str(), format!("expected {}, found null", shape.describe()));
            return;
        }
        self.node(shape, child, path);
    }

    fn unknown_key(&mut self, obj: &Obj, name: &str, key: &Key, path: &str) {
        let mut d = Diagnostic::error(Some(&key.pos), path, format!("unknown key `{name}`"));
        if let Some(near) = did_you_mean(name, obj.fields.iter().map(|f| f.name)) {
            d = d.with_hint(format!("did you mean `{near}`?"));
        } else if name.starts_with("x-") {
            d = d.with_hint("extension keys (`x-*`) are not allowed here");
        }
        self.diags.push(d);
    }

    /// The first alternative that accepts the node wins. When none does, the errors of the
    /// first alternative of the right kind are reported (a port mapping with a misspelled key
    /// is best explained as a mapping), else "expected A or B, found C".
    fn one_of(&mut self, shape: &Shape, alts: &[Shape], node: &Node, path: &mut String) {
        let mut first_errors: Option<Diagnostics> = None;
        for alt in alts.iter().filter(|a| a.fits_kind(node)) {
            let mut scratch = Diagnostics::new();
            Validator { diags: &mut scratch }.node(alt, node, path);
            if !scratch.has_errors() {
                self.diags.extend(scratch);
                return;
            }
            first_errors.get_or_insert(scratch);
        }
        match first_errors {
            Some(errors) => self.diags.extend(errors),
            None => self.mismatch(shape, node, path),
        }
    }
}

fn accepts_null(shape: &Shape) -> bool {
    match shape {
        Shape::Any | Shape::Opt(_) => true,
        Shape::OneOf(alts) => alts.iter().any(accepts_null),
        _ => false,
    }
}

/// Add `.key` to the path; returns the length to truncate back to.
fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    len
}

#[cfg(test)]
mod tests;
