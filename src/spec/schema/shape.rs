//! The vocabulary berth uses to describe the Compose Specification: a [`Shape`] per value and
//! an [`Obj`] (a table of [`Field`]s) per mapping with fixed keys. The tables are plain static
//! data, so validating a key is a short scan of a table and nothing is built at run time.

use crate::spec::yaml::{Node, Value};

/// What a value may look like.
#[derive(Debug)]
pub enum Shape {
    /// Anything (extension values, free-form options).
    Any,
    /// A string; numbers written without quotes are accepted too (`user: 1000`).
    Str,
    /// An integer, or a string that parses as one (interpolation yields strings).
    Int,
    /// A number, or a string that parses as one.
    Num,
    /// A boolean, or a string Compose reads as one (`"true"`, `"false"`).
    Bool,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A scalar checked by a function (durations, sizes, restart policies …).
    Check(Check),
    /// Null, or the inner shape.
    Opt(&'static Shape),
    /// A list whose items have the inner shape.
    List(&'static Shape),
    /// A mapping with free keys (checked by the rule) and values of the inner shape.
    Dict(KeyRule, &'static Shape),
    /// A mapping with a fixed set of keys.
    Obj(&'static Obj),
    /// The first alternative that fits.
    OneOf(&'static [Shape]),
}

/// A scalar validated by a function; `what` names it in "expected …" messages.
#[derive(Debug)]
pub struct Check {
    pub what: &'static str,
    pub check: fn(&str) -> Result<(), String>,
}

/// Which keys a [`Shape::Dict`] accepts.
#[derive(Debug, Clone, Copy)]
pub enum KeyRule {
    Any,
    /// Names of services, networks, volumes …: letters, digits, `.`, `_`, `-`.
    Name,
    /// Resource names of ulimits: lower-case letters.
    Lower,
}

/// A mapping with fixed keys.
#[derive(Debug)]
pub struct Obj {
    pub fields: &'static [Field],
    /// Whether `x-*` extension keys are allowed here.
    pub ext: bool,
    pub required: &'static [&'static str],
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    /// A warning given whenever the key is used (obsolete or deprecated keys).
    pub note: Option<&'static str>,
}

/// A field.
pub const fn f(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, note: None }
}

/// A field that is accepted with a warning.
pub const fn warn(name: &'static str, shape: Shape, note: &'static str) -> Field {
    Field { name, shape, note: Some(note) }
}

/// A mapping that allows `x-*` extensions.
pub const fn obj(fields: &'static [Field]) -> Obj {
    Obj { fields, ext: true, required: &[] }
}

/// A mapping that allows `x-*` extensions and requires some keys.
pub const fn obj_req(fields: &'static [Field], required: &'static [&'static str]) -> Obj {
    Obj { fields, ext: true, required }
}

/// A mapping without extensions.
pub const fn closed(fields: &'static [Field], required: &'static [&'static str]) -> Obj {
    Obj { fields, ext: false, required }
}

impl Obj {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
}

impl KeyRule {
    /// An error message when `key` breaks the rule.
    pub fn check(self, key: &str) -> Option<String> {
        match self {
            KeyRule::Any => None,
            KeyRule::Name => {
                let ok =
                    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                (!ok).then(|| format!("invalid name `{key}`; names may hold only letters, digits, `.`, `_` and `-`"))
            }
            KeyRule::Lower => {
                let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase());
                (!ok).then(|| format!("invalid ulimit `{key}`; expected a lower-case name such as `nofile`"))
            }
        }
    }
}

impl Shape {
    /// "a string", "a mapping", "a string or a list" …, for "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            Shape::Any => "anything".into(),
            Shape::Str | Shape::Enum(_) => "a string".into(),
            Shape::Int => "an integer".into(),
            Shape::Num => "a number".into(),
            Shape::Bool => "a boolean".into(),
            Shape::Check(c) => c.what.into(),
            Shape::Opt(inner) => inner.describe(),
            Shape::List(_) => "a list".into(),
            Shape::Dict(..) | Shape::Obj(_) => "a mapping".into(),
            Shape::OneOf(alts) => {
                let mut parts: Vec<String> = Vec::new();
                for d in alts.iter().map(Shape::describe) {
                    if !parts.contains(&d) {
                        parts.push(d);
                    }
                }
                match parts.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                    _ => parts.concat(),
                }
            }
        }
    }

    /// Whether the node is of a kind this shape could accept (scalar, list, mapping), used to
    /// pick the alternative of a [`Shape::OneOf`] whose errors are worth reporting.
    pub fn fits_kind(&self, node: &Node) -> bool {
        let v = &node.value;
        match self {
            Shape::Any => true,
            Shape::Str | Shape::Enum(_) | Shape::Check(_) => {
                matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_))
            }
            Shape::Int => matches!(v, Value::Int(_) | Value::Str(_)),
            Shape::Num => matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_)),
            Shape::Bool => matches!(v, Value::Bool(_) | Value::Str(_)),
            Shape::Opt(inner) => node.is_null() || inner.fits_kind(node),
            Shape::List(_) => matches!(v, Value::Seq(_)),
            Shape::Dict(..) | Shape::Obj(_) => matches!(v, Value::Map(_)),
            Shape::OneOf(alts) => alts.iter().any(|a| a.fits_kind(node)),
        }
    }
}
