//! `logs`: read the runtime's per-container JSON-lines logs (`runtime::logs`: one record a
//! line, rotated to `container.log.1`), keep `--since`/`--tail`, merge the containers' records
//! by timestamp, and follow them while they are written (across rotation).
//!
//! The runtime writes each record with a single `write(2)`, so a reader sees whole lines
//! only, except the last one which may still be arriving: a partial line is kept until its
//! newline comes.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::human;
use crate::runtime::attach::LogFollower;
use crate::runtime::logs::{rotated, LogLine};

/// One log record of one source, with its time parsed for merging.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Index of the source (container) in the [`Tailer`]'s list.
    pub source: usize,
    /// Nanoseconds since the epoch (0 when the time is unparsable: sorts first).
    pub nanos: i128,
    pub line: LogLine,
}

fn parse(source: usize, bytes: &[u8]) -> Option<Entry> {
    serde_json::from_slice(bytes).ok().map(|line| entry(source, line))
}

fn entry(source: usize, line: LogLine) -> Entry {
    let nanos = human::parse_rfc3339(&line.time).unwrap_or(0);
    Entry { source, nanos, line }
}

/// Every record of a file (rotated part first), for the initial read.
fn read_file(idx: usize, path: &Path, out: &mut Vec<Entry>) {
    if let Ok(text) = std::fs::read(path) {
        out.extend(text.split(|&b| b == b'\n').filter_map(|l| parse(idx, l)));
    }
}

/// Reads and follows the logs of several containers.
pub struct Tailer {
    paths: Vec<PathBuf>,
    sources: Vec<LogFollower>,
}

impl Tailer {
    /// One source per log path (`Runtime::log_path`), in the order of their prefixes.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        let sources = paths.iter().map(|p| LogFollower::new(p)).collect();
        Tailer { paths, sources }
    }

    /// Everything written so far: per container the records at or after `since`, the last
    /// `tail` of them, merged by time. Later [`Tailer::poll`]s return only what is new.
    pub fn initial(&mut self, tail: Option<usize>, since: Option<i128>) -> Vec<Entry> {
        let mut all = Vec::new();
        for (idx, s) in self.sources.iter_mut().enumerate() {
            // Open the live file before reading the rotated one, so a rotation in between
            // cannot make us skip the records that move.
            let path = &self.paths[idx];
            *s = LogFollower::open(path);
            let mut mine = Vec::new();
            read_file(idx, &rotated(path), &mut mine);
            s.poll_records(&mut |line| mine.push(entry(idx, line)));
            keep(&mut mine, tail, since);
            all.extend(mine);
        }
        merge(&mut all);
        all
    }

    /// The records written since the last call, merged by time.
    pub fn poll(&mut self) -> Vec<Entry> {
        let mut all = Vec::new();
        for (idx, s) in self.sources.iter_mut().enumerate() {
            s.poll_records(&mut |line| all.push(entry(idx, line)));
        }
        merge(&mut all);
        all
    }
}

fn keep(entries: &mut Vec<Entry>, tail: Option<usize>, since: Option<i128>) {
    if let Some(t) = since {
        entries.retain(|e| e.nanos >= t);
    }
    if let Some(n) = tail {
        let drop = entries.len().saturating_sub(n);
        entries.drain(..drop);
    }
}

/// Stable sort by time: records of one container with equal times keep their order.
fn merge(entries: &mut [Entry]) {
    entries.sort_by_key(|e| e.nanos);
}

/// ANSI colours for the prefixes, in the order docker compose hands them out.
const COLOURS: &[u8] = &[36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/// Prints records as `web-1  | line`, the prefixes padded to the widest and coloured.
pub struct Printer {
    prefixes: Vec<String>,
    width: usize,
    pub colour: bool,
    pub timestamps: bool,
    pub prefix: bool,
}

impl Printer {
    pub fn new(prefixes: Vec<String>, colour: bool, timestamps: bool) -> Self {
        let width = prefixes.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        Printer { prefixes, width, colour, timestamps, prefix: true }
    }

    /// Leave out the `service-n |` prefix (`--no-log-prefix`).
    pub fn without_prefix(mut self, without: bool) -> Self {
        self.prefix = !without;
        self
    }

    /// The text of one record, ending in a newline.
    pub fn render(&self, e: &Entry) -> String {
        let name = self.prefixes.get(e.source).map(String::as_str).unwrap_or("?");
        let pad = format!("{name:<w$} |", w = self.width);
        let prefix = if self.colour { format!("\x1b[{}m{pad}\x1b[0m", COLOURS[e.source % COLOURS.len()]) } else { pad };
        let ts = if self.timestamps { format!("{} ", e.line.time) } else { String::new() };
        let text = e.line.log.strip_suffix('\n').unwrap_or(&e.line.log);
        if !self.prefix {
            return format!("{ts}{text}\n");
        }
        format!("{prefix} {ts}{text}\n")
    }

    /// Write every record; an error (a closed pipe) stops the caller.
    pub fn write(&self, out: &mut dyn Write, entries: &[Entry]) -> std::io::Result<()> {
        for e in entries {
            out.write_all(self.render(e).as_bytes())?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::logs::LogWriter;

    #[test]
    fn merges_by_time_keeps_tail_and_follows_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
        let mut wa = LogWriter::open(&a, 1024).unwrap();
        let mut wb = LogWriter::open(&b, 1024).unwrap();
        wa.feed(0, b"a1\n").unwrap();
        wb.feed(0, b"b1\n").unwrap();
        wa.feed(1, b"a2\n").unwrap();
        let mut t = Tailer::new(vec![a.clone(), b.clone()]);
        let got: Vec<String> = t.initial(None, None).into_iter().map(|e| e.line.log).collect();
        assert_eq!(got, ["a1\n", "b1\n", "a2\n"]);
        let mut t2 = Tailer::new(vec![a.clone(), b.clone()]);
        let tail: Vec<String> = t2.initial(Some(1), None).into_iter().map(|e| e.line.log).collect();
        assert_eq!(tail, ["b1\n", "a2\n"]);
        // Enough to rotate a's log: every new line is seen exactly once.
        for i in 0..60 {
            wa.feed(0, format!("line {i}\n").as_bytes()).unwrap();
            if i % 7 == 0 {
                assert!(t.poll().iter().all(|e| e.source == 0));
            }
        }
        assert!(rotated(&a).exists());
        let mut t3 = Tailer::new(vec![a]);
        let total = t3.initial(None, None).len();
        assert!(total < 63, "rotation dropped the oldest records");
    }

    #[test]
    fn follow_sees_every_line_once_across_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let mut w = LogWriter::open(&a, 1024).unwrap();
        let mut t = Tailer::new(vec![a.clone()]);
        assert!(t.initial(None, None).is_empty());
        let mut seen = Vec::new();
        for i in 0..100 {
            w.feed(0, format!("line {i}\n").as_bytes()).unwrap();
            if i % 5 == 4 {
                seen.extend(t.poll().into_iter().map(|e| e.line.log));
            }
        }
        let want: Vec<String> = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn printer_pads_and_colours() {
        let e = |source, log: &str| Entry {
            source,
            nanos: 0,
            line: LogLine { log: log.into(), stream: "stdout".into(), time: "T".into() },
        };
        let p = Printer::new(vec!["web-1".into(), "db-10".into()], false, false);
        assert_eq!(p.render(&e(0, "hi\n")), "web-1 | hi\n");
        let p = Printer::new(vec!["web-1".into(), "db-10".into()], true, true);
        assert_eq!(p.render(&e(1, "x")), "\x1b[33mdb-10 |\x1b[0m T x\n");
    }
}
