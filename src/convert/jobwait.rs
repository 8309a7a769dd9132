//! `depends_on: {DEP: {condition: service_completed_successfully}}` → DEP is a Job, and the
//! dependent's pod waits in an initContainer until that Job has succeeded.
//!
//! Completion is not visible through DNS or a port (a finished Job's pods listen on
//! nothing), so the wait reads the Job's status from the API server. It does so with the
//! least access that works: a ServiceAccount `<service>-waits` bound to a Role that may only
//! `get` the named Jobs; the pod sets `automountServiceAccountToken: false`, and the token
//! (a projected, expiring one) is mounted into the wait initContainers only, so the
//! service's own container never holds it. The initContainer polls every 2 s until the Job
//! reports a succeeded pod; if the Job has failed (its `Failed` condition), it exits 1, so
//! the dependent never starts, as under Compose, and the pod shows `Init:Error`.

use serde_json::{json, Value};

use crate::spec::model::DependsCondition;
use crate::spec::Service;

use super::{names, Context, Result};

/// Where the wait containers find the token, CA and namespace (the standard layout).
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The pod volume holding them.
const TOKEN_VOLUME: &str = "job-wait-token";

/// The services `svc` waits on with `service_completed_successfully`, sorted.
pub fn jobs_waited_for(svc: &Service) -> Vec<&String> {
    let mut deps: Vec<&String> = svc
        .depends_on
        .iter()
        .filter(|(_, d)| d.condition == DependsCondition::ServiceCompletedSuccessfully)
        .map(|(k, _)| k)
        .collect();
    deps.sort();
    deps
}

/// Whether `dep` is converted to a Job: it is, as something waits for it to complete,
/// unless `x-berth-kubernetes.kind` or `deploy.mode: global` says otherwise.
fn is_job(ctx: &Context, dep: &Service) -> bool {
    let kind = ctx.service_ext(dep).get("kind").and_then(Value::as_str).map(str::to_string);
    let global = dep.deploy.as_ref().and_then(|d| d.other.get("mode")).and_then(Value::as_str) == Some("global");
    match kind.as_deref() {
        Some("job") => true,
        Some("deployment" | "statefulset" | "daemonset") => false,
        _ => !global,
    }
}

/// The script an initContainer runs to wait for Job `$JOB` (set in its environment).
fn script() -> String {
    format!(
        "t={TOKEN_DIR}; url=https://kubernetes.default.svc/apis/batch/v1/namespaces/$(cat $t/namespace)/jobs/$JOB; \
         while :; do \
         s=$(curl -sS --fail --cacert $t/ca.crt -H \"Authorization: Bearer $(cat $t/token)\" \"$url\") || s=; \
         echo \"$s\" | grep -Eq '\"succeeded\": *[1-9]' && exit 0; \
         echo \"$s\" | grep -Eq '\"type\": *\"Failed\"' && {{ echo \"job $JOB failed\"; exit 1; }}; \
         echo \"waiting for job $JOB to complete\"; sleep 2; done"
    )
}

/// The initContainers waiting for the Jobs `svc` depends on (empty: none), and records the
/// ServiceAccount, Role and RoleBinding they need. Reports a dependency that is no Job.
pub fn wait_containers(ctx: &mut Context, name: &str, svc: &Service) -> Result<Vec<Value>> {
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    for dep in jobs_waited_for(svc) {
        let at = format!("services.{name}.depends_on.{dep}");
        let Some(dep_svc) = ctx.stack.services.get(dep) else { continue };
        if !is_job(ctx, dep_svc) {
            ctx.report.loss(
                at,
                format!("service_completed_successfully: `{dep}` is not converted to a Job, so there is no completion to wait for; the pod starts without waiting"),
            );
            continue;
        }
        if !ctx.opts.services.is_empty() && !ctx.opts.services.contains(dep) {
            ctx.report.note(&at, format!("`{dep}` is not among the services converted: the pod waits for a Job `{}` that this output does not create", names::dns_label(dep)));
        }
        let job = names::dns_label(dep);
        out.push(json!({
            "name": names::dns_label(&format!("wait-for-{dep}")),
            "image": ctx.opts.job_wait_image,
            "command": ["sh", "-c", super::workload::escape(&script())],
            "env": [{ "name": "JOB", "value": job }],
            "volumeMounts": [{ "name": TOKEN_VOLUME, "mountPath": TOKEN_DIR, "readOnly": true }],
        }));
        ctx.report.note(
            &at,
            format!("service_completed_successfully: `{dep}` is a Job; the pod waits (initContainer, ServiceAccount `{}` allowed only to get that Job) until it has succeeded, and stays in Init if it failed", account(name)),
        );
        jobs.push(job);
    }
    if !jobs.is_empty() {
        access(ctx, name, &jobs)?;
        api_egress(ctx, name, svc)?;
    }
    Ok(out)
}

