//! `.env` files in the format Compose reads (compose-go's dotenv): `KEY=VAL` or YAML-style
//! `KEY: VAL` lines, optional `export ` prefix, `#` comments and blank lines, a leading UTF-8
//! BOM ignored, single quotes (literal but for `\'`, may span lines), double quotes (escapes
//! `\a \b \f \n \r \t \v \" \\ \$` and octal `\0NNN`, may span lines), unquoted values
//! with inline ` #` comments, and `${VAR}` interpolation in unquoted and double-quoted values
//! from the caller's lookup (the shell wins, as in compose-go), then the keys above in the
//! same file (and the values given as a base: earlier env files). A bare `KEY` takes the caller's
//! value when it is set and is skipped otherwise. Keys may start with a digit (compose-go's
//! parser keeps them; such a key is no variable name, but it is a container variable).

use std::sync::Arc;

use indexmap::IndexMap;

use super::diag::{Diagnostic, Diagnostics, Pos};
use super::interpolate::interpolate_str;

/// Largest env file read (`.env`, `--env-file`, a service's `env_file`). Real ones are a few
/// KiB; a process cannot even receive more than a couple of MiB of environment (ARG_MAX), so
/// 16 MiB only refuses mistakes (`env_file: /dev/zero`, a dump) and attacks.
pub const MAX_ENV_FILE: u64 = 16 << 20;

/// Largest total of an env file's values after interpolation: each line may use the ones
/// above, so `B=${A}${A}`, `C=${B}${B}`… doubles per line.
pub const MAX_ENV_VALUES: usize = 64 << 20;

/// Read an env file with the [`MAX_ENV_FILE`] limit (errors do not name the path: callers do).
pub fn read(path: &std::path::Path) -> std::io::Result<String> {
    crate::fsutil::read_string_limited(path, MAX_ENV_FILE, "env file")
}

/// Parse an env file. `file` names it in positions. All errors of the file are returned
/// together; an unset variable in a value becomes empty without a warning, as in Compose.
pub fn parse(
    text: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, String>, Diagnostics> {
    parse_over(text, file, lookup, IndexMap::new(), &mut Diagnostics::new())
}

/// [`parse`] over `base`, the values read before this file (compose-go reads several env files
/// into one map: a later file's `${VAR}` sees the earlier files' values, after the caller's).
/// Returns `base` with this file's values over it; warnings go to `warnings`.
pub fn parse_over(
    text: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    base: IndexMap<String, String>,
    warnings: &mut Diagnostics,
) -> Result<IndexMap<String, String>, Diagnostics> {
    // compose-go (godotenv.go parseWithLookup) drops a UTF-8 byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = EnvParser {
        text,
        file: Arc::from(file),
        at: 0,
        line_start: 0,
        line: 1,
        vars: base,
        diags: Diagnostics::new(),
        total: 0,
    };
    // Past the values limit the rest of the file is not read (it was reported).
    while p.at < text.len() && p.total <= MAX_ENV_VALUES {
        p.entry(lookup);
    }
    if p.diags.has_errors() {
        return Err(p.diags);
    }
    warnings.extend(p.diags);
    Ok(p.vars)
}

struct EnvParser<'t> {
    text: &'t str,
    file: Arc<str>,
    /// Byte offset where the current entry starts (a line's start, or just after a closing
    /// quote when more follows on its line).
    at: usize,
    /// Byte offset of the start of the current line (for columns).
    line_start: usize,
    /// 1-based number of the current line.
    line: usize,
    vars: IndexMap<String, String>,
    diags: Diagnostics,
    /// Bytes of all values so far (see [`MAX_ENV_VALUES`]).
    total: usize,
}

