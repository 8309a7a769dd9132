//! Variable interpolation, as Compose does it: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, nested
//! expressions inside defaults (`${A:-${B:-x}}`) and `$$` for a literal `$`. A `$` followed
//! by anything else (`$(date)`, `^REGEX$`, `cost $5`) stays literal, as in compose-go.
//!
//! Only string values are interpolated, never keys (Compose does the same), and extension
//! (`x-*`) values are interpolated like any other value. A variable that is not set and has no
//! default becomes an empty string with a warning; `:?`/`?` and malformed expressions are
//! errors. A string with an error is left as it was, so later stages see the original text.
//!
//! The scanner is a single left-to-right pass over the bytes with no regex, so interpolating a
//! large stack costs about as much as copying its strings.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::diag::{Diagnostic, Diagnostics, Pos};
use super::yaml::{Node, Value};

/// The environment seen by interpolation: returns the value of a variable, if it is set.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `${A:-${B:-…}}` nested deeper than this is refused: the scanner recurses once per level,
/// and no real default needs more than a handful.
pub const MAX_NESTING: usize = 64;

/// Largest string one interpolation may produce. Values are substituted, never re-read, but
/// `$A$A$A…` with a large `A` still multiplies it; in env files, where each line may use the
/// ones above, doubling line by line would otherwise grow without bound. 16 MiB is far beyond
/// any value a process can receive (Linux caps one environment string at 128 KiB).
pub const MAX_OUTPUT: usize = 16 << 20;

/// Largest total that interpolating one stack file may produce.
pub const MAX_TOTAL_OUTPUT: usize = 64 << 20;

/// Interpolate every string value of the tree in place (not keys), collecting warnings for
/// unset variables (once per variable) and errors for `:?` and malformed expressions.
pub fn interpolate(root: &mut Node, lookup: Lookup<'_>, diags: &mut Diagnostics) {
    let mut ctx = Ctx { lookup, diags, warned: HashSet::new(), produced: 0 };
    let mut path = String::new();
    walk(root, &mut path, &mut ctx);
}

/// Interpolate one string. `pos` and `path` say where it came from, for diagnostics. On an
/// error the original string is returned unchanged (the error is in `diags`).
pub fn interpolate_str(s: &str, lookup: Lookup<'_>, pos: Option<&Pos>, path: &str, diags: &mut Diagnostics) -> String {
    let mut ctx = Ctx { lookup, diags, warned: HashSet::new(), produced: 0 };
    ctx.expand(s, pos, path)
}

fn walk(node: &mut Node, path: &mut String, ctx: &mut Ctx<'_, '_>) {
    let Node { value, pos, .. } = node;
    match value {
        Value::Str(s) if s.contains('$') => {
            let expanded = ctx.expand(s, Some(pos), path);
            *s = expanded;
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                walk(item, path, ctx);
                path.truncate(len);
            }
        }
        Value::Map(map) => {
            for (key, child) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.name);
                walk(child, path, ctx);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

struct Ctx<'l, 'd> {
    lookup: Lookup<'l>,
    diags: &'d mut Diagnostics,
    /// Variables already warned about: one warning per unset variable is enough.
    warned: HashSet<String>,
    /// Bytes produced so far (see [`MAX_TOTAL_OUTPUT`]); past it, strings are left as they are.
    produced: usize,
}

impl Ctx<'_, '_> {
    fn expand(&mut self, s: &str, pos: Option<&Pos>, path: &str) -> String {
        if !s.contains('$') || self.produced > MAX_TOTAL_OUTPUT {
            return s.to_string();
        }
        let mut scanner = Scanner { s, i: 0, depth: 0, pos, path, ctx: self };
        let Ok(out) = scanner.text(true, false) else { return s.to_string() };
        self.produced += out.len();
        if self.produced > MAX_TOTAL_OUTPUT {
            // Reported once; later strings stay as written (the file is invalid anyway).
            let msg = format!(
                "interpolation produces more than {} in this file",
                crate::fsutil::human_size(MAX_TOTAL_OUTPUT as u64)
            );
            self.diags.push(Diagnostic::error(pos, path, msg).with_hint("are variables repeated many times?"));
            return s.to_string();
        }
        out
    }
}

/// The operator after a variable name inside `${...}`.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// `:-` (colon: also when empty) or `-`: a default.
    Default { colon: bool },
    /// `:?` or `?`: an error when missing.
    Required { colon: bool },
    /// `:+` or `+`: an alternative when present.
    Alt { colon: bool },
}

