//! The per-container log: one JSON object per line, as Docker's json-file driver
//! (`{"log":"hello\n","stream":"stdout","time":"2026-01-01T00:00:00.000000000Z"}`), appended by
//! the monitor, rotated to `container.log.1` at a size limit, and readable while it is written
//! (whole records only: the records of one read are written with one `write`, and readers
//! keep a trailing partial line until its end arrives). How fast records may be made is
//! bounded by the monitor (see `lograte`).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A partial line longer than this is written out without waiting for its newline.
const MAX_PENDING: usize = 16 * 1024;
/// Records are written once this many bytes of them have been made (or at the end of a read).
const BATCH_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub log: String,
    pub stream: String,
    pub time: String,
}

pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    /// Keep the previous file as `container.log.1` on rotation (max-file 2, the default);
    /// false (max-file 1): the log starts over and nothing older is kept.
    keep_rotated: bool,
    pending: [Vec<u8>; 2],
    /// Records made from one read, written with one `write` (a flood of short lines would
    /// otherwise cost a system call per line).
    batch: Vec<u8>,
}

impl LogWriter {
    pub fn open(path: &Path, max: u64) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            max: max.max(1024),
            keep_rotated: true,
            pending: [Vec::new(), Vec::new()],
            batch: Vec::new(),
        })
    }

    /// Keep `files` log files in all (the live one included), as json-file's `max-file`;
    /// berth keeps at most two (the live one and `container.log.1`).
    pub fn with_max_files(mut self, files: u32) -> Self {
        self.keep_rotated = files != 1;
        self
    }

    /// Feed bytes read from stream 0 (stdout) or 1 (stderr); complete lines are written.
    /// Returns the bytes written to the log (records, JSON included).
    pub fn feed(&mut self, stream: usize, mut data: &[u8]) -> std::io::Result<u64> {
        // One timestamp per read: the lines of one read arrived at one instant.
        let time = rfc3339_now();
        let mut written = 0;
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            if self.pending[stream].is_empty() {
                written += self.add_record(stream, &data[..=nl], &time)?;
            } else {
                let mut line = std::mem::take(&mut self.pending[stream]);
                line.extend_from_slice(&data[..=nl]);
                written += self.add_record(stream, &line, &time)?;
            }
            data = &data[nl + 1..];
        }
        self.pending[stream].extend_from_slice(data);
        if self.pending[stream].len() > MAX_PENDING {
            let line = std::mem::take(&mut self.pending[stream]);
            written += self.add_record(stream, &line, &time)?;
        }
        self.flush_batch()?;
        Ok(written)
    }

    /// Write out whatever partial lines remain (at EOF).
    pub fn flush_pending(&mut self) -> std::io::Result<()> {
        let time = rfc3339_now();
        for stream in 0..2 {
            let line = std::mem::take(&mut self.pending[stream]);
            if !line.is_empty() {
                self.add_record(stream, &line, &time)?;
            }
        }
        self.flush_batch()
    }

    /// Append one record to the batch (rotating first when it would not fit); its length.
    fn add_record(&mut self, stream: usize, line: &[u8], time: &str) -> std::io::Result<u64> {
        if self.batch.len() >= BATCH_MAX {
            // Keep the batch (and so the monitor's footprint) small under a flood.
            self.flush_batch()?;
        }
        let start = self.batch.len();
        self.batch.extend_from_slice(b"{\"log\":");
        serde_json::to_writer(&mut self.batch, &*String::from_utf8_lossy(line)).map_err(std::io::Error::other)?;
        self.batch.extend_from_slice(if stream == 0 { b",\"stream\":\"stdout\"" } else { b",\"stream\":\"stderr\"" });
        self.batch.extend_from_slice(b",\"time\":\"");
        self.batch.extend_from_slice(time.as_bytes());
        self.batch.extend_from_slice(b"\"}\n");
        let len = (self.batch.len() - start) as u64;
        let before = self.size + start as u64;
        if before > 0 && before + len > self.max {
            // What fits goes to this file; the record starts the next one.
            self.file.write_all(&self.batch[..start])?;
            self.batch.drain(..start);
            self.rotate()?;
        }
        Ok(len)
    }

    fn flush_batch(&mut self) -> std::io::Result<()> {
        if !self.batch.is_empty() {
            self.file.write_all(&self.batch)?;
            self.size += self.batch.len() as u64;
            self.batch.clear();
        }
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.keep_rotated {
            fs::rename(&self.path, rotated(&self.path))?;
        } else {
            fs::remove_file(&self.path)?;
        }
        self.file = OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// The previous (rotated) log file of `path`.
pub fn rotated(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    PathBuf::from(s)
}

/// Every complete record of the log, oldest first (rotated file included).
pub fn read_all(path: &Path) -> Vec<LogLine> {
    let mut out = Vec::new();
    for p in [rotated(path), path.to_path_buf()] {
        if let Ok(f) = File::open(&p) {
            out.extend(BufReader::new(f).lines().map_while(|l| l.ok()).filter_map(|l| serde_json::from_str(&l).ok()));
        }
    }
    out
}

pub use crate::timefmt::rfc3339_now;

/// Format a Unix time with nanoseconds.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    crate::timefmt::rfc3339(secs, Some(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_times() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_767_225_599, 0), "2025-12-31T23:59:59.000000000Z");
    }

    #[test]
    fn splits_lines_per_stream_and_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let mut w = LogWriter::open(&p, 1024).unwrap();
        w.feed(0, b"hel").unwrap();
        w.feed(1, b"oops\n").unwrap();
        w.feed(0, b"lo\nworld").unwrap();
        w.flush_pending().unwrap();
        let lines = read_all(&p);
        let got: Vec<_> = lines.iter().map(|l| (l.stream.as_str(), l.log.as_str())).collect();
        assert_eq!(got, [("stderr", "oops\n"), ("stdout", "hello\n"), ("stdout", "world")]);
        for _ in 0..40 {
            w.feed(0, b"a line that fills the log up\n").unwrap();
        }
        assert!(rotated(&p).exists());
        assert!(fs::metadata(&p).unwrap().len() <= 1024);
    }

    #[test]
    fn records_match_serde_and_a_flood_stays_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let mut w = LogWriter::open(&p, 4096).unwrap();
        w.feed(1, "tab\t \"q\" \u{1} é\n".as_bytes()).unwrap();
        let line = fs::read_to_string(&p).unwrap();
        let rec: LogLine = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(rec.log, "tab\t \"q\" \u{1} é\n");
        assert_eq!(line.trim_end(), serde_json::to_string(&rec).unwrap(), "same bytes as serde's");
        let written = w.feed(0, &b"y\n".repeat(10_000)).unwrap();
        assert!(written > 20_000, "{written}");
        for f in [p.clone(), rotated(&p)] {
            assert!(fs::metadata(&f).unwrap().len() <= 4096, "{} over the cap", f.display());
        }
        assert!(read_all(&p).iter().all(|l| l.log == "y\n" || l.stream == "stderr"));
    }

    #[test]
    fn one_file_means_no_rotated_copy() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let mut w = LogWriter::open(&p, 1024).unwrap().with_max_files(1);
        w.feed(0, &b"a line that fills the log up\n".repeat(100)).unwrap();
        assert!(!rotated(&p).exists());
        assert!(fs::metadata(&p).unwrap().len() <= 1024);
    }
}
