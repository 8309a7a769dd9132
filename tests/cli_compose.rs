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
    // A Compose command that makes no sense for berth says why, and what to use.
    let bridge = berth_plain(&["bridge", "convert", "-o", "out"]);
    assert!(!bridge.status.success());
    assert!(String::from_utf8_lossy(&bridge.stderr).contains("berth convert --to kubernetes"));
    assert!(stdout_ok(&["bridge", "--help"]).contains("Not in berth"));
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
    for key in ["ID", "Name", "Image", "Command", "Project", "Service", "State", "Health", "ExitCode", "Publishers"] {
        assert!(row.get(key).is_some(), "no {key} in {row}");
    }
    assert!(row["CreatedAt"].as_str().unwrap().starts_with("20") && row["Status"].as_str().unwrap().starts_with("Up"));
    assert_eq!((row["Image"].as_str(), row["Command"].as_str()), (Some("busybox:test"), Some("sleep 1000")));
    assert_eq!(row["Networks"], format!("{}_default", p.project));
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
    assert_eq!(p.ok(&["images", "-q"]).lines().count(), 1, "one image, listed once");
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

/// A file with its size and modification time.
type FileStamp = (std::path::PathBuf, u64, std::time::SystemTime);

/// What [`host_view`] sees: files, mounts, bridge, cgroups, containers.
type HostView = (Vec<FileStamp>, usize, bool, usize, usize);

/// Every file under `dir` with its size and modification time.
fn tree(dir: &std::path::Path) -> Vec<FileStamp> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(m) = e.path().symlink_metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), m.len(), m.modified().unwrap_or(std::time::UNIX_EPOCH)));
        }
    }
    out.sort();
    out
}

/// What of this project exists on the host: state files, mounts under the root, its bridge,
/// the cgroups of its containers, its containers.
fn host_view(p: &common::Proj) -> HostView {
    let root = p.root.to_str().unwrap().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(&root)).count();
    let bridge = berth::network::names::bridge_name(p.roots.id(), &format!("{}_default", p.project));
    let has_bridge = std::path::Path::new("/sys/class/net").join(bridge).exists();
    let leaf = |s: &str| berth::runtime::cgroup::leaf(p.roots.id(), &format!("{}-{s}-1", p.project));
    let cgroups = ["web", "side"].iter().map(|s| support::berth_cgroups_named(&leaf(s)).len()).sum();
    (tree(&p.root), mounts, has_bridge, cgroups, p.rt.list().unwrap().len())
}