struct Scanner<'s, 'c, 'l, 'd> {
    s: &'s str,
    i: usize,
    /// `${…}` nesting at the cursor (see [`MAX_NESTING`]).
    depth: usize,
    pos: Option<&'s Pos>,
    path: &'s str,
    ctx: &'c mut Ctx<'l, 'd>,
}

/// An error was reported; give up on this string.
type Scan<T> = Result<T, ()>;

impl<'s> Scanner<'s, '_, '_, '_> {
    fn peek(&self, at: usize) -> Option<u8> {
        self.s.as_bytes().get(at).copied()
    }

    /// Text until the end of the string or, when `nested` (inside `${...}`), until the `}`
    /// closing the expression (bare `{`/`}` pairs in a default are kept as text). When `eval`
    /// is false the text is only checked for syntax: no lookups, no warnings.
    fn text(&mut self, eval: bool, nested: bool) -> Scan<String> {
        let mut out = String::new();
        let mut depth = 0usize;
        let mut start = self.i;
        while let Some(b) = self.peek(self.i) {
            match b {
                b'$' => {
                    out.push_str(&self.s[start..self.i]);
                    let value = self.dollar(eval)?;
                    out.push_str(&value);
                    start = self.i;
                    if out.len() > MAX_OUTPUT {
                        let msg = format!(
                            "interpolation result is larger than {}",
                            crate::fsutil::human_size(MAX_OUTPUT as u64)
                        );
                        return self.fail(msg, Some("are variables repeated many times?"));
                    }
                }
                b'{' if nested => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' if nested => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        out.push_str(&self.s[start..self.i]);
        Ok(out)
    }

    /// One `$...` construct, starting at the `$`.
    fn dollar(&mut self, eval: bool) -> Scan<String> {
        let start = self.i;
        match self.peek(start + 1) {
            Some(b'$') => {
                self.i += 2;
                Ok("$".to_string())
            }
            Some(b'{') => {
                self.i += 2;
                self.braced(start, eval)
            }
            Some(b) if is_name_start(b) => {
                self.i += 1;
                let name = self.name();
                Ok(if eval { self.value_or_warn(name) } else { String::new() })
            }
            // compose-go's pattern only matches `$` before a name, `{` or `$`: any other `$`
            // (`$(date)`, `^REGEX$`, `cost $5`, a trailing `$`) is kept as written.
            _ => {
                self.i += 1;
                Ok("$".to_string())
            }
        }
    }

    /// The rest of `${...}` after the `{`; `start` is the index of the `$`.
    fn braced(&mut self, start: usize, eval: bool) -> Scan<String> {
        let name = self.name();
        if name.is_empty() {
            let msg = format!("invalid interpolation `{}`: missing variable name after `${{`", self.snippet(start));
            return self.fail(msg, None);
        }
        let op = match (self.peek(self.i), self.peek(self.i + 1)) {
            (Some(b'}'), _) => {
                self.i += 1;
                return Ok(if eval { self.value_or_warn(name) } else { String::new() });
            }
            (None, _) => return self.unclosed(start),
            (Some(b':'), Some(c)) if matches!(c, b'-' | b'?' | b'+') => {
                self.i += 2;
                op_for(c, true)
            }
            (Some(c), _) if matches!(c, b'-' | b'?' | b'+') => {
                self.i += 1;
                op_for(c, false)
            }
            _ => {
                let msg = format!(
                    "invalid interpolation `{}`: expected `}}`, `:-`, `-`, `:?`, `?`, `:+` or `+` after `{name}`",
                    self.snippet(start)
                );
                return self.fail(msg, None);
            }
        };
        let value = if eval { (self.ctx.lookup)(name) } else { None };
        let missing = |colon: bool| value.as_deref().is_none_or(|v| colon && v.is_empty());
        // Only the branch that is used is evaluated, so an unused default warns about nothing.
        let use_arg = eval
            && match op {
                Op::Default { colon } | Op::Required { colon } => missing(colon),
                Op::Alt { colon } => !missing(colon),
            };
        if self.depth >= MAX_NESTING {
            let msg = format!("interpolation nested deeper than {MAX_NESTING} levels");
            return self.fail(msg, None);
        }
        self.depth += 1;
        let arg = self.text(use_arg, true)?;
        self.depth -= 1;
        if self.peek(self.i) != Some(b'}') {
            return self.unclosed(start);
        }
        self.i += 1;
        if !eval {
            return Ok(String::new());
        }
        match op {
            Op::Default { .. } if use_arg => Ok(arg),
            Op::Required { .. } if use_arg => {
                let msg = if arg.is_empty() {
                    format!("required variable `{name}` is missing a value")
                } else {
                    format!("required variable `{name}` is missing a value: {arg}")
                };
                self.fail(msg, None)
            }
            Op::Alt { .. } => Ok(if use_arg { arg } else { String::new() }),
            Op::Default { .. } | Op::Required { .. } => Ok(value.unwrap_or_default()),
        }
    }

    /// A variable name at the cursor (possibly empty); moves past it.
    fn name(&mut self) -> &'s str {
        let start = self.i;
        if self.peek(self.i).is_some_and(is_name_start) {
            while self.peek(self.i).is_some_and(|b| b == b'_' || b.is_ascii_alphanumeric()) {
                self.i += 1;
            }
        }
        // The slice borrows the source, not the scanner, so callers keep it while reporting.
        let s: &'s str = self.s;
        &s[start..self.i]
    }

    fn value_or_warn(&mut self, name: &str) -> String {
        if let Some(v) = (self.ctx.lookup)(name) {
            return v;
        }
        if self.ctx.warned.insert(name.to_string()) {
            let msg = format!("variable `{name}` is not set; substituting an empty string");
            self.ctx.diags.push(Diagnostic::warning(self.pos, self.path, msg));
        }
        String::new()
    }

    /// From `start` to the next `}` (inclusive) or the end: the expression as the user wrote it.
    fn snippet(&self, start: usize) -> &str {
        let end = self.s[start..].find('}').map_or(self.s.len(), |i| start + i + 1);
        &self.s[start..end]
    }

    fn unclosed<T>(&mut self, start: usize) -> Scan<T> {
        let msg = format!("invalid interpolation `{}`: missing closing `}}`", &self.s[start..]);
        self.fail(msg, None)
    }

    fn fail<T>(&mut self, msg: String, hint: Option<&str>) -> Scan<T> {
        let mut d = Diagnostic::error(self.pos, self.path, msg);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.ctx.diags.push(d);
        Err(())
    }
}

