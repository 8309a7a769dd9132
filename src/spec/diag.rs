//! Diagnostics: every problem found in a stack file, with where it is (file:line:col), the key
//! path (`services.web.ports[1]`), what was expected and, when we can guess it, a did-you-mean.
//! Loading collects all of them so a user sees every error of a file in one run.

use std::fmt;
use std::sync::Arc;

/// A position in a source file; line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub file: Arc<str>,
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn new(file: Arc<str>, line: usize, col: usize) -> Self {
        Pos { file, line, col }
    }

    /// A position for values that did not come from a file (defaults, command-line flags).
    pub fn synthetic(what: &str) -> Self {
        Pos { file: Arc::from(what), line: 0, col: 0 }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem (or warning) in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub pos: Option<Pos>,
    /// Key path such as `services.web.ports[1]`; empty for the document root.
    pub path: String,
    pub message: String,
    /// "did you mean `healthcheck`?" or another hint on what to do.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(pos: Option<&Pos>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            pos: pos.cloned(),
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(pos: Option<&Pos>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(pos, path, message) }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pos) = &self.pos {
            write!(f, "{pos}: ")?;
        }
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// A collection of diagnostics, kept in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn error(&mut self, pos: Option<&Pos>, path: impl Into<String>, msg: impl Into<String>) {
        self.push(Diagnostic::error(pos, path, msg));
    }

    pub fn warning(&mut self, pos: Option<&Pos>, path: impl Into<String>, msg: impl Into<String>) {
        self.push(Diagnostic::warning(pos, path, msg));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sort errors by file and position (stable), so output reads top to bottom.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| a.pos.cmp(&b.pos));
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `word` among `candidates`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for cand in candidates {
        let score = strsim::jaro_winkler(word, cand);
        let close = score >= 0.85 || strsim::damerau_levenshtein(word, cand) <= 2.min(cand.len() / 3);
        if close && best.is_none_or(|(_, s)| score > s) {
            best = Some((cand, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys() {
        let keys = ["healthcheck", "hostname", "image", "ports"];
        assert_eq!(did_you_mean("heathcheck", keys), Some("healthcheck"));
        assert_eq!(did_you_mean("prots", keys), Some("ports"));
        assert_eq!(did_you_mean("zzzz", keys), None);
    }

    #[test]
    fn renders_position_path_message_and_hint() {
        let d =
            Diagnostic::error(Some(&Pos::new("compose.yaml".into(), 3, 5)), "services.web", "unknown key `heathcheck`")
                .with_hint("did you mean `healthcheck`?");
        assert_eq!(
            d.to_string(),
            "compose.yaml:3:5: services.web: unknown key `heathcheck` (did you mean `healthcheck`?)"
        );
    }
}
