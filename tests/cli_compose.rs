//! docker compose parity of the CLI (issue 18, part 1), as a user calls it against real
//! containers: version, completion, man; `ps` ids across a recreate; `create` then `up`;
//! `scale`; the project's `images` and `volumes`.

#[path = "ops_common/mod.rs"]
mod common;
mod support;

fn berth_plain(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_berth")).args(args).output().expect("run berth")
}

fn stdout_ok(args: &[&str]) -> String {
    let out = berth_plain(args);
    assert!(out.status.success(), "berth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn version_completion_and_man_pages() {
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(stdout_ok(&["version"]), format!("berth version v{version}\n"));
    assert_eq!(stdout_ok(&["version", "--short"]), format!("{version}\n"));
    let json: serde_json::Value = serde_json::from_str(&stdout_ok(&["version", "--format", "json"])).unwrap();
    assert_eq!(json["version"], format!("v{version}"));
    let bash = stdout_ok(&["completion", "bash"]);
    assert!(bash.contains("_berth()") && bash.contains("complete -F _berth"), "{bash}");
    assert!(stdout_ok(&["completion", "zsh"]).starts_with("#compdef berth"));
    assert!(stdout_ok(&["completion", "fish"]).contains("complete -c berth"));
    assert!(!berth_plain(&["completion", "tcsh"]).status.success());
    let page = stdout_ok(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH berth 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    stdout_ok(&["man", dir.path().to_str().unwrap()]);
    for f in ["berth.1", "berth-up.1", "berth-ps.1", "berth-create.1", "berth-image-ls.1"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    assert!(!dir.path().join("berth-__supervise.1").exists(), "hidden commands get no page");
    let missing = berth_plain(&["man", dir.path().join("nope").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not a directory"));
}

const STACK: &str = "services:
  web:
    image: busybox:test
    command: [sleep, '1000']
    volumes: [data:/data, /anon]
  side:
    image: busybox:test
    command: [sleep, '1000']
volumes:
  data: {}
";

fn ids(p: &common::Proj, args: &[&str]) -> Vec<String> {
    p.ok(args).lines().map(str::to_string).collect()
}

#[test]
fn create_then_up_then_recreate_gives_new_ids() {
    if !support::require_root() {
        return;
    }
    let p = common::project("clicreate", STACK);
    let web = format!("{}-web-1", p.project);
    p.ok(&["create", "web"]);
    let st = p.rt.state(&web).expect("created");
    assert_eq!(st.status, berth::runtime::Status::Created, "create starts nothing");
    assert!(ids(&p, &["ps", "-q"]).is_empty(), "nothing runs");
    let created = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
    assert_eq!(created, format!("{web} created\n"));
    let first = ids(&p, &["ps", "-aq"]);
    assert_eq!(first.len(), 1);
    p.ok(&["up", "-d", "web"]);
    assert!(p.rt.state(&web).unwrap().is_running(), "up starts what create made");
    assert_eq!(ids(&p, &["ps", "-q"]), first, "starting keeps the id");
    p.ok(&["up", "-d", "--force-recreate", "web"]);
    let second = ids(&p, &["ps", "-q"]);
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a recreated container has a new id");
    // The table template and JSON Lines agree on the id.
    let line = p.ok(&["ps", "--format", "json"]);
    let row: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(row["ID"], second[0].as_str());
    assert_eq!(row["Project"], p.project.as_str());
    let t = p.ok(&["ps", "--format", "table {{.Service}}\\t{{.State}}"]);
    assert_eq!(t, "SERVICE   STATE\nweb       running\n");
    let bad = p.berth(&["ps", "--filter", "name=web"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the only filter is `status=STATE`"));
    let bad = p.berth(&["ps", "--status", "sleeping"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid status \"sleeping\""));
    p.teardown();
}

#[test]
fn scale_images_and_volumes_of_the_project() {
    if !support::require_root() {
        return;
    }
    let p = common::project("cliscale", STACK);
    p.ok(&["up", "-d"]);
    let side1 = ids(&p, &["ps", "-q", "side"]);
    p.ok(&["scale", "side=3"]);
    let names = p.ok(&["ps", "--format", "{{.Name}}", "side"]);
    let want: String = (1..=3).map(|n| format!("{}-side-{n}\n", p.project)).collect();
    assert_eq!(names, want);
    assert_eq!(ids(&p, &["ps", "-q", "side"])[0], side1[0], "scale recreates nothing");
    p.ok(&["scale", "side=1"]);
    assert_eq!(p.ok(&["ps", "--format", "{{.Name}}", "side"]), format!("{}-side-1\n", p.project));
    let bad = p.berth(&["scale", "side"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected SERVICE=N"));

    let images = p.ok(&["images"]);
    let mut lines = images.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("CONTAINER") && header.contains("REPOSITORY   TAG") && header.contains("IMAGE ID"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{images}");
    assert!(rows.iter().all(|r| r.contains(" busybox ") && r.contains(" test ")), "{images}");
    let json: serde_json::Value = serde_json::from_str(&p.ok(&["images", "--format", "json", "web"])).unwrap();
    assert_eq!(json[0]["ContainerName"], format!("{}-web-1", p.project));
    assert!(json[0]["ID"].as_str().unwrap().starts_with("sha256:") && json[0]["Size"].as_u64().unwrap() > 0);
    // The whole store stays under `image ls`.
    assert!(p.ok(&["image", "ls"]).contains("Total:"));

    let vols = p.ok(&["volumes", "--format", "json"]);
    let rows: Vec<serde_json::Value> = vols.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2, "the named and the anonymous volume: {vols}");
    assert!(rows.iter().any(|r| r["Name"] == format!("{}_data", p.project)), "{vols}");
    assert!(p.ok(&["volumes"]).starts_with("DRIVER   VOLUME NAME\nlocal"));
    assert!(p.ok(&["volumes", "-q", "side"]).is_empty(), "side mounts no volume");
    assert_eq!(p.ok(&["volumes", "-q", "web"]).lines().count(), 2);
    let bad = p.berth(&["volumes", "nope"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no service `nope`"));
    p.ok(&["down", "-v"]);
    assert!(p.ok(&["volumes", "-q"]).is_empty());
    p.teardown();
}
