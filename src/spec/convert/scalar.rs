//! Typed readers for canonical nodes: each returns the value or records a diagnostic at the
//! node's position with its key path and returns None. Values that interpolation turned into
//! strings (`"3"`, `"true"`) are accepted where Compose accepts them.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::units::{ByteSize, DurationSpec};
use super::super::yaml::{Map, Node, Value};

fn wrong(node: &Node, path: &str, expected: &str, diags: &mut Diagnostics) {
    diags.error(Some(&node.pos), path, format!("expected {expected}, found {}", node.type_name()));
}

/// A scalar as a string (`1` → "1"); null → None without an error.
pub fn string(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Null => None,
        Value::Seq(_) | Value::Map(_) => {
            wrong(node, path, "a string", diags);
            None
        }
        _ => node.scalar_string(),
    }
}

pub fn boolean(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<bool> {
    if node.is_null() {
        return None;
    }
    let b = node.as_bool();
    if b.is_none() {
        wrong(node, path, "true or false", diags);
    }
    b
}

/// An integer that must fit `T` (e.g. u32 for retries, i32 for oom_score_adj).
pub fn int<T: TryFrom<i64>>(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<T> {
    if node.is_null() {
        return None;
    }
    let Some(i) = node.as_i64() else {
        wrong(node, path, "an integer", diags);
        return None;
    };
    match T::try_from(i) {
        Ok(v) => Some(v),
        Err(_) => {
            diags.error(Some(&node.pos), path, format!("{i} is out of range here"));
            None
        }
    }
}

pub fn float(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<f64> {
    if node.is_null() {
        return None;
    }
    let f = node.as_f64().filter(|f| f.is_finite() && *f >= 0.0);
    if f.is_none() {
        wrong(node, path, "a non-negative number", diags);
    }
    f
}

/// A byte size: an integer count of bytes or a string such as "512m".
pub fn bytes(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<ByteSize> {
    match &node.value {
        Value::Null => None,
        Value::Int(i) if *i >= 0 => Some(ByteSize(*i as u64)),
        Value::Str(s) | Value::Float(s) => match ByteSize::parse(s) {
            Ok(b) => Some(b),
            Err(e) => {
                diags.error(Some(&node.pos), path, e.to_string());
                None
            }
        },
        _ => {
            wrong(node, path, "a size such as 512m or a number of bytes", diags);
            None
        }
    }
}

/// A duration in Go syntax ("1m30s"); as in Compose a unit is required except for `0`.
pub fn duration(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<DurationSpec> {
    let text = string(node, path, diags)?;
    match DurationSpec::parse(&text) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.error(Some(&node.pos), path, e.to_string());
            None
        }
    }
}

/// A list of strings (a single string is a one-item list).
pub fn strings(node: &Node, path: &str, diags: &mut Diagnostics) -> Vec<String> {
    match &node.value {
        Value::Null => Vec::new(),
        Value::Seq(items) => {
            items.iter().enumerate().filter_map(|(i, n)| string(n, &format!("{path}[{i}]"), diags)).collect()
        }
        Value::Map(_) => {
            wrong(node, path, "a list of strings", diags);
            Vec::new()
        }
        _ => node.scalar_string().into_iter().collect(),
    }
}

/// A map of strings (null values become ""), e.g. labels, sysctls, driver_opts.
pub fn string_map(node: &Node, path: &str, diags: &mut Diagnostics) -> IndexMap<String, String> {
    opt_string_map(node, path, diags).into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()
}

/// The string map under `key` of `map` (labels, driver_opts, …); empty when absent.
pub fn string_map_at(map: &Map, key: &str, path: &str, diags: &mut Diagnostics) -> IndexMap<String, String> {
    map.get(key).map(|n| string_map(n, &format!("{path}.{key}"), diags)).unwrap_or_default()
}

/// A map whose null values stay None (environment, build args).
pub fn opt_string_map(node: &Node, path: &str, diags: &mut Diagnostics) -> IndexMap<String, Option<String>> {
    let Some(map) = node.as_map() else {
        if !node.is_null() {
            wrong(node, path, "a mapping", diags);
        }
        return IndexMap::new();
    };
    map.iter().map(|(k, v)| (k.name.clone(), string(v, &format!("{path}.{}", k.name), diags))).collect()
}

/// A file mode: an integer as written, or an octal string ("0440").
pub fn mode(node: &Node, path: &str, diags: &mut Diagnostics) -> Option<u32> {
    match &node.value {
        Value::Null => None,
        Value::Str(s) => match u32::from_str_radix(s.trim(), 8) {
            Ok(m) => Some(m),
            Err(_) => {
                diags.error(
                    Some(&node.pos),
                    path,
                    format!("invalid mode `{s}`; expected an octal number such as 0440"),
                );
                None
            }
        },
        _ => int(node, path, diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse;

    fn node(src: &str) -> Node {
        parse(src, "s.yaml").expect("yaml")
    }

    #[test]
    fn readers_accept_interpolated_strings() {
        let mut d = Diagnostics::new();
        assert_eq!(int::<u32>(&node("'3'"), "p", &mut d), Some(3));
        assert_eq!(boolean(&node("'true'"), "p", &mut d), Some(true));
        assert_eq!(float(&node("'0.5'"), "p", &mut d), Some(0.5));
        assert_eq!(bytes(&node("64m"), "p", &mut d), Some(ByteSize(64 << 20)));
        assert_eq!(bytes(&node("1024"), "p", &mut d), Some(ByteSize(1024)));
        assert_eq!(mode(&node("'0440'"), "p", &mut d), Some(0o440));
        assert_eq!(strings(&node("a"), "p", &mut d), vec!["a"]);
        assert!(d.is_empty(), "{d}");
    }

    #[test]
    fn readers_report_type_errors_with_position() {
        let mut d = Diagnostics::new();
        assert_eq!(int::<u32>(&node("x: [1]").as_map().unwrap().get("x").unwrap().clone(), "a.b", &mut d), None);
        assert_eq!(int::<u8>(&node("300"), "a.c", &mut d), None);
        assert_eq!(bytes(&node("lots"), "a.d", &mut d), None);
        assert_eq!(duration(&node("10"), "a.e", &mut d), None);
        assert_eq!(
            d.to_string(),
            "s.yaml:1:4: a.b: expected an integer, found a list\n\
             s.yaml:1:1: a.c: 300 is out of range here\n\
             s.yaml:1:1: a.d: invalid size `lots`; expected bytes or a number with a unit, e.g. 512m, 1g, 1.5GB\n\
             s.yaml:1:1: a.e: invalid duration `10`; expected e.g. 10s, 1m30s, 500ms or 1h"
        );
    }
}
