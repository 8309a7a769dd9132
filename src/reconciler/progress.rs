//! Progress lines as Compose prints them: ` ✔ Container demo-web-1  Started  0.3s` on a
//! terminal, plain `Container demo-web-1  Started  0.3s` lines otherwise (CI logs, pipes).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// What kind of object a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Network,
    Volume,
    Image,
    Service,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Container => "Container",
            Kind::Network => "Network",
            Kind::Volume => "Volume",
            Kind::Image => "Image",
            Kind::Service => "Service",
        }
    }
}

/// Prints progress lines; shared by the executor's threads.
pub struct Progress {
    tty: bool,
    quiet: bool,
    /// `--progress json`: one JSON object per line.
    json: bool,
    /// `--quiet-pull`: no lines about pulls going well (failures still show).
    quiet_pull: bool,
    /// `--quiet-build`: builds print nothing but their errors.
    quiet_build: bool,
    out: Mutex<()>,
}

impl Progress {
    /// Lines on stderr (stdout stays for logs and data), as `--progress` and `--ansi` say:
    /// by default styled when stderr is a terminal.
    pub fn new() -> Self {
        use crate::term::{colour, progress, ProgressMode};
        let on_tty = std::io::stderr().is_terminal();
        let mode = progress();
        let tty = match mode {
            ProgressMode::Auto => colour(on_tty),
            ProgressMode::Tty => colour(true),
            _ => false,
        };
        let (quiet, json) = (mode == ProgressMode::Quiet, mode == ProgressMode::Json);
        Progress { tty, quiet, json, quiet_pull: false, quiet_build: quiet, out: Mutex::new(()) }
    }

    /// `--quiet-pull`: this progress without the lines of pulls that go well.
    pub fn without_pull_lines(mut self) -> Self {
        self.quiet_pull = true;
        self
    }

    /// `--quiet-build`: this progress, and builds that print nothing but their errors.
    pub fn without_build_output(mut self) -> Self {
        self.quiet_build = true;
        self
    }

    /// Whether builds keep their output to themselves (`--quiet-build`, `--progress quiet`).
    pub fn quiet_build(&self) -> bool {
        self.quiet_build
    }

    /// `Image REF  Pulling` (not with `--quiet-pull`).
    pub fn pulling(&self, image: &str) {
        if !self.quiet_pull {
            self.note(&format!("Image {image}  Pulling"));
        }
    }

    /// A progress that prints nothing (the supervisor).
    pub fn quiet() -> Self {
        Progress { tty: false, quiet: true, json: false, quiet_pull: true, quiet_build: true, out: Mutex::new(()) }
    }

    /// `✔ Container NAME  WHAT  ELAPSED`.
    pub fn done(&self, kind: Kind, name: &str, what: &str, elapsed: Duration) {
        self.line(true, kind, name, what, Some(elapsed), None);
    }

    /// `✘ Container NAME  Error  REASON`.
    pub fn failed(&self, kind: Kind, name: &str, reason: &str) {
        self.line(false, kind, name, "Error", None, Some(reason));
    }

    /// A line about the project as a whole (`nothing to do…`, warnings about orphans).
    pub fn note(&self, text: &str) {
        if self.quiet {
            return;
        }
        let text = match self.json {
            true => serde_json::json!({ "level": "info", "text": text }).to_string(),
            false => text.to_string(),
        };
        let _g = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    fn line(&self, ok: bool, kind: Kind, name: &str, what: &str, elapsed: Option<Duration>, reason: Option<&str>) {
        if self.quiet || (self.quiet_pull && ok && kind == Kind::Image && what == "Pulled") {
            return;
        }
        let text = match self.json {
            true => render_json(ok, kind, name, what, elapsed, reason),
            false => render(self.tty, ok, kind, name, what, elapsed, reason),
        };
        let _g = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

fn render(
    tty: bool,
    ok: bool,
    kind: Kind,
    name: &str,
    what: &str,
    elapsed: Option<Duration>,
    reason: Option<&str>,
) -> String {
    let time = elapsed.map(|d| format!("  {:.1}s", d.as_secs_f64())).unwrap_or_default();
    let reason = reason.map(|r| format!("  {r}")).unwrap_or_default();
    let body = format!("{} {name}  {what}{time}{reason}", kind.as_str());
    match (tty, ok) {
        (false, _) => body,
        (true, true) => format!(" \x1b[32m✔\x1b[0m {body}"),
        (true, false) => format!(" \x1b[31m✘\x1b[0m {body}"),
    }
}

/// `--progress json`: `{"id":"Container demo-web-1","status":"Started","text":"Started","elapsed":0.3}`,
/// or with `"level":"error"` and the reason as text.
fn render_json(
    ok: bool,
    kind: Kind,
    name: &str,
    what: &str,
    elapsed: Option<Duration>,
    reason: Option<&str>,
) -> String {
    let mut v = serde_json::json!({
        "id": format!("{} {name}", kind.as_str()),
        "status": what,
        "text": reason.unwrap_or(what),
        "level": if ok { "info" } else { "error" },
    });
    if let Some(d) = elapsed {
        v["elapsed"] = serde_json::json!((d.as_secs_f64() * 10.0).round() / 10.0);
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_styled_lines() {
        let d = Duration::from_millis(320);
        assert_eq!(
            render(false, true, Kind::Container, "demo-web-1", "Started", Some(d), None),
            "Container demo-web-1  Started  0.3s"
        );
        let styled = render(true, false, Kind::Network, "demo_default", "Error", None, Some("boom"));
        assert!(styled.contains("✘") && styled.ends_with("Network demo_default  Error  boom"), "{styled}");
    }

    #[test]
    fn json_lines() {
        let line = render_json(true, Kind::Container, "demo-web-1", "Started", Some(Duration::from_millis(320)), None);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!((v["id"].as_str(), v["status"].as_str()), (Some("Container demo-web-1"), Some("Started")));
        assert_eq!(v["elapsed"], 0.3);
        let err: serde_json::Value =
            serde_json::from_str(&render_json(false, Kind::Network, "n", "Error", None, Some("boom"))).unwrap();
        assert_eq!((err["level"].as_str(), err["text"].as_str()), (Some("error"), Some("boom")));
    }
}
