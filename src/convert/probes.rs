//! `healthcheck` → probes. A Compose health check gates traffic and dependents, it does not
//! restart anything: so it becomes a readinessProbe (a Service routes only to ready pods),
//! plus a startupProbe covering `start_period`; a livenessProbe (which restarts) only when
//! `x-berth-kubernetes: {liveness: true}` asks for one.

use std::time::Duration;

use serde_json::{json, Value};

use crate::spec::model::HealthTest;
use crate::spec::Service;

use super::workload::escape;
use super::Context;

/// Compose's defaults (compose-spec): interval 30s, timeout 30s, retries 3, start_interval 5s.
const INTERVAL: u64 = 30;
const TIMEOUT: u64 = 30;
const RETRIES: u32 = 3;
const START_INTERVAL: u64 = 5;

fn secs(d: Option<Duration>, default: u64) -> u64 {
    d.map_or(default, |d| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1))
}

/// The container keys (`readinessProbe`, …) with their probes.
pub fn probes(ctx: &mut Context, name: &str, svc: &Service) -> Vec<(&'static str, Value)> {
    let at = format!("services.{name}.healthcheck");
    let Some(h) = &svc.healthcheck else { return Vec::new() };
    if h.disable {
        return Vec::new();
    }
    let command: Vec<String> = match &h.test {
        Some(HealthTest::None) => return Vec::new(),
        Some(HealthTest::Cmd(argv)) => argv.iter().map(|s| escape(s)).collect(),
        Some(HealthTest::Shell(script)) => vec!["/bin/sh".into(), "-c".into(), escape(script)],
        None => {
            ctx.report.loss(
                &at,
                "no `test`: the image's own health check is not visible to Kubernetes, so no probe is generated",
            );
            return Vec::new();
        }
    };
    let period = secs(h.interval.map(|d| d.0), INTERVAL);
    let timeout = secs(h.timeout.map(|d| d.0), TIMEOUT);
    let retries = h.retries.unwrap_or(RETRIES).max(1);
    let exec = json!({ "command": command });
    let probe = |period: u64, failures: u64| json!({ "exec": exec, "periodSeconds": period, "timeoutSeconds": timeout, "failureThreshold": failures, "successThreshold": 1 });
    let mut out = vec![("readinessProbe", probe(period, u64::from(retries)))];
    let start = h.start_period.map(|d| d.0).filter(|d| !d.is_zero());
    if let Some(start) = start {
        // Compose probes every start_interval during start_period without counting failures,
        // then counts `retries` failures; a startupProbe with enough failures covers both.
        let every = secs(h.start_interval.map(|d| d.0), START_INTERVAL);
        let failures = secs(Some(start), 0).div_ceil(every) + u64::from(retries);
        out.push(("startupProbe", probe(every, failures)));
        ctx.report.note(
            format!("{at}.start_period"),
            "startupProbe: unlike Compose, a pod still failing after start_period plus retries is restarted",
        );
    }
    let liveness = ctx.service_ext(svc).get("liveness").and_then(Value::as_bool) == Some(true);
    if liveness {
        out.push(("livenessProbe", probe(period, u64::from(retries))));
    }
    out
}
