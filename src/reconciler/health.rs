//! Health checks: the probe (the check's argv, exec'd in the container through the runtime)
//! on its interval, with timeout, retries and start period as Docker has them; the status
//! (starting → healthy | unhealthy) is written to the container's record. Probes run as child
//! processes polled by the supervisor's loop, so a slow probe never holds up the others.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::state::{ContainerRecord, HealthSpec, HealthStatus};
use crate::runtime::{ExecConfig, Runtime};

/// The probing state of one running container.
pub struct Prober {
    /// The PID 1 the state belongs to (a restart starts over).
    pub pid: i32,
    started: Instant,
    next: Instant,
    in_flight: Option<(Child, Instant)>,
    /// Since when the container is paused (no probes then; see [`Prober::pause`]).
    paused_since: Option<Instant>,
}

/// What a finished probe means for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
}

impl Prober {
    pub fn new(pid: i32, spec: &HealthSpec, now: Instant) -> Self {
        Prober { pid, started: now, next: now + first_delay(spec), in_flight: None, paused_since: None }
    }

    /// The container is paused (`berth pause`): as Docker, no probe runs. Call on every tick
    /// while paused; the next [`Prober::tick`] after it shifts the schedule, the start period
    /// and an in-flight probe's deadline by the time spent paused, so a probe the freeze caught
    /// is not counted as timed out.
    pub fn pause(&mut self, now: Instant) {
        self.paused_since.get_or_insert(now);
    }

    fn resume(&mut self, now: Instant) {
        let Some(since) = self.paused_since.take() else { return };
        let paused = now.saturating_duration_since(since);
        self.started += paused;
        self.next += paused;
        if let Some((_, deadline)) = &mut self.in_flight {
            *deadline += paused;
        }
    }

    /// Start a probe when one is due; collect a finished (or timed-out) one.
    pub fn tick(&mut self, rt: &Runtime, id: &str, spec: &HealthSpec, now: Instant) -> Option<Outcome> {
        self.resume(now);
        if let Some((child, deadline)) = &mut self.in_flight {
            let outcome = match child.try_wait() {
                Ok(Some(status)) => Some(if status.success() { Outcome::Pass } else { Outcome::Fail }),
                Ok(None) if now >= *deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    Some(Outcome::Fail)
                }
                Ok(None) => None,
                Err(_) => Some(Outcome::Fail),
            };
            if outcome.is_some() {
                self.in_flight = None;
                self.next = now + self.interval(spec, now);
            }
            return outcome;
        }
        if now >= self.next {
            match spawn_probe(rt, id, spec) {
                Some(child) => self.in_flight = Some((child, now + Duration::from_millis(spec.timeout_ms))),
                None => {
                    self.next = now + self.interval(spec, now);
                    return Some(Outcome::Fail);
                }
            }
        }
        None
    }

    /// During the start period probes come every start_interval.
    fn interval(&self, spec: &HealthSpec, now: Instant) -> Duration {
        if self.in_start_period(spec, now) {
            Duration::from_millis(spec.start_interval_ms.min(spec.interval_ms))
        } else {
            Duration::from_millis(spec.interval_ms)
        }
    }

    pub fn in_start_period(&self, spec: &HealthSpec, now: Instant) -> bool {
        now.duration_since(self.started) < Duration::from_millis(spec.start_period_ms)
    }

    /// Kill a probe still running (the container stopped, or the supervisor exits).
    pub fn abandon(&mut self) {
        if let Some((mut child, _)) = self.in_flight.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn first_delay(spec: &HealthSpec) -> Duration {
    if spec.start_period_ms > 0 {
        Duration::from_millis(spec.start_interval_ms.min(spec.interval_ms))
    } else {
        Duration::from_millis(spec.interval_ms)
    }
}

fn spawn_probe(rt: &Runtime, id: &str, spec: &HealthSpec) -> Option<Child> {
    let ec = ExecConfig { args: spec.argv.clone(), ..Default::default() };
    let mut cmd = rt.exec_command(id, &ec).ok()?;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()
}

/// Apply a probe's outcome to the record, as Docker counts: a failure inside the start period
/// does not count; `retries` consecutive failures make the container unhealthy.
pub fn apply(rec: &mut ContainerRecord, outcome: Outcome, in_start_period: bool) {
    let retries = rec.healthcheck.as_ref().map(|h| h.retries).unwrap_or(3).max(1);
    match outcome {
        Outcome::Pass => {
            rec.health = HealthStatus::Healthy;
            rec.failing_streak = 0;
        }
        Outcome::Fail if in_start_period && rec.health != HealthStatus::Healthy => {}
        Outcome::Fail => {
            rec.failing_streak += 1;
            if rec.failing_streak >= retries {
                rec.health = HealthStatus::Unhealthy;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_shifts_the_schedule_and_the_start_period() {
        let spec =
            HealthSpec { interval_ms: 1000, start_period_ms: 5000, start_interval_ms: 1000, ..Default::default() };
        let t0 = Instant::now();
        let mut p = Prober::new(1, &spec, t0);
        p.pause(t0 + Duration::from_secs(1));
        p.pause(t0 + Duration::from_secs(2)); // every paused tick: the first one counts
        p.resume(t0 + Duration::from_secs(11));
        assert_eq!(p.next, t0 + Duration::from_secs(11));
        assert!(p.in_start_period(&spec, t0 + Duration::from_secs(14)), "10 s paused do not use up the start period");
        assert!(p.paused_since.is_none());
    }

    #[test]
    fn retries_then_unhealthy_and_start_period_forgives() {
        let mut rec = ContainerRecord {
            healthcheck: Some(HealthSpec { retries: 2, ..Default::default() }),
            health: HealthStatus::Starting,
            ..Default::default()
        };
        apply(&mut rec, Outcome::Fail, true);
        assert_eq!((rec.health, rec.failing_streak), (HealthStatus::Starting, 0));
        apply(&mut rec, Outcome::Fail, false);
        assert_eq!(rec.health, HealthStatus::Starting);
        apply(&mut rec, Outcome::Fail, false);
        assert_eq!(rec.health, HealthStatus::Unhealthy);
        apply(&mut rec, Outcome::Pass, false);
        assert_eq!((rec.health, rec.failing_streak), (HealthStatus::Healthy, 0));
    }
}
