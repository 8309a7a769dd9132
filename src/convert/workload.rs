//! A service → its workload: a Deployment (the default), a Job (one-shot services), or a
//! DaemonSet (`deploy.mode: global`), with the pod spec built from the service's keys.

use serde_json::{json, Map, Value};

use crate::spec::model::{DependsCondition, NetworkMode, PullPolicy, RestartPolicy};
use crate::spec::Service;

use super::{names, probes, service, storage, Context, Result};

/// Which controller runs a service's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    StatefulSet,
    Job,
    DaemonSet,
}

/// Convert one service into its workload object.
pub fn convert_service(ctx: &mut Context, name: &str, svc: &Service) -> Result<()> {
    let at = format!("services.{name}");
    let dns = names::dns_label(name);
    if dns != name {
        ctx.report.loss(
            &at,
            format!("`{name}` is not a valid Kubernetes name: objects are named `{dns}`, so the host name `{name}` does not resolve in the cluster"),
        );
    }
    let kind = decide_kind(ctx, name, svc);
    let restart_policy = match (kind, svc.restart) {
        (Kind::Job, RestartPolicy::OnFailure(_)) => "OnFailure",
        (Kind::Job, _) => "Never",
        _ => "Always",
    };
    let (pod, claims) = pod_spec(ctx, name, svc, &dns, restart_policy, kind == Kind::StatefulSet)?;
    let labels = ctx.service_labels(&dns);
    let mut pod_labels = labels.clone();
    for net in svc.networks.keys() {
        pod_labels[super::policy::network_label(net)] = json!("true");
        ctx.networks_used.entry(net.clone()).or_default().push(dns.clone());
    }
    let mut template_meta = json!({ "labels": pod_labels });
    let annotations = pod_annotations(ctx, &at, svc);
    if !annotations.is_empty() {
        template_meta["annotations"] = Value::Object(annotations);
    }
    let template = json!({ "metadata": template_meta, "spec": pod });
    let metadata = ctx.metadata(&dns, labels);
    let body = match kind {
        Kind::Deployment => {
            if svc.replicas() > 1 && svc.volumes.iter().any(|v| v.source.is_some() && is_volume(v)) {
                ctx.report.loss(
                    format!("{at}.deploy.replicas"),
                    "several replicas share one named volume: unless its claim allows ReadWriteMany, replicas on other nodes will not start",
                );
            }
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
                "spec": { "replicas": svc.replicas(), "selector": { "matchLabels": ctx.selector(&dns) }, "template": template },
            })
        }
        Kind::StatefulSet => stateful_set(ctx, name, svc, &dns, metadata, template, &claims)?,
        Kind::DaemonSet => json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata,
            "spec": { "selector": { "matchLabels": ctx.selector(&dns) }, "template": template },
        }),
        Kind::Job => {
            let backoff = match svc.restart {
                RestartPolicy::OnFailure(n) => n.unwrap_or(6),
                _ => 0,
            };
            json!({
                "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
                "spec": { "backoffLimit": backoff, "template": template },
            })
        }
    };
    report_unmapped(ctx, &at, svc);
    ctx.add(&at, body)
}

/// A StatefulSet: each replica gets its own claim per named volume (volumeClaimTemplates)
/// and a stable DNS name through the headless Service `<service>-pods`.
fn stateful_set(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    dns: &str,
    metadata: Value,
    template: Value,
    claims: &[String],
) -> Result<Value> {
    let at = format!("services.{name}");
    let headless = names::dns_label(&format!("{dns}-pods"));
    let mut spec = json!({ "clusterIP": "None", "selector": ctx.selector(dns) });
    let ports: Vec<Value> = service::container_ports(ctx, name, svc)
        .into_iter()
        .map(|p| json!({ "name": p["name"], "port": p["containerPort"], "targetPort": p["containerPort"], "protocol": p["protocol"] }))
        .collect();
    if !ports.is_empty() {
        spec["ports"] = Value::Array(ports);
    }
    let service = json!({ "apiVersion": "v1", "kind": "Service", "metadata": ctx.metadata(&headless, ctx.service_labels(dns)), "spec": spec });
    ctx.add(&at, service)?;
    let mut templates = Vec::new();
    for key in claims {
        let mut labels = ctx.project_labels();
        labels.insert("app.kubernetes.io/name".into(), json!(dns));
        let claim = json!({ "metadata": { "name": names::dns_label(key), "labels": labels }, "spec": storage::claim_spec(ctx, key) });
        templates.push(claim);
        ctx.report.note(
            format!("{at}.volumes"),
            format!("`{key}` with {} replicas: a StatefulSet gives each replica its own claim (under Compose the replicas share one volume)", svc.replicas()),
        );
    }
    Ok(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata,
        "spec": {
            "replicas": svc.replicas(), "serviceName": headless, "selector": { "matchLabels": ctx.selector(dns) },
            "template": template, "volumeClaimTemplates": templates,
        },
    }))
}

