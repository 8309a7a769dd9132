//! Resource settings: deploy (replicas, resources.limits/reservations), ulimits, blkio_config,
//! memswap_limit, and the scale/replicas agreement check.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::model::{
    BlkioConfig, BlkioRate, BlkioWeightDevice, Deploy, ResourceSpec, Resources, RestartPolicy, Service, Ulimit,
};
use super::super::yaml::{Map, Node};
use super::fields::{field, map_items, unhonoured};
use super::scalar::{bytes, float, int, string};

/// `memswap_limit`: a size, or -1 for unlimited swap.
pub(super) fn memswap(node: &Node, path: &str, d: &mut Diagnostics) -> Option<i64> {
    if node.as_i64() == Some(-1) {
        return Some(-1);
    }
    bytes(node, path, d).map(|b| i64::try_from(b.0).unwrap_or(i64::MAX))
}

pub(super) fn ulimits(node: &Node, path: &str, d: &mut Diagnostics) -> IndexMap<String, Ulimit> {
    let mut out = IndexMap::new();
    for (k, v) in node.as_map().map(|m| m.entries()).unwrap_or_default() {
        let p = format!("{path}.{}", k.name);
        let Some(m) = v.as_map() else { continue };
        let (Some(soft), Some(hard)) = (field(m, "soft", &p, d, int), field(m, "hard", &p, d, int)) else { continue };
        if soft > hard {
            d.error(
                Some(&v.pos),
                &p,
                format!("soft limit {soft} is above hard limit {hard}; raise `hard` or lower `soft`"),
            );
            continue;
        }
        out.insert(k.name.clone(), Ulimit { soft, hard });
    }
    out
}

type Reader<T> = fn(&Node, &str, &mut Diagnostics) -> Option<T>;

/// A rate in bytes per second ("12mb" or an integer).
fn bps(node: &Node, path: &str, d: &mut Diagnostics) -> Option<u64> {
    bytes(node, path, d).map(|b| b.0)
}

pub(super) fn blkio(node: &Node, path: &str, d: &mut Diagnostics) -> Option<BlkioConfig> {
    let m = node.as_map()?;
    let rates = |key: &str, d: &mut Diagnostics| -> Vec<BlkioRate> {
        let Some(list) = m.get(key) else { return Vec::new() };
        let kp = format!("{path}.{key}");
        let mut out = Vec::new();
        for (p, _, r) in map_items(list, &kp) {
            let reader: Reader<u64> = if key.ends_with("bps") { bps } else { int };
            if let (Some(path), Some(rate)) = (field(r, "path", &p, d, string), field(r, "rate", &p, d, reader)) {
                out.push(BlkioRate { path, rate });
            }
        }
        out
    };
    let mut weight_device = Vec::new();
    if let Some(list) = m.get("weight_device") {
        for (p, _, r) in map_items(list, &format!("{path}.weight_device")) {
            if let (Some(path), Some(weight)) = (field(r, "path", &p, d, string), field(r, "weight", &p, d, int)) {
                weight_device.push(BlkioWeightDevice { path, weight });
            }
        }
    }
    Some(BlkioConfig {
        weight: field(m, "weight", path, d, int),
        weight_device,
        device_read_bps: rates("device_read_bps", d),
        device_write_bps: rates("device_write_bps", d),
        device_read_iops: rates("device_read_iops", d),
        device_write_iops: rates("device_write_iops", d),
    })
}

pub(super) fn deploy(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Deploy> {
    let m = node.as_map()?;
    let mut dep = Deploy { replicas: field(m, "replicas", path, d, int), ..Deploy::default() };
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "replicas" => {}
            "resources" => dep.resources = v.as_map().map(|r| resources(r, &format!("{path}.resources"), d)),
            "restart_policy" => {
                // `condition` and `max_attempts` become the restart policy (see [`restart_policy`]).
                let rp = v.as_map().map(|r| r.keys().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
                for key in rp.iter().filter(|k| !matches!(k.as_str(), "condition" | "max_attempts")) {
                    if let Some(r) = v.as_map() {
                        unhonoured(r, key, &format!("{path}.restart_policy"), d);
                    }
                }
                dep.other.insert(k.name.clone(), v.to_json());
            }
            "labels" => {
                unhonoured(m, "labels", path, d);
                dep.other.insert(
                    "labels".into(),
                    serde_json::json!(super::scalar::string_map(v, &format!("{path}.labels"), d)),
                );
            }
            other => {
                unhonoured(m, other, path, d);
                let mut value = v.to_json();
                if matches!(other, "update_config" | "rollback_config") {
                    durations(&mut value, &["delay", "monitor"]);
                }
                dep.other.insert(other.to_string(), value);
            }
        }
    }
    if let Some(rp) = dep.other.get_mut("restart_policy") {
        durations(rp, &["delay", "window"]);
    }
    Some(dep)
}

/// Durations written as compose-go prints them (Go's `1m30s`), when they parse.
fn durations(value: &mut serde_json::Value, keys: &[&str]) {
    for key in keys {
        if let Some(v) = value.get_mut(*key) {
            if let Some(d) = v.as_str().and_then(|s| crate::spec::units::DurationSpec::parse(s).ok()) {
                *v = serde_json::Value::String(d.to_string());
            }
        }
    }
}

