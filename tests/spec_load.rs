//! `berth config` through the real binary on realistic Compose files (tests/fixtures/compose)
//! and on broken ones written to temp dirs. No root needed: loading touches no kernel object.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "berth failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    fn failed(self) -> Self {
        assert_eq!(self.code, 1, "berth should fail\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", self.stdout))
    }

    fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.starts_with("error: ") && !l.contains("the stack is invalid")).collect()
    }
}

/// Run berth in `dir` with a clean environment (plus `env`), optionally feeding `stdin`.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(args).current_dir(dir).env_clear().env("PATH", "/usr/bin:/bin").env("HOME", "/root");
    cmd.envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn berth");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait berth");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn berth(dir: &Path, args: &[&str]) -> Out {
    run(dir, args, &[], None)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose").join(name)
}

fn json_config(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = extra.to_vec();
    args.extend(["config", "--format", "json"]);
    berth(dir, &args).ok().json()
}

/// A temp dir holding `files` (name, content).
fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

// ---- realistic files -------------------------------------------------------------------

#[test]
fn wordpress_docker_compose_yml_is_discovered() {
    let out = berth(&fixture("wordpress"), &["config", "--format", "json"]).ok();
    assert!(out.stderr.contains("warning: docker-compose.yml:1:1: version:"), "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["name"], "wordpress");
    assert_eq!(j["services"]["db"]["environment"]["MYSQL_DATABASE"], "wordpress");
    assert_eq!(j["services"]["db"]["expose"], serde_json::json!(["3306", "33060"]));
    assert_eq!(j["services"]["wordpress"]["depends_on"]["db"]["condition"], "service_healthy");
    assert_eq!(j["services"]["wordpress"]["ports"][0]["published"], "80");
}

#[test]
fn django_anchors_merge_keys_and_env_files() {
    let j = json_config(&fixture("django"), &[]);
    let s = &j["services"];
    assert_eq!(s["django"]["container_name"], "myproject_local_django");
    assert_eq!(s["celeryworker"]["image"], "myproject_local_celeryworker");
    assert_eq!(s["celerybeat"]["command"], serde_json::json!(["/start-celerybeat"]));
    assert_eq!(s["flower"]["environment"]["DATABASE_URL"], "postgres://app:app@postgres:5432/app");
    assert_eq!(s["flower"]["environment"]["USE_DOCKER"], "yes");
    assert_eq!(
        s["postgres"]["healthcheck"]["test"],
        serde_json::json!(["CMD-SHELL", "pg_isready -U ${POSTGRES_USER}"])
    );
    assert_eq!(s["redis"]["command"], serde_json::json!(["redis-server", "--appendonly", "yes"]));
    assert!(s["django"]["depends_on"]["postgres"].is_object());
}

#[test]
fn traefik_labels_networks_and_replicas() {
    let j = json_config(&fixture("traefik"), &[]);
    let s = &j["services"];
    assert_eq!(j["name"], "edge");
    assert_eq!(s["whoami"]["labels"]["traefik.http.routers.whoami.rule"], "Host(`whoami.localhost`)");
    assert_eq!(s["whoami"]["deploy"]["replicas"], 2);
    assert_eq!(s["api"]["labels"]["traefik.enable"], "true");
    assert_eq!(j["networks"]["proxy"]["name"], "traefik_proxy");
    assert_eq!(j["networks"]["backend"]["name"], "edge_backend");
    assert_eq!(s["traefik"]["ports"].as_array().map(Vec::len), Some(2));
    let networks = berth(&fixture("traefik"), &["config", "--networks"]).ok().stdout;
    assert_eq!(networks, "proxy\nbackend\n");
}

#[test]
fn monitoring_configs_secrets_and_listings() {
    let dir = fixture("monitoring");
    let j = json_config(&dir, &[]);
    let cfg = j["configs"]["prometheus_config"]["file"].as_str().expect("config file");
    assert!(cfg.ends_with("monitoring/prometheus/prometheus.yml") && cfg.starts_with('/'), "{cfg}");
    assert_eq!(j["services"]["grafana"]["secrets"][0]["source"], "grafana_admin_password");
    let services = berth(&dir, &["config", "--services"]).ok().stdout;
    assert_eq!(services, "prometheus\ngrafana\nnode-exporter\n");
    let volumes = berth(&dir, &["config", "--volumes"]).ok().stdout;
    assert_eq!(volumes, "prometheus_data\ngrafana_data\n");
    let images = berth(&dir, &["config", "--images"]).ok().stdout;
    assert!(images.starts_with("prom/prometheus:v2.53.0\n"), "{images}");
}

#[test]
fn elastic_ulimits_and_resources() {
    let j = json_config(&fixture("elastic"), &[]);
    let es = &j["services"]["elasticsearch"];
    assert_eq!(j["name"], "elastic");
    assert_eq!(es["ulimits"]["nofile"]["soft"], 65536);
    assert_eq!(es["ulimits"]["memlock"]["hard"], -1);
    assert_eq!(es["environment"]["ES_JAVA_OPTS"], "-Xms512m -Xmx512m");
    assert!(es["deploy"]["resources"]["limits"].is_object());
    assert_eq!(j["services"]["kibana"]["depends_on"]["elasticsearch"]["restart"], true);
    let ports = j["services"]["logstash"]["ports"].as_array().expect("ports");
    assert_eq!(ports[2]["protocol"], "udp");
}

#[test]
fn profiles_select_services() {
    let dir = fixture("profiles");
    let names = |args: &[&str]| berth(&dir, args).ok().stdout;
    assert_eq!(names(&["config", "--services"]), "frontend\nbackend\ndb\n");
    assert_eq!(names(&["--profile", "debug", "config", "--services"]), "frontend\nbackend\ndb\nphpmyadmin\nmailhog\n");
    assert_eq!(names(&["--profile", "*", "config", "--services"]).lines().count(), 6);
    assert_eq!(names(&["config", "--profiles"]), "debug\nmail\ntest\n");
    // Naming a service enables its profile, as `docker compose up e2e` does, and brings the
    // services it needs (compose-go WithSelectedServices).
    assert_eq!(names(&["config", "--services", "e2e"]), "frontend\nbackend\ndb\ne2e\n");
    let env = run(&dir, &["config", "--services"], &[("COMPOSE_PROFILES", "mail")], None).ok().stdout;
    assert!(env.contains("mailhog"), "{env}");
    // backend's optional dependency on the disabled mailhog is dropped, not an error.
    let j = json_config(&dir, &[]);
    assert!(j["services"]["backend"]["depends_on"].get("mailhog").is_none());
}

#[test]
fn required_dependency_on_disabled_profile_is_an_error() {
    let dir = scratch(&[(
        "compose.yaml",
        "services:\n  app:\n    image: a\n    depends_on: [tools]\n  tools:\n    image: b\n    profiles: [debug]\n",
    )]);
    let out = berth(dir.path(), &["config"]).failed();
    assert!(
        out.stderr.contains(
            "compose.yaml:4:18: services.app.depends_on: service `app` depends on `tools`, which is not enabled"
        ),
        "{}",
        out.stderr
    );
    berth(dir.path(), &["--profile", "debug", "config", "-q"]).ok();
}

#[test]
fn extends_across_files() {
    let j = json_config(&fixture("extends"), &[]);
    let s = &j["services"];
    assert_eq!(s["web"]["image"], "example/app:3");
    assert_eq!(s["web"]["environment"]["LOG_LEVEL"], "debug");
    assert_eq!(s["web"]["environment"]["SHARED_SECRET"], "from-common");
    assert_eq!(s["web"]["depends_on"]["somewhere-else"]["condition"], "service_started", "depends_on is inherited");
    let worker_deps: Vec<&String> = s["worker"]["depends_on"].as_object().expect("worker depends_on").keys().collect();
    assert_eq!(worker_deps, ["somewhere-else", "web"], "the base's and its own");
    assert_eq!(s["worker"]["command"], serde_json::json!(["worker", "--concurrency", "4"]));
    assert_eq!(s["cron"]["command"], serde_json::json!(["cron"]));
    assert_eq!(s["cron"]["restart"], "on-failure:3");
}

#[test]
fn include_with_its_own_env_file() {
    let j = json_config(&fixture("include"), &[]);
    let db = &j["services"]["db"];
    assert_eq!(db["image"], "postgres:16.3");
    assert_eq!(db["ports"][0]["published"], "5433");
    let src = db["volumes"][0]["source"].as_str().expect("bind source");
    assert!(src.ends_with("include/db/init"), "{src}");
    assert_eq!(j["services"]["app"]["environment"]["DB_URL"], "postgres://db:5432/app");
    assert_eq!(j["volumes"]["dbdata"]["name"], "included_dbdata");
}

#[test]
fn include_local_service_overrides_and_diamonds_merge() {
    let dir = scratch(&[
        (
            "compose.yaml",
            "include: [other/compose.yaml, a/compose.yaml, b/compose.yaml]\nservices:\n  web: {image: a}\n",
        ),
        ("other/compose.yaml", "services:\n  web: {image: b, environment: {FROM_INCLUDE: '1'}}\n"),
        ("a/compose.yaml", "include: [../c/compose.yaml]\nservices:\n  sa: {image: a}\n"),
        ("b/compose.yaml", "include: [../c/compose.yaml]\nservices:\n  sb: {image: b}\n"),
        ("c/compose.yaml", "services:\n  shared: {image: c}\n"),
    ]);
    let j = json_config(dir.path(), &[]);
    let s = &j["services"];
    assert_eq!(s["web"]["image"], "a", "the local definition wins");
    assert_eq!(s["web"]["environment"]["FROM_INCLUDE"], "1", "merged over the included one");
    assert_eq!(s["shared"]["image"], "c", "a file included twice (diamond) is fine");
    assert_eq!(s["sa"]["image"], "a");
    assert_eq!(s["sb"]["image"], "b");
}

#[test]
fn dot_env_env_file_and_process_env() {
    let dir = fixture("envfile");
    let j = json_config(&dir, &[]);
    let api = &j["services"]["api"];
    assert_eq!(j["name"], "envproj", "COMPOSE_PROJECT_NAME from .env");
    assert_eq!(api["image"], "example/api:1.2.3");
    assert_eq!(api["command"], serde_json::json!(["serve", "--workers", "4"]));
    assert_eq!(api["environment"]["PUBLIC_URL"], "http://localhost:8088");
    assert_eq!(api["environment"]["DB_HOST"], "db");
    // --env-file replaces the default .env; later files win.
    let j = json_config(&dir, &["--env-file", ".env", "--env-file", "other.env"]);
    assert_eq!(j["services"]["api"]["image"], "example/api:9.9.9");
    // The process environment wins over .env.
    let out = run(&dir, &["config", "--format", "json"], &[("API_TAG", "7"), ("FROM_SHELL", "x")], None).ok();
    assert_eq!(out.json()["services"]["api"]["image"], "example/api:7");
    assert_eq!(out.json()["services"]["api"]["environment"]["FROM_SHELL"], "x");
    // A missing explicit env file is an error.
    let out = berth(&dir, &["--env-file", "nope.env", "config"]).failed();
    assert!(out.stderr.contains("nope.env"), "{}", out.stderr);
}

#[test]
fn override_file_is_merged_automatically() {
    let j = json_config(&fixture("override"), &[]);
    let web = &j["services"]["web"];
    assert_eq!(web["ports"].as_array().map(Vec::len), Some(2));
    assert_eq!(web["environment"]["MODE"], "development");
    assert_eq!(web["environment"]["KEEP"], "yes");
    let vols = web["volumes"].as_array().expect("volumes");
    assert_eq!(vols.len(), 1, "volumes merge by target");
    assert!(vols[0]["source"].as_str().is_some_and(|s| s.ends_with("/src")));
    assert!(j["services"]["debug"].is_object());
}

#[test]
fn multi_file_merge_with_f() {
    let dir = fixture("override");
    let j = json_config(&dir, &["-f", "compose.yaml", "-f", "compose.prod.yaml"]);
    let web = &j["services"]["web"];
    assert_eq!(web["image"], "example/web:2");
    assert_eq!(web["command"], serde_json::json!(["serve", "--prod"]));
    assert_eq!(web["environment"]["MODE"], "prod");
    assert_eq!(web["deploy"]["replicas"], 3);
    assert!(j["services"].get("debug").is_none(), "-f disables the automatic override file");
}

#[test]
fn discovery_walks_up_and_prefers_compose_yaml() {
    let dir = scratch(&[
        ("proj/compose.yaml", "services:\n  new: {image: x}\n"),
        ("proj/docker-compose.yml", "services:\n  old: {image: x}\n"),
        ("proj/src/deep/.keep", ""),
    ]);
    let out = berth(&dir.path().join("proj/src/deep"), &["config", "--services"]).ok();
    assert_eq!(out.stdout, "new\n");
    assert!(out.stderr.starts_with("warning: found several stack files in"), "{}", out.stderr);
    let out = berth(&dir.path().join("proj/src/deep"), &["config", "--format", "json"]).ok();
    assert_eq!(out.json()["name"], "proj", "the project directory is the found file's directory");
}

#[test]
fn stdin_as_a_stack_file() {
    let dir = scratch(&[]);
    let out = run(dir.path(), &["-f", "-", "config", "--services"], &[], Some("services:\n  a: {image: x}\n")).ok();
    assert_eq!(out.stdout, "a\n");
}

#[test]
fn examples_are_accepted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks");
    for name in ["webapp", "ci-env", "dev-watch"] {
        let out = berth(&root.join(name), &["config", "--format", "json"]).ok();
        assert!(out.stderr.is_empty(), "{name}: {}", out.stderr);
        assert_eq!(out.json()["name"], name);
    }
}

