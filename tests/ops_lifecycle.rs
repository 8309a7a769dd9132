//! `stop`/`start`/`restart`/`kill`/`rm`/`wait`, `top`, `stats`, `port` and `ls` against real
//! containers.

#[path = "ops_common/mod.rs"]
mod common;
mod support;

use berth::reconciler::state::ProjectDir;
use berth::runtime::Status;

const STACK: &str = "services:
  db:
    image: busybox:test
    command: [sleep, '1000']
    mem_limit: 64m
  web:
    image: busybox:test
    command: [sh, -c, 'sleep 1000 & wait']
    depends_on: [db]
    stop_grace_period: 30s
  once:
    image: busybox:test
    command: [sh, -c, 'sleep 0.3; exit 5']
";

fn record(p: &common::Proj, name: &str) -> berth::reconciler::ContainerRecord {
    ProjectDir::new(&p.roots, &p.project).record(name).unwrap().expect("record")
}

#[test]
fn stop_start_restart_kill_rm() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opslife", STACK);
    let db = p.up("db", 1);
    let web = p.up("web", 1);
    let out = p.berth(&["stop", "-t", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    // Dependents stop first.
    assert!(said.find(&web).unwrap() < said.find(&db).unwrap(), "{said}");
    assert!(!p.rt.state(&db).unwrap().is_running() && !p.rt.state(&web).unwrap().is_running());
    assert!(record(&p, &db).stopped_by_user, "stop must tell the supervisor");
    p.ok(&["start", "web"]);
    assert!(p.rt.state(&web).unwrap().is_running());
    assert!(!record(&p, &web).stopped_by_user);
    let pid = p.rt.state(&web).unwrap().pid;
    p.ok(&["restart", "-t", "1", "web"]);
    let st = p.rt.state(&web).unwrap();
    assert!(st.is_running() && st.pid != pid, "restart gave a new PID 1");
    p.ok(&["kill", "-s", "KILL", "web"]);
    let st = p.rt.wait_timeout(&web, crate::support::patience(std::time::Duration::from_secs(5))).unwrap().unwrap();
    assert_eq!(st.status, Status::Exited { code: 137, oom: false });
    assert!(record(&p, &web).stopped_by_user);
    // rm removes stopped containers only (db is stopped, web exited). `start --wait` returns
    // once db runs, as `up --wait`.
    let out = p.berth(&["start", "--wait", "--wait-timeout", "60", "db"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.contains(&db) && said.contains("Running"), "{said}");
    let out = p.ok(&["rm", "--force"]);
    assert!(out.is_empty());
    assert!(p.rt.state(&web).is_err(), "web removed");
    assert!(p.rt.state(&db).unwrap().is_running(), "running db skipped");
    common::assert_nothing_left(&p.roots, &web);
    p.teardown();
}

#[test]
fn rm_v_removes_anonymous_volumes_only_when_asked() {
    if !support::require_root() {
        return;
    }
    let stack = "services:
  a:
    image: busybox:test
    command: [sh, -c, 'echo x > /data/f; exit 0']
    volumes: [/data]
  b:
    image: busybox:test
    command: [sh, -c, 'echo x > /data/f; exit 0']
    volumes: [/data]
";
    let p = common::project("opsrmv", stack);
    let a = p.up("a", 1);
    let b = p.up("b", 1);
    p.wait_exit(&a);
    p.wait_exit(&b);
    let vm = berth::reconciler::mounts::volume_manager(&p.roots);
    let volumes = || -> Vec<String> { vm.list(Some(&p.project)).unwrap().into_iter().map(|v| v.name).collect() };
    assert_eq!(volumes().len(), 2, "one anonymous volume each");
    p.ok(&["rm", "a"]);
    assert_eq!(volumes().len(), 2, "rm without -v keeps the volume");
    p.ok(&["rm", "-v", "b"]);
    let left = volumes();
    assert_eq!(left.len(), 1, "rm -v removed b's volume: {left:?}");
    let owner = vm.get(&left[0]).unwrap().labels.get(berth::volumes::labels::CONTAINER).cloned();
    assert_eq!(owner.as_deref(), Some(a.as_str()), "{left:?}");
    let out = p.berth(&["down", "-v"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(volumes().is_empty());
    p.teardown();
}

#[test]
fn stopped_or_killed_containers_are_not_restarted_by_their_policy() {
    if !support::require_root() {
        return;
    }
    let stack = "services:
  svc:
    image: busybox:test
    command: [sleep, '1000']
    restart: always
";
    let p = common::project("opspolicy", stack);
    let id = p.up("svc", 1);
    let still_exited = |what: &str| {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert!(!p.rt.state(&id).unwrap().is_running(), "the supervisor restarted the container after {what}");
    };
    p.ok(&["stop", "svc"]);
    still_exited("stop");
    p.ok(&["start", "svc"]);
    assert!(p.rt.state(&id).unwrap().is_running());
    p.ok(&["kill", "svc"]);
    still_exited("kill");
    // A crash (not the user's doing) is restarted: the policy still applies after `start`.
    p.ok(&["start", "svc"]);
    let pid = p.rt.state(&id).unwrap().pid.unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let deadline = std::time::Instant::now() + crate::support::patience(std::time::Duration::from_secs(10));
    while p.rt.state(&id).unwrap().pid == Some(pid) || !p.rt.state(&id).unwrap().is_running() {
        assert!(std::time::Instant::now() < deadline, "a crashed container was not restarted");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    p.teardown();
}

/// `container "<64 hex>" exited with status code N`, one line, as `docker compose wait`.
#[track_caller]
fn assert_compose_wait_line(out: &str, code: i32) {
    let line = out.strip_suffix('\n').unwrap_or(out);
    let id = line.strip_prefix("container \"").and_then(|r| r.split_once('"')).map(|(id, _)| id).unwrap_or_default();
    assert!(id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()), "{out:?}");
    assert_eq!(line, format!("container \"{id}\" exited with status code {code}"));
}

#[test]
fn wait_returns_the_exit_code() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opswait", STACK);
    p.up("once", 1);
    let out = p.berth(&["wait", "once"]);
    assert_eq!(out.status.code(), Some(5));
    assert_compose_wait_line(&String::from_utf8_lossy(&out.stdout), 5);
    p.teardown();
}

#[test]
fn wait_down_project_takes_the_project_down_when_the_first_exits() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opswaitdown", STACK);
    p.up("db", 1);
    p.up("once", 1);
    // db runs on; once exits with 5: the project goes down, and the code is once's.
    let out = p.berth(&["wait", "--down-project", "db", "once"]);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert_compose_wait_line(&String::from_utf8_lossy(&out.stdout), 5);
    assert!(p.rt.list().unwrap().is_empty(), "down left containers: {:?}", p.rt.list().unwrap());
    p.teardown();
}

/// A free TCP port on 127.0.0.1 (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn top_stats_port_ls() {
    if !support::require_root() {
        return;
    }
    let port = free_port();
    let grace = "    stop_grace_period: 30s\n";
    let stack = STACK.replace(grace, &format!("{grace}    ports: ['127.0.0.1:{port}:80']\n"));
    let p = common::project("opsinsp", &stack);
    let db = p.up("db", 1);
    let web = p.up("web", 1);
    let top = p.ok(&["top", "web"]);
    let lines: Vec<&str> = top.lines().collect();
    assert_eq!(lines[0], web);
    assert!(lines[1].starts_with("UID") && lines[1].contains("CMD"), "{top}");
    assert!(top.contains("sh -c sleep 1000 & wait") && top.contains("sleep 1000\n"), "{top}");
    let stats = p.ok(&["stats", "--no-stream", "db"]);
    let row = stats.lines().nth(1).expect(&stats);
    assert!(row.starts_with(&db) && row.contains(" / 64MiB"), "{stats}");
    let json: serde_json::Value = serde_json::from_str(&p.ok(&["stats", "--no-stream", "--format", "json"])).unwrap();
    let db_stats = json.as_array().unwrap().iter().find(|s| s["Name"] == db.as_str()).unwrap().clone();
    assert_eq!(db_stats["MemLimit"].as_u64(), Some(64 << 20));
    assert!(db_stats["Pids"].as_u64() >= Some(1));
    // The published port, through `port` and `ps`; a stop releases it, a start publishes it again.
    let mapping = format!("127.0.0.1:{port}");
    assert_eq!(p.ok(&["port", "web", "80"]), format!("{mapping}\n"));
    assert!(p.ok(&["ps"]).contains(&format!("{mapping}->80/tcp")));
    let err = p.berth(&["port", "web", "80", "--protocol", "udp"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("service `web` does not publish port 80/udp"));
    p.ok(&["stop", "web"]);
    assert!(!p.ok(&["ps", "-a"]).contains("->80/tcp"));
    // stats: running containers only; -a adds the stopped one, with zeros; --no-trunc is accepted.
    let running = p.ok(&["stats", "--no-stream"]);
    assert!(running.contains(&db) && !running.contains(&web), "{running}");
    let all = p.ok(&["stats", "--no-stream", "-a", "--no-trunc"]);
    let web_row = all.lines().find(|l| l.starts_with(&web)).expect(&all);
    assert!(web_row.contains("0.00%") && web_row.trim_end().ends_with(" 0"), "{all}");
    assert!(all.contains(&db), "{all}");
    let json: serde_json::Value =
        serde_json::from_str(&p.ok(&["stats", "--no-stream", "--all", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(2), "{json}");
    p.ok(&["start", "web"]);
    assert_eq!(p.ok(&["port", "web", "80"]), format!("{mapping}\n"));
    let ls = p.ok(&["ls"]);
    let line = ls.lines().find(|l| l.starts_with(&p.project)).expect(&ls);
    assert!(line.contains("running(2)") && line.contains("compose.yaml"), "{ls}");
    // --filter name=: the project by its name, or a regular expression found in it.
    assert_eq!(p.ok(&["ls", "-q", "--filter", &format!("name={}", p.project)]), format!("{}\n", p.project));
    assert_eq!(p.ok(&["ls", "-q", "--filter", "name=^opsinsp-[0-9]+$"]), format!("{}\n", p.project));
    assert_eq!(p.ok(&["ls", "-q", "--filter", "name=^nosuchproject$"]), "");
    let err = p.berth(&["ls", "--filter", "status=running"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("invalid --filter `status=running`"));
    p.teardown();
}

/// `kill` leaves the containers of services gone from the stack file alone;
/// `kill --remove-orphans` kills them too, as `docker compose kill`.
#[test]
fn kill_remove_orphans_kills_services_gone_from_the_file() {
    if !support::require_root() {
        return;
    }
    let both = "services:\n  web:\n    image: busybox:test\n    command: [sleep, '1000']\n  old:\n    image: busybox:test\n    command: [sleep, '1000']\n";
    let p = common::project("opskillorph", both);
    let web = p.up("web", 1);
    let old = p.up("old", 1);
    let file = p.dir.path().join("compose.yaml");
    let full = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, full.split("  old:").next().unwrap()).unwrap();
    let state = |name: &str| {
        let ps = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
        ps.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).map(String::from).unwrap_or_default()
    };
    // The dry run names what kill would: web, not the orphan; with --remove-orphans, both.
    let dry = p.ok(&["--dry-run", "kill"]);
    assert!(dry.contains(&web) && !dry.contains(&old), "{dry}");
    assert!(p.ok(&["--dry-run", "kill", "--remove-orphans"]).contains(&old));
    let out = p.berth(&["kill"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&web) && !said.contains(&old), "{said}");
    assert_eq!((state(&web), state(&old)), ("exited".to_string(), "running".to_string()));
    let out = p.berth(&["kill", "--remove-orphans"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&old));
    assert_eq!(state(&old), "exited");
    std::fs::write(&file, &full).unwrap();
    p.teardown();
}

/// `restart db` also restarts the services depending on db with `restart: true` (not the
/// others); `restart --no-deps db` restarts db alone, as docker compose restart.
#[test]
fn restart_takes_restart_true_dependents_unless_no_deps() {
    if !support::require_root() {
        return;
    }
    let stack = "services:
  db:
    image: busybox:test
    command: [sleep, '1000']
  web:
    image: busybox:test
    command: [sleep, '1000']
    depends_on:
      db: {condition: service_started, restart: true}
  worker:
    image: busybox:test
    command: [sleep, '1000']
    depends_on: [db]
";
    let p = common::project("opsrestartdeps", stack);
    let db = p.up("db", 1);
    let web = p.up("web", 1);
    let worker = p.up("worker", 1);
    let restarted = |args: &[&str]| -> Vec<String> {
        let out = p.berth(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut names: Vec<String> = said
            .lines()
            .filter_map(|l| l.strip_prefix("Container ")?.strip_suffix("  Restarted").map(String::from))
            .collect();
        names.sort();
        names
    };
    // The dry run names the same containers the restart does.
    let dry = p.ok(&["--dry-run", "restart", "db"]);
    assert!(dry.contains(&db) && dry.contains(&web) && !dry.contains(&worker), "{dry}");
    assert!(!p.ok(&["--dry-run", "restart", "--no-deps", "db"]).contains(&web));
    assert_eq!(restarted(&["restart", "-t", "1", "db"]), vec![db.clone(), web.clone()]);
    assert_eq!(restarted(&["restart", "-t", "1", "--no-deps", "db"]), vec![db.clone()]);
    assert_eq!(restarted(&["restart", "-t", "1", "worker"]), vec![worker.clone()]);
    p.teardown();
}
