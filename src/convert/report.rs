//! The loss report: every key of the stack that the manifests do not carry (a loss), and
//! what the reader must know about what they do carry (a note). Never silent.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something the stack says that the manifests do not do: `--strict` refuses these.
    Loss,
    /// Carried over, but differently, or with a consequence worth knowing.
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Where in the stack: `services.web.ulimits`, `volumes.data`, `secrets.token`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Loss => "loss",
            Severity::Note => "note",
        };
        write!(f, "{sev}: {}: {}", self.at, self.message)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn loss(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Loss, at.into(), message.into());
    }

    pub fn note(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Note, at.into(), message.into());
    }

    fn push(&mut self, severity: Severity, at: String, message: String) {
        let f = Finding { severity, at, message };
        if !self.findings.contains(&f) {
            self.findings.push(f);
        }
    }

    pub fn losses(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Loss)
    }

    /// The report as text: losses first, then notes, each in the order they were found
    /// (the stack's order), one per line.
    pub fn render(&self) -> String {
        let mut sorted: Vec<&Finding> = self.findings.iter().collect();
        sorted.sort_by_key(|f| f.severity);
        let mut out = String::new();
        for f in sorted {
            out.push_str(&f.to_string());
            out.push('\n');
        }
        if out.is_empty() {
            out.push_str("nothing lost: every key of the stack is carried by the manifests\n");
        }
        out
    }
}
