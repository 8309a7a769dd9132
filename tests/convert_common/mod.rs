//! Shared harness of the `berth convert --to kubernetes` tests: run the real binary, read
//! the manifests it wrote, and validate them offline with `kubernetes-validate` (PyPI;
//! scripts/install-deps installs it). No root, no cluster, no network.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use berth::convert::Manifest;

/// The Kubernetes version whose OpenAPI schemas the manifests are validated against.
pub const K8S_VERSION: &str = "1.30.0";
pub const REPORT: &str = "berth-convert-report.txt";

/// A `berth` command for `file`, with no Compose variables of the caller's environment.
pub fn berth(file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.arg("-f")
        .arg(file)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("BERTH_PROJECT_NAME")
        .env("SECRETS_API_TOKEN", "t0k3n")
        .env("CORPUS_API_TOKEN", "corpus-t0k3n");
    c
}

/// `berth convert --to kubernetes --namespace demo -o OUT EXTRA…` of `file`.
pub fn convert(file: &Path, out: &Path, extra: &[&str]) -> Output {
    berth(file)
        .args(["convert", "--to", "kubernetes", "--namespace", "demo", "-o"])
        .arg(out)
        .args(extra)
        .output()
        .expect("run berth")
}

/// The manifest files of an output directory, sorted (kustomization and report excluded).
pub fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    files
}

pub fn read_manifests(files: &[PathBuf]) -> Vec<Manifest> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read manifest");
            let body: serde_json::Value = serde_yaml::from_str(&text).expect("manifest parses");
            let kind = body["kind"].as_str().expect("kind").to_string();
            let name = body["metadata"]["name"].as_str().expect("name").to_string();
            Manifest { kind, name, body }
        })
        .collect()
}

/// `kubernetes-validate`, when installed (else the caller prints a loud SKIP line).
pub fn validator() -> Option<PathBuf> {
    let ok = Command::new("kubernetes-validate").arg("--version").output().is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("kubernetes-validate"))
}

/// The oldest and newest versions kubernetes-validate has schemas for, and the one between.
pub const K8S_VERSIONS: &[&str] = &["1.25.0", K8S_VERSION, "1.37.0"];

/// Validate `files` in strict mode (unknown fields are errors); panics naming `what`.
pub fn validate_strict(v: &Path, files: &[PathBuf], what: &str) {
    validate_strict_for(v, files, what, K8S_VERSION);
}

/// [`validate_strict`] against the schemas of Kubernetes `version`.
pub fn validate_strict_for(v: &Path, files: &[PathBuf], what: &str, version: &str) {
    let res = Command::new(v)
        .args(["--strict", "--quiet", "--kubernetes-version", version])
        .args(files)
        .output()
        .expect("run kubernetes-validate");
    assert!(
        res.status.success(),
        "{what}: kubernetes-validate for {version} failed:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}
