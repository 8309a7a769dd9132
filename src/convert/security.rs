//! Security: cap_add/cap_drop/privileged/read_only/security_opt/user → the container's
//! securityContext; group_add and sysctls → the pod's.

use serde_json::{json, Map, Value};

use crate::spec::Service;

use super::Context;

/// cap_add/cap_drop/privileged/read_only/security_opt/user → the container's securityContext.
pub fn container_security(ctx: &mut Context, at: &str, svc: &Service) -> Map<String, Value> {
    let mut sc = Map::new();
    let caps = |v: &[String]| -> Vec<String> {
        v.iter().map(|c| c.trim_start_matches("CAP_").trim_start_matches("cap_").to_uppercase()).collect()
    };
    let mut capabilities = Map::new();
    if !svc.cap_add.is_empty() {
        capabilities.insert("add".into(), json!(caps(&svc.cap_add)));
    }
    if !svc.cap_drop.is_empty() {
        capabilities.insert("drop".into(), json!(caps(&svc.cap_drop)));
    }
    if !capabilities.is_empty() {
        sc.insert("capabilities".into(), Value::Object(capabilities));
    }
    if svc.privileged {
        sc.insert("privileged".into(), json!(true));
    }
    if svc.read_only {
        sc.insert("readOnlyRootFilesystem".into(), json!(true));
    }
    for opt in &svc.security_opt {
        let o = opt.replace('=', ":");
        match o.as_str() {
            "no-new-privileges" | "no-new-privileges:true" => {
                sc.insert("allowPrivilegeEscalation".into(), json!(false));
            }
            "no-new-privileges:false" => {}
            "seccomp:unconfined" => {
                sc.insert("seccompProfile".into(), json!({ "type": "Unconfined" }));
            }
            _ => ctx.report.loss(format!("{at}.security_opt"), format!("`{opt}` is not converted")),
        }
    }
    if let Some(user) = &svc.user {
        let (u, g) = user.split_once(':').map_or((user.as_str(), None), |(u, g)| (u, Some(g)));
        match u.parse::<i64>() {
            Ok(uid) => {
                sc.insert("runAsUser".into(), json!(uid));
            }
            Err(_) => ctx.report.loss(
                format!("{at}.user"),
                format!("user name `{u}`: Kubernetes takes a numeric uid (runAsUser); the image's user applies"),
            ),
        }
        match g.map(str::parse::<i64>) {
            Some(Ok(gid)) => {
                sc.insert("runAsGroup".into(), json!(gid));
            }
            Some(Err(_)) => ctx.report.loss(
                format!("{at}.user"),
                format!("group name in `{user}`: Kubernetes takes a numeric gid (runAsGroup)"),
            ),
            None => {}
        }
    }
    sc
}

/// group_add and sysctls → the pod's securityContext.
pub fn pod_security(ctx: &mut Context, at: &str, svc: &Service) -> Map<String, Value> {
    let mut sc = Map::new();
    let mut groups = Vec::new();
    for g in &svc.group_add {
        match g.parse::<i64>() {
            Ok(gid) => groups.push(gid),
            Err(_) => ctx.report.loss(
                format!("{at}.group_add"),
                format!("group name `{g}`: Kubernetes takes numeric supplementalGroups"),
            ),
        }
    }
    if !groups.is_empty() {
        sc.insert("supplementalGroups".into(), json!(groups));
    }
    if !svc.sysctls.is_empty() {
        let mut s: Vec<Value> = svc.sysctls.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect();
        s.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        sc.insert("sysctls".into(), Value::Array(s));
        ctx.report.note(format!("{at}.sysctls"), "set in the pod's securityContext: a kubelet admits only its safe set unless allowed (--allowed-unsafe-sysctls)");
    }
    sc
}