#[test]
fn dry_run_prints_the_plan_and_leaves_the_host_unchanged() {
    if !support::require_root() {
        return;
    }
    let p = common::project("clidry", STACK);
    let before = host_view(&p);
    let plan = p.ok(&["--dry-run", "up", "-d"]);
    assert!(plan.lines().all(|l| l.starts_with("DRY-RUN MODE - ")), "{plan}");
    assert!(plan.contains(&format!("+ create   {}-web-1", p.project)), "{plan}");
    assert!(p.ok(&["--dry-run", "create"]).contains(&format!("{}-side-1", p.project)));
    assert!(p.ok(&["--dry-run", "scale", "side=2"]).contains(&format!("{}-side-2", p.project)));
    let refused = p.berth(&["--dry-run", "run", "side", "true"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`berth run` has no dry run"), "{refused:?}");
    assert_eq!(host_view(&p), before, "a dry run changed the host");

    p.ok(&["up", "-d"]);
    let ids = p.ok(&["ps", "-q"]);
    let (files, mounts, bridge, cgroups, containers) = host_view(&p);
    let down = p.ok(&["--dry-run", "down", "-v"]);
    assert!(down.contains(&format!("- remove   {}-web-1", p.project)), "{down}");
    let stop = p.ok(&["--dry-run", "stop", "web"]);
    assert_eq!(stop, format!("DRY-RUN MODE - Container {}-web-1  Stop\n", p.project));
    assert!(p.ok(&["--dry-run", "up", "-d", "--force-recreate"]).contains("~ recreate"));
    assert!(p.ok(&["--dry-run", "ps", "-q"]) == ids, "read-only commands run as usual");
    let after = host_view(&p);
    let paths =
        |v: &[(std::path::PathBuf, u64, std::time::SystemTime)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&after.0), paths(&files), "a dry run added or removed state files");
    assert_eq!((after.1, after.2, after.3, after.4), (mounts, bridge, cgroups, containers));
    assert_eq!(p.ok(&["ps", "-q"]), ids, "the containers are the same ones, still running");
    p.teardown();
}

#[test]
fn progress_ansi_and_parallel_flags() {
    if !support::require_root() {
        return;
    }
    let p = common::project(
        "cliprog",
        "services:\n  web:\n    image: busybox:test\n    command: [sh, -c, 'echo hello; sleep 1000']\n",
    );
    let out = p.berth(&["--progress", "json", "--parallel", "1", "up", "-d"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = err.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    assert!(
        lines.iter().any(|v| v["id"] == format!("Container {}-web-1", p.project) && v["status"] == "Started"),
        "{err}"
    );
    let quiet = p.berth(&["--progress", "quiet", "up", "-d", "--force-recreate"]);
    assert!(quiet.status.success() && quiet.stderr.is_empty(), "{quiet:?}");
    let plain = p.berth(&["--progress", "plain", "--ansi", "always", "up", "-d", "--force-recreate"]);
    assert!(String::from_utf8_lossy(&plain.stderr).contains(&format!("Container {}-web-1  Started", p.project)));
    p.wait_log(&format!("{}-web-1", p.project), "hello");
    let coloured = p.ok(&["--ansi", "always", "logs"]);
    assert!(coloured.contains("\x1b[") && coloured.contains("hello"), "{coloured:?}");
    let plain = p.ok(&["--ansi", "never", "logs"]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let bad = p.berth(&["--parallel", "0", "ps"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--parallel 0"));
    p.teardown();
}

/// COMPOSE_* variables from the environment and from `.env`, as a user sets them.
#[test]
fn compose_variables_from_the_environment_and_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.yaml"), "services:\n  a:\n    image: x\n").unwrap();
    std::fs::write(dir.path().join("two.yaml"), "services:\n  b:\n    image: y\n    profiles: [extra]\n").unwrap();
    std::fs::write(dir.path().join("three.yaml"), "services:\n  c:\n    image: z\n").unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "COMPOSE_FILE=one.yaml:two.yaml\nCOMPOSE_PROJECT_NAME=fromdotenv\nCOMPOSE_PROFILES=extra\n",
    )
    .unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_berth"));
        c.current_dir(dir.path());
        for k in ["COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_ENV_FILES", "BERTH_PROJECT_NAME"]
        {
            c.env_remove(k);
        }
        c.envs(env.iter().copied()).args(args);
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // From .env: both files, the profile, the name.
    assert_eq!(run(&[], &["config", "--services"]), "a\nb\n");
    assert!(run(&[], &["config"]).starts_with("name: fromdotenv\n"));
    // The environment wins over .env; BERTH_PROJECT_NAME is still read; -f wins over both.
    let env = [("COMPOSE_FILE", "one.yaml:three.yaml"), ("COMPOSE_PROJECT_NAME", "fromenv")];
    assert_eq!(run(&env, &["config", "--services"]), "a\nc\n");
    assert!(run(&env, &["config"]).starts_with("name: fromenv\n"));
    assert!(run(&[("BERTH_PROJECT_NAME", "berthname")], &["config"]).starts_with("name: berthname\n"));
    assert_eq!(run(&env, &["-f", "three.yaml", "config", "--services"]), "c\n");
    // COMPOSE_PATH_SEPARATOR, and COMPOSE_ENV_FILES naming the env file instead of .env.
    let sep = [("COMPOSE_FILE", "one.yaml;three.yaml"), ("COMPOSE_PATH_SEPARATOR", ";")];
    assert_eq!(run(&sep, &["config", "--services"]), "a\nc\n");
    std::fs::write(dir.path().join("ci.env"), "COMPOSE_FILE=three.yaml\nCOMPOSE_PROJECT_NAME=ci\n").unwrap();
    let files = [("COMPOSE_ENV_FILES", "ci.env")];
    assert_eq!(run(&files, &["config", "--services"]), "c\n");
    assert!(run(&files, &["config"]).starts_with("name: ci\n"));
    // `alpha viz` on the same project: a DOT graph of its services.
    let viz = run(&[], &["alpha", "viz", "--image"]);
    assert!(
        viz.starts_with("digraph \"fromdotenv\" {") && viz.contains("\"a\" [shape=box label=\"a\\nimage: x\"];"),
        "{viz}"
    );
}

#[test]
fn create_joins_a_shared_network_namespace_and_up_starts_both() {
    if !support::require_root() {
        return;
    }
    let stack = "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\n    network_mode: 'service:net'\n  net:\n    image: busybox:test\n    command: [sleep, '1000']\n";
    let p = common::project("clinetns", stack);
    p.ok(&["create"]);
    let states = p.ok(&["ps", "-a", "--format", "{{.Service}}={{.State}}"]);
    assert_eq!(states, "app=created\nnet=created\n");
    p.ok(&["up", "-d"]);
    assert_eq!(p.ok(&["ps", "--format", "{{.Service}}={{.State}}"]), "app=running\nnet=running\n");
    let netns = |svc: &str| {
        let pid = p.rt.state(&format!("{}-{svc}-1", p.project)).unwrap().pid.expect("running");
        std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap()
    };
    assert_eq!(netns("app"), netns("net"), "app is in net's network namespace");
    p.teardown();
}

/// Compose's colour switches and habits: `up --no-color` (and the deprecated global
/// `--no-ansi`) print the containers' lines without escape codes even under `--ansi always`;
/// `-y` is taken; deprecated spellings scripts still use (`down --volume`, `rm -a`,
/// `--verbose`) work.
#[test]
fn no_color_and_deprecated_spellings() {
    if !support::require_root() {
        return;
    }
    let p = common::project("nocolor", "services:\n  app:\n    image: busybox:test\n    command: [echo, hello]\n");
    let coloured = p.berth(&["--ansi", "always", "up", "app"]);
    assert!(coloured.status.success(), "{}", String::from_utf8_lossy(&coloured.stderr));
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\x1b'), "--ansi always has colours");
    for args in [&["--ansi", "always", "up", "--no-color", "-y", "app"][..], &["--no-ansi", "up", "app"][..]] {
        let out = p.berth(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("hello") && !text.contains('\x1b'), "{args:?}: {text:?}");
    }
    p.ok(&["--verbose", "rm", "-a", "-f", "app"]);
    p.ok(&["up", "-d", "app"]);
    p.ok(&["down", "--volume"]);
    p.teardown();
}

/// As Compose: `up --force-recreate web` recreates web, not the db it depends on (unchanged);
/// `--always-recreate-deps` recreates the dependencies too.
#[test]
fn force_recreate_targets_and_always_recreate_deps() {
    if !support::require_root() {
        return;
    }
    let yaml = "services:\n  web:\n    image: busybox:test\n    command: [sleep, '1000']\n    depends_on: [db]\n  db:\n    image: busybox:test\n    command: [sleep, '1000']\n";
    let p = common::project("recreatedeps", yaml);
    p.ok(&["up", "-d"]);
    let id = |svc: &str| p.ok(&["ps", "-q", svc]).trim().to_string();
    let (web, db) = (id("web"), id("db"));
    p.ok(&["up", "-d", "--force-recreate", "web"]);
    assert_ne!(id("web"), web, "web was not recreated");
    assert_eq!(id("db"), db, "--force-recreate web recreated its dependency");
    let web = id("web");
    p.ok(&["up", "-d", "--always-recreate-deps", "web"]);
    assert_ne!(id("db"), db, "--always-recreate-deps left db");
    assert_eq!(id("web"), web, "--always-recreate-deps alone recreated the target");
    assert!(!p.berth(&["up", "-d", "--always-recreate-deps", "--no-recreate"]).status.success());
    p.teardown();
}

/// `--all-resources`: `up` makes the networks and volumes of the file no service uses (without
/// it, as Compose, only those the containers need); `down -v` removes them all.
#[test]
fn all_resources_makes_unused_networks_and_volumes() {
    if !support::require_root() {
        return;
    }
    let yaml = "services:\n  app:\n    image: busybox:test\n    command: [sleep, '1000']\nnetworks:\n  spare: {}\nvolumes:\n  keep: {}\n";
    let p = common::project("allres", yaml);
    let (net, vol) = (format!("{}_spare", p.project), format!("{}_keep", p.project));
    p.ok(&["up", "-d"]);
    assert!(!p.ok(&["network", "ls"]).contains(&net), "an unused network was made");
    assert!(!p.ok(&["volume", "ls"]).contains(&vol), "an unused volume was made");
    p.ok(&["--all-resources", "up", "-d"]);
    assert!(p.ok(&["network", "ls"]).contains(&net), "--all-resources: no {net}");
    assert!(p.ok(&["volume", "ls"]).contains(&vol), "--all-resources: no {vol}");
    p.ok(&["down", "-v"]);
    assert!(!p.ok(&["network", "ls"]).contains(&net) && !p.ok(&["volume", "ls"]).contains(&vol), "down left them");
    p.teardown();
}

/// `berth config` in a directory holding `compose.yaml` (no Compose variables from the caller).
fn config_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    c.current_dir(dir);
    for k in ["COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_ENV_FILES", "BERTH_PROJECT_NAME"] {
        c.env_remove(k);
    }
    c.arg("config").args(args).output().expect("run berth config")
}

#[test]
fn config_output_writes_the_model_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "name: outp\nservices:\n  a:\n    image: x\n").unwrap();
    let stdout = config_in(dir.path(), &[]);
    assert!(stdout.status.success());
    // -o FILE: the same model in the file, nothing on stdout.
    let out = config_in(dir.path(), &["-o", "model.yaml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read(dir.path().join("model.yaml")).unwrap(), stdout.stdout);
    let out = config_in(dir.path(), &["--format", "json", "--output", "model.json"]);
    assert!(out.status.success() && out.stdout.is_empty());
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("model.json")).unwrap()).unwrap();
    assert_eq!(model["services"]["a"]["image"], "x");
    // A file that cannot be written is an error naming it.
    let out = config_in(dir.path(), &["-o", "nodir/model.yaml"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nodir/model.yaml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn config_no_consistency_prints_a_model_that_fails_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "name: nocons\nservices:\n  a:\n    command: [echo, hi]\n")
        .unwrap();
    let out = config_in(dir.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("neither an image nor a build context"), "{err}");
    let out = config_in(dir.path(), &["--no-consistency"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let model = String::from_utf8_lossy(&out.stdout);
    assert!(model.contains("  a:\n") && model.contains("- hi"), "{model}");
}

#[test]
fn config_no_env_resolution_leaves_the_env_files_unread() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: noenv\nservices:\n  a:\n    image: x\n    env_file: [app.env]\n    environment: {OWN: '1'}\n";
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("app.env"), "FROMFILE=yes\n").unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        let out = config_in(dir.path(), &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let merged = json(&[]);
    assert_eq!(merged["services"]["a"]["environment"], serde_json::json!({"FROMFILE": "yes", "OWN": "1"}));
    let unread = json(&["--no-env-resolution"]);
    assert_eq!(unread["services"]["a"]["environment"], serde_json::json!({"OWN": "1"}));
    assert!(unread["services"]["a"]["env_file"][0]["path"].as_str().is_some_and(|p| p.ends_with("app.env")));
}

/// `config --no-path-resolution`: relative paths stay as written; those of an included file
/// and of a base service from another file become relative to the project directory (compose-go
/// TestIncludeRelative); env files are still found and read; `~` and absolute paths stay.
#[test]
fn config_no_path_resolution_keeps_paths_relative() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let yaml = "name: nopath
include: [sub/inc.yaml]
services:
  a:
    image: x
    build: ./ctx
    volumes: ['./data:/data', '/abs:/abs', '~/h:/h']
    env_file: [app.env]
  b:
    extends: {file: base/base.yaml, service: base}
secrets:
  s: {file: ./s.txt}
";
    std::fs::write(root.join("compose.yaml"), yaml).unwrap();
    std::fs::write(root.join("app.env"), "FROMFILE=yes\n").unwrap();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(
        root.join("sub/inc.yaml"),
        "services:\n  inc:\n    image: x\n    volumes: ['.:/src', '../shared:/shared']\n    build: {}\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("base")).unwrap();
    std::fs::write(root.join("base/base.yaml"), "services:\n  base:\n    image: x\n    volumes: ['./cfg:/cfg']\n")
        .unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        let out = config_in(root, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let sources = |m: &serde_json::Value, svc: &str| -> Vec<String> {
        let vols = m["services"][svc]["volumes"].as_array().cloned().unwrap_or_default();
        vols.iter().map(|v| v["source"].as_str().unwrap_or_default().to_string()).collect()
    };
    let kept = json(&["--no-path-resolution"]);
    assert_eq!(sources(&kept, "a"), ["./data", "/abs", "~/h"]);
    assert_eq!(kept["services"]["a"]["build"]["context"], "./ctx");
    assert_eq!(kept["services"]["a"]["env_file"][0]["path"], "app.env");
    assert_eq!(kept["services"]["a"]["environment"]["FROMFILE"], "yes");
    assert_eq!(sources(&kept, "b"), ["base/cfg"]);
    assert_eq!(sources(&kept, "inc"), ["sub", "shared"]);
    assert_eq!(kept["services"]["inc"]["build"]["context"], "sub");
    assert_eq!(kept["secrets"]["s"]["file"], "./s.txt");
    // Without the flag, all of them are absolute.
    let abs = json(&[]);
    let r = root.canonicalize().unwrap().display().to_string();
    assert_eq!(sources(&abs, "a")[0], format!("{r}/data"));
    assert_eq!(sources(&abs, "b"), [format!("{r}/base/cfg")]);
    assert_eq!(sources(&abs, "inc"), [format!("{r}/sub"), format!("{r}/shared")]);
    assert_eq!(abs["services"]["a"]["build"]["context"], format!("{r}/ctx"));
}

/// `config --models`: the names of the top-level `models` (Compose's AI models), one a line.
#[test]
fn config_models_lists_the_model_names() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: mdl\nservices:\n  a:\n    image: x\n    models: [llm]\nmodels:\n  llm:\n    model: ai/smollm2\n  embed:\n    model: ai/mxbai\n";
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    let out = config_in(dir.path(), &["--models"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "llm\nembed\n");
}

/// Compose's hidden and deprecated spellings are taken: `-v` (the version), `--workdir`
/// (`--project-directory`, with a warning: the stack file is looked for there, as Compose), `--insecure-registry REGISTRY`, `up`/`create`/
/// `publish --y`, `pull --no-parallel`, `publish --insecure-registry`.
#[test]
fn composes_hidden_and_deprecated_flags_are_taken() {
    let v = berth_plain(&["-v"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert_eq!(String::from_utf8_lossy(&v.stdout), format!("berth {}\n", env!("CARGO_PKG_VERSION")));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "name: wd\nservices:\n  a:\n    image: x\n").unwrap();
    let wd = dir.path().to_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--workdir", wd, "config", "--services"])
        .current_dir("/")
        .env_remove("COMPOSE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("'--workdir' is deprecated"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--insecure-registry", "127.0.0.1:5000", "config", "-q"])
        .current_dir(dir.path())
        .env_remove("COMPOSE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Parsed (an unknown flag fails before --help is reached).
    for args in [
        &["up", "--y", "--help"][..],
        &["create", "--y", "--help"],
        &["publish", "--y", "--insecure-registry", "--help"],
        &["pull", "--no-parallel", "--help"],
        &["build", "--compress", "--force-rm", "--no-rm", "-m", "64m", "--help"],
    ] {
        let out = berth_plain(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// `build --print`: the bake definition docker compose prints (a `default` group of the
/// services to build, a target per service with a `build:`, `.` made `_`); `build --check`:
/// every Dockerfile parsed, nothing built, a problem names its service; BuildKit's `--builder`
/// is taken with a warning.
#[test]
fn build_print_and_check_build_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let yaml = "name: bk
services:
  web.app:
    image: reg.example/web:1
    build:
      context: ./app
      args: {A: one}
      target: final
      tags: ['extra:1']
      labels: {l: v}
      cache_from: ['type=local,src=/tmp/c']
  plain: {image: x}
  bad:
    build: ./bad
";
    std::fs::write(root.join("compose.yaml"), yaml).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(root.join("app/Dockerfile"), "FROM busybox AS final\nRUN true\n").unwrap();
    std::fs::create_dir_all(root.join("bad")).unwrap();
    std::fs::write(root.join("bad/Dockerfile"), "FROM busybox\nRUN --mount=type=cache,target=/x true\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["--root", root.join("state").to_str().unwrap(), "build"])
            .args(args)
            .current_dir(root)
            .env_remove("COMPOSE_FILE")
            .output()
            .unwrap()
    };
    let out = run(&["--print", "--builder", "x", "web.app"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--builder is BuildKit's"));
    let bake: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = root.canonicalize().unwrap().display().to_string();
    assert_eq!(bake["group"]["default"]["targets"], serde_json::json!(["web_app"]));
    let t = &bake["target"]["web_app"];
    assert_eq!(t["context"], format!("{r}/app"));
    assert_eq!(t["dockerfile"], format!("{r}/app/Dockerfile"));
    assert_eq!(t["args"], serde_json::json!({"A": "one"}));
    assert_eq!(t["labels"], serde_json::json!({"l": "v"}));
    assert_eq!(t["tags"], serde_json::json!(["extra:1", "reg.example/web:1"]));
    assert_eq!(t["cache-from"], serde_json::json!(["type=local,src=/tmp/c"]));
    assert_eq!(t["target"], "final");
    assert_eq!(t["output"], serde_json::json!(["type=docker"]));
    assert_eq!(bake["target"]["bad"]["tags"], serde_json::json!(["bk-bad"]), "{bake}");
    assert!(bake["target"].get("plain").is_none());
    let pushed: serde_json::Value = serde_json::from_slice(&run(&["--print", "--push"]).stdout).unwrap();
    assert_eq!(pushed["target"]["web_app"]["output"], serde_json::json!(["type=registry"]));
    assert_eq!(pushed["target"]["bad"]["output"], serde_json::json!(["type=docker"]), "no image: nowhere to push");
    assert_eq!(pushed["group"]["default"]["targets"], serde_json::json!(["web_app", "bad"]));

    let ok = run(&["--check", "web.app"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Check complete"));
    let bad = run(&["--check"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("service `bad`") && err.contains("--mount") && !err.contains("service `web.app`"), "{err}");
}
