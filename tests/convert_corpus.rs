//! The corpus: a few dozen stacks in the style of public compose files (awesome-compose
//! samples, the official files of common projects), under tests/fixtures/k8s/corpus. Every
//! one converts, passes the semantic checks, converts to the same bytes twice, validates
//! against Kubernetes' OpenAPI schemas (1.25, 1.30 and 1.37) in strict mode, and
//! round-trips: each workload's container, env, ports and mounts are what
//! `berth config --format json` says the service has. No root, no cluster, no network.

#[path = "convert_common/mod.rs"]
mod convert_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use berth::convert::{checks, names, Manifest};
use convert_common::{
    berth, convert, manifest_files, read_manifests, validate_strict_for, validator, K8S_VERSIONS, REPORT,
};

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/corpus");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path().join("compose.yaml"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    assert!(found.len() >= 30, "the corpus should hold at least 30 stacks, found {}", found.len());
    found
}

fn stack_name(file: &Path) -> String {
    file.parent().and_then(Path::file_name).and_then(|n| n.to_str()).expect("stack dir").to_string()
}

#[test]
fn corpus_converts_checks_and_validates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut all_files = Vec::new();
    for file in corpus() {
        let name = stack_name(&file);
        let out = tmp.path().join(&name);
        let run = convert(&file, &out, &[]);
        assert!(run.status.success(), "{name}: convert failed:\n{}", String::from_utf8_lossy(&run.stderr));
        assert!(out.join(REPORT).is_file(), "{name}: no report");
        let files = manifest_files(&out);
        let manifests = read_manifests(&files);
        assert!(manifests.iter().any(|m| m.body["spec"]["template"].is_object()), "{name}: no workload");
        assert_eq!(checks::check(&manifests), Vec::<String>::new(), "{name}: semantic checks");
        for m in &manifests {
            let labels = &m.body["metadata"]["labels"];
            assert_eq!(labels["app.kubernetes.io/managed-by"], "berth", "{name}: {}/{} labels", m.kind, m.name);
            assert!(labels["app.kubernetes.io/part-of"].is_string(), "{name}: {}/{} part-of", m.kind, m.name);
        }
        let again = tmp.path().join(format!("{name}.again"));
        assert!(convert(&file, &again, &[]).status.success());
        for f in files.iter().chain([&out.join(REPORT), &out.join("kustomization.yaml")]) {
            let twin = again.join(f.file_name().expect("name"));
            assert_eq!(
                std::fs::read(f).ok(),
                std::fs::read(&twin).ok(),
                "{name}: {} differs between runs",
                f.display()
            );
        }
        all_files.extend(files);
    }
    // One validator run per version for the whole corpus (its start-up dominates); a
    // failure names the file.
    match validator() {
        Some(v) => {
            for version in K8S_VERSIONS {
                validate_strict_for(&v, &all_files, "corpus", version);
            }
        }
        None => {
            eprintln!("SKIP (schema validation of the corpus): kubernetes-validate not found; run scripts/install-deps")
        }
    }
}

/// What Kubernetes hands the process for a command, args or env value: `$$` becomes `$`
/// (references to variables that are not defined, as here, stay as written).
fn k8s_expand(s: &str) -> String {
    s.replace("$$", "$")
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().map(|s| k8s_expand(s.as_str().expect("string"))).collect())
}