impl EnvParser<'_> {
    /// Parse one entry starting at the beginning of a line, and move to the next line.
    fn entry(&mut self, lookup: &dyn Fn(&str) -> Option<String>) {
        let line_end = self.line_end(self.at);
        let raw = &self.text[self.at..line_end];
        let body = raw.trim_start();
        if body.is_empty() || body.starts_with('#') {
            return self.next_line(line_end);
        }
        let body = strip_export(body);
        let offset = raw.len() - body.len();
        // `KEY: value` is read like `KEY=value` (compose-go parser.go locateKeyName).
        let Some(eq) = body.find(['=', ':']) else {
            let key = body.trim_end();
            if self.check_key(key, offset) {
                if let Some(v) = lookup(key) {
                    self.vars.insert(key.to_string(), v);
                }
            }
            return self.next_line(line_end);
        };
        let key = body[..eq].trim_end();
        if !self.check_key(key, offset) {
            return self.next_line(line_end);
        }
        let after_eq = &body[eq + 1..];
        let value_rel = offset + eq + 1 + (after_eq.len() - after_eq.trim_start_matches([' ', '\t']).len());
        let value_start = self.at + value_rel;
        match self.text.as_bytes().get(value_start) {
            Some(&q @ (b'\'' | b'"')) => self.quoted(key, value_start, q, lookup),
            _ => {
                let value = strip_inline_comment(&self.text[value_start..line_end]);
                let pos = self.pos(value_rel);
                let value = self.expand(key, value, &pos, lookup);
                self.set(key, value, &pos);
                self.next_line(line_end);
            }
        }
    }

    /// A quoted value starting at `start` (the quote); may span lines.
    fn quoted(&mut self, key: &str, start: usize, quote: u8, lookup: &dyn Fn(&str) -> Option<String>) {
        let pos = self.pos(start - self.at);
        let Some(close) = find_closing(self.text, start + 1, quote) else {
            self.diags.push(Diagnostic::error(
                Some(&pos),
                key,
                format!("unterminated {} value", if quote == b'"' { "double-quoted" } else { "single-quoted" }),
            ));
            self.at = self.text.len();
            return;
        };
        let inner = &self.text[start + 1..close];
        let value =
            if quote == b'\'' { unescape_single(inner) } else { self.expand(key, &unescape(inner), &pos, lookup) };
        self.set(key, value, &pos);
        // Lines spanned by the value, then what follows the closing quote on its line.
        self.line += self.text[self.at..close].matches('\n').count();
        self.at = self.text[..close].rfind('\n').map_or(0, |i| i + 1);
        self.line_start = self.at;
        let line_end = self.line_end(close);
        let trailing = self.text[close + 1..line_end].trim_start();
        if !trailing.is_empty() && !trailing.starts_with('#') {
            // compose-go's parser reads on from the closing quote: what follows is the next
            // variable (`A="x" B=y` sets both). Said, since it is rarely meant.
            let pos = self.pos(close + 1 - self.at);
            self.diags.push(
                Diagnostic::warning(
                    Some(&pos),
                    key,
                    format!("`{trailing}` after the closing quote is read as another variable"),
                )
                .with_hint("put each variable on a line of its own, or start a comment with ` #`"),
            );
            self.at = close + 1;
            return;
        }
        self.next_line(line_end);
    }

    /// Set a variable; past [`MAX_ENV_VALUES`] in all, report it (`parse` then stops).
    fn set(&mut self, key: &str, value: String, pos: &Pos) {
        self.total += value.len();
        if self.total > MAX_ENV_VALUES {
            let limit = crate::fsutil::human_size(MAX_ENV_VALUES as u64);
            self.diags.push(
                Diagnostic::error(Some(pos), key, format!("the values of this env file add up to more than {limit}"))
                    .with_hint("do values repeat the variables above them many times?"),
            );
            return;
        }
        self.vars.insert(key.to_string(), value);
    }

    fn expand(&mut self, key: &str, value: &str, pos: &Pos, lookup: &dyn Fn(&str) -> Option<String>) -> String {
        let vars = &self.vars;
        // The caller's values (the shell) win over the file's own keys (godotenv.go expandVariables).
        let scoped = |name: &str| lookup(name).or_else(|| vars.get(name).cloned());
        let mut d = Diagnostics::new();
        let out = interpolate_str(value, &scoped, Some(pos), key, &mut d);
        // Unset variables in an env file are quietly empty (compose-go does the same).
        self.diags.items.extend(d.items.into_iter().filter(Diagnostic::is_error));
        out
    }

    /// Keys are what compose-go accepts: letters, digits, `_`, `.`, `-`, `[` and `]`. An empty
    /// key (`=value`) is kept as compose-go keeps it, with a warning.
    fn check_key(&mut self, key: &str, offset: usize) -> bool {
        if key.is_empty() {
            let pos = self.pos(offset);
            self.diags.push(
                Diagnostic::warning(Some(&pos), "", "a variable without a name (`=value`)")
                    .with_hint("write NAME=value; no program can read this one"),
            );
            return true;
        }
        let valid = key.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'));
        if !valid {
            let pos = self.pos(offset);
            self.diags.push(
                Diagnostic::error(Some(&pos), "", format!("invalid variable name `{key}`"))
                    .with_hint("names hold letters, digits, `_`, `.`, `-`, `[` and `]`"),
            );
        }
        valid
    }

    /// The position `offset` bytes after the start of the current entry.
    fn pos(&self, offset: usize) -> Pos {
        let end = self.at + offset;
        let col = self.text.get(self.line_start..end).map_or(end - self.line_start, |s| s.chars().count()) + 1;
        Pos::new(self.file.clone(), self.line, col)
    }

    fn line_end(&self, from: usize) -> usize {
        let end = self.text[from..].find('\n').map_or(self.text.len(), |i| from + i);
        // Windows line endings: the `\r` is not part of the value.
        if end > from && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }

    fn next_line(&mut self, line_end: usize) {
        self.at = match self.text[line_end..].find('\n') {
            Some(i) => line_end + i + 1,
            None => self.text.len(),
        };
        self.line_start = self.at;
        self.line += 1;
    }
}