// ---- errors ----------------------------------------------------------------------------

#[test]
fn bad_yaml_reports_its_position() {
    let dir = scratch(&[("compose.yaml", "services:\n  web:\n    image: [unclosed\n")]);
    let out = berth(dir.path(), &["config"]).failed();
    let lines = out.error_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("error: compose.yaml:") && lines[0].contains("invalid YAML"), "{}", out.stderr);
}

#[test]
fn unknown_key_has_did_you_mean() {
    let dir =
        scratch(&[("compose.yaml", "services:\n  web:\n    image: a\n    heathcheck:\n      test: [CMD, true]\n")]);
    let out = berth(dir.path(), &["config"]).failed();
    assert_eq!(
        out.error_lines(),
        vec!["error: compose.yaml:4:5: services.web: unknown key `heathcheck` (did you mean `healthcheck`?)"],
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn dependency_on_unknown_service() {
    let dir =
        scratch(&[("compose.yaml", "services:\n  web:\n    image: a\n    depends_on: [dbb]\n  db:\n    image: b\n")]);
    let out = berth(dir.path(), &["config"]).failed();
    let lines = out.error_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("error: compose.yaml:4:"), "{}", out.stderr);
    assert!(lines[0].contains("dbb") && lines[0].contains("did you mean `db`?"), "{}", out.stderr);
}

#[test]
fn all_errors_of_a_file_are_reported_together() {
    let dir = scratch(&[(
        "compose.yaml",
        "services:\n  web:\n    image: a\n    prots: ['80:80']\n  db:\n    image: b\n    pull_policy: sometimes\n",
    )]);
    let out = berth(dir.path(), &["config", "-q"]).failed();
    let lines = out.error_lines();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines[0].starts_with("error: compose.yaml:4:5:"), "{}", out.stderr);
    assert!(lines[1].starts_with("error: compose.yaml:7:"), "{}", out.stderr);
    assert!(out.stderr.ends_with("error: the stack is invalid: 2 errors\n"), "{}", out.stderr);
}

