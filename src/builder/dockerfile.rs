//! The Dockerfile's lines: parser directives (`# escape=`, `# syntax=` ignored), comments,
//! line continuations (the escape character at the end of a line; comment and empty lines
//! inside a continuation are skipped, as Docker does), then each logical line split into its
//! instruction keyword, leading `--flag[=value]`s and arguments; RUN/COPY/ADD here-documents
//! (`<<EOF` … `EOF`) take the lines that follow, verbatim.

use super::error::{BuildError, Loc, Result};
use crate::fsutil::human_size;

/// Largest Dockerfile accepted (from a file, stdin or `dockerfile_inline`). Real ones are a
/// few KiB, with here-documents maybe a few hundred; 16 MiB refuses only mistakes and attacks
/// (each line is copied into the build history and cache keys).
pub const MAX_DOCKERFILE: u64 = 16 << 20;

/// Longest logical line (continuations joined). A RUN of a few hundred continued lines is a
/// few tens of KiB; without a bound, one endless continuation would be copied whole into
/// every later stage (word splitting, variable expansion, the cache key).
pub const MAX_LOGICAL_LINE: usize = 1 << 20;

/// Read a Dockerfile from disk within [`MAX_DOCKERFILE`].
pub fn read(path: &std::path::Path) -> std::io::Result<String> {
    crate::fsutil::read_string_limited(path, MAX_DOCKERFILE, "Dockerfile")
}

/// One logical line of the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// 1-based number of its first physical line.
    pub line: usize,
    /// Upper-case instruction keyword (`RUN`).
    pub keyword: String,
    /// Leading `--name=value` flags (value None for a bare `--name`).
    pub flags: Vec<(String, Option<String>)>,
    /// The arguments after keyword and flags, trimmed.
    pub args: String,
    /// The whole logical line, continuations joined, heredoc bodies included (for history
    /// and the build cache).
    pub text: String,
    /// Here-documents (`<<EOF` … `EOF`) of RUN/COPY/ADD, in order.
    pub heredocs: Vec<Heredoc>,
}

/// One here-document: the lines after the instruction up to its delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// The lines between, each ending in `\n`, exactly as written.
    pub body: String,
}

/// A Dockerfile lexed into logical lines.
#[derive(Debug, Clone)]
pub struct Lexed {
    pub escape: char,
    pub lines: Vec<RawLine>,
}

/// Lex `text`; `file` names the Dockerfile in errors.
pub fn lex(text: &str, file: &str) -> Result<Lexed> {
    if text.len() as u64 > MAX_DOCKERFILE {
        let limit = human_size(MAX_DOCKERFILE);
        return Err(BuildError::Invalid(format!("{file}: larger than {limit} (Dockerfiles are limited to that size)")));
    }
    let physical: Vec<&str> = text.lines().collect();
    let (escape, start) = directives(&physical, file)?;
    let mut lines = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    let mut i = start;
    while i < physical.len() {
        let raw = physical[i];
        i += 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let t = raw.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue; // comments and blank lines, also inside a continuation
        }
        let body = raw.trim_end();
        let (first, acc) = cur.get_or_insert_with(|| (i, String::new()));
        if let Some(head) = body.strip_suffix(escape) {
            acc.push_str(head);
        } else {
            acc.push_str(body);
        }
        if acc.len() > MAX_LOGICAL_LINE {
            let msg =
                format!("instruction longer than {} (line continuations joined)", human_size(MAX_LOGICAL_LINE as u64));
            return Err(Loc::new(file, *first).err(msg));
        }
        if body.ends_with(escape) {
            continue;
        }
        let (line, acc) = (*first, std::mem::take(acc));
        cur = None;
        let mut l = split(line, &acc, file)?;
        if ["RUN", "COPY", "ADD"].contains(&l.keyword.as_str()) {
            i = heredocs(&mut l, &physical, i, file)?;
        }
        lines.push(l);
    }
    if let Some((line, acc)) = cur.filter(|(_, a)| !a.trim().is_empty()) {
        lines.push(split(line, &acc, file)?);
    }
    Ok(Lexed { escape, lines })
}

/// Parser directives at the very top (`# name=value`); returns the escape character and the
/// index of the first line after them.
fn directives(lines: &[&str], file: &str) -> Result<(char, usize)> {
    let mut escape = '\\';
    for (i, l) in lines.iter().enumerate() {
        let Some(d) = l.trim().strip_prefix('#') else { return Ok((escape, i)) };
        let Some((name, value)) = d.split_once('=') else { return Ok((escape, i)) };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok((escape, i));
        }
        if name == "escape" {
            escape = match value.trim() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(Loc::new(file, i + 1).err(format!("invalid escape directive `{other}`: use \\ or `")))
                }
            };
        }
    }
    Ok((escape, lines.len()))
}

/// The delimiters of the here-documents `args` opens: `<<EOF`, `<<-EOF`, `<<"EOF"`,
/// `<<'EOF'` (not the here-string `<<<`).
pub fn heredoc_names(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        let after = &rest[at + 2..];
        rest = after;
        if after.starts_with('<') {
            rest = after.trim_start_matches('<');
            continue;
        }
        let w = after.strip_prefix('-').unwrap_or(after);
        let end = w.find(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|').unwrap_or(w.len());
        let name = w[..end].trim_matches(['"', '\'']);
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
    }
    out
}

