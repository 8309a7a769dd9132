//! The variables a stack file uses, as compose-go's `template.ExtractVariables` finds them
//! (`docker compose config --variables`): every `$NAME` and `${NAME…}` in a string value of
//! the file, before interpolation, with what the reference says about it: a default
//! (`${A:-x}`, `${A-x}`), an alternate value (`${A:+x}`, `${A+x}`), or required (`${A:?msg}`,
//! `${A?msg}`). `$$` is a literal dollar. A default or alternate value may use variables
//! itself; they are found too.

use std::collections::BTreeMap;

use serde::Serialize;

use super::yaml::{Node, Value};

/// One variable, as compose-go's `template.Variable` (its field names in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Variable {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "DefaultValue")]
    pub default_value: String,
    #[serde(rename = "PresenceValue")]
    pub presence_value: String,
    #[serde(rename = "Required")]
    pub required: bool,
}

/// The variables used anywhere in `docs` (a file's parsed documents), by name. A name used
/// several times keeps what any use says about it (a default, an alternate, required).
pub fn extract(docs: &[Node], into: &mut BTreeMap<String, Variable>) {
    for doc in docs {
        walk(doc, into);
    }
}

fn walk(node: &Node, into: &mut BTreeMap<String, Variable>) {
    match &node.value {
        Value::Str(s) => {
            for v in in_text(s) {
                add(into, v);
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| walk(n, into)),
        Value::Map(map) => map.iter().for_each(|(_, n)| walk(n, into)),
        _ => {}
    }
}

fn add(into: &mut BTreeMap<String, Variable>, v: Variable) {
    let have = into.entry(v.name.clone()).or_insert_with(|| Variable { name: v.name.clone(), ..Default::default() });
    if have.default_value.is_empty() {
        have.default_value = v.default_value;
    }
    if have.presence_value.is_empty() {
        have.presence_value = v.presence_value;
    }
    have.required |= v.required;
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// The variables referenced in one string, in order.
pub fn in_text(s: &str) -> Vec<Variable> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        let next = b[i + 1];
        if next == b'$' {
            i += 2; // `$$`: a literal dollar
        } else if is_name_start(next) {
            let end = (i + 1..b.len()).find(|&j| !is_name(b[j])).unwrap_or(b.len());
            out.push(Variable { name: s[i + 1..end].to_string(), ..Default::default() });
            i = end;
        } else if next == b'{' {
            match closing_brace(&b[i..]) {
                Some(close) => {
                    out.extend(braced(&s[i + 2..i + close]));
                    i += close + 1;
                }
                None => i += 2,
            }
        } else {
            i += 1;
        }
    }
    out
}

/// compose-go's getFirstBraceClosingIndex on `$…`: the `}` that closes the first `{`.
fn closing_brace(b: &[u8]) -> Option<usize> {
    let mut open = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open = open.saturating_sub(1);
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// `NAME`, `NAME:-default`, `NAME-default`, `NAME:+alt`, `NAME+alt`, `NAME:?msg`, `NAME?msg`;
/// anything else between the braces is not a variable.
fn braced(inner: &str) -> Vec<Variable> {
    let b = inner.as_bytes();
    if b.is_empty() || !is_name_start(b[0]) {
        return Vec::new();
    }
    let end = (0..b.len()).find(|&j| !is_name(b[j])).unwrap_or(b.len());
    let mut v = Variable { name: inner[..end].to_string(), ..Default::default() };
    let rest = &inner[end..];
    let modifier = rest.strip_prefix(':').unwrap_or(rest);
    if !rest.is_empty() {
        match modifier.as_bytes().first() {
            Some(b'?') => v.required = true,
            Some(b'-') => v.default_value = modifier[1..].to_string(),
            Some(b'+') => v.presence_value = modifier[1..].to_string(),
            _ => return Vec::new(),
        }
    }
    let nested: Vec<Variable> = [&v.default_value, &v.presence_value].iter().flat_map(|t| in_text(t)).collect();
    std::iter::once(v).chain(nested).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<(String, String, String, bool)> {
        in_text(s).into_iter().map(|v| (v.name, v.default_value, v.presence_value, v.required)).collect()
    }

    fn v(name: &str, def: &str, alt: &str, req: bool) -> (String, String, String, bool) {
        (name.into(), def.into(), alt.into(), req)
    }

    #[test]
    fn every_form_compose_go_knows() {
        assert_eq!(names("$A and ${B}"), [v("A", "", "", false), v("B", "", "", false)]);
        assert_eq!(names("${PORT:-8080}:80"), [v("PORT", "8080", "", false)]);
        assert_eq!(
            names("${X-y}${Z:+on}${R:?must be set}${S?x}"),
            [v("X", "y", "", false), v("Z", "", "on", false), v("R", "", "", true), v("S", "", "", true)]
        );
        assert_eq!(names("$$NOT ${1X} $ {"), []);
        // A default that uses a variable: both are found.
        assert_eq!(names("${A:-${B:-b}}"), [v("A", "${B:-b}", "", false), v("B", "b", "", false)]);
    }

    #[test]
    fn a_file_is_walked_and_uses_merge() {
        let docs = super::super::yaml::parse_all(
            "services:\n  a:\n    image: ${IMG:-busybox}\n    command: [echo, $IMG, '${TAG:?set TAG}']\n",
            "c.yaml",
        )
        .unwrap();
        let mut all = BTreeMap::new();
        extract(&docs, &mut all);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["IMG", "TAG"]);
        assert_eq!(all["IMG"].default_value, "busybox");
        assert!(all["TAG"].required);
    }
}
