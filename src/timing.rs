//! Phase timings, logged at debug level under the `berth::timing` target
//! (`--log-level warn,berth::timing=debug`): where a container's create or start spends its time,
//! without a profiler. Costs one `Instant::now()` per phase when the level is off.

use std::sync::OnceLock;
use std::time::Instant;

/// The first use in this process: marks also show time since then, giving a timeline.
static EPOCH: OnceLock<Instant> = OnceLock::new();

pub struct Phases {
    what: String,
    start: Instant,
    last: Instant,
}

impl Phases {
    pub fn new(what: impl Into<String>) -> Self {
        let now = Instant::now();
        EPOCH.get_or_init(|| now);
        Phases { what: what.into(), start: now, last: now }
    }

    /// Log the time since the previous mark (or the start) under `phase`.
    pub fn mark(&mut self, phase: &str) {
        let now = Instant::now();
        tracing::debug!(
            target: "berth::timing",
            "[{:7.2}] {} {phase}: {:.2} ms (total {:.2} ms)",
            (now - *EPOCH.get_or_init(|| now)).as_secs_f64() * 1e3,
            self.what,
            (now - self.last).as_secs_f64() * 1e3,
            (now - self.start).as_secs_f64() * 1e3
        );
        self.last = now;
    }
}
