//! `berth exec` and `berth run SERVICE` against real containers: exit codes passed on, env,
//! user and working directory; a one-off with --rm leaves nothing; dependencies started first
//! (not with --no-deps).

#[path = "ops_common/mod.rs"]
mod common;
mod support;

const STACK: &str = "services:
  app:
    image: busybox:test
    command: [sleep, '1000']
    environment:
      GREETING: hello
    working_dir: /tmp
  client:
    image: busybox:test
    command: [sh, -c, 'echo from-service; exit 4']
    environment:
      MODE: svc
    depends_on: [app]
";

#[test]
fn exec_passes_exit_code_env_user_and_workdir() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opsexec", STACK);
    p.up("app", 1);
    let out = p.berth(&["exec", "app", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let got = p.ok(&["exec", "-e", "EXTRA=x", "app", "sh", "-c", "echo $GREETING $EXTRA; pwd"]);
    assert_eq!(got, "hello x\n/tmp\n");
    assert_eq!(p.ok(&["exec", "-u", "app", "-w", "/", "app", "sh", "-c", "id -u; pwd"]), "1000\n/\n");
    let err = p.berth(&["exec", "--index", "2", "app", "true"]);
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains("service `app` has no container number 2"), "{msg}");
    let err = p.berth(&["exec", "client", "true"]);
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains(&format!("no container of service `client` in project `{}`", p.project)), "{msg}");
    p.teardown();
}

#[test]
fn run_service_one_off_passes_exit_code_and_rm_leaves_nothing() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opsrun", STACK);
    // --no-deps: only the one-off runs.
    let out = p.berth(&["run", "--rm", "--no-deps", "client"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-service\n");
    assert!(p.rt.list().unwrap().is_empty(), "--rm left a container");
    // Without it, as `docker compose run`: the dependencies are started first.
    let out = p.berth(&["run", "--rm", "client"]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-service\n");
    let app = p.rt.state(&format!("{}-app-1", p.project));
    assert!(app.is_ok_and(|st| st.is_running()), "run started `app`");
    // The one-off joins the service's network: it reaches `app` by name.
    let script = "echo $MODE; ping -c1 -W2 app >/dev/null && echo reached-app; exit 9";
    let out = p.berth(&["run", "--rm", "-e", "MODE=cli", "client", "sh", "-c", script]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        (out.status.code(), stdout.as_ref()),
        (Some(9), "cli\nreached-app\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(p.rt.list().unwrap().len(), 1, "--rm left the one-off");
    // Without --rm the one-off stays, named <project>-<service>-run-<hex>; `ps -a` shows it (as
    // `docker compose ps --all`), `ps` does not.
    // --env-from-file (Compose's env-file syntax, `-e` wins) and --label reach the one-off.
    let env_file = p.dir.path().join("run.env");
    std::fs::write(&env_file, "A=from-file\nB=file\n# comment\nC='quoted ${A}'\n").unwrap();
    let env_file = env_file.to_str().unwrap();
    let args =
        ["run", "--env-from-file", env_file, "-e", "B=flag", "-l", "team=qa", "client", "sh", "-c", "echo $A $B $C"];
    let out = p.berth(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-file flag quoted ${A}\n");
    let names: Vec<String> = p.rt.list().unwrap().into_iter().map(|s| s.id).collect();
    let oneoff = names.iter().find(|n| n.starts_with(&format!("{}-client-run-", p.project))).expect("one-off kept");
    assert_eq!(p.rt.config(oneoff).unwrap().labels.get("team").map(String::as_str), Some("qa"));
    let missing = p.berth(&["run", "--env-from-file", "/nonexistent.env", "client", "true"]);
    let msg = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success() && msg.contains("--env-from-file /nonexistent.env"), "{msg}");
    assert!(p.ok(&["ps", "-a"]).contains(oneoff.as_str()));
    assert!(!p.ok(&["ps", "--status", "exited"]).contains(oneoff.as_str()));
    // `rm` (in teardown) removes the one-off too, network sandbox included.
    p.teardown();
}