/// `gpus:` as compose-go models it: `all` (any text) is one request for every GPU.
pub(super) fn gpus(node: &Node, path: &str, d: &mut Diagnostics) -> serde_json::Value {
    if node.as_seq().is_some() {
        return device_requests(node, path, d);
    }
    serde_json::json!([{ "count": -1 }])
}

/// Device requests (`deploy.resources.reservations.devices`, `gpus`) as compose-go models them:
/// `count` a number (`all` is -1, and the default when neither `count` nor `device_ids` is
/// given), `options` text; `count` with `device_ids` is an error (validation.checkDeviceRequest).
pub(super) fn device_requests(node: &Node, path: &str, d: &mut Diagnostics) -> serde_json::Value {
    let Some(items) = node.as_seq() else { return node.to_json() };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(m) = item.as_map() else {
            out.push(item.to_json());
            continue;
        };
        let mut obj = serde_json::Map::new();
        for (k, v) in m.iter() {
            let value = match k.name.as_str() {
                "count" => match v.scalar_string().as_deref().map(str::trim) {
                    Some(c) if c.eq_ignore_ascii_case("all") => serde_json::json!(-1),
                    Some(c) => match c.parse::<i64>() {
                        Ok(n) => serde_json::json!(n),
                        Err(_) => {
                            let msg = format!("invalid count `{c}`; expected `all` or a number");
                            d.error(Some(&v.pos), format!("{p}.count"), msg);
                            continue;
                        }
                    },
                    None => v.to_json(),
                },
                "options" => serde_json::Value::Object(
                    v.as_map()
                        .map(|o| o.iter().map(|(k, v)| (k.name.clone(), v.scalar_string().into())).collect())
                        .unwrap_or_default(),
                ),
                _ => v.to_json(),
            };
            obj.insert(k.name.clone(), value);
        }
        match (obj.contains_key("count"), obj.contains_key("device_ids")) {
            (true, true) => d.error(Some(&item.pos), &p, "`count` and `device_ids` are exclusive: give one"),
            (false, false) => {
                obj.insert("count".into(), serde_json::json!(-1));
            }
            _ => {}
        }
        out.push(serde_json::Value::Object(obj));
    }
    serde_json::Value::Array(out)
}

fn resources(m: &Map, path: &str, d: &mut Diagnostics) -> Resources {
    let spec = |key: &str, d: &mut Diagnostics| -> Option<ResourceSpec> {
        let r = m.get(key)?.as_map()?;
        let p = format!("{path}.{key}");
        let mut s = ResourceSpec {
            cpus: field(r, "cpus", &p, d, float),
            memory: field(r, "memory", &p, d, bytes),
            pids: field(r, "pids", &p, d, int),
            other: IndexMap::new(),
        };
        for (k, v) in r.iter().filter(|(k, _)| !matches!(k.name.as_str(), "cpus" | "memory" | "pids")) {
            unhonoured(r, &k.name, &p, d);
            let value = match k.name.as_str() {
                "devices" => device_requests(v, &format!("{p}.devices"), d),
                _ => v.to_json(),
            };
            s.other.insert(k.name.clone(), value);
        }
        Some(s)
    };
    Resources { limits: spec("limits", d), reservations: spec("reservations", d) }
}

/// `deploy.restart_policy` as the restart policy, over `restart` when both are set, mapped as
/// docker compose does (pkg/compose/create.go getRestartPolicy, mapRestartPolicyCondition):
/// none/no, on-failure (with max_attempts), unless-stopped, any/always. compose-go accepts any
/// string; one docker does not know is a warning and no restart.
pub(super) fn restart_policy(s: &mut Service, svc: &Map, path: &str, d: &mut Diagnostics) {
    let Some(rp) = svc.get("deploy").and_then(Node::as_map).and_then(|m| m.get("restart_policy")) else { return };
    let Some(rp) = rp.as_map() else { return };
    let p = format!("{path}.deploy.restart_policy");
    let attempts = field(rp, "max_attempts", &p, d, int).filter(|n: &u32| *n > 0);
    s.restart = match field(rp, "condition", &p, d, string).as_deref().unwrap_or("") {
        "" | "none" | "no" => RestartPolicy::No,
        "on-failure" => RestartPolicy::OnFailure(attempts),
        "unless-stopped" => RestartPolicy::UnlessStopped,
        "any" | "always" => RestartPolicy::Always,
        other => {
            let msg = format!(
                "unknown restart condition `{other}`; not restarting (expected none, on-failure, unless-stopped or any)"
            );
            d.warning(rp.get("condition").map(|n| &n.pos), format!("{p}.condition"), msg);
            RestartPolicy::No
        }
    };
}