/// A pod only on `internal` networks may reach nothing but its networks and kube-dns, so
/// the wait could not reach the API server: this policy adds egress to TCP 443 and 6443
/// (the API server's Service port and its usual endpoint port: policies see the endpoint)
/// for that pod. NetworkPolicies cannot name the API server, so any destination is allowed
/// on those ports, for the whole pod; reported as a note.
fn api_egress(ctx: &mut Context, name: &str, svc: &Service) -> Result<()> {
    let internal = |net: &String| ctx.stack.networks.get(net).is_some_and(|n| n.internal);
    if svc.networks.is_empty() || !svc.networks.keys().all(internal) {
        return Ok(());
    }
    let dns = names::dns_label(name);
    let policy = names::dns_label(&format!("{name}-api-egress"));
    let body = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": ctx.metadata(&policy, ctx.service_labels(&dns)),
        "spec": {
            "podSelector": { "matchLabels": ctx.selector(&dns) },
            "policyTypes": ["Egress"],
            "egress": [{ "ports": [{ "port": 443, "protocol": "TCP" }, { "port": 6443, "protocol": "TCP" }] }],
        },
    });
    ctx.add(&format!("services.{name}.depends_on"), body)?;
    ctx.report.note(
        format!("services.{name}.networks"),
        format!("only on internal networks, but waiting for a Job reads the API server: NetworkPolicy `{policy}` lets the pod reach TCP 443 and 6443 anywhere"),
    );
    Ok(())
}

/// The ServiceAccount, Role and RoleBinding of a waiting service.
fn account(name: &str) -> String {
    names::dns_label(&format!("{name}-waits"))
}

/// Sets the pod's ServiceAccount and the token volume the wait containers mount.
pub fn pod_settings(name: &str, pod: &mut Value) {
    pod["serviceAccountName"] = json!(account(name));
    pod["automountServiceAccountToken"] = json!(false);
    let volume = json!({
        "name": TOKEN_VOLUME,
        "projected": { "sources": [
            { "serviceAccountToken": { "path": "token", "expirationSeconds": 3600 } },
            { "configMap": { "name": "kube-root-ca.crt", "items": [{ "key": "ca.crt", "path": "ca.crt" }] } },
            { "downwardAPI": { "items": [{ "path": "namespace", "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" } }] } },
        ] },
    });
    match pod["volumes"].as_array_mut() {
        Some(v) => v.push(volume),
        None => pod["volumes"] = json!([volume]),
    }
}

fn access(ctx: &mut Context, name: &str, jobs: &[String]) -> Result<()> {
    let at = format!("services.{name}.depends_on");
    let acct = account(name);
    let labels = ctx.service_labels(&names::dns_label(name));
    let sa = json!({
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": ctx.metadata(&acct, labels.clone()),
        "automountServiceAccountToken": false,
    });
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ctx.metadata(&acct, labels.clone()),
        "rules": [{ "apiGroups": ["batch"], "resources": ["jobs"], "resourceNames": jobs, "verbs": ["get"] }],
    });
    let mut subject = json!({ "kind": "ServiceAccount", "name": acct });
    if let Some(ns) = &ctx.opts.namespace {
        subject["namespace"] = json!(ns);
    }
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ctx.metadata(&acct, labels),
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": acct },
        "subjects": [subject],
    });
    for body in [sa, role, binding] {
        ctx.add(&at, body)?;
    }
    Ok(())
}