/// `labels` and `annotations` (the latter kept verbatim by the loader) → the pod's
/// annotations: Kubernetes labels are for selection and have a stricter syntax.
fn pod_annotations(ctx: &mut Context, at: &str, svc: &Service) -> Map<String, Value> {
    let mut out = super::annotations(ctx, &format!("{at}.labels"), &svc.labels);
    let given: indexmap::IndexMap<String, String> = svc
        .other
        .get("annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    out.extend(super::annotations(ctx, &format!("{at}.annotations"), &given));
    out
}

fn is_volume(v: &crate::spec::model::ServiceVolume) -> bool {
    v.kind == crate::spec::model::MountKind::Volume
}

/// Deployment unless the service runs once: `x-berth-kubernetes.kind` decides when given;
/// `deploy.mode: global` is a DaemonSet; a service another waits on with
/// `service_completed_successfully` is a Job; so is one with `restart: no`/`on-failure`
/// that nothing reaches (no ports, no health check, nothing waits for it to start).
/// Compose's default restart policy is `no`, so a bare service with ports stays a Deployment.
fn decide_kind(ctx: &mut Context, name: &str, svc: &Service) -> Kind {
    let at = format!("services.{name}");
    let ext = ctx.service_ext(svc);
    match ext.get("kind").and_then(Value::as_str) {
        Some("job") => return Kind::Job,
        Some("deployment") => return Kind::Deployment,
        Some("statefulset") => return Kind::StatefulSet,
        Some("daemonset") => return Kind::DaemonSet,
        Some(other) => ctx.report.loss(
            format!("{at}.{}.kind", super::EXTENSION),
            format!("unknown kind `{other}` (job, deployment, statefulset or daemonset): decided from the service"),
        ),
        None => {}
    }
    let mode = svc.deploy.as_ref().and_then(|d| d.other.get("mode")).and_then(Value::as_str);
    if mode == Some("global") {
        return Kind::DaemonSet;
    }
    let waited_on: Vec<DependsCondition> =
        ctx.stack.services.values().filter_map(|s| s.depends_on.get(name)).map(|d| d.condition).collect();
    if waited_on.contains(&DependsCondition::ServiceCompletedSuccessfully) {
        return Kind::Job;
    }
    let restarts = matches!(svc.restart, RestartPolicy::Always | RestartPolicy::UnlessStopped);
    let reachable =
        !svc.ports.is_empty() || !svc.expose.is_empty() || svc.healthcheck.is_some() || !waited_on.is_empty();
    if restarts {
        return long_running(ctx, svc);
    }
    if !reachable {
        ctx.report.note(
            &at,
            format!("restart `{}` and nothing reaches it (no ports, health check or dependents): converted to a Job that runs once; set `{}: {{kind: deployment}}` to keep it running", String::from(svc.restart), super::EXTENSION),
        );
        return Kind::Job;
    }
    ctx.report.note(
        &at,
        format!("restart `{}` on a long-running service: its pods are restarted always (a Deployment or StatefulSet allows no other restartPolicy)", String::from(svc.restart)),
    );
    long_running(ctx, svc)
}

/// A StatefulSet when several replicas mount a named volume of the project (each replica
/// then gets a claim of its own), else a Deployment.
fn long_running(ctx: &Context, svc: &Service) -> Kind {
    let own_volume = svc.volumes.iter().any(|v| {
        is_volume(v) && v.source.as_ref().is_some_and(|k| ctx.stack.volumes.get(k).is_some_and(|vol| !vol.external))
    });
    if svc.replicas() > 1 && own_volume {
        Kind::StatefulSet
    } else {
        Kind::Deployment
    }
}

/// The pod spec: one container, the wait initContainers, volumes, pod-level settings.
fn pod_spec(
    ctx: &mut Context,
    name: &str,
    svc: &Service,
    dns: &str,
    restart_policy: &str,
    per_replica: bool,
) -> Result<(Value, Vec<String>)> {
    let at = format!("services.{name}");
    let pod_storage = storage::pod_storage(ctx, name, svc, per_replica)?;
    let mut c = container(ctx, name, svc, dns);
    if !pod_storage.mounts.is_empty() {
        c["volumeMounts"] = Value::Array(pod_storage.mounts);
    }
    // Compose injects no `<SERVICE>_PORT…` variables; Kubernetes does unless told not to.
    let mut pod = json!({ "containers": [c], "restartPolicy": restart_policy, "enableServiceLinks": false });
    if !pod_storage.volumes.is_empty() {
        pod["volumes"] = Value::Array(pod_storage.volumes);
    }
    let mut waits = wait_containers(ctx, name, svc);
    let job_waits = super::jobwait::wait_containers(ctx, name, svc)?;
    if !job_waits.is_empty() {
        super::jobwait::pod_settings(name, &mut pod);
        waits.extend(job_waits);
    }
    if !waits.is_empty() {
        pod["initContainers"] = Value::Array(waits);
    }
    if let Some(g) = &svc.stop_grace_period {
        pod["terminationGracePeriodSeconds"] = json!(g.0.as_secs() + u64::from(g.0.subsec_nanos() > 0));
    }
    if let Some(h) = &svc.hostname {
        let label = names::dns_label(h);
        if &label != h {
            ctx.report
                .loss(format!("{at}.hostname"), format!("`{h}` is not a DNS label: the pod's host name is `{label}`"));
        }
        pod["hostname"] = json!(label);
    }
    if svc.init == Some(true) {
        // The pod's pause process becomes PID 1 of a shared PID namespace and reaps
        // zombies; the workload, no longer PID 1, gets default signal dispositions.
        pod["shareProcessNamespace"] = json!(true);
        ctx.report.note(
            format!("{at}.init"),
            "shareProcessNamespace: the pod's pause process is PID 1 and reaps zombies, the service is not PID 1 (as with an init); containers of the pod see each other's processes",
        );
    }
    if !svc.extra_hosts.is_empty() {
        pod["hostAliases"] = host_aliases(svc);
    }
    let psc = super::security::pod_security(ctx, &at, svc);
    if !psc.is_empty() {
        pod["securityContext"] = Value::Object(psc);
    }
    match &svc.network_mode {
        Some(NetworkMode::Host) => {
            pod["hostNetwork"] = json!(true);
            ctx.report.note(format!("{at}.network_mode"), "host: the pod uses its node's network (hostNetwork)");
        }
        Some(NetworkMode::Bridge) | None => {}
        Some(other) => ctx.report.loss(
            format!("{at}.network_mode"),
            format!(
                "`{}` is not converted (sharing another container's network needs both in one pod)",
                String::from(other.clone())
            ),
        ),
    }
    Ok((pod, pod_storage.claim_templates))
}

/// The service's container.
fn container(ctx: &mut Context, name: &str, svc: &Service, dns: &str) -> Value {
    let at = format!("services.{name}");
    let image = match (&svc.image, &svc.build) {
        (Some(image), Some(_)) => {
            ctx.report.note(format!("{at}.build"), format!("built by berth: push `{image}` to a registry the cluster can pull from (`berth build && berth push`)"));
            image.clone()
        }
        (Some(image), None) => image.clone(),
        (None, _) => {
            let image = format!("{}-{name}", ctx.stack.name);
            ctx.report.loss(format!("{at}.build"), format!("no `image:` names the built image: the manifest uses `{image}`, which no registry has; set `image:` to a pushed name"));
            image
        }
    };
    let mut c = json!({ "name": dns, "image": image });
    if let Some(p) = &svc.pull_policy {
        match p {
            PullPolicy::Always => c["imagePullPolicy"] = json!("Always"),
            PullPolicy::Never => c["imagePullPolicy"] = json!("Never"),
            PullPolicy::Missing | PullPolicy::Refresh { .. } => c["imagePullPolicy"] = json!("IfNotPresent"),
            PullPolicy::Build => ctx.report.loss(format!("{at}.pull_policy"), "`build`: a cluster cannot build images"),
        }
    }
    if let Some(e) = &svc.entrypoint {
        c["command"] = json!(e.iter().map(|s| escape(s)).collect::<Vec<_>>());
    }
    if let Some(a) = &svc.command {
        c["args"] = json!(a.iter().map(|s| escape(s)).collect::<Vec<_>>());
    }
    let env = environment(ctx, &at, svc);
    if !env.is_empty() {
        c["env"] = Value::Array(env);
    }
    if let Some(w) = &svc.working_dir {
        c["workingDir"] = json!(w);
    }
    let ports = service::container_ports(ctx, name, svc);
    if !ports.is_empty() {
        c["ports"] = Value::Array(ports);
    }
    let res = super::resources::resources(ctx, &at, svc);
    if !res.is_empty() {
        c["resources"] = Value::Object(res);
    }
    let sc = super::security::container_security(ctx, &at, svc);
    if !sc.is_empty() {
        c["securityContext"] = Value::Object(sc);
    }
    for (key, probe) in probes::probes(ctx, name, svc) {
        c[key] = probe;
    }
    let hooks = lifecycle(ctx, &at, svc);
    if !hooks.is_empty() {
        c["lifecycle"] = Value::Object(hooks);
    }
    if svc.tty {
        c["tty"] = json!(true);
    }
    if svc.stdin_open {
        c["stdin"] = json!(true);
    }
    c
}

/// Compose's lifecycle hooks that a container hook can carry.
const HOOKS: [(&str, &str); 2] = [("post_start", "postStart"), ("pre_stop", "preStop")];

/// `post_start`/`pre_stop` → `lifecycle.postStart`/`preStop` exec hooks. Kubernetes runs one
/// command per hook, as the container's user, in its working directory and environment: more
/// hooks, or a hook's own user/privileged/working_dir/environment, are reported.
fn lifecycle(ctx: &mut Context, at: &str, svc: &Service) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, k8s) in HOOKS {
        let Some(hooks) = svc.other.get(key).and_then(Value::as_array) else { continue };
        let hat = format!("{at}.{key}");
        if hooks.len() > 1 {
            ctx.report.loss(&hat, format!("{} hooks: Kubernetes runs one; only the first is converted", hooks.len()));
        }
        let Some(hook) = hooks.first() else { continue };
        let command: Vec<String> = match &hook["command"] {
            Value::String(s) => vec!["/bin/sh".into(), "-c".into(), escape(s)],
            Value::Array(a) => {
                a.iter().map(|v| escape(&v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            }
            _ => {
                ctx.report.loss(&hat, "no command: not converted");
                continue;
            }
        };
        for extra in ["user", "privileged", "working_dir", "environment"] {
            if hook.get(extra).is_some_and(|v| !v.is_null()) {
                ctx.report
                    .loss(format!("{hat}[0].{extra}"), "a Kubernetes hook runs as the container does: not converted");
            }
        }
        out.insert(k8s.into(), json!({ "exec": { "command": command } }));
    }
    out
}

/// Kubernetes expands `$(VAR)` and reduces `$$` to `$` in command, args and env values;
/// Compose has already resolved its own `$`, so every `$` that Kubernetes would read
/// specially is doubled to reach the process as written.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$') | Some('(')) {
            out.push('$');
        }
    }
    out
}