fn strip_export(body: &str) -> &str {
    match body.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => body,
    }
}

/// An unquoted value ends at ` #` (compose-go parser.go extractVarValue); surrounding blanks
/// are dropped.
fn strip_inline_comment(value: &str) -> &str {
    let value = value.trim_start();
    value.split(" #").next().unwrap_or(value).trim_end()
}

/// The index of the quote closing a value opened before `from`; a backslash escapes the next
/// character (in single quotes too, as in compose-go: `'Let\'s go!'`).
fn find_closing(text: &str, from: usize, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Single quotes: `\'` is a quote, any other backslash is kept as written.
fn unescape_single(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, false) => out.push(c),
            (_, true) => match chars.next() {
                Some('\'') => out.push('\''),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
        }
    }
    out
}

/// `\0NNN` (after the `\0`): exactly three octal digits up to 0o377 make one character, as
/// compose-go's expandEscapes does through strconv.UnquoteChar; anything else stays as written.
fn octal_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let mut digits = String::new();
    while digits.len() < 3 {
        match chars.peek() {
            Some(d) if d.is_ascii_digit() => {
                digits.push(*d);
                chars.next();
            }
            _ => break,
        }
    }
    match u8::from_str_radix(&digits, 8) {
        Ok(b) if digits.len() == 3 => out.push(char::from(b)),
        _ => {
            out.push_str("\\0");
            out.push_str(&digits);
        }
    }
}

