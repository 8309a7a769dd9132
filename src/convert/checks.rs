//! Semantic checks that the OpenAPI schemas cannot express, run by the tests on every
//! conversion: controllers restart as their kind allows, selectors select the pods they
//! are meant for, Services target ports the pods listen on, names are valid.

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
                let script = c["command"][2].as_str().unwrap_or_default();
                let host = script.split_whitespace().nth(3).unwrap_or_default();
                if !services.contains(&host) {
                    problems.push(format!("{id}: initContainer waits for `{host}`, which is no Service"));
                }
            }
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