fn workload<'a>(ms: &'a [Manifest], dns: &str) -> Option<&'a Value> {
    ms.iter()
        .find(|m| matches!(m.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job") && m.name == dns)
        .map(|m| &m.body)
}

/// `expose:` entry → (first port, protocol).
fn expose(e: &str) -> (u64, String) {
    let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
    let first = port.split('-').next().unwrap_or(port);
    (first.trim().parse().expect("expose port"), proto.to_uppercase())
}

/// The mount paths `berth config` implies for a service (bind mounts excluded: reported).
fn expected_mounts(svc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in svc["volumes"].as_array().into_iter().flatten() {
        if v["type"] != "bind" {
            out.insert(v["target"].as_str().expect("target").to_string());
        }
    }
    for t in svc["tmpfs"].as_array().into_iter().flatten() {
        let t = t.as_str().expect("tmpfs");
        out.insert(t.split_once(':').map_or(t, |(p, _)| p).to_string());
    }
    if !svc["shm_size"].is_null() {
        out.insert("/dev/shm".into());
    }
    for (key, dir) in [("secrets", "/run/secrets"), ("configs", "")] {
        for r in svc[key].as_array().into_iter().flatten() {
            let target = r["target"].as_str().unwrap_or_else(|| r["source"].as_str().expect("source"));
            out.insert(if target.starts_with('/') { target.to_string() } else { format!("{dir}/{target}") });
        }
    }
    out
}

/// One service: the manifests against `berth config`'s view of it; problems as lines.
fn round_trip(project: &str, name: &str, svc: &Value, ms: &[Manifest], report: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let dns = names::dns_label(name);
    let Some(w) = workload(ms, &dns) else { return vec![format!("{name}: no workload")] };
    let pod = &w["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let mut check = |what: &str, ok: bool, got: &dyn std::fmt::Debug, want: &dyn std::fmt::Debug| {
        if !ok {
            problems.push(format!("{name}: {what}: manifests have {got:?}, berth config says {want:?}"));
        }
    };
    let image = svc["image"].as_str().map_or_else(|| format!("{project}-{name}"), str::to_string);
    check("image", c["image"] == image.as_str(), &c["image"], &image);
    let (cmd, ep) = (strings(&c["args"]), strings(&svc["entrypoint"]));
    check("entrypoint", strings(&c["command"]) == ep, &c["command"], &ep);
    check("command", cmd == strings(&svc["command"]), &cmd, &svc["command"]);
    let env: BTreeMap<String, String> = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].as_str().expect("name").to_string(), k8s_expand(e["value"].as_str().expect("value"))))
        .collect();
    let want_env: BTreeMap<String, String> = svc["environment"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    check("environment", env == want_env, &env, &want_env);
    let ports: BTreeSet<(u64, String)> = c["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["containerPort"].as_u64().expect("port"), p["protocol"].as_str().expect("proto").to_string()))
        .collect();
    let mut want_ports: BTreeSet<(u64, String)> = svc["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["target"].as_u64().expect("target"), p["protocol"].as_str().unwrap_or("tcp").to_uppercase()))
        .collect();
    want_ports.extend(svc["expose"].as_array().into_iter().flatten().map(|e| expose(e.as_str().expect("expose"))));
    check("ports", ports == want_ports, &ports, &want_ports);
    let mounts: BTreeSet<String> = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["mountPath"].as_str().expect("path").to_string())
        .collect();
    let want_mounts = expected_mounts(svc);
    check("mounts", mounts == want_mounts, &mounts, &want_mounts);
    check("working_dir", c["workingDir"] == svc["working_dir"], &c["workingDir"], &svc["working_dir"]);
    if let Some(uid) = svc["user"].as_str().and_then(|u| u.split(':').next()).and_then(|u| u.parse::<i64>().ok()) {
        let got = &c["securityContext"]["runAsUser"];
        check("user", got.as_i64() == Some(uid), got, &uid);
    }
    for (i, v) in svc["volumes"].as_array().into_iter().flatten().enumerate() {
        let line = format!("loss: services.{name}.volumes[{i}]: bind mount");
        if v["type"] == "bind" && !report.contains(&line) {
            problems.push(format!("{name}: bind mount {} is not in the report", v["target"]));
        }
    }
    problems
}

#[test]
fn corpus_round_trips_against_berth_config() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut problems = Vec::new();
    let mut services = 0;
    for file in corpus() {
        let name = stack_name(&file);
        let cfg = berth(&file).args(["config", "--format", "json"]).output().expect("berth config");
        assert!(cfg.status.success(), "{name}: config failed:\n{}", String::from_utf8_lossy(&cfg.stderr));
        let cfg: Value = serde_json::from_slice(&cfg.stdout).expect("config is JSON");
        let out = tmp.path().join(&name);
        let run = convert(&file, &out, &[]);
        assert!(run.status.success(), "{name}: convert failed:\n{}", String::from_utf8_lossy(&run.stderr));
        let ms = read_manifests(&manifest_files(&out));
        let report = std::fs::read_to_string(out.join(REPORT)).expect("report");
        let project = cfg["name"].as_str().expect("project name");
        for (svc_name, svc) in cfg["services"].as_object().expect("services") {
            services += 1;
            problems
                .extend(round_trip(project, svc_name, svc, &ms, &report).into_iter().map(|p| format!("{name}: {p}")));
        }
    }
    assert!(services >= 100, "only {services} services in the corpus");
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn round_trip_notices_a_difference() {
    // The comparison can fail: a manifest that lost an env var and a mount is caught.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/corpus/django-postgres/compose.yaml");
    let cfg = berth(&file).args(["config", "--format", "json"]).output().expect("berth config");
    let cfg: Value = serde_json::from_slice(&cfg.stdout).expect("config is JSON");
    let tmp = tempfile::tempdir().expect("tempdir");
    assert!(convert(&file, tmp.path(), &[]).status.success());
    let mut ms = read_manifests(&manifest_files(tmp.path()));
    let web = ms.iter_mut().find(|m| m.kind == "Deployment" && m.name == "web").expect("web");
    let c = &mut web.body["spec"]["template"]["spec"]["containers"][0];
    c["env"].as_array_mut().expect("env").pop();
    c["ports"] = serde_json::json!([]);
    let problems = round_trip("django-postgres", "web", &cfg["services"]["web"], &ms, "");
    assert!(problems.iter().any(|p| p.starts_with("web: environment")), "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("web: ports")), "{problems:?}");
    let db = round_trip("django-postgres", "db", &cfg["services"]["db"], &ms, "");
    assert_eq!(db, Vec::<String>::new());
}