/// `environment` (env_file already merged in by the loader), sorted by name.
fn environment(ctx: &mut Context, at: &str, svc: &Service) -> Vec<Value> {
    let mut vars: Vec<(&String, &Option<String>)> = svc.environment.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::new();
    for (k, v) in vars {
        match v {
            Some(v) => out.push(json!({ "name": k, "value": escape(v) })),
            None => ctx.report.loss(
                format!("{at}.environment.{k}"),
                "declared without a value and unset when converting: not set in the pod",
            ),
        }
    }
    out
}

/// The initContainers that hold the pod until each `depends_on` dependency answers on its
/// Service's first port (`service_completed_successfully` is [`super::jobwait`]'s). A Service only routes to ready pods (readiness probe = the health
/// check), so for `service_healthy` a connection means a healthy dependency exists; for
/// `service_started` it is stricter than Compose (listening, not merely started).
fn wait_containers(ctx: &mut Context, name: &str, svc: &Service) -> Vec<Value> {
    let mut deps: Vec<(&String, &crate::spec::model::Dependency)> = svc.depends_on.iter().collect();
    deps.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::new();
    for (dep, d) in deps {
        let at = format!("services.{name}.depends_on.{dep}");
        if d.restart {
            ctx.report.loss(
                format!("{at}.restart"),
                "restart: true (restart this service when the dependency restarts) has no Kubernetes equivalent",
            );
        }
        if d.condition == DependsCondition::ServiceCompletedSuccessfully {
            continue; // a Job: waited for by super::jobwait
        }
        let Some(dep_svc) = ctx.stack.services.get(dep) else { continue };
        if !ctx.opts.services.is_empty() && !ctx.opts.services.contains(dep) {
            ctx.report.note(&at, format!("`{dep}` is not among the services converted: the pod waits for a Service `{}` that this output does not create", names::dns_label(dep)));
        }
        let Some(port) = service::first_port(dep_svc) else {
            ctx.report.loss(at, format!("`{dep}` has no ports or expose: there is no Service to wait for, so the pod starts without waiting (add `expose:` to `{dep}`)"));
            continue;
        };
        if !reachable(svc, dep_svc, port) {
            ctx.report.loss(at, format!("`{name}` and `{dep}` share no network and port {port} is not published: the NetworkPolicies would block the wait forever, so the pod starts without waiting"));
            continue;
        }
        let host = names::dns_label(dep);
        let script = format!("until nc -z {host} {port}; do echo waiting for {host}:{port}; sleep 1; done");
        out.push(json!({
            "name": names::dns_label(&format!("wait-for-{dep}")),
            "image": ctx.opts.wait_image,
            "command": ["sh", "-c", script],
        }));
    }
    out
}

