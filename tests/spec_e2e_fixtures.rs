//! docker/compose's own end-to-end fixtures (`pkg/e2e/fixtures`): every compose file there
//! loads with `berth config` as its e2e test uses it (with the override file it is merged with,
//! or the service it selects), the ones made to fail fail, and the printed model has the
//! normalized shapes those tests assert of `docker compose config` (long-form ports and
//! mounts, environment as a mapping, `default: null` networks and the `<project>_default`
//! network, absolute build contexts with a Dockerfile, secret targets).
//!
//! The fixtures are not copied here: the test reads them from a docker/compose checkout named by
//! BERTH_COMPOSE_REPO (a work tree, or a git directory whose HEAD is extracted), by default the
//! development machines' mirror; elsewhere it says SKIP, loudly.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const DEFAULT_REPO: &str = "/work/.mirror/docker+compose/repo";

/// How an e2e test uses a fixture, when not simply `-f FILE config`.
enum Use {
    /// Merged after these files of its directory.
    After(&'static [&'static str]),
    /// Loaded with these services selected (the others cannot load).
    Select(&'static [&'static str]),
    /// Made to fail: the error names this.
    Fails(&'static str),
    /// Loaded with these variables set.
    Env(&'static [(&'static str, &'static str)]),
}

/// The fixtures used otherwise than on their own, from the e2e tests that use them.
const USES: &[(&str, Use)] = &[
    // publish_test.go: `-f compose.yaml -f compose-override.yaml`.
    ("publish/oci/compose-override.yaml", Use::After(&["compose.yaml"])),
    // env_file_test.go: serviceB's env file does not exist; `config --hash serviceA` works.
    ("env_file/compose.yaml", Use::Select(&["serviceA"])),
    // build_test.go TestBuildPlatformsStandardErrors.
    ("build-test/platforms/compose-service-platform-not-in-build-platforms.yaml", Use::Fails("build.platforms")),
    // compose_test.go (wrong-composefile): an unknown key.
    ("wrong-composefile/compose.yaml", Use::Fails("wrongField")),
    // logs_test.go TestLocalComposeLargeLogs: FILE names the file to mount.
    ("logs-test/cat.yaml", Use::Env(&[("FILE", "/tmp/large.txt")])),
];

/// The fixtures directory, or None (SKIP printed) when no docker/compose checkout is at hand.
fn fixtures(tmp: &Path) -> Option<PathBuf> {
    let repo = std::env::var("BERTH_COMPOSE_REPO").unwrap_or_else(|_| DEFAULT_REPO.to_string());
    let repo = Path::new(&repo);
    let in_tree = repo.join("pkg/e2e/fixtures");
    if in_tree.is_dir() {
        return Some(in_tree);
    }
    if repo.join("HEAD").is_file() {
        let archive = Command::new("git")
            .arg("--git-dir")
            .arg(repo)
            .args(["archive", "--format=tar", "HEAD", "pkg/e2e/fixtures"])
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let mut tar =
            Command::new("tar").arg("-x").arg("-C").arg(tmp).stdin(std::process::Stdio::piped()).spawn().ok()?;
        use std::io::Write as _;
        tar.stdin.take()?.write_all(&archive.stdout).ok()?;
        tar.wait().ok().filter(|s| s.success())?;
        return Some(tmp.join("pkg/e2e/fixtures"));
    }
    let line = format!(
        "SKIP: e2e fixtures: no docker/compose checkout at {} (set BERTH_COMPOSE_REPO to a work tree or git directory)",
        repo.display()
    );
    eprintln!("{line}");
    println!("{line}");
    None
}

/// Every compose file of the fixtures (the Kubernetes and Helm outputs of `bridge` left out).
fn compose_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if path.is_dir() && !name.starts_with("expected-") {
            compose_files(&path, out);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

/// `berth -f … config --format json [SERVICES]` in the file's directory.
fn config(dir: &Path, files: &[&str], services: &[&str]) -> Result<Value, String> {
    config_env(dir, files, services, &[])
}

fn config_env(dir: &Path, files: &[&str], services: &[&str], env: &[(&str, &str)]) -> Result<Value, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).envs(env.iter().copied());
    for f in files {
        cmd.args(["-f", f]);
    }
    cmd.args(["config", "--format", "json"]).args(services);
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("not JSON: {e}"))
}

