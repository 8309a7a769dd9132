//! End-to-end secrets and configs through the real `berth` CLI, as a user sees them: files
//! at `/run/secrets/NAME` (or their target) and at a config's target, from `file:`,
//! `environment:` and inline `content:`, with the requested owner and mode, read-only; the
//! values never in `berth config`; the host copies private; a missing file refused before
//! anything exists; the awesome-compose `POSTGRES_PASSWORD_FILE` pattern.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::stack::{containers_of, path_in, sh, sh_until_ok, Stack};
use support::unpriv::as_attacker;

const FILE_SECRET: &str = "file-secret-value";
const ENV_SECRET: &str = "env-secret-9f3a7c";

const STACK: &str = r#"
services:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    secrets:
      - db_pw
      - api_token
      - source: db_pw
        target: custom/pw
        uid: "1000"
        gid: "1001"
        mode: 0440
      - source: api_token
        target: /etc/token
    configs:
      - app_conf
      - source: inline
        target: /etc/inline.conf
        mode: 0400
      - source: from_env
        target: env.conf
secrets:
  db_pw: {file: ./db_pw.txt}
  api_token: {environment: API_TOKEN}
configs:
  app_conf: {file: ./app.conf}
  inline: {content: "greeting=${GREETING}"}
  from_env: {environment: CFG_FROM_ENV}
"#;

fn setup(name: &str) -> Stack {
    let s = Stack::new(name).image("busybox:latest").file(STACK);
    std::fs::write(path_in(&s, "db_pw.txt"), FILE_SECRET).expect("secret file");
    std::fs::write(path_in(&s, "app.conf"), "listen=8080\n").expect("config file");
    let env = format!("API_TOKEN={ENV_SECRET}\nGREETING=hello\nCFG_FROM_ENV=colour=blue\n");
    std::fs::write(path_in(&s, ".env"), env).expect(".env");
    s
}

/// `cat FILE` in the app container.
fn cat(s: &Stack, file: &str) -> String {
    let r = sh(s, "app", &format!("cat {file}"));
    r.success();
    r.stdout()
}

#[test]
fn secrets_and_configs_are_read_only_files_with_owner_and_mode() {
    if !support::require_root() {
        return;
    }
    let mut s = setup("secrets");
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "app", "cat /run/secrets/db_pw"), FILE_SECRET);
    assert_eq!(cat(&s, "/run/secrets/api_token"), ENV_SECRET);
    assert_eq!(cat(&s, "/run/secrets/custom/pw"), FILE_SECRET);
    assert_eq!(cat(&s, "/etc/token"), ENV_SECRET);
    assert_eq!(cat(&s, "/app_conf"), "listen=8080\n");
    assert_eq!(cat(&s, "/etc/inline.conf"), "greeting=hello", "inline content is interpolated");
    assert_eq!(cat(&s, "/env.conf"), "colour=blue");

    let stat = |f: &str| sh(&s, "app", &format!("stat -c '%u %g %a' {f}")).stdout().trim().to_string();
    assert_eq!(stat("/run/secrets/db_pw"), "0 0 444", "Compose's defaults");
    assert_eq!(stat("/run/secrets/custom/pw"), "1000 1001 440");
    assert_eq!(stat("/etc/inline.conf"), "0 0 400");

    for f in ["/run/secrets/db_pw", "/etc/token", "/app_conf", "/etc/inline.conf"] {
        let r = sh(&s, "app", &format!("echo x > {f}"));
        assert_ne!(r.code(), 0, "{f} took a write");
        assert!(r.stderr().contains("Read-only file system"), "{f}: {}", r.stderr());
    }
    assert_eq!(cat(&s, "/run/secrets/db_pw"), FILE_SECRET);

    // The host copies: in the container's run dir under the private root, 0700, out of
    // reach of any other user whatever the copy's own mode.
    let dir = s.roots.run.join("containers").join(s.name("app", 1)).join("secrets");
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    assert_eq!(mode(&s.roots.run) & 0o077, 0, "the run root is private");
    let copies: Vec<_> = std::fs::read_dir(&dir).expect("secrets dir").flatten().map(|e| e.path()).collect();
    assert_eq!(copies.len(), 7, "{copies:?}");
    for c in &copies {
        let out = as_attacker(&["cat", &c.to_string_lossy()]);
        assert!(!out.status.success(), "another user read {}", c.display());
        assert!(!String::from_utf8_lossy(&out.stdout).contains(FILE_SECRET));
    }

    // Unchanged stack: nothing to do. A changed secret file is not hashed (as Compose); the
    // next recreate (here: a changed mode) copies the new content.
    let r = s.up(&["-d"]);
    r.success();
    assert!(r.text().contains("up to date"), "{}", r.text());
    std::fs::write(path_in(&s, "db_pw.txt"), "rotated").expect("rotate");
    assert!(s.up(&["-d"]).success().text().contains("up to date"));
    assert_eq!(cat(&s, "/run/secrets/db_pw"), FILE_SECRET, "the copy is the container's");
    s.write(&STACK.replace("mode: 0400", "mode: 0440"));
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "app", "stat -c %a /etc/inline.conf").trim(), "440");
    assert_eq!(cat(&s, "/run/secrets/db_pw"), "rotated");
    s.down_clean();
}

