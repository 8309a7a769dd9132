//! Phase timings, logged at debug level under the `berth::timing` target
//! (`--log-level warn,berth::timing=debug`): where a container's create or start spends its time,
//! without a profiler. Costs one `Instant::now()` per phase when the level is off.

use std::time::Instant;

pub struct Phases {
    what: String,
    start: Instant,
    last: Instant,
}

impl Phases {
    pub fn new(what: impl Into<String>) -> Self {
        let now = Instant::now();
        Phases { what: what.into(), start: now, last: now }
    }

    /// Log the time since the previous mark (or the start) under `phase`.
    pub fn mark(&mut self, phase: &str) {
        let now = Instant::now();
        tracing::debug!(
            target: "berth::timing",
            "{} {phase}: {:.2} ms (total {:.2} ms)",
            self.what,
            (now - self.last).as_secs_f64() * 1e3,
            (now - self.start).as_secs_f64() * 1e3
        );
        self.last = now;
    }
}
