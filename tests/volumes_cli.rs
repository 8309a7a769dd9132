//! `berth volume …` and `berth config` from the shell: volumes created, listed by project,
//! inspected, removed and pruned; bind paths resolved from the stack file's directory (and `~`
//! from HOME) when berth runs elsewhere.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn berth(cwd: &Path, root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .current_dir(cwd)
        .env_remove("COMPOSE_FILE")
        .env_remove("BERTH_PROJECT_NAME")
        .env("HOME", cwd.join("home"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run berth")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "berth failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn config_resolves_bind_paths_from_the_stack_file_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("a/proj");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&proj).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(
        proj.join("compose.yaml"),
        "name: relcfg\nservices:\n  app:\n    image: busybox\n    volumes: ['./data:/data', '../up:/up', '~/cache:/cache']\n",
    )
    .unwrap();
    let out = stdout(&berth(&elsewhere, &tmp.path().join("root"), &["-f", "../a/proj/compose.yaml", "config"]));
    for want in [proj.join("data"), tmp.path().join("a/up"), elsewhere.join("home/cache")] {
        assert!(out.contains(want.to_str().unwrap()), "{} missing from:\n{out}", want.display());
    }
    assert!(!out.contains(elsewhere.join("data").to_str().unwrap()), "{out}");
}

#[test]
fn volume_commands_create_list_inspect_remove_and_prune() {
    let tmp = tempfile::tempdir().unwrap();
    let (cwd, root) = (tmp.path(), tmp.path().join("root"));
    let name = format!("cli{}", std::process::id());
    assert_eq!(stdout(&berth(cwd, &root, &["volume", "create", &name, "--label", "k=v"])), format!("{name}\n"));
    let again = berth(cwd, &root, &["volume", "create", &name]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("volume `{name}` already exists")));

    assert_eq!(stdout(&berth(cwd, &root, &["volume", "ls", "--all", "-q"])), format!("{name}\n"));
    // Scoped by project label: a `volume create` volume belongs to no project.
    assert_eq!(stdout(&berth(cwd, &root, &["-p", "demo", "volume", "ls", "-q"])), "");
    let inspect: serde_json::Value =
        serde_json::from_str(&stdout(&berth(cwd, &root, &["volume", "inspect", &name]))).unwrap();
    assert_eq!(inspect[0]["name"], name.as_str());
    assert_eq!(inspect[0]["labels"]["k"], "v");
    let path = inspect[0]["path"].as_str().unwrap().to_string();
    assert!(Path::new(&path).is_dir());

    let prune = berth(cwd, &root, &["volume", "prune"]);
    assert!(!prune.status.success(), "prune needs -p or --all");
    assert_eq!(stdout(&berth(cwd, &root, &["-p", "demo", "volume", "prune"])), "");
    assert_eq!(stdout(&berth(cwd, &root, &["volume", "rm", &name])), format!("{name}\n"));
    assert!(!Path::new(&path).exists());
    let missing = berth(cwd, &root, &["volume", "rm", &name]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains(&format!("volume `{name}` not found")));
}
