//! `berth plan` through the real binary on stack files in tempdirs: the loader and the planner
//! together. No root needed (planning touches nothing); the actual state is empty until the
//! runtime can observe the host, so every object is a create.

use std::path::Path;
use std::process::{Command, Output};

/// `berth plan` in `dir`, on a state root of its own inside `dir` (as root, the default root
/// would be made private and so created: a test must leave the host's /var/lib/berth alone).
fn berth_plan(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(dir.join(".berth-root"))
        .arg("plan")
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("BERTH_PROJECT_NAME")
        .output()
        .expect("run berth")
}

fn stack_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write compose.yaml");
    dir
}

const STACK: &str = "
name: shop
services:
  web:
    image: nginx:1.27
    ports: ['8080:80']
    depends_on:
      api: {condition: service_healthy}
  api:
    image: shop/api:2
    environment: [DB_HOST=db]
    depends_on: [db]
    healthcheck: {test: curl -f localhost/health}
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
volumes:
  pgdata: {}
";

#[test]
fn plan_prints_creates_in_dependency_order() {
    let dir = stack_dir(STACK);
    let out = berth_plan(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "berth plan failed: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\
+ network  shop_default
+ volume   shop_pgdata
+ pull     postgres:16      (db)
+ pull     shop/api:2       (api)
+ pull     nginx:1.27       (web)
+ create   shop-db-1        (image postgres:16)
+ create   shop-api-1       (image shop/api:2)
+ create   shop-web-1       (image nginx:1.27)
= wait     api              (healthy)
"
    );
}

#[test]
fn plan_json_and_flags() {
    let dir = stack_dir(STACK);
    let out = berth_plan(dir.path(), &["--format", "json", "--scale", "web=2", "web", "--no-deps"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let creates: Vec<&str> = v["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "create_container")
        .map(|a| a["target"].as_str().expect("target"))
        .collect();
    assert_eq!(creates, ["shop-web-1", "shop-web-2"]);
}

#[test]
fn plan_reports_a_cycle() {
    let dir = stack_dir("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n");
    let out = berth_plan(dir.path(), &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dependency cycle: a -> b -> a"), "{stderr}");
}