#[test]
fn errors_of_several_files_are_reported_together() {
    let dir = scratch(&[
        ("a.yaml", "services:\n  web:\n    imag: a\n"),
        ("b.yaml", "services:\n  web:\n    ports: ['99999:80']\n"),
    ]);
    let out = berth(dir.path(), &["-f", "a.yaml", "-f", "b.yaml", "config"]).failed();
    assert!(out.stderr.contains("error: a.yaml:3:5:"), "{}", out.stderr);
    assert!(out.stderr.contains("error: b.yaml:3:"), "{}", out.stderr);
}

#[test]
fn missing_stack_file_messages() {
    let dir = scratch(&[]);
    let out = berth(dir.path(), &["config"]).failed();
    assert!(out.stderr.contains("no stack file found in"), "{}", out.stderr);
    assert!(out.stderr.contains("compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml; use -f FILE"));
    let out = berth(dir.path(), &["-f", "nope.yaml", "config"]).failed();
    assert!(out.stderr.contains("cannot read") && out.stderr.contains("nope.yaml"), "{}", out.stderr);
}

#[test]
fn project_name_is_normalized_or_rejected() {
    let dir = scratch(&[("My_Project.App/compose.yaml", "services:\n  a: {image: x}\n")]);
    let proj = dir.path().join("My_Project.App");
    assert_eq!(json_config(&proj, &[])["name"], "my_projectapp");
    assert_eq!(json_config(&proj, &["-p", "given"])["name"], "given");
    let out = berth(&proj, &["-p", "Bad Name", "config"]).failed();
    assert!(out.stderr.contains("invalid project name `Bad Name`"), "{}", out.stderr);
    let out = run(&proj, &["config", "--format", "json"], &[("COMPOSE_PROJECT_NAME", "fromenv")], None).ok();
    assert_eq!(out.json()["name"], "fromenv");
}