fn op_for(c: u8, colon: bool) -> Op {
    match c {
        b'-' => Op::Default { colon },
        b'?' => Op::Required { colon },
        _ => Op::Alt { colon },
    }
}

fn is_name_start(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("8080".into()),
            "B" => Some("bee".into()),
            _ => None,
        }
    }

    fn run(s: &str) -> (String, Diagnostics) {
        let mut d = Diagnostics::new();
        let pos = Pos::new("c.yaml".into(), 3, 7);
        let out = interpolate_str(s, &env, Some(&pos), "services.web.image", &mut d);
        (out, d)
    }

    fn ok(s: &str) -> String {
        let (out, d) = run(s);
        assert!(d.is_empty(), "{s}: unexpected diagnostics: {d}");
        out
    }

    fn err(s: &str) -> String {
        let (out, d) = run(s);
        assert_eq!(out, s, "a string with an error is left unchanged");
        assert_eq!(d.errors().count(), 1, "{s}: {d}");
        d.to_string()
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(ok("$SET"), "value");
        assert_eq!(ok("${SET}"), "value");
        assert_eq!(ok("a-$SET-b"), "a-value-b");
        assert_eq!(ok("${SET}x${PORT}"), "valuex8080");
        assert_eq!(ok("$SET.$PORT"), "value.8080");
        assert_eq!(ok("no dollars here"), "no dollars here");
        assert_eq!(ok("ünïcode ${SET} ✓"), "ünïcode value ✓");
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar() {
        assert_eq!(ok("$$"), "$");
        assert_eq!(ok("$$SET"), "$SET");
        assert_eq!(ok("echo $${HOME} $$$SET"), "echo ${HOME} $value");
    }

    #[test]
    fn default_operators() {
        assert_eq!(ok("${UNSET:-d}"), "d");
        assert_eq!(ok("${EMPTY:-d}"), "d");
        assert_eq!(ok("${SET:-d}"), "value");
        assert_eq!(ok("${UNSET-d}"), "d");
        assert_eq!(ok("${EMPTY-d}"), "");
        assert_eq!(ok("${SET-d}"), "value");
        assert_eq!(ok("${UNSET:-}"), "");
        assert_eq!(ok("${UNSET:-a b:c}"), "a b:c");
    }

    #[test]
    fn alternative_operators() {
        assert_eq!(ok("${SET:+alt}"), "alt");
        assert_eq!(ok("${EMPTY:+alt}"), "");
        assert_eq!(ok("${UNSET:+alt}"), "");
        assert_eq!(ok("${SET+alt}"), "alt");
        assert_eq!(ok("${EMPTY+alt}"), "alt");
        assert_eq!(ok("${UNSET+alt}"), "");
    }

    #[test]
    fn required_operators() {
        assert_eq!(ok("${SET:?boom}"), "value");
        assert_eq!(ok("${EMPTY?boom}"), "");
        assert_eq!(
            err("${UNSET:?set UNSET in .env}"),
            "c.yaml:3:7: services.web.image: required variable `UNSET` is missing a value: set UNSET in .env"
        );
        assert_eq!(err("${EMPTY:?}"), "c.yaml:3:7: services.web.image: required variable `EMPTY` is missing a value");
        assert_eq!(
            err("x${UNSET?no}"),
            "c.yaml:3:7: services.web.image: required variable `UNSET` is missing a value: no"
        );
    }

    #[test]
    fn nesting() {
        assert_eq!(ok("${UNSET:-${B}}"), "bee");
        assert_eq!(ok("${UNSET:-${ALSO_UNSET:-x}}"), "x");
        assert_eq!(ok("${UNSET:-pre-${B:-q}-post}"), "pre-bee-post");
        assert_eq!(ok("${SET:+${B}${PORT}}"), "bee8080");
        assert_eq!(ok("${UNSET:-{literal}}"), "{literal}");
        assert_eq!(ok("${UNSET:-$$}"), "$");
        // The error text itself is interpolated.
        assert!(err("${UNSET:?need ${B}}").ends_with("missing a value: need bee"));
    }

    #[test]
    fn unused_branches_do_not_warn() {
        assert_eq!(ok("${SET:-${NOPE}}"), "value");
        assert_eq!(ok("${UNSET:+${NOPE}}"), "");
        assert_eq!(ok("${SET:?${NOPE}}"), "value");
    }

    #[test]
    fn unset_variables_warn_once_with_position() {
        let (out, d) = run("${NOPE}-$NOPE-$ALSO");
        assert_eq!(out, "--");
        assert!(!d.has_errors());
        let w: Vec<String> = d.warnings().map(ToString::to_string).collect();
        assert_eq!(
            w,
            [
                "c.yaml:3:7: warning: services.web.image: variable `NOPE` is not set; substituting an empty string",
                "c.yaml:3:7: warning: services.web.image: variable `ALSO` is not set; substituting an empty string",
            ]
        );
    }

    #[test]
    fn a_dollar_without_name_brace_or_dollar_is_literal() {
        // compose-go template_test.go TestUnescaped.
        for s in ["a $ string", "^REGEX$", "$}", "$", "cost $5", "echo $(date)", "x$-y"] {
            assert_eq!(ok(s), s);
        }
        assert_eq!(ok("${UNSET:-a$}"), "a$");
    }

    #[test]
    fn malformed_expressions_are_errors() {
        assert_eq!(
            err("${"),
            "c.yaml:3:7: services.web.image: invalid interpolation `${`: missing variable name after `${`"
        );
        assert_eq!(err("${A"), "c.yaml:3:7: services.web.image: invalid interpolation `${A`: missing closing `}`");
        assert_eq!(
            err("x ${A:x} y"),
            "c.yaml:3:7: services.web.image: invalid interpolation `${A:x}`: expected `}`, `:-`, `-`, `:?`, `?`, `:+` or `+` after `A`"
        );
        assert_eq!(
            err("${}"),
            "c.yaml:3:7: services.web.image: invalid interpolation `${}`: missing variable name after `${`"
        );
        assert_eq!(
            err("${A:-unclosed"),
            "c.yaml:3:7: services.web.image: invalid interpolation `${A:-unclosed`: missing closing `}`"
        );
        assert_eq!(
            err("${A:-${B}"),
            "c.yaml:3:7: services.web.image: invalid interpolation `${A:-${B}`: missing closing `}`"
        );
        assert_eq!(err("${A B}"), "c.yaml:3:7: services.web.image: invalid interpolation `${A B}`: expected `}`, `:-`, `-`, `:?`, `?`, `:+` or `+` after `A`");
        // Syntax errors inside an unused branch are still errors.
        assert!(err("${SET:-${}}").contains("missing variable name"));
    }

    #[test]
    fn tree_values_lists_and_extensions_but_not_keys() {
        let src = "x-common: &c\n  tag: ${TAG:-1.0}\nservices:\n  $SET:\n    image: \"app:${TAG:-latest}\"\n    ports:\n      - \"${PORT}:80\"\n      - 9000\n    command: [sh, -c, 'echo $$HOME']\n    environment:\n      A: ${B}\n";
        let mut root = yaml::parse(src, "c.yaml").unwrap();
        let mut d = Diagnostics::new();
        interpolate(&mut root, &env, &mut d);
        assert!(d.is_empty(), "{d}");
        let json = root.to_json();
        assert_eq!(json["x-common"]["tag"], "1.0");
        let svc = &json["services"]["$SET"];
        assert_eq!(svc["image"], "app:latest");
        assert_eq!(svc["ports"][0], "8080:80");
        assert_eq!(svc["ports"][1], 9000, "non-strings are left alone");
        assert_eq!(svc["command"][2], "echo $HOME");
        assert_eq!(svc["environment"]["A"], "bee");
    }

    #[test]
    fn tree_errors_carry_position_and_path() {
        let src = "services:\n  web:\n    ports:\n      - \"80\"\n      - \"${P:?port needed}\"\n    image: $NOPE\n";
        let mut root = yaml::parse(src, "c.yaml").unwrap();
        let mut d = Diagnostics::new();
        interpolate(&mut root, &env, &mut d);
        let all: Vec<String> = d.items.iter().map(ToString::to_string).collect();
        assert_eq!(
            all,
            [
                "c.yaml:5:9: services.web.ports[1]: required variable `P` is missing a value: port needed",
                "c.yaml:6:12: warning: services.web.image: variable `NOPE` is not set; substituting an empty string",
            ]
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |n: usize| format!("{}x{}", "${NOPE:-".repeat(n), "}".repeat(n));
        assert_eq!(ok(&nested(MAX_NESTING)), "x");
        let e = err(&nested(MAX_NESTING + 1));
        assert!(e.contains("interpolation nested deeper than 64 levels"), "{e}");
        // Far deeper input is refused the same way, without exhausting the stack.
        assert!(err(&nested(200_000)).contains("nested deeper"));
    }

    #[test]
    fn huge_results_are_refused() {
        let big = "y".repeat(1 << 20);
        let lookup = |name: &str| (name == "BIG").then(|| big.clone());
        let mut d = Diagnostics::new();
        let s = "$BIG".repeat(17);
        let out = interpolate_str(&s, &lookup, None, "x", &mut d);
        assert_eq!(out, s, "left as written");
        assert!(d.to_string().contains("interpolation result is larger than 16 MiB"), "{d}");
        // Each string within the limit, but the file's total past it.
        let mut root =
            yaml::parse(&format!("l: [{}]\n", ["\"$BIG$BIG$BIG$BIG$BIG$BIG$BIG$BIG\""; 9].join(", ")), "f.yaml")
                .unwrap();
        let mut d = Diagnostics::new();
        interpolate(&mut root, &lookup, &mut d);
        assert_eq!(d.errors().count(), 1, "{d}");
        assert!(d.to_string().contains("interpolation produces more than 64 MiB in this file"), "{d}");
    }
}
