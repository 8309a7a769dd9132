//! `berth convert --to kubernetes` through the real binary: every stack of examples/stacks
//! and of tests/fixtures/k8s converts, passes berth's semantic checks, converts the same
//! twice, and validates offline against Kubernetes 1.30's OpenAPI schemas in strict mode
//! with `kubernetes-validate` (PyPI; scripts/install-deps installs it). No root, no cluster.
//! Without the validator the schema step is skipped with a loud SKIP line, never passed.

#[path = "convert_common/mod.rs"]
mod convert_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use berth::convert::checks;
use convert_common::{convert, manifest_files, read_manifests, validate_strict, validator, REPORT};

fn stacks() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples/stacks", "tests/fixtures/k8s"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("stack dir")
            .map(|e| e.expect("entry").path().join("compose.yaml"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        out.extend(found);
    }
    assert!(out.len() >= 8, "expected the examples and the fixtures, found {out:?}");
    out
}

#[test]
fn every_stack_converts_checks_and_validates() {
    let validator = validator();
    if validator.is_none() {
        eprintln!("SKIP (schema validation): kubernetes-validate not found; run scripts/install-deps (pip install kubernetes-validate). Conversion and semantic checks still run.");
    }
    for file in stacks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("k8s");
        let run = convert(&file, &out, &[]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{}: convert failed:\n{stderr}", file.display());
        let report = std::fs::read_to_string(out.join(REPORT)).expect("report written");
        // The report on stderr is the report in the file.
        assert!(stderr.contains(report.lines().next().unwrap_or_default()), "{}: report not on stderr", file.display());
        let files = manifest_files(&out);
        assert!(!files.is_empty(), "{}: no manifests", file.display());
        let kustomization = std::fs::read_to_string(out.join("kustomization.yaml")).expect("kustomization");
        for f in &files {
            let name = f.file_name().and_then(|n| n.to_str()).expect("file name");
            assert!(kustomization.contains(name), "{}: kustomization lacks {name}", file.display());
        }
        let manifests = read_manifests(&files);
        assert_eq!(checks::check(&manifests), Vec::<String>::new(), "{}: semantic checks", file.display());
        assert!(manifests.iter().all(|m| m.body["metadata"]["namespace"] == "demo"));

        // Same input, same bytes.
        let again = tmp.path().join("again");
        assert!(convert(&file, &again, &[]).status.success());
        for f in &files {
            let twin = again.join(f.file_name().expect("name"));
            assert_eq!(
                std::fs::read(f).expect("a"),
                std::fs::read(&twin).expect("b"),
                "{}: not deterministic",
                f.display()
            );
        }

        if let Some(v) = &validator {
            validate_strict(v, &files, &file.display().to_string());
        }
    }
}

#[test]
fn json_output_validates_too() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/shop/compose.yaml");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s");
    let run = convert(&file, &out, &["--format", "json", "--service-type", "LoadBalancer"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let files = manifest_files(&out);
    assert!(files.iter().all(|f| f.extension().is_some_and(|e| e == "json")));
    let manifests = read_manifests(&files);
    let web = manifests.iter().find(|m| m.kind == "Service" && m.name == "web").expect("web Service");
    assert_eq!(web.body["spec"]["type"], "LoadBalancer");
    match validator() {
        Some(v) => validate_strict(&v, &files, "shop as JSON"),
        None => eprintln!("SKIP (schema validation of JSON output): kubernetes-validate not found"),
    }
}

#[test]
fn strict_refuses_losses_and_writes_nothing() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks/webapp/compose.yaml");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s");
    let run = convert(&file, &out, &["--strict"]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("loss: services.web.volumes[0]"), "{stderr}");
    assert!(stderr.contains("--strict"), "{stderr}");
    assert!(!out.exists(), "--strict wrote output despite losses");
}

#[test]
fn stdout_is_one_yaml_stream() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/migrate-job/compose.yaml");
    let run = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("-f")
        .arg(&file)
        .args(["convert", "--to", "kubernetes", "app"])
        .env_remove("COMPOSE_FILE")
        .output()
        .expect("run berth");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8(run.stdout).expect("utf-8");
    let kinds: Vec<String> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| {
            let v = <serde_json::Value as serde::Deserialize>::deserialize(d).expect("document");
            format!("{}/{}", v["kind"].as_str().unwrap_or("?"), v["metadata"]["name"].as_str().unwrap_or("?"))
        })
        .collect();
    // Only `app` and what it needs: the account its Job wait uses, its Service, its
    // network's policy, its published port.
    assert_eq!(
        kinds,
        [
            "ServiceAccount/app-waits",
            "Role/app-waits",
            "RoleBinding/app-waits",
            "Service/app",
            "NetworkPolicy/app-published",
            "NetworkPolicy/net-default",
            "Deployment/app"
        ]
    );
}