/// `scale` and `deploy.replicas` may both be set only when they agree.
pub(super) fn check_scale(s: &Service, svc: &Map, path: &str, d: &mut Diagnostics) {
    let replicas = s.deploy.as_ref().and_then(|dep| dep.replicas);
    if let (Some(scale), Some(replicas)) = (s.scale, replicas) {
        if scale != replicas {
            let pos = svc.get("scale").map(|n| &n.pos);
            let msg = format!("`scale: {scale}` conflicts with `deploy.replicas: {replicas}`; set only one of them");
            d.error(pos, path, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_ok};
    use crate::spec::model::RestartPolicy;

    #[test]
    fn deploy_resources() {
        let st = load_ok(
            "services:\n  a:\n    deploy:\n      replicas: 3\n      resources:\n        limits: {cpus: '0.5', memory: 512M, pids: 100}\n        \
             reservations: {cpus: 0.25, memory: 134217728}\n",
        );
        let dep = st.services["a"].deploy.clone().expect("deploy");
        assert_eq!(dep.replicas, Some(3));
        let r = dep.resources.expect("resources");
        let l = r.limits.expect("limits");
        assert_eq!((l.cpus, l.memory.map(|m| m.0), l.pids), (Some(0.5), Some(512 << 20), Some(100)));
        let res = r.reservations.expect("reservations");
        assert_eq!((res.cpus, res.memory.map(|m| m.0)), (Some(0.25), Some(128 << 20)));
        assert_eq!(st.services["a"].replicas(), 3);
    }

    #[test]
    fn deploy_other_keys_warn() {
        let (st, d) = load("services:\n  a:\n    deploy:\n      restart_policy: {condition: on-failure, delay: 5s}\n      placement: {}\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:4:47: warning: services.a.deploy.restart_policy: `delay` is accepted but not honoured by berth yet\n\
             c.yaml:5:7: warning: services.a.deploy: `placement` is accepted but not honoured by berth yet"
        );
        assert!(st.services["a"].deploy.as_ref().is_some_and(|d| d.other.contains_key("restart_policy")));
        assert_eq!(st.services["a"].restart, RestartPolicy::OnFailure(None));
    }

    #[test]
    fn restart_policy_maps_like_docker_compose() {
        let restart = |src: &str| load(src).0.services["a"].restart;
        let rp = |c: &str| {
            format!("services:\n  a:\n    deploy:\n      restart_policy: {{condition: {c}, max_attempts: 2}}\n")
        };
        assert_eq!(restart(&rp("unless-stopped")), RestartPolicy::UnlessStopped);
        assert_eq!(restart(&rp("any")), RestartPolicy::Always);
        assert_eq!(restart(&rp("none")), RestartPolicy::No);
        assert_eq!(restart(&rp("on-failure")), RestartPolicy::OnFailure(Some(2)));
        let both = "services:\n  a:\n    restart: always\n    deploy:\n      restart_policy: {condition: none}\n";
        assert_eq!(restart(both), RestartPolicy::No, "deploy.restart_policy wins when both are set (docker compose)");
        let (_, d) = load(&rp("sometimes"));
        assert!(d.to_string().contains("unknown restart condition `sometimes`"), "{d}");
    }

    #[test]
    fn scale_and_replicas_conflict() {
        assert_eq!(load_ok("services:\n  a: {scale: 2, deploy: {replicas: 2}}\n").services["a"].replicas(), 2);
        assert_eq!(load_ok("services:\n  a: {scale: 4}\n").services["a"].replicas(), 4);
        let (_, d) = load("services:\n  a:\n    scale: 2\n    deploy: {replicas: 3}\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:12: services.a: `scale: 2` conflicts with `deploy.replicas: 3`; set only one of them"
        );
    }

    #[test]
    fn ulimits_both_forms() {
        let st = load_ok("services:\n  a:\n    ulimits: {nproc: 65535, nofile: {soft: 1024, hard: 4096}}\n");
        let u = &st.services["a"].ulimits;
        assert_eq!((u["nproc"].soft, u["nproc"].hard), (65535, 65535));
        assert_eq!((u["nofile"].soft, u["nofile"].hard), (1024, 4096));
        let (_, d) = load("services:\n  a:\n    ulimits: {nofile: {soft: 10, hard: 5}}\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:23: services.a.ulimits.nofile: soft limit 10 is above hard limit 5; raise `hard` or lower `soft`"
        );
    }

    #[test]
    fn memory_units_and_blkio() {
        let st = load_ok(
            "services:\n  a:\n    mem_limit: 1g\n    mem_reservation: 1024\n    memswap_limit: 2g\n    shm_size: 64m\n    \
             blkio_config: {weight: 300, device_read_bps: [{path: /dev/sda, rate: 12mb}], device_write_iops: [{path: /dev/sda, rate: 30}], \
             weight_device: [{path: /dev/sda, weight: 400}]}\n",
        );
        let a = &st.services["a"];
        assert_eq!((a.mem_limit.map(|b| b.0), a.mem_reservation.map(|b| b.0)), (Some(1 << 30), Some(1024)));
        assert_eq!(a.memswap_limit, Some(2 << 30));
        let b = a.blkio_config.clone().expect("blkio");
        assert_eq!((b.weight, b.device_read_bps[0].rate, b.device_write_iops[0].rate), (Some(300), 12 << 20, 30));
        assert_eq!(b.weight_device[0].weight, 400);
    }
}
