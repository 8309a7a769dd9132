//! Restart policies (`no`, `always`, `on-failure[:N]`, `unless-stopped`) and Docker-like
//! backoff: 100 ms doubling to a 10 s cap, reset once the container has stayed up 10 s.

use std::time::{Duration, Instant};

use super::state::ContainerRecord;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// A container that ran this long before exiting starts a fresh backoff.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

/// What the policy says about a container that exited with `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Restart,
    /// on-failure:N reached: leave it exited for good.
    GiveUp,
    Leave,
}

pub fn decide(rec: &ContainerRecord, code: i32) -> Decision {
    if rec.stopped_by_user || rec.gave_up {
        return Decision::Leave;
    }
    match rec.restart.as_str() {
        "always" | "unless-stopped" => Decision::Restart,
        p if p.starts_with("on-failure") => {
            if code == 0 {
                return Decision::Leave;
            }
            let max = p.strip_prefix("on-failure:").and_then(|n| n.parse::<u32>().ok());
            match max {
                Some(max) if rec.restart_count >= max => Decision::GiveUp,
                _ => Decision::Restart,
            }
        }
        _ => Decision::Leave,
    }
}

/// The restart delay after `streak` quick exits in a row.
pub fn delay(streak: u32) -> Duration {
    FIRST_DELAY.saturating_mul(1u32 << streak.min(16)).min(MAX_DELAY)
}

/// The backoff of one container, kept in the supervisor's memory (a restarted supervisor
/// starts every container with a fresh backoff, which errs on the side of restarting).
#[derive(Debug, Default)]
pub struct Backoff {
    streak: u32,
    /// When the pending restart is due.
    pub due: Option<Instant>,
    /// When we last saw the container start.
    pub running_since: Option<Instant>,
}

impl Backoff {
    /// Schedule the next restart after an exit seen now.
    pub fn schedule(&mut self, now: Instant) -> Instant {
        if self.running_since.is_some_and(|t| now.duration_since(t) >= RESET_AFTER) {
            self.streak = 0;
        }
        self.running_since = None;
        let due = now + delay(self.streak);
        self.streak = self.streak.saturating_add(1);
        self.due = Some(due);
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(policy: &str, count: u32) -> ContainerRecord {
        ContainerRecord { restart: policy.into(), restart_count: count, ..Default::default() }
    }

    #[test]
    fn policies() {
        assert_eq!(decide(&rec("no", 0), 1), Decision::Leave);
        assert_eq!(decide(&rec("always", 5), 0), Decision::Restart);
        assert_eq!(decide(&rec("on-failure", 9), 0), Decision::Leave);
        assert_eq!(decide(&rec("on-failure:3", 2), 1), Decision::Restart);
        assert_eq!(decide(&rec("on-failure:3", 3), 1), Decision::GiveUp);
        let mut stopped = rec("always", 0);
        stopped.stopped_by_user = true;
        assert_eq!(decide(&stopped, 1), Decision::Leave);
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        assert_eq!(delay(0), Duration::from_millis(100));
        assert_eq!(delay(3), Duration::from_millis(800));
        assert_eq!(delay(40), MAX_DELAY);
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert_eq!(b.schedule(t0) - t0, Duration::from_millis(100));
        assert_eq!(b.schedule(t0) - t0, Duration::from_millis(200));
        b.running_since = Some(t0);
        let later = t0 + RESET_AFTER;
        assert_eq!(b.schedule(later) - later, Duration::from_millis(100));
    }
}
