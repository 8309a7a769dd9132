//! Turning the file watcher's stream of events into batches: an editor saving a file makes
//! several events (write, chmod, rename of a temp file …), and `git checkout` makes hundreds,
//! so changes are gathered until the tree has been quiet for a moment (or a batch has waited
//! long enough), and each path appears once per batch.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Quiet time that ends a batch. Short, as edit-to-visible latency is what watch is for; long
/// enough to swallow an editor's burst of events for one save.
pub const QUIET: Duration = Duration::from_millis(100);
/// A batch is cut after this long even when events keep coming (a long `git checkout`).
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// How often `next` looks at the stop flag while nothing happens.
const TICK: Duration = Duration::from_millis(100);

/// What the watcher thread sends: changed paths, or an error to report.
pub type Msg = Result<Vec<PathBuf>, String>;

/// Gathers paths from a channel into batches.
pub struct Batcher {
    rx: Receiver<Msg>,
    quiet: Duration,
    max_wait: Duration,
}

impl Batcher {
    pub fn new(rx: Receiver<Msg>) -> Batcher {
        Batcher { rx, quiet: QUIET, max_wait: MAX_WAIT }
    }

    pub fn with_timing(rx: Receiver<Msg>, quiet: Duration, max_wait: Duration) -> Batcher {
        Batcher { rx, quiet, max_wait }
    }

    /// The next batch of changed paths (sorted, each once), with the watcher's errors seen
    /// meanwhile; None when `stop` was set or the watcher is gone.
    pub fn next(&self, stop: &AtomicBool, errors: &mut Vec<String>) -> Option<BTreeSet<PathBuf>> {
        let mut batch = BTreeSet::new();
        // Wait for the first change.
        loop {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            match self.rx.recv_timeout(TICK) {
                Ok(Ok(paths)) if !paths.is_empty() => {
                    batch.extend(paths);
                    break;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => errors.push(e),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
        // Then gather until quiet (or the batch is old enough).
        let started = Instant::now();
        loop {
            let left = self.max_wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Some(batch);
            }
            match self.rx.recv_timeout(self.quiet.min(left)) {
                Ok(Ok(paths)) => batch.extend(paths),
                Ok(Err(e)) => errors.push(e),
                Err(RecvTimeoutError::Timeout) => return Some(batch),
                Err(RecvTimeoutError::Disconnected) => return Some(batch),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_burst_is_one_batch_with_each_path_once() {
        let (tx, rx) = channel();
        let b = Batcher::with_timing(rx, Duration::from_millis(50), Duration::from_secs(1));
        for p in ["/a", "/b", "/a"] {
            tx.send(Ok(vec![PathBuf::from(p)])).unwrap();
        }
        tx.send(Err("overflow".into())).unwrap();
        let stop = AtomicBool::new(false);
        let mut errors = Vec::new();
        let batch = b.next(&stop, &mut errors).unwrap();
        assert_eq!(batch.into_iter().collect::<Vec<_>>(), [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(errors, ["overflow"]);
        stop.store(true, Ordering::SeqCst);
        assert!(b.next(&stop, &mut errors).is_none());
    }

    #[test]
    fn a_steady_stream_is_cut_at_max_wait() {
        let (tx, rx) = channel();
        let b = Batcher::with_timing(rx, Duration::from_millis(200), Duration::from_millis(150));
        let feeder = std::thread::spawn(move || {
            for i in 0..20 {
                if tx.send(Ok(vec![PathBuf::from(format!("/f{i}"))])).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let stop = AtomicBool::new(false);
        let batch = b.next(&stop, &mut Vec::new()).unwrap();
        assert!(batch.len() < 20, "{batch:?}");
        drop(b);
        feeder.join().unwrap();
    }
}