/// Read the bodies of `l`'s here-documents from `physical[i..]`; returns the index after them.
fn heredocs(l: &mut RawLine, physical: &[&str], mut i: usize, file: &str) -> Result<usize> {
    for name in heredoc_names(&l.args) {
        let mut body = String::new();
        loop {
            let Some(raw) = physical.get(i) else {
                return Err(Loc::new(file, l.line).err(format!("{}: unterminated heredoc `{name}`", l.keyword)));
            };
            i += 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            // `<<-` strips leading tabs, so its delimiter may be indented with tabs too.
            if raw.trim_start_matches('\t') == name {
                break;
            }
            body.push_str(raw);
            body.push('\n');
        }
        l.text.push('\n');
        l.text.push_str(&body);
        l.text.push_str(&name);
        l.heredocs.push(Heredoc { name, body });
    }
    Ok(i)
}

/// `KEYWORD --a=1 --b args…` → its parts.
fn split(line: usize, text: &str, file: &str) -> Result<RawLine> {
    let t = text.trim();
    let (keyword, mut rest) = match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim_start()),
        None => (t, ""),
    };
    if !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Loc::new(file, line).err(format!("unknown instruction `{keyword}`")));
    }
    let mut flags = Vec::new();
    while let Some(f) = rest.strip_prefix("--") {
        let end = f.find(char::is_whitespace).unwrap_or(f.len());
        let flag = &f[..end];
        if flag.is_empty() {
            break;
        }
        match flag.split_once('=') {
            Some((n, v)) => flags.push((n.to_ascii_lowercase(), Some(v.to_string()))),
            None => flags.push((flag.to_ascii_lowercase(), None)),
        }
        rest = f[end..].trim_start();
    }
    Ok(RawLine {
        line,
        keyword: keyword.to_ascii_uppercase(),
        flags,
        args: rest.to_string(),
        text: t.to_string(),
        heredocs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_flags() {
        let l = lex(
            "# syntax=docker/dockerfile:1\n\n# a comment\nFROM busybox AS b\nRUN echo a \\\n  # inside\n\n  && echo b\ncopy --from=b --chown=1:1 /x /y\n",
            "Dockerfile",
        )
        .unwrap();
        assert_eq!(l.escape, '\\');
        let k: Vec<_> = l.lines.iter().map(|r| (r.line, r.keyword.as_str())).collect();
        assert_eq!(k, [(4, "FROM"), (5, "RUN"), (9, "COPY")]);
        assert_eq!(l.lines[1].args, "echo a   && echo b");
        assert_eq!(l.lines[2].flags, [("from".into(), Some("b".into())), ("chown".into(), Some("1:1".into()))]);
        assert_eq!(l.lines[2].args, "/x /y");
    }

    #[test]
    fn escape_directive() {
        let l = lex("# escape=`\nFROM x\nRUN a `\n b\\\n", "D").unwrap();
        assert_eq!(l.escape, '`');
        assert_eq!(l.lines[1].args, "a  b\\");
        let e = lex("# escape=x\nFROM a\n", "D").unwrap_err().to_string();
        assert_eq!(e, "D:1: invalid escape directive `x`: use \\ or `");
    }

    #[test]
    fn heredocs_take_their_lines() {
        let l = lex(
            "FROM x\nRUN <<EOF\n# not a comment\n\necho a\nEOF\nRUN cat <<-\"A\" > f && cat <<B\n\tx\n\tA\ny\nB\nENV z=1\n",
            "D",
        )
        .unwrap();
        let k: Vec<_> = l.lines.iter().map(|r| (r.line, r.keyword.as_str())).collect();
        assert_eq!(k, [(1, "FROM"), (2, "RUN"), (7, "RUN"), (12, "ENV")]);
        assert_eq!(l.lines[1].heredocs, [Heredoc { name: "EOF".into(), body: "# not a comment\n\necho a\n".into() }]);
        let names: Vec<&str> = l.lines[2].heredocs.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(l.lines[2].heredocs[1].body, "y\n");
        assert!(l.lines[1].text.ends_with("echo a\nEOF"), "the cache key sees the body");
        assert_eq!(heredoc_names("cat <<<word; x <<'Q'"), ["Q"]);
        let e = lex("FROM x\nRUN <<EOF\necho\n", "D").unwrap_err().to_string();
        assert_eq!(e, "D:2: RUN: unterminated heredoc `EOF`");
    }

    #[test]
    fn bad_keyword_names_the_line() {
        let e = lex("FROM a\n\nRU-N x\n", "Dockerfile").unwrap_err().to_string();
        assert_eq!(e, "Dockerfile:3: unknown instruction `RU-N`");
    }

    #[test]
    fn oversized_dockerfile_is_refused_naming_it() {
        let big = format!("FROM x\nRUN echo {}\n", "a".repeat(MAX_DOCKERFILE as usize));
        let e = lex(&big, "Dockerfile.big").unwrap_err().to_string();
        assert_eq!(e, "Dockerfile.big: larger than 16 MiB (Dockerfiles are limited to that size)");
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("Dockerfile");
        std::fs::File::create(&path).unwrap().set_len(MAX_DOCKERFILE + 1).unwrap();
        assert_eq!(read(&path).unwrap_err().kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn endless_continuations_are_refused_at_their_first_line() {
        let mut text = String::from("FROM x\nRUN true \\\n");
        for _ in 0..40_000 {
            text.push_str("  && echo some words to make this line long enough \\\n");
        }
        text.push_str("  && true\n");
        let e = lex(&text, "Dockerfile").unwrap_err().to_string();
        assert_eq!(e, "Dockerfile:2: instruction longer than 1 MiB (line continuations joined)");
        // Long, but within the limit, is fine.
        assert_eq!(lex("FROM x\nRUN a \\\n b \\\n c\n", "D").unwrap().lines[1].args, "a  b  c");
    }
}