/// Double-quote escapes. `\$` becomes `$$` so the interpolation that follows keeps a literal `$`;
/// an unknown escape is kept as written.
fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('0') => octal_escape(&mut chars, &mut out),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/me".into()),
            "FROM_HOST" => Some("host-value".into()),
            _ => None,
        }
    }

    fn ok(text: &str) -> IndexMap<String, String> {
        match parse(text, ".env", &host) {
            Ok(v) => v,
            Err(d) => panic!("unexpected errors: {d}"),
        }
    }

    fn err(text: &str) -> String {
        parse(text, ".env", &host).expect_err("should fail").to_string()
    }

    fn pairs(m: &IndexMap<String, String>) -> Vec<(&str, &str)> {
        m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn plain_pairs_comments_blank_lines_and_export() {
        let m = ok("# comment\n\nA=1\n  B = two words  \nexport C=3\nexport\tD=4\nexported=5\nE=\n");
        assert_eq!(pairs(&m), [("A", "1"), ("B", "two words"), ("C", "3"), ("D", "4"), ("exported", "5"), ("E", "")]);
    }

    #[test]
    fn inline_comments_only_after_whitespace() {
        // compose-go parser.go: only ` #` starts a comment in an unquoted value.
        let m = ok("A=value # a comment\nB=no#comment\nC=#not-a-comment\nD='x' # c\nE=\"y\"   # c\n");
        assert_eq!(pairs(&m), [("A", "value"), ("B", "no#comment"), ("C", "#not-a-comment"), ("D", "x"), ("E", "y")]);
    }

    #[test]
    fn single_quotes_are_literal() {
        let m = ok("A='$HOME ${X} \\n # not a comment'\nB='multi\nline'\n");
        assert_eq!(pairs(&m), [("A", "$HOME ${X} \\n # not a comment"), ("B", "multi\nline")]);
    }

    #[test]
    fn double_quotes_escape_and_interpolate() {
        let m = ok("A=\"tab\\there\\nnew \\\"q\\\" back\\\\ \\$HOME $HOME \\x\"\n");
        assert_eq!(m["A"], "tab\there\nnew \"q\" back\\ $HOME /home/me \\x");
    }

    #[test]
    fn multi_line_values_keep_line_numbers() {
        let text = "A=\"first\nsecond\"\nB='x\ny'\nC=3\nD=${NOPE:?needed}\n";
        let e = parse(text, "app.env", &host).unwrap_err().to_string();
        assert_eq!(e, "app.env:6:3: D: required variable `NOPE` is missing a value: needed");
        let m = ok("A=\"first\nsecond\"\nB=2\n");
        assert_eq!(pairs(&m), [("A", "first\nsecond"), ("B", "2")]);
    }

    #[test]
    fn references_to_earlier_keys_then_lookup() {
        let m = ok("HOST=db\nURL=postgres://${HOST}:5432/$HOME\nQ=\"${HOST:-x}-${FROM_HOST}\"\nR=${LATER:-none}\nLATER=1\nLIT='${HOST}'\nD=$$HOST\n");
        assert_eq!(m["URL"], "postgres://db:5432//home/me");
        assert_eq!(m["Q"], "db-host-value");
        assert_eq!(m["R"], "none");
        assert_eq!(m["LIT"], "${HOST}");
        assert_eq!(m["D"], "$HOST");
    }

    #[test]
    fn the_lookup_wins_over_earlier_keys_and_later_keys_override() {
        // compose-go godotenv_test.go TestSubstitutionsWithEnvFilePrecedence.
        let m = ok("HOME=/override\nA=$HOME\nB=$A\nA=again\n");
        assert_eq!(pairs(&m), [("HOME", "/override"), ("A", "again"), ("B", "/home/me")]);
    }

    #[test]
    fn compose_go_dotenv_rules() {
        // godotenv_test.go TestUTF8BOM, TestParsing (yaml style, escapes), fixtures/quoted.env.
        // A key may start with a digit (compose-go's parser keeps it).
        let m = ok("\u{feff}OPTION_A: 1\nOPTION_B: Foo=bar\nC=1:B\n1ABC=kept\nK='Let\\'s go!'\n");
        assert_eq!(
            pairs(&m),
            [("OPTION_A", "1"), ("OPTION_B", "Foo=bar"), ("C", "1:B"), ("1ABC", "kept"), ("K", "Let's go!")]
        );
        // After a closing quote, the next variable (TestParsing `FOO="bar#baz"#` and beyond).
        assert_eq!(pairs(&ok("A=\"x\" B=y\nC='z'#c\n")), [("A", "x"), ("B", "y"), ("C", "z")]);
        assert_eq!(pairs(&ok("=value\n")), [("", "value")]);
        assert_eq!(ok(r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#)["KEY"], "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ");
        assert_eq!(ok(r#"KEY="\x07 \0 \01""#)["KEY"], r"\x07 \0 \01");
        assert_eq!(ok("PASS=ab$\n")["PASS"], "ab$");
    }

    #[test]
    fn bare_keys_come_from_the_lookup() {
        let m = ok("FROM_HOST\nNOT_SET\nexport HOME\n");
        assert_eq!(pairs(&m), [("FROM_HOST", "host-value"), ("HOME", "/home/me")]);
    }

    #[test]
    fn unset_variables_are_quietly_empty() {
        assert_eq!(ok("A=x${NOPE}y\n")["A"], "xy");
    }

    #[test]
    fn windows_line_endings() {
        let m = ok("A=1\r\nB='2'\r\nC=\"3\"\r\n");
        assert_eq!(pairs(&m), [("A", "1"), ("B", "2"), ("C", "3")]);
    }

    #[test]
    fn errors_carry_file_line_and_column_and_are_all_reported() {
        let e = err("GOOD=1\nBAD KEY=2\n=3\nQ=\"open\nA=${\n");
        // The unterminated quote swallows the rest of the file, as a shell would.
        assert_eq!(
            e,
            ".env:2:1: invalid variable name `BAD KEY` (names hold letters, digits, `_`, `.`, `-`, `[` and `]`)\n\
             .env:3:1: warning: a variable without a name (`=value`) (write NAME=value; no program can read this one)\n\
             .env:4:3: Q: unterminated double-quoted value"
        );
        assert_eq!(
            err("  A=${B:x}\n"),
            ".env:1:5: A: invalid interpolation `${B:x}`: expected `}`, `:-`, `-`, `:?`, `?`, `:+` or `+` after `B`"
        );
        assert_eq!(
            err("A='x' y z\n"),
            ".env:1:6: warning: A: `y z` after the closing quote is read as another variable (put each variable on a line of its own, or start a comment with ` #`)\n\
             .env:1:7: invalid variable name `y z` (names hold letters, digits, `_`, `.`, `-`, `[` and `]`)"
        );
    }

    #[test]
    fn doubling_values_are_refused() {
        let mut text = String::from("A0=xxxxxxxxxxxxxxxx\n");
        for i in 1..40 {
            text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        let err = parse(&text, "big.env", &host).unwrap_err().to_string();
        assert!(err.starts_with("big.env:"), "{err}");
        assert!(err.contains("larger than 16 MiB") || err.contains("add up to more than 64 MiB"), "{err}");
    }

    #[test]
    fn oversized_env_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        // Sparse: the size check needs no data.
        std::fs::File::create(&path).unwrap().set_len(MAX_ENV_FILE + 1).unwrap();
        let err = read(&path).unwrap_err();
        assert_eq!(err.to_string(), "larger than 16 MiB (env files are limited to that size)");
    }
}
