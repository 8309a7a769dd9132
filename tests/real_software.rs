//! Real software from Debian's packages, built by berth's own builder over a debootstrapped
//! Debian base (`scripts/debian-base`, cached between runs), each image's `RUN apt-get
//! install` going out through the build's default bridge to the machine's configured apt
//! mirror (the one egress tests may use). The stacks are the examples in `examples/stacks/`
//! (postgres, nginx-python, mariadb) and a Redis one here, and the tests assert what a user
//! would see: health-gated start order, data surviving recreates and `down`/`up`, secrets
//! mounted and never printed, `exec` with piped stdin, clean shutdowns (exit 0, the server's
//! own "shut down" line, no SIGKILL after the grace period), and `down -v` leaving nothing.
//! Traffic goes only to 127.0.0.1 and between the stacks' own containers.
//!
//! Gated on the base: when debootstrap cannot reach the mirror, each test says SKIP and ends.

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use support::debian::{copy_example, import_base};
use support::stack::Stack;

/// Builds and first starts run package scripts and initdb on a busy CI machine: generous.
const WAIT: &str = "300";

/// `berth exec -T SERVICE ARGS…` with `input` piped to its stdin; its stdout.
fn exec_piped(s: &Stack, service: &str, args: &[&str], input: &str) -> String {
    let mut all = vec!["exec", "-T", service];
    all.extend_from_slice(args);
    let mut child =
        s.command(&all).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "exec {args:?} failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// The `ps -a` line of `service`.
fn ps_line(s: &Stack, service: &str) -> String {
    let ps = s.berth(&["ps", "-a"]).success().stdout();
    ps.lines().find(|l| l.starts_with(&s.name(service, 1))).unwrap_or_default().to_string()
}

/// `stop SERVICE`, then check it shut down by itself on the stop signal (exit 0, not the
/// SIGKILL after the grace period) and logged `goodbye`.
fn assert_clean_stop(s: &Stack, service: &str, goodbye: &str) {
    s.berth(&["stop", service]).success();
    let line = ps_line(s, service);
    assert!(line.contains("Exited (0)"), "{service} stopped by itself on its stop signal: {line}");
    let logs = s.berth(&["logs", service]).success().stdout();
    assert!(logs.contains(goodbye), "{service} logged {goodbye:?} on stop:\n{logs}");
}

#[test]
fn postgres_initdb_secret_health_gated_app_piped_psql_and_clean_shutdown() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("realpg");
    copy_example(&s, "postgres");
    let Some(()) = import_base(&s) else { return };
    let password = std::fs::read_to_string(s.dir.join("db_password.txt")).unwrap();

    s.berth(&["build"]).success();
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    assert!(ps_line(&s, "db").contains("(healthy)"), "pg_isready passed: {}", ps_line(&s, "db"));
    // The app started only once db was healthy: its first and only login worked, over the
    // network, by service name, with the password from the secret.
    s.eventually(Duration::from_secs(60), "app's login", || {
        let app = s.berth(&["logs", "app"]).success().stdout();
        assert!(!app.contains("error"), "{app}");
        app.contains("app connected to postgres")
    });
    let initdb = s.berth(&["logs", "db"]).success().stdout();
    assert!(initdb.contains("initdb: done") && initdb.contains("ready to accept connections"), "{initdb}");

    // The secret is mounted read-only where the service expects it, and never printed.
    let secret = s.berth(&["exec", "db", "cat", "/run/secrets/db_password"]).success().stdout();
    assert_eq!(secret, password);
    let write = s.berth(&["exec", "db", "sh", "-c", "echo x > /run/secrets/db_password"]);
    assert_ne!(write.code(), 0, "the secret is read-only");
    let config = s.berth(&["config"]).success().stdout();
    assert!(!config.contains(&password), "config shows no secret content:\n{config}");

    // psql reads piped stdin, through exec -T and through plain exec (stdin not a terminal).
    let sql = "create table t(x text);\ninsert into t values ('kept');\n";
    let created = exec_piped(&s, "db", &["psql", "-U", "postgres", "-v", "ON_ERROR_STOP=1"], sql);
    assert!(created.contains("INSERT 0 1"), "{created}");
    let mut plain = s
        .command(&["exec", "db", "psql", "-U", "postgres", "-tA"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    plain.stdin.take().unwrap().write_all(b"select x from t;\n").unwrap();
    let out = plain.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "kept", "plain exec with piped stdin");
    let select = || exec_piped(&s, "db", &["psql", "-U", "postgres", "-tA"], "select x from t;\n").trim().to_string();

    // A config change recreates db; the data in the named volume stays.
    let file = std::fs::read_to_string(s.dir.join("compose.yaml")).unwrap();
    s.write(&file.replace("      POSTGRES_PASSWORD_FILE:", "      TZ: UTC\n      POSTGRES_PASSWORD_FILE:"));
    let up = s.up(&["-d", "--wait", "--wait-timeout", WAIT]);
    up.success();
    assert!(up.stderr().contains("Recreate"), "{}", up.text());
    assert_eq!(select(), "kept", "data survived the recreate");

    // STOPSIGNAL SIGINT from the image: a fast shutdown, logged, exit 0.
    assert_clean_stop(&s, "db", "database system is shut down");

    // down keeps the named volume; up finds the data again (no second initdb).
    s.berth(&["down"]).success();
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    assert_eq!(select(), "kept", "data survived down/up");
    let logs = s.berth(&["logs", "db"]).success().stdout();
    assert!(!logs.contains("initdb: done"), "the data directory was reused:\n{logs}");
    s.down_clean();
}

#[test]
fn nginx_proxies_to_a_python_app_by_service_name() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("realweb");
    copy_example(&s, "nginx-python");
    let Some(()) = import_base(&s) else { return };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(s.dir.join(".env"), format!("WEB_PORT={port}\n")).unwrap();

    s.berth(&["build"]).success();
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    // nginx found `app` by name and passed the request on; the app saw the proxy's header.
    let body = support::http::body(port, "/").expect("the published port answers");
    assert!(body.starts_with("hello from the app on "), "{body}");
    assert!(body.contains("asked by 10."), "the proxy forwarded the client address: {body}");
    let proxy = s.berth(&["logs", "proxy"]).success().stdout();
    assert!(proxy.contains("\"GET / HTTP/1.0\" 200"), "nginx's access log on stdout:\n{proxy}");
    let app = s.berth(&["logs", "app"]).success().stdout();
    assert!(app.contains("app listening on :8000"), "{app}");
    let ps = s.berth(&["ps"]).success().stdout();
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");

    // nginx on SIGQUIT (the image's STOPSIGNAL) and the app's SIGTERM handler: both exit 0.
    assert_clean_stop(&s, "proxy", "gracefully shutting down");
    assert_clean_stop(&s, "app", "app listening");
    assert!(support::http::body(port, "/").is_none(), "the port is released on stop");
    s.down_clean();
}