/// Whether the NetworkPolicies let `svc`'s pod connect to `dep` on `port`: they share a
/// network, or the port is published (admitted from anywhere). Host-network pods are
/// selected by no policy.
fn reachable(svc: &Service, dep: &Service, port: u16) -> bool {
    let host = |s: &Service| matches!(s.network_mode, Some(NetworkMode::Host));
    host(svc)
        || host(dep)
        || svc.networks.keys().any(|n| dep.networks.contains_key(n))
        || dep.ports.iter().any(|p| p.target == port)
}

/// `extra_hosts` → hostAliases, one entry per address with its names, sorted.
fn host_aliases(svc: &Service) -> Value {
    let mut by_ip: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (host, ips) in &svc.extra_hosts {
        for ip in ips {
            by_ip.entry(ip.as_str()).or_default().push(host.as_str());
        }
    }
    Value::Array(
        by_ip
            .into_iter()
            .map(|(ip, mut hosts)| {
                hosts.sort();
                json!({ "ip": ip, "hostnames": hosts })
            })
            .collect(),
    )
}

/// Every key of the service that the manifests do not carry.
fn report_unmapped(ctx: &mut Context, at: &str, svc: &Service) {
    let ext = ctx.service_ext(svc);
    for k in ext.as_object().into_iter().flat_map(|o| o.keys()) {
        if !["kind", "liveness", "host_path"].contains(&k.as_str()) {
            ctx.report.loss(
                format!("{at}.{}.{k}", super::EXTENSION),
                "unknown setting (kind, liveness and host_path are known): ignored",
            );
        }
    }
    let r = &mut ctx.report;
    let mut loss = |cond: bool, key: &str, why: &str| {
        if cond {
            r.loss(format!("{at}.{key}"), why);
        }
    };
    loss(
        svc.stop_signal.is_some(),
        "stop_signal",
        "Kubernetes 1.30 always sends SIGTERM (bake STOPSIGNAL into the image)",
    );
    loss(svc.domainname.is_some(), "domainname", "not converted (a pod subdomain needs a headless Service)");
    loss(svc.memswap_limit.is_some(), "memswap_limit", "swap is a node setting in Kubernetes");
    loss(svc.cpu_shares.is_some(), "cpu_shares", "not converted (use deploy.resources.reservations.cpus)");
    loss(svc.cpu_quota.is_some(), "cpu_quota", "not converted (use cpus)");
    loss(svc.cpu_period.is_some(), "cpu_period", "not converted (use cpus)");
    loss(svc.cpuset.is_some(), "cpuset", "CPU pinning is the kubelet's CPU manager policy");
    loss(svc.pids_limit.is_some(), "pids_limit", "a pod has no per-container pids limit (it is a kubelet setting)");
    loss(svc.blkio_config.is_some(), "blkio_config", "no block I/O limits in Kubernetes");
    loss(!svc.ulimits.is_empty(), "ulimits", "no ulimits in Kubernetes (the container runtime's defaults apply)");
    loss(
        !svc.dns.is_empty(),
        "dns",
        "cluster DNS applies: nameservers are not converted (a pod resolving elsewhere loses the Service names)",
    );
    loss(!svc.dns_search.is_empty(), "dns_search", "not converted: the pod's search list is the cluster's");
    loss(!svc.dns_opt.is_empty(), "dns_opt", "not converted: the pod's resolver options are the cluster's");
    loss(svc.logging.is_some(), "logging", "logs go to the node's container runtime log");
    loss(!svc.devices.is_empty(), "devices", "host devices need a device plugin");
    loss(!svc.external_links.is_empty(), "external_links", "not converted");
    loss(!svc.volumes_from.is_empty(), "volumes_from", "not converted (share volumes explicitly)");
    loss(svc.ipc.is_some(), "ipc", "not converted");
    loss(svc.pid.is_some(), "pid", "not converted");
    loss(svc.uts.is_some(), "uts", "not converted");
    loss(svc.platform.is_some(), "platform", "not converted (use a nodeSelector on kubernetes.io/arch)");
    loss(svc.mac_address.is_some(), "mac_address", "not converted");
    loss(svc.oom_score_adj.is_some(), "oom_score_adj", "the kubelet sets it from the QoS class");
    loss(svc.container_name.is_some(), "container_name", "pod names are generated; the Service name is the service's");
    let links_aliased = svc.links.iter().any(|l| l.contains(':'));
    loss(links_aliased, "links", "link aliases are not converted (service names resolve through Services)");
    if svc.develop.is_some() {
        ctx.report.note(format!("{at}.develop"), "watch rules are for local development: not converted");
    }
    if let Some(d) = &svc.deploy {
        for k in d.other.keys().filter(|k| k.as_str() != "mode") {
            ctx.report.loss(format!("{at}.deploy.{k}"), "not converted");
        }
    }
    for (net, n) in &svc.networks {
        let ip = n.ipv4_address.is_some() || n.ipv6_address.is_some();
        if ip {
            ctx.report.loss(format!("{at}.networks.{net}"), "fixed addresses: pod IPs are assigned by the cluster");
        }
        if n.mac_address.is_some() || n.priority.is_some() {
            ctx.report.loss(format!("{at}.networks.{net}"), "mac_address/priority are not converted");
        }
    }
    for k in svc.other.keys() {
        if k == super::EXTENSION || k == "annotations" || HOOKS.iter().any(|(h, _)| h == k) {
            continue;
        }
        if k.starts_with("x-") {
            ctx.report.note(format!("{at}.{k}"), "extension: not converted");
        } else {
            ctx.report.loss(format!("{at}.{k}"), "not converted");
        }
    }
}
