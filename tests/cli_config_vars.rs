//! `berth config --variables` and `berth config --environment` through the real CLI, as
//! `docker compose config` prints them (no containers involved: both only read the files).

use std::process::Command;

const FILE: &str = r#"
services:
  web:
    image: ${IMAGE:-busybox:latest}
    command: [sleep, "${NAP:?set NAP}"]
    environment:
      MODE: ${MODE:+on}
      LITERAL: $$HOME
      PLAIN: $PLAIN
"#;

fn berth(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("-p").arg("varsdemo").args(args).current_dir(dir);
    for k in ["COMPOSE_FILE", "BERTH_PROJECT_NAME", "COMPOSE_PROJECT_NAME", "NAP", "IMAGE", "MODE", "PLAIN"] {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run berth");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn variables_lists_each_variable_with_its_default_alternate_and_requirement() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), FILE).unwrap();
    let (ok, out, err) = berth(dir.path(), &["config", "--variables"], &[]);
    assert!(ok, "{err}");
    let want = "NAME    REQUIRED   DEFAULT VALUE    ALTERNATE VALUE\n\
                IMAGE   false      busybox:latest\n\
                MODE    false                       on\n\
                NAP     true\n\
                PLAIN   false\n";
    assert_eq!(out, want, "(`$$HOME` is no variable)");
    let (ok, out, err) = berth(dir.path(), &["config", "--variables", "--format", "json"], &[]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["IMAGE"]["DefaultValue"], "busybox:latest");
    assert_eq!(json["NAP"]["Required"], true);
    assert_eq!(json["MODE"]["PresenceValue"], "on");
    // A required variable that is unset fails a plain `config`, not `--variables`.
    assert!(!berth(dir.path(), &["config"], &[]).0);
}

#[test]
fn variables_of_included_and_extended_files_count_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "include: [sub/db.yaml]\nservices:\n  web:\n    extends: {file: base.yaml, service: base}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("base.yaml"), "services:\n  base:\n    image: ${BASE_IMAGE:-busybox}\n").unwrap();
    std::fs::write(dir.path().join("sub/db.yaml"), "services:\n  db:\n    image: busybox\n    user: ${DB_USER}\n")
        .unwrap();
    let (ok, out, err) = berth(dir.path(), &["config", "--variables", "--format", "json"], &[]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["BASE_IMAGE"]["DefaultValue"], "busybox", "{out}");
    assert_eq!(json["DB_USER"]["Name"], "DB_USER", "{out}");
}

#[test]
fn environment_prints_what_interpolation_sees() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), FILE).unwrap();
    std::fs::write(dir.path().join(".env"), "NAP=100\nFROM_DOTENV=yes\n").unwrap();
    let (ok, out, err) = berth(dir.path(), &["config", "--environment"], &[("NAP", "7"), ("EXTRA_FOR_TEST", "1")]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    for want in ["NAP=7", "FROM_DOTENV=yes", "EXTRA_FOR_TEST=1", "COMPOSE_PROJECT_NAME=varsdemo"] {
        assert!(lines.contains(&want), "`{want}` missing (the environment wins over .env):\n{out}");
    }
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted, as Compose prints them");
}
