//! Resources: `deploy.resources` limits/reservations and the short keys (cpus, mem_limit,
//! mem_reservation) → the container's limits and requests; pids → reported.

use serde_json::{json, Map, Value};

use crate::spec::Service;

use super::Context;

/// `deploy.resources` and the short keys (cpus, mem_limit, mem_reservation).
pub fn resources(ctx: &mut Context, at: &str, svc: &Service) -> Map<String, Value> {
    let res = svc.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let limits = res.and_then(|r| r.limits.as_ref());
    let reservations = res.and_then(|r| r.reservations.as_ref());
    let mut lim = Map::new();
    if let Some(c) = limits.and_then(|l| l.cpus).or(svc.cpus).filter(|c| *c > 0.0) {
        lim.insert("cpu".into(), json!(cpu(c)));
    }
    if let Some(m) = limits.and_then(|l| l.memory).or(svc.mem_limit).filter(|m| m.0 > 0) {
        lim.insert("memory".into(), json!(memory(m.0)));
    }
    let mut req = Map::new();
    if let Some(c) = reservations.and_then(|l| l.cpus).filter(|c| *c > 0.0) {
        req.insert("cpu".into(), json!(cpu(c)));
    }
    if let Some(m) = reservations.and_then(|l| l.memory).or(svc.mem_reservation).filter(|m| m.0 > 0) {
        req.insert("memory".into(), json!(memory(m.0)));
    }
    for (which, spec) in [("limits", limits), ("reservations", reservations)] {
        let Some(spec) = spec else { continue };
        if spec.pids.is_some() {
            ctx.report.loss(
                format!("{at}.deploy.resources.{which}.pids"),
                "a pod has no per-container pids limit (it is a kubelet setting)",
            );
        }
        for k in spec.other.keys() {
            ctx.report.loss(format!("{at}.deploy.resources.{which}.{k}"), "not converted");
        }
    }
    let mut out = Map::new();
    if !lim.is_empty() {
        out.insert("limits".into(), Value::Object(lim));
    }
    if !req.is_empty() {
        out.insert("requests".into(), Value::Object(req));
    }
    out
}

/// CPUs as millicores (`0.5` → `500m`).
fn cpu(c: f64) -> String {
    format!("{}m", (c * 1000.0).round().max(1.0) as u64)
}

/// Bytes as the largest exact binary unit (`134217728` → `128Mi`).
pub fn memory(b: u64) -> String {
    for (unit, size) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if b % size == 0 {
            return format!("{}{unit}", b / size);
        }
    }
    b.to_string()
}