#[test]
fn reconverting_removes_what_the_stack_no_longer_makes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stack = tmp.path().join("compose.yaml");
    let out = tmp.path().join("k8s");
    std::fs::write(
        &stack,
        "name: shrink\nservices:\n  a: {image: x, expose: ['80']}\n  b: {image: x, expose: ['81']}\n",
    )
    .expect("write");
    assert!(convert(&stack, &out, &[]).status.success());
    assert!(out.join("b-deployment.yaml").exists());
    std::fs::write(out.join("mine.yaml"), "kept: true\n").expect("write");
    std::fs::write(&stack, "name: shrink\nservices:\n  a: {image: x, expose: ['80']}\n").expect("write");
    assert!(convert(&stack, &out, &[]).status.success());
    assert!(!out.join("b-deployment.yaml").exists() && !out.join("b-service.yaml").exists());
    assert!(out.join("a-deployment.yaml").exists() && out.join("mine.yaml").exists());
}

/// The Job wait's script, run as Kubernetes would run it (`$$` → `$`) with a fake `curl`
/// answering as the API server would: it exits 0 once the Job has succeeded, 1 once it has
/// failed, and keeps waiting while it runs. No cluster, no network.
#[test]
fn job_wait_script_follows_the_job_status() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/migrate-job/compose.yaml");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s");
    assert!(convert(&file, &out, &[]).status.success());
    let app = read_manifests(&manifest_files(&out))
        .into_iter()
        .find(|m| m.kind == "Deployment" && m.name == "app")
        .expect("app");
    let init = app.body["spec"]["template"]["spec"]["initContainers"].as_array().expect("initContainers").clone();
    let wait = init.iter().find(|c| c["name"] == "wait-for-migrate").expect("wait-for-migrate");
    let script = wait["command"][2].as_str().expect("script").replace("$$", "$");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let curl = bin.join("curl");
    std::fs::write(&curl, "#!/bin/sh\ncase \"$*\" in *jobs/migrate*) printf '%s' \"$FAKE_JOB\";; *) exit 22;; esac\n")
        .expect("write fake curl");
    std::fs::set_permissions(&curl, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let run = |status: &str| {
        Command::new("timeout")
            .args(["5", "sh", "-c", &script])
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("JOB", "migrate")
            .env("FAKE_JOB", status)
            .output()
            .expect("run the script")
            .status
            .code()
    };
    // Compact and pretty-printed JSON (the API server pretty-prints for curl).
    assert_eq!(run(r#"{"kind":"Job","status":{"succeeded":1}}"#), Some(0));
    assert_eq!(run("{\n  \"status\": {\n    \"succeeded\": 1\n  }\n}"), Some(0));
    assert_eq!(run(r#"{"status":{"failed":1,"conditions":[{"type":"Failed","status":"True"}]}}"#), Some(1));
    // Still running, or the Job not created yet: it keeps waiting (timeout's 124).
    assert_eq!(run(r#"{"status":{"active":1,"succeeded":0}}"#), Some(124));
    assert_eq!(run(""), Some(124));
}

#[test]
fn host_path_and_storage_class_flags_validate() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/edge/compose.yaml");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s");
    let run = convert(&file, &out, &["--host-path", "--storage-class", "fast", "--service-type", "NodePort"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let files = manifest_files(&out);
    let manifests = read_manifests(&files);
    let front = manifests.iter().find(|m| m.kind == "Deployment" && m.name == "frontend-app").expect("frontend-app");
    let volumes = front.body["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes");
    assert!(
        volumes.iter().any(|v| v["hostPath"]["path"].as_str().is_some_and(|p| p.ends_with("/static"))),
        "{volumes:?}"
    );
    assert_eq!(checks::check(&manifests), Vec::<String>::new());
    match validator() {
        Some(v) => validate_strict(&v, &files, "edge with --host-path"),
        None => eprintln!("SKIP (schema validation): kubernetes-validate not found"),
    }
}