#[test]
fn config_output_and_logs_never_show_secret_values() {
    if !support::require_root() {
        return;
    }
    let mut s = setup("secretcfg");
    for args in [&["config"][..], &["config", "--format", "json"][..]] {
        let r = s.berth(args);
        r.success();
        let out = r.stdout();
        assert!(out.contains("API_TOKEN"), "the variable's name is printed:\n{out}");
        assert!(!out.contains(ENV_SECRET), "`berth {args:?}` printed a secret value:\n{out}");
        assert!(!out.contains(FILE_SECRET), "`berth {args:?}` printed a file's content:\n{out}");
        assert!(out.contains("greeting=hello"), "a config's inline content is printed, as Compose:\n{out}");
    }
    let up = s.up(&["-d"]);
    up.success();
    assert!(!up.text().contains(ENV_SECRET), "{}", up.text());
    // What berth records about the container (its record, the runtime's config) holds where
    // the files are, not what they say.
    let record = s.roots.projects().join(&s.project).join("containers").join(format!("{}.json", s.name("app", 1)));
    let config = s.roots.container_state(&s.name("app", 1)).join("config.json");
    for f in [record, config] {
        let text = std::fs::read_to_string(&f).expect("read state file");
        assert!(!text.contains(ENV_SECRET) && !text.contains(FILE_SECRET), "{} holds a secret value", f.display());
    }
    s.down_clean();
}

#[test]
fn a_missing_secret_file_fails_before_anything_is_created() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secretmiss").image("busybox:latest").file(
        r#"
services:
  web:
    image: busybox:latest
    command: [sleep, "600"]
  db:
    image: busybox:latest
    command: [sleep, "600"]
    secrets: [db_pw]
secrets:
  db_pw: {file: ./nope/db_pw.txt}
"#,
    );
    let r = s.up(&["-d"]);
    r.failure();
    let err = r.stderr();
    for word in ["service `db`", "secret `db_pw`", "nope/db_pw.txt", "No such file"] {
        assert!(err.contains(word), "missing {word:?} in:\n{err}");
    }
    assert!(containers_of(&s.roots, &s.project).is_empty(), "a container was created");
    let bridge = berth::network::names::bridge_name(s.roots.id(), &format!("{}_default", s.project));
    assert!(!std::path::Path::new("/sys/class/net").join(&bridge).exists(), "a network was created");

    // An unset variable and an external secret are refused the same way.
    for (source, says) in [
        ("{environment: BERTH_TEST_SURELY_UNSET}", "`BERTH_TEST_SURELY_UNSET`, which is not set"),
        ("{external: true}", "secret `s` is `external: true`"),
    ] {
        s.write(&format!(
            "services:\n  db:\n    image: busybox:latest\n    command: [sleep, '600']\n    secrets: [s]\nsecrets:\n  s: {source}\n"
        ));
        let r = s.up(&["-d"]);
        r.failure();
        assert!(r.stderr().contains(says), "{}", r.stderr());
        assert!(containers_of(&s.roots, &s.project).is_empty());
    }
    s.down_clean();
}

#[test]
fn postgres_password_file_pattern_works() {
    if !support::require_root() {
        return;
    }
    // awesome-compose's postgres stacks: a relative `file:` without ./, and the image reads
    // the file named by *_FILE.
    let mut s = Stack::new("secretpg").image("busybox:latest").file(
        r#"
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'echo "pw=$$(cat "$$POSTGRES_PASSWORD_FILE")" > /tmp/seen; exec sleep 600']
    environment:
      - POSTGRES_PASSWORD_FILE=/run/secrets/db-password
    secrets:
      - db-password
  backend:
    image: busybox:latest
    command: [sleep, "600"]
    depends_on: [db]
    secrets:
      - db-password
secrets:
  db-password:
    file: db/password.txt
"#,
    );
    std::fs::create_dir_all(path_in(&s, "db")).expect("db dir");
    std::fs::write(path_in(&s, "db/password.txt"), "db-78ab").expect("password");
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "db", "cat /tmp/seen").trim(), "pw=db-78ab");
    assert_eq!(sh(&s, "backend", "cat /run/secrets/db-password").stdout(), "db-78ab");
    // A one-off container of the service gets them too (`berth run`, as `docker compose run`).
    let r = s.berth(&["run", "--rm", "db", "sh", "-c", "cat \"$POSTGRES_PASSWORD_FILE\""]);
    assert_eq!(r.stdout(), "db-78ab", "{}", r.text());
    s.down_clean();
}