#[test]
fn extends_cycle_names_the_chain() {
    let dir = scratch(&[("compose.yaml", "services:\n  a: {image: x, extends: b}\n  b: {extends: a}\n")]);
    let out = berth(dir.path(), &["config"]).failed();
    assert!(out.stderr.contains("extends cycle: a -> b -> a"), "{}", out.stderr);
}

#[test]
fn quiet_prints_nothing_on_success() {
    let dir = scratch(&[("compose.yaml", "services:\n  a: {image: x}\n")]);
    let out = berth(dir.path(), &["config", "-q"]).ok();
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn no_interpolate_keeps_variables() {
    let dir = scratch(&[("compose.yaml", "services:\n  a: {image: \"x:${TAG:-1}\"}\n")]);
    let j = json_config(dir.path(), &[]);
    assert_eq!(j["services"]["a"]["image"], "x:1");
    let out = berth(dir.path(), &["config", "--no-interpolate", "--format", "json"]).ok();
    assert_eq!(out.json()["services"]["a"]["image"], "x:${TAG:-1}");
}

#[test]
fn unset_variable_is_a_warning_on_stderr() {
    let dir = scratch(&[("compose.yaml", "services:\n  a:\n    image: \"x:${NOPE}\"\n")]);
    let out = berth(dir.path(), &["config", "--services"]).ok();
    assert_eq!(out.stdout, "a\n");
    assert!(out.stderr.starts_with("warning: compose.yaml:3:12:") && out.stderr.contains("NOPE"), "{}", out.stderr);
}

#[test]
fn yaml_output_is_the_default() {
    let dir = scratch(&[("compose.yaml", "services:\n  a: {image: x, ports: ['8080:80']}\n")]);
    let out = berth(dir.path(), &["config"]).ok();
    let y: serde_yaml::Value = serde_yaml::from_str(&out.stdout).expect("yaml");
    assert_eq!(y["services"]["a"]["ports"][0]["target"], serde_yaml::Value::from(80));
}

#[test]
fn config_reports_a_dependency_cycle() {
    let dir = scratch(&[(
        "compose.yaml",
        "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n",
    )]);
    let out = berth(dir.path(), &["config", "-q"]).failed();
    assert!(out.stderr.contains("dependency cycle: a -> b -> c -> a"), "{}", out.stderr);
}
