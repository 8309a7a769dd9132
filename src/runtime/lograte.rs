//! How fast a monitor may turn a container's output into log records: a token bucket over the
//! bytes written to the log (records, so a flood of tiny lines, which costs the monitor most
//! per byte read, is charged for its JSON overhead too).
//!
//! Why: the monitor runs outside the container's cgroup, so CPU it spends copying is not
//! limited by the container's `cpus`: a container running `yes` made its monitor burn a whole
//! core (measured 99.5% of a core with a debug build) while the container itself used almost
//! nothing. When the bucket is empty the monitor stops reading the container's pipes until it
//! refills; the pipe (64 KiB) fills and the container's own `write(2)` blocks, so the flood is
//! throttled in the container, on the container's account (backpressure, as a slow terminal
//! throttles a program). The log's size is capped separately (`logs::LogWriter` rotation).

use std::time::{Duration, Instant};

/// Sustained log rate: 4 MiB of records a second (about 2.5 MiB/s of payload in 100-byte
/// lines; far above what a service logs, well below what costs the monitor noticeable CPU).
pub const RATE: f64 = (4 << 20) as f64;
/// Burst allowance: this much may be written at once after a quiet spell.
pub const BURST: f64 = (8 << 20) as f64;

/// A token bucket that may go into debt: a read is never cut short (the bytes read must be
/// logged), the debt is paid by pausing.
#[derive(Debug, Clone)]
pub struct LogBudget {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl LogBudget {
    /// A full bucket refilling at `rate` bytes a second, holding at most `burst`.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        LogBudget { rate, burst, tokens: burst, last: now }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
    }

    /// Charge `bytes` written to the log.
    pub fn charge(&mut self, bytes: u64, now: Instant) {
        self.refill(now);
        self.tokens -= bytes as f64;
    }

    /// How long to stop reading before the bucket is positive again (None: read now).
    pub fn pause(&mut self, now: Instant) -> Option<Duration> {
        self.refill(now);
        if self.tokens > 0.0 {
            return None;
        }
        // At least 1 ms, so poll(2)'s millisecond timeout never spins on a rounded-down zero.
        Some(Duration::from_secs_f64(-self.tokens / self.rate).max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_reads_then_debt_pauses_for_its_repayment() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(1000.0, 2000.0, t0);
        assert_eq!(b.pause(t0), None);
        b.charge(2500, t0);
        // 500 bytes of debt at 1000 B/s: half a second.
        let p = b.pause(t0).expect("in debt");
        assert!((p.as_secs_f64() - 0.5).abs() < 1e-6, "{p:?}");
        assert!(b.pause(t0 + Duration::from_millis(400)).is_some());
        assert_eq!(b.pause(t0 + Duration::from_millis(600)), None);
    }

    #[test]
    fn refill_stops_at_the_burst() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(1000.0, 2000.0, t0);
        let later = t0 + Duration::from_secs(3600);
        b.charge(2001, later);
        assert!(b.pause(later).is_some(), "an hour of quiet does not buy more than the burst");
    }
}
