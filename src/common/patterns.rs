//! `.dockerignore`-style patterns and the glob matching that COPY sources and watch rules use
//! (Go's filepath.Match per path segment — `*`, `?`, `[a-z]`, `[^a]`, `\x` — plus `**` for any
//! number of segments). As in Docker, the last matching pattern wins, `!pattern` re-includes,
//! and a pattern that matches a directory excludes everything below it. The builder reads
//! `.dockerignore` files into an [`Ignore`] (src/builder/ignore.rs); watch mode matches its
//! `path`/`ignore` rules with the same code.
//!
//! Not the `globset` crate: its syntax is not Go's (`[!a]` rather than `[^a]` for negation,
//! `*` configurable to cross `/`, no "a directory pattern covers what is below it" rule), so
//! Docker's semantics would need a translation layer as long as this matcher.

#[derive(Debug, Clone)]
struct Pattern {
    negate: bool,
    parts: Vec<String>,
}

/// The patterns of a build context's `.dockerignore` (none when it has no such file).
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (negate, p) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, l),
                };
                Pattern { negate, parts: segments(p).into_iter().map(str::to_string).collect() }
            })
            .filter(|p| !p.parts.is_empty())
            .collect();
        Ignore { patterns }
    }

    /// Whether the context-relative path `rel` (`/`-separated) is excluded.
    pub fn excluded(&self, rel: &str) -> bool {
        let path = segments(rel);
        let mut out = false;
        for p in &self.patterns {
            // The path itself, or one of its parent directories, matches.
            let hit = (1..=path.len()).any(|n| path_match(&p.parts, &path[..n]));
            if hit {
                out = !p.negate;
            }
        }
        out
    }
}

impl Ignore {
    /// Whether some `!pattern` could re-include a path below directory `rel` (then an
    /// excluded directory must still be walked).
    pub fn may_include_below(&self, rel: &str) -> bool {
        let path = segments(rel);
        self.patterns.iter().any(|p| p.negate && could_match_below(&p.parts, &path))
    }
}

/// Whether `pat` could match some path strictly below `dir`.
fn could_match_below(pat: &[String], dir: &[&str]) -> bool {
    match (pat.split_first(), dir.split_first()) {
        (None, _) => false,
        (Some((first, _)), _) if first == "**" => true,
        (Some(_), None) => true,
        (Some((first, prest)), Some((seg, rest))) => glob_match(first, seg) && could_match_below(prest, rest),
    }
}

/// Path segments, with empty and `.` ones dropped (a leading `/` means the context root).
pub fn segments(p: &str) -> Vec<&str> {
    p.split('/').filter(|s| !s.is_empty() && *s != ".").collect()
}

/// Match pattern segments against path segments; `**` matches zero or more segments.
pub fn path_match(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|i| path_match(rest, &path[i..])),
        Some((first, rest)) => match path.split_first() {
            Some((seg, more)) => glob_match(first, seg) && path_match(rest, more),
            None => false,
        },
    }
}

/// Go's filepath.Match for one segment.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let Some((&c, prest)) = p.split_first() else { return n.is_empty() };
    match c {
        '*' => (0..=n.len()).any(|i| match_from(prest, &n[i..])),
        '?' => !n.is_empty() && match_from(prest, &n[1..]),
        '[' => match (n.first(), class(prest)) {
            (Some(&ch), Some((set, after))) => set(ch) && match_from(after, &n[1..]),
            _ => false,
        },
        '\\' if !prest.is_empty() => n.first() == Some(&prest[0]) && match_from(&prest[1..], &n[1..]),
        c => n.first() == Some(&c) && match_from(prest, &n[1..]),
    }
}

type ClassFn = Box<dyn Fn(char) -> bool>;

/// A `[...]` class after its `[`: the predicate and what follows the `]`.
fn class(p: &[char]) -> Option<(ClassFn, &[char])> {
    let (negate, mut i) = match p.first() {
        Some('^') | Some('!') => (true, 1),
        _ => (false, 0),
    };
    let mut ranges = Vec::new();
    let start = i;
    while i < p.len() && (p[i] != ']' || i == start) {
        let lo = if p[i] == '\\' && i + 1 < p.len() {
            i += 1;
            p[i]
        } else {
            p[i]
        };
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            ranges.push((lo, p[i + 2]));
            i += 3;
        } else {
            ranges.push((lo, lo));
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    let f = move |ch: char| ranges.iter().any(|(a, b)| *a <= ch && ch <= *b) != negate;
    Some((Box::new(f), &p[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "a.txt.bak"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[^a-c]x", "bx"));
        assert!(glob_match(r"\*", "*"));
        let pat = |s: &str| segments(s).into_iter().map(str::to_string).collect::<Vec<_>>();
        assert!(path_match(&pat("**/*.go"), &["a", "b", "c.go"]));
        assert!(path_match(&pat("**/*.go"), &["c.go"]));
        assert!(!path_match(&pat("src/*.go"), &["src", "x", "c.go"]));
    }

    #[test]
    fn dockerignore_rules() {
        let ig = Ignore::parse("# comment\nsecret.txt\n/build\n*.log\n!keep.log\nnode_modules/**\n");
        assert!(ig.excluded("secret.txt"));
        assert!(!ig.excluded("sub/secret.txt"));
        assert!(ig.excluded("build/out/x.o"), "a directory pattern excludes its contents");
        assert!(ig.excluded("x.log"));
        assert!(!ig.excluded("keep.log"));
        assert!(ig.excluded("node_modules/a/b"));
        assert!(!ig.excluded("main.rs"));
    }
}
