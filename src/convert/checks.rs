//! Semantic checks that the OpenAPI schemas cannot express, run by the tests on every
//! conversion: controllers restart as their kind allows, selectors select the pods they
//! are meant for, Services target ports the pods listen on, names are valid, probes check
//! declared ports, mounts name volumes, a Job wait has its Job and the Role to read it.

use serde_json::Value;

use super::{names, Manifest};

fn is_subset(sel: &Value, labels: &Value) -> bool {
    match (sel.as_object(), labels.as_object()) {
        (Some(sel), Some(labels)) => !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

fn pod_template(m: &Manifest) -> Option<&Value> {
    matches!(m.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job").then(|| &m.body["spec"]["template"])
}

/// Every problem found, one line each (empty: all good).
pub fn check(manifests: &[Manifest]) -> Vec<String> {
    let mut problems = Vec::new();
    let templates: Vec<&Value> = manifests.iter().filter_map(pod_template).collect();
    let services: Vec<&str> = manifests.iter().filter(|m| m.kind == "Service").map(|m| m.name.as_str()).collect();
    for m in manifests {
        let id = format!("{}/{}", m.kind, m.name);
        if names::dns_label(&m.name) != m.name {
            problems.push(format!("{id}: name is not a DNS-1035 label"));
        }
        let spec = &m.body["spec"];
        if let Some(t) = pod_template(m) {
            let policy = t["spec"]["restartPolicy"].as_str().unwrap_or("Always");
            let ok = if m.kind == "Job" { policy == "Never" || policy == "OnFailure" } else { policy == "Always" };
            if !ok {
                problems.push(format!("{id}: restartPolicy {policy} is not allowed"));
            }
            if m.kind != "Job" && !is_subset(&spec["selector"]["matchLabels"], &t["metadata"]["labels"]) {
                problems.push(format!("{id}: selector does not match the template's labels"));
            }
            for c in t["spec"]["initContainers"].as_array().into_iter().flatten() {
                match job_waited_for(c) {
                    Some(job) => problems.extend(check_job_wait(manifests, &id, &t["spec"], job)),
                    None => {
                        let script = c["command"][2].as_str().unwrap_or_default();
                        let host = script.split_whitespace().nth(3).unwrap_or_default();
                        if !services.contains(&host) {
                            problems.push(format!("{id}: initContainer waits for `{host}`, which is no Service"));
                        }
                    }
                }
            }
            problems.extend(check_mounts(&id, spec, &t["spec"]));
            problems.extend(check_probes(&id, &t["spec"]));
        }
        match m.kind.as_str() {
            "Service" => {
                let pods: Vec<&&Value> =
                    templates.iter().filter(|t| is_subset(&spec["selector"], &t["metadata"]["labels"])).collect();
                if pods.is_empty() {
                    problems.push(format!("{id}: selector matches no pod template"));
                }
                for p in spec["ports"].as_array().into_iter().flatten() {
                    let listens = pods.iter().any(|t| {
                        t["spec"]["containers"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                            .any(|cp| cp["containerPort"] == p["targetPort"])
                    });
                    if !listens {
                        problems.push(format!("{id}: targetPort {} is no containerPort of its pods", p["targetPort"]));
                    }
                }
            }
            "NetworkPolicy"
                if !templates
                    .iter()
                    .any(|t| is_subset(&spec["podSelector"]["matchLabels"], &t["metadata"]["labels"])) =>
            {
                problems.push(format!("{id}: podSelector matches no pod template"));
            }
            _ => {}
        }
    }
    problems
}

/// The Job an initContainer of [`super::jobwait`] waits for (its `JOB` variable).
fn job_waited_for(c: &Value) -> Option<&str> {
    c["env"].as_array()?.iter().find(|e| e["name"] == "JOB")?["value"].as_str()
}

/// A Job wait needs the Job, and the pod's ServiceAccount bound to a Role that may get it.
fn check_job_wait(manifests: &[Manifest], id: &str, pod: &Value, job: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !manifests.iter().any(|m| m.kind == "Job" && m.name == job) {
        problems.push(format!("{id}: initContainer waits for Job `{job}`, which is not generated"));
    }
    let account = pod["serviceAccountName"].as_str().unwrap_or_default();
    let allowed = manifests.iter().filter(|m| m.kind == "RoleBinding").any(|b| {
        let bound = b.body["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["kind"] == "ServiceAccount" && s["name"] == account);
        let role = b.body["roleRef"]["name"].as_str().unwrap_or_default();
        bound
            && manifests.iter().any(|r| {
                r.kind == "Role"
                    && r.name == role
                    && r.body["rules"].as_array().into_iter().flatten().any(|rule| {
                        let has = |k: &str, v: &str| rule[k].as_array().is_some_and(|a| a.iter().any(|x| x == v));
                        has("apiGroups", "batch")
                            && has("resources", "jobs")
                            && has("verbs", "get")
                            && has("resourceNames", job)
                    })
            })
    });
    if !allowed {
        problems.push(format!("{id}: ServiceAccount `{account}` may not get Job `{job}`"));
    }
    problems
}

/// Every volumeMount names a volume of the pod (or a StatefulSet's claim template).
fn check_mounts(id: &str, spec: &Value, pod: &Value) -> Vec<String> {
    let mut known: Vec<&Value> = pod["volumes"].as_array().into_iter().flatten().map(|v| &v["name"]).collect();
    known.extend(spec["volumeClaimTemplates"].as_array().into_iter().flatten().map(|c| &c["metadata"]["name"]));
    let mut problems = Vec::new();
    for key in ["containers", "initContainers"] {
        for c in pod[key].as_array().into_iter().flatten() {
            for m in c["volumeMounts"].as_array().into_iter().flatten() {
                if !known.contains(&&m["name"]) {
                    problems.push(format!("{id}: container {} mounts unknown volume {}", c["name"], m["name"]));
                }
            }
        }
    }
    problems
}

/// A probe is an exec, or checks a port (number or name) its container declares.
fn check_probes(id: &str, pod: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for c in pod["containers"].as_array().into_iter().flatten() {
        let ports: Vec<&Value> = c["ports"].as_array().into_iter().flatten().collect();
        for key in ["readinessProbe", "startupProbe", "livenessProbe"] {
            let probe = &c[key];
            let port = ["httpGet", "tcpSocket", "grpc"].iter().map(|k| &probe[*k]["port"]).find(|p| !p.is_null());
            let ok = match port {
                None => probe.is_null() || probe["exec"]["command"].as_array().is_some_and(|a| !a.is_empty()),
                Some(p) => ports.iter().any(|cp| cp["containerPort"] == *p || cp["name"] == *p),
            };
            if !ok {
                problems.push(format!("{id}: {key} of {} checks no port of its container", c["name"]));
            }
        }
    }
    problems
}
