//! A small YAML emitter for manifests. serde_yaml writes YAML 1.2, where `yes`, `on` or
//! `1:30` are plain strings; Kubernetes (sigs.k8s.io/yaml) and kubectl read YAML 1.1, where
//! they are booleans and numbers. So any string that is not unmistakably a string is
//! double-quoted (JSON string syntax is valid YAML), and multi-line strings are literal blocks.

use std::fmt::Write as _;

use serde_json::Value;

/// Words YAML 1.1 reads as booleans or null (case-insensitively).
const SPECIAL: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"];

/// Whether `s` can be written plain and still read back as this string under YAML 1.1:
/// a conservative character set, no leading indicator, not a bool/null word, and, when it
/// starts with a digit, a letter no YAML 1.1 number (hex included) or timestamp contains (`1Gi`, `500m`).
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let charset = s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | ':'));
    let start = match first {
        'a'..='z' | 'A'..='Z' | '/' | '_' => true,
        '-' => s[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '-'),
        '0'..='9' => s.chars().any(|c| c.is_ascii_alphabetic() && !"aAbBcCdDeEfFtTxXoO".contains(c)),
        _ => false,
    };
    charset && start && !s.ends_with(':') && !SPECIAL.contains(&s.to_ascii_lowercase().as_str())
}

/// A literal block is exact only for printable text that does not start with a space.
fn block_ok(s: &str) -> bool {
    s.contains('\n') && !s.starts_with([' ', '\n']) && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

/// ` |` plus the lines of `s` at `indent`, with the chomping indicator that keeps its
/// trailing newlines exactly.
fn literal(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let _ = writeln!(out, "|{chomp}");
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
}

/// `value` after a `key:` or `- ` that is already written.
fn inline_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::String(s) if !plain_ok(s) && block_ok(s) => {
            out.push(' ');
            literal(s, indent + 2, out);
        }
        _ => {
            let _ = writeln!(out, " {}", scalar(v));
        }
    }
}

/// A block node (non-empty map or sequence) at `indent`.
fn block(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                let key = if k.contains(':') { quoted(k) } else { scalar(&Value::String(k.clone())) };
                let _ = write!(out, "{:indent$}{key}:", "");
                match val {
                    Value::Object(_) if is_block(val) => {
                        out.push('\n');
                        block(val, indent + 2, out);
                    }
                    Value::Array(_) if is_block(val) => {
                        out.push('\n');
                        block(val, indent, out);
                    }
                    _ => inline_value(val, indent, out),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let _ = write!(out, "{:indent$}-", "");
                if is_block(item) {
                    let mut child = String::new();
                    block(item, indent + 2, &mut child);
                    out.push(' ');
                    out.push_str(&child[indent + 2..]);
                } else {
                    inline_value(item, indent, out);
                }
            }
        }
        other => {
            let _ = writeln!(out, "{:indent$}{}", "", scalar(other));
        }
    }
}

/// One document (no `---`).
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    if is_block(v) {
        block(v, 0, &mut out);
    } else {
        out.push_str(&scalar(v));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_lookalikes_are_quoted_and_everything_round_trips() {
        let v = serde_json::json!({
            "a": ["yes", "on", "No", "1:30", "0777", "-c", "8080", "", " x", "a: b", "#c", "ok-1/x.y_z", "1Gi", "1e3", "0x1F", "-1", ":80", "a:", "nginx:1.27"],
            "k:ey": "- x",
            "script": "line one\n  two\n\nthree\n",
            "nochomp": "a\nb",
            "keep": "a\n\n",
            "nested": [{"k": 1, "l": [true, null, 1.5]}, [], {}, [["x"]]],
            "app.kubernetes.io/name": "web",
        });
        let text = to_string(&v);
        for w in [
            "\"yes\"",
            "\"on\"",
            "\"No\"",
            "\"1:30\"",
            "\"0777\"",
            "\"8080\"",
            "\"1e3\"",
            "\"0x1F\"",
            "\"-1\"",
            "- ok-1/x.y_z",
            "- 1Gi",
            "- -c",
            "- nginx:1.27",
        ] {
            assert!(text.contains(w), "{w} missing in:\n{text}");
        }
        let back: Value = serde_yaml::from_str(&text).expect("parses");
        assert_eq!(back, v, "round trip of:\n{text}");
    }
}
