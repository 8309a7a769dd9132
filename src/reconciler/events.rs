//! The project's events log (`berth events`): one JSON object per line in
//! `<state>/projects/<project>/events.jsonl`, appended by the code that does or sees each thing:
//! the reconciler's container steps (create, start, stop, destroy), the lifecycle commands
//! (kill, pause, unpause) and the supervisor (die, oom, health_status, a policy restart's start).
//!
//! Cheap and bounded, as an event stream should be (Docker keeps its events in memory only):
//! - one write(2) of one line on an O_APPEND fd per event, no fsync, no lock: appends of a line
//!   land whole and in order, whoever writes them;
//! - at [`MAX_BYTES`] the file is renamed to `events.jsonl.1` (replacing the previous one), so
//!   the log never holds more than twice that;
//! - never the reason anything fails: an event that cannot be written is dropped (logged at
//!   debug), and nothing creates the project dir for an event (after `down` removed it, there
//!   is nothing left to tell).
//!
//! A container's exit is reported once, by whoever sees it first (the supervisor, or a `stop`
//! that waited for it): the record keeps the `finished_at` of the last exit reported.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::state::ProjectDir;
use crate::runtime::{ContainerState, Status};

pub const FILE: &str = "events.jsonl";
/// Size at which the log is rotated (one older file is kept).
pub const MAX_BYTES: u64 = 1 << 20;

/// One event, as `berth events --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 with nanoseconds.
    pub time: String,
    #[serde(rename = "timeNano")]
    pub time_nano: i128,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    /// The container's id.
    pub id: String,
    pub service: String,
    pub attributes: BTreeMap<String, String>,
}

pub fn log_path(pd: &ProjectDir) -> PathBuf {
    pd.dir.join(FILE)
}

/// The rotated, older half of the log.
pub fn old_log_path(pd: &ProjectDir) -> PathBuf {
    pd.dir.join(format!("{FILE}.1"))
}

/// A container event: `name` is the container's name (and id); `attrs` are added to its
/// `name` attribute.
pub fn container(pd: &ProjectDir, name: &str, service: &str, action: &str, attrs: &[(&str, String)]) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut attributes: BTreeMap<String, String> = attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    attributes.insert("name".into(), name.to_string());
    let ev = Event {
        time: crate::timefmt::rfc3339(now.as_secs() as i64, Some(now.subsec_nanos())),
        time_nano: now.as_nanos() as i128,
        kind: "container".into(),
        action: action.to_string(),
        id: name.to_string(),
        service: service.to_string(),
        attributes,
    };
    if let Err(e) = append(pd, &ev) {
        tracing::debug!(project = %pd.project, action, container = name, error = %e, "event not recorded");
    }
}

fn append(pd: &ProjectDir, ev: &Event) -> std::io::Result<()> {
    if !pd.dir.is_dir() {
        return Ok(());
    }
    let path = log_path(pd);
    let mut line = serde_json::to_vec(ev).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = OpenOptions::new().append(true).create(true).mode(0o600).open(&path)?;
    if f.metadata()?.len() >= MAX_BYTES {
        // Two writers may both rotate: the second renames a short new file over the first's
        // old one, which only loses old events; the size stays bounded either way.
        std::fs::rename(&path, old_log_path(pd))?;
        f = OpenOptions::new().append(true).create(true).mode(0o600).open(&path)?;
    }
    f.write_all(&line)
}

/// Report container `name`'s exit (`oom` first when the kernel killed it, then `die`), once
/// per exit however many see it.
pub fn exited(pd: &ProjectDir, name: &str, st: &ContainerState) {
    let Status::Exited { code, oom } = st.status else { return };
    let finished = st.finished_at.clone().unwrap_or_default();
    let mut fresh = false;
    let updated = pd.update_record(name, |r| {
        if r.exit_reported.as_deref() != Some(finished.as_str()) {
            r.exit_reported = Some(finished.clone());
            fresh = true;
        }
    });
    let service = match updated {
        Ok(Some(r)) if fresh => r.service,
        _ => return,
    };
    if oom {
        container(pd, name, &service, "oom", &[]);
    }
    container(pd, name, &service, "die", &[("exitCode", code.to_string())]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Roots;
    use crate::reconciler::ContainerRecord;

    #[test]
    fn events_append_rotate_and_an_exit_is_reported_once() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = Roots::new(Some(tmp.path()));
        let pd = ProjectDir::new(&roots, "demo");
        // No project dir: nothing is written, nothing is made.
        container(&pd, "demo-web-1", "web", "create", &[]);
        assert!(!pd.dir.exists());
        let rec = ContainerRecord { name: "demo-web-1".into(), service: "web".into(), ..Default::default() };
        pd.write_record(&rec).unwrap();
        let mut st = ContainerState::new("demo-web-1", String::new());
        st.status = Status::Exited { code: 3, oom: true };
        st.finished_at = Some("2026-01-01T00:00:00Z".into());
        exited(&pd, "demo-web-1", &st);
        exited(&pd, "demo-web-1", &st);
        let text = std::fs::read_to_string(log_path(&pd)).unwrap();
        let evs: Vec<Event> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let actions: Vec<&str> = evs.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["oom", "die"], "{text}");
        assert_eq!(evs[1].attributes["exitCode"], "3");
        assert_eq!(evs[1].service, "web");
        // Past MAX_BYTES the log moves to .1 and starts over.
        std::fs::OpenOptions::new().append(true).open(log_path(&pd)).unwrap().set_len(MAX_BYTES).unwrap();
        container(&pd, "demo-web-1", "web", "destroy", &[]);
        assert_eq!(std::fs::metadata(old_log_path(&pd)).unwrap().len(), MAX_BYTES);
        let text = std::fs::read_to_string(log_path(&pd)).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"destroy\""));
    }
}
