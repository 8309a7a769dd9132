//! Real software: redis-server from Debian's packages, built by berth's own builder over a
//! debootstrapped Debian base (`scripts/debian-base`), its RUN `apt-get install` going out
//! through the default bridge to the machine's configured apt mirror (the one egress tests may
//! use). Then the stack: a health check (`redis-cli ping`), `redis-cli` set/get through
//! `exec`, the data surviving `down` / `up` in a named volume, and `down -v` leaving nothing.
//!
//! Gated on the base: when debootstrap cannot reach the mirror, the test says so and skips.

mod support;

use std::path::Path;
use std::process::Command;

use support::stack::Stack;

const DOCKERFILE: &str = "FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
";

const STACK: &str = r#"services:
  redis:
    build:
      context: .
    command: [redis-server, --appendonly, "yes", --dir, /data, --bind, 0.0.0.0, --protected-mode, "no"]
    healthcheck:
      test: [CMD, redis-cli, ping]
      interval: 1s
      timeout: 3s
      retries: 60
    volumes:
      - data:/data
volumes:
  data: {}
"#;

/// The cached Debian base tar (made on first use), or None with a loud SKIP line when the
/// mirror cannot be reached. Any other failure of the script fails the test.
fn debian_base() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/debian-base");
    let out = Command::new(&script).output().expect("run scripts/debian-base");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Some(3) => {
            let name = std::thread::current().name().unwrap_or("test").to_string();
            let reason = stderr.lines().last().unwrap_or("debootstrap failed").to_string();
            eprintln!("SKIP: {name}: no Debian base image: {reason}");
            println!("SKIP: {name}: no Debian base image: {reason}");
            None
        }
        _ => panic!("scripts/debian-base failed: {:?}\n{stderr}", out.status),
    }
}

fn redis_cli(s: &Stack, args: &[&str]) -> String {
    let mut all = vec!["exec", "redis", "redis-cli"];
    all.extend_from_slice(args);
    s.berth(&all).success().stdout().trim().to_string()
}

#[test]
fn redis_from_debian_packages_keeps_its_data_across_down_and_up() {
    if !support::require_root() {
        return;
    }
    let Some(base) = debian_base() else { return };
    let mut s = Stack::new("realredis").file(STACK);
    std::fs::write(s.dir.join("Dockerfile"), DOCKERFILE).unwrap();
    s.berth(&["image", "import", &base, "debian:bookworm"]).success();

    // Built by berth's builder: the RUN step has network by default.
    let build = s.berth(&["build"]);
    build.success();
    assert!(build.stderr().contains("redis-server"), "{}", build.text());

    s.up(&["-d", "--wait", "--wait-timeout", "120"]).success();
    let ps = s.berth(&["ps"]).success().stdout();
    assert!(ps.contains("healthy"), "the health check passed: {ps}");
    assert_eq!(redis_cli(&s, &["ping"]), "PONG");
    assert_eq!(redis_cli(&s, &["set", "greeting", "hello-from-berth"]), "OK");
    assert_eq!(redis_cli(&s, &["get", "greeting"]), "hello-from-berth");
    let version = s.berth(&["exec", "redis", "redis-server", "--version"]).success().stdout();
    assert!(version.starts_with("Redis server v="), "{version}");

    // down keeps named volumes; the new container reads the append-only file back.
    s.berth(&["down", "-t", "5"]).success();
    assert!(s.runtime_state("redis", 1).is_none(), "down removed the container");
    s.up(&["-d", "--wait", "--wait-timeout", "120"]).success();
    assert_eq!(redis_cli(&s, &["get", "greeting"]), "hello-from-berth", "data survived down/up");

    s.down_clean();
}
