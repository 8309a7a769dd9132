//! The per-container log: one JSON object per line, as Docker's json-file driver
//! (`{"log":"hello\n","stream":"stdout","time":"2026-01-01T00:00:00.000000000Z"}`), appended by
//! the monitor, rotated to `container.log.1` at a size limit, and readable while it is written
//! (every line is written with a single `write`, so a reader never sees half a record).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A partial line longer than this is written out without waiting for its newline.
const MAX_PENDING: usize = 16 * 1024;

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
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path, max: u64) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter { path: path.to_path_buf(), file, size, max: max.max(1024), pending: [Vec::new(), Vec::new()] })
    }

    /// Feed bytes read from stream 0 (stdout) or 1 (stderr); complete lines are written.
    pub fn feed(&mut self, stream: usize, mut data: &[u8]) -> std::io::Result<()> {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.pending[stream]);
            line.extend_from_slice(&data[..=nl]);
            self.write_record(stream, &line)?;
            data = &data[nl + 1..];
        }
        self.pending[stream].extend_from_slice(data);
        if self.pending[stream].len() > MAX_PENDING {
            let line = std::mem::take(&mut self.pending[stream]);
            self.write_record(stream, &line)?;
        }
        Ok(())
    }

    /// Write out whatever partial lines remain (at EOF).
    pub fn flush_pending(&mut self) -> std::io::Result<()> {
        for stream in 0..2 {
            let line = std::mem::take(&mut self.pending[stream]);
            if !line.is_empty() {
                self.write_record(stream, &line)?;
            }
        }
        Ok(())
    }

    fn write_record(&mut self, stream: usize, line: &[u8]) -> std::io::Result<()> {
        let rec = LogLine {
            log: String::from_utf8_lossy(line).into_owned(),
            stream: if stream == 0 { "stdout" } else { "stderr" }.to_string(),
            time: rfc3339_now(),
        };
        let mut bytes = serde_json::to_vec(&rec).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        if self.size > 0 && self.size + bytes.len() as u64 > self.max {
            self.rotate()?;
        }
        self.file.write_all(&bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        fs::rename(&self.path, rotated(&self.path))?;
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

/// Now as RFC 3339 UTC with nanoseconds.
pub fn rfc3339_now() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

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
}