/// The normalized shapes docker compose's e2e tests read in `config` output.
fn check_normalized(model: &Value) -> Result<(), String> {
    let project = model["name"].as_str().ok_or("no name")?;
    let services = model["services"].as_object().ok_or("no services")?;
    for (name, svc) in services {
        for p in svc["ports"].as_array().into_iter().flatten() {
            if !(p["target"].is_u64() && p["protocol"].is_string() && p["mode"].is_string()) {
                return Err(format!("{name}: port not in long form: {p}"));
            }
            if !(p["published"].is_null() || p["published"].is_string()) {
                return Err(format!("{name}: published port is not text: {p}"));
            }
        }
        for v in svc["volumes"].as_array().into_iter().flatten() {
            if !(v["type"].is_string() && v["target"].is_string()) {
                return Err(format!("{name}: mount not in long form: {v}"));
            }
        }
        if !(svc["environment"].is_null() || svc["environment"].is_object()) {
            return Err(format!("{name}: environment is not a mapping"));
        }
        if svc["network_mode"].is_null() && svc.get("provider").is_none() {
            let nets = svc["networks"].as_object().ok_or(format!("{name}: no networks"))?;
            if nets.contains_key("default") && !nets["default"].is_null() && !nets["default"].is_object() {
                return Err(format!("{name}: default network entry is {}", nets["default"]));
            }
        }
        if let Some(build) = svc.get("build") {
            let ctx = build["context"].as_str().ok_or(format!("{name}: build without context"))?;
            if !(ctx.starts_with('/') || ctx.contains("://") || ctx.starts_with("git@")) {
                return Err(format!("{name}: build context {ctx} is not absolute"));
            }
            if build["dockerfile"].is_null() && build["dockerfile_inline"].is_null() {
                return Err(format!("{name}: build without dockerfile"));
            }
        }
        for s in svc["secrets"].as_array().into_iter().flatten() {
            if !s["target"].is_string() {
                return Err(format!("{name}: secret without target: {s}"));
            }
        }
    }
    let uses_default = services.values().any(|s| s["networks"].get("default").is_some());
    if uses_default && model["networks"]["default"]["name"] != format!("{project}_default") {
        return Err(format!("default network named {}", model["networks"]["default"]["name"]));
    }
    Ok(())
}

#[test]
fn e2e_fixtures_load_as_docker_compose_loads_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(root) = fixtures(tmp.path()) else { return };
    let mut files = Vec::new();
    compose_files(&root, &mut files);
    assert!(files.len() > 50, "only {} compose files under {}", files.len(), root.display());
    let mut problems = Vec::new();
    let mut loaded = 0;
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let dir = path.parent().unwrap_or(Path::new("/"));
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let how = USES.iter().find(|(f, _)| *f == rel).map(|(_, u)| u);
        let result = match how {
            Some(Use::After(before)) => config(dir, &[before, &[file][..]].concat(), &[]),
            Some(Use::Select(services)) => config(dir, &[file], services),
            Some(Use::Env(env)) => config_env(dir, &[file], &[], env),
            Some(Use::Fails(why)) => {
                match config(dir, &[file], &[]) {
                    Ok(_) => problems.push(format!("{rel}: loaded, but docker compose refuses it ({why})")),
                    Err(e) if !e.contains(why) => problems.push(format!("{rel}: refused for another reason: {e}")),
                    Err(_) => {}
                }
                continue;
            }
            None => config(dir, &[file], &[]),
        };
        match result.and_then(|m| check_normalized(&m).map(|()| m)) {
            Ok(_) => loaded += 1,
            Err(e) => problems.push(format!("{rel}: {e}")),
        }
    }
    println!("e2e fixtures: {loaded} compose files load and print compose-go's normalized shapes");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// compose_test.go TestConfig: the exact model `docker compose config` prints for a build.
#[test]
fn config_prints_what_docker_compose_prints_for_a_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cfg");
    std::fs::create_dir_all(dir.join("nginx-build")).expect("mkdir");
    std::fs::write(dir.join("compose.yaml"), "services:\n  nginx:\n    build: ./nginx-build\n").expect("write");
    let model = config(&dir, &["compose.yaml"], &[]).expect("config");
    let want = serde_json::json!({
        "name": "cfg",
        "services": {"nginx": {
            "build": {"context": dir.join("nginx-build").display().to_string(), "dockerfile": "Dockerfile"},
            "networks": {"default": null}
        }},
        "networks": {"default": {"name": "cfg_default"}}
    });
    assert_eq!(model, want);
}

/// compose_test.go TestConfigInterpolate: `config --no-interpolate` keeps the variable and still
/// resolves the build context.
#[test]
fn config_no_interpolate_keeps_variables_and_resolves_paths() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cfg");
    std::fs::create_dir_all(dir.join("nginx-build")).expect("mkdir");
    let stack = "services:\n  nginx:\n    build:\n      context: ./nginx-build\n      dockerfile: ${MYVAR}\n";
    std::fs::write(dir.join("compose.yaml"), stack).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .current_dir(&dir)
        .env_clear()
        .args(["config", "--no-interpolate", "--format", "json"])
        .output()
        .expect("berth");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let model: Value = serde_json::from_slice(&out.stdout).expect("json");
    let build = &model["services"]["nginx"]["build"];
    assert_eq!(build["context"], dir.join("nginx-build").display().to_string());
    assert_eq!(build["dockerfile"], "${MYVAR}");
    assert_eq!(model["networks"]["default"]["name"], "cfg_default");
}