#[test]
fn mariadb_keeps_its_data_and_shuts_down_cleanly() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("realmaria");
    copy_example(&s, "mariadb");
    let Some(()) = import_base(&s) else { return };

    s.berth(&["build"]).success();
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    assert!(ps_line(&s, "db").contains("(healthy)"), "mariadb-admin ping passed: {}", ps_line(&s, "db"));
    let sql = "create database shop;\ncreate table shop.items(name text);\ninsert into shop.items values ('kept');\n";
    exec_piped(&s, "db", &["mariadb"], sql);
    let select = || exec_piped(&s, "db", &["mariadb", "-N"], "select name from shop.items;\n").trim().to_string();
    assert_eq!(select(), "kept");

    s.up(&["-d", "--wait", "--wait-timeout", WAIT, "--force-recreate"]).success();
    assert_eq!(select(), "kept", "data survived the recreate");
    assert_clean_stop(&s, "db", "mariadbd: Shutdown complete");
    s.berth(&["down"]).success();
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    assert_eq!(select(), "kept", "data survived down/up");
    s.down_clean();
}

/// Redis with the image's `VOLUME /data` and no volume in the stack file: Compose's anonymous
/// volume, kept across a recreate, renewed by `up -V`, removed by `down -v`.
const REDIS_DOCKERFILE: &str = "FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
VOLUME /data
WORKDIR /data
CMD [\"redis-server\", \"--appendonly\", \"yes\", \"--dir\", \"/data\", \"--bind\", \"0.0.0.0\", \"--protected-mode\", \"no\"]
";

const REDIS_STACK: &str = r#"services:
  redis:
    build: .
    healthcheck:
      test: [CMD, redis-cli, ping]
      interval: 1s
      timeout: 3s
      retries: 60
"#;

#[test]
fn redis_keeps_its_data_in_the_image_volume_across_a_recreate() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("realredis").file(REDIS_STACK);
    std::fs::write(s.dir.join("Dockerfile"), REDIS_DOCKERFILE).unwrap();
    let Some(()) = import_base(&s) else { return };
    let cli = |args: &[&str]| {
        let mut all = vec!["exec", "redis", "redis-cli"];
        all.extend_from_slice(args);
        s.berth(&all).success().stdout().trim().to_string()
    };

    // Built by berth's builder: the RUN step has network by default.
    let build = s.berth(&["build"]);
    build.success();
    assert!(build.stderr().contains("redis-server"), "{}", build.text());
    s.up(&["-d", "--wait", "--wait-timeout", WAIT]).success();
    assert_eq!(cli(&["set", "greeting", "hello-from-berth"]), "OK");
    let volumes = s.berth(&["volume", "ls"]).success().stdout();
    assert_eq!(volumes.lines().count(), 2, "one anonymous volume for the image's VOLUME /data:\n{volumes}");

    s.up(&["-d", "--wait", "--wait-timeout", WAIT, "--force-recreate"]).success();
    assert_eq!(cli(&["get", "greeting"]), "hello-from-berth", "the anonymous volume was kept across the recreate");
    assert_clean_stop(&s, "redis", "ready to exit, bye bye");
    s.up(&["-d", "--wait", "--wait-timeout", WAIT, "-V"]).success();
    assert_eq!(cli(&["get", "greeting"]), "", "up -V starts from a new anonymous volume");
    s.down_clean();
}
