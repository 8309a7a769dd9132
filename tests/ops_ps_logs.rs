//! `berth ps` and `berth logs` against real containers: status sentences, JSON, filters;
//! tail, timestamps, prefixes, and a follow that sees a new line within a second.

#[path = "ops_common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const STACK: &str = "services:
  web:
    image: busybox:test
    command: [sh, -c, 'echo web-one; echo web-two; echo web-three; sleep 1000']
  job:
    image: busybox:test
    command: [sh, -c, 'echo job-done; exit 3']
";

#[test]
fn ps_shows_running_and_exited_with_status_and_json() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opsps", STACK);
    let web = p.up("web", 1);
    let job = p.up("job", 1);
    assert_eq!(p.wait_exit(&job), 3);
    let table = p.ok(&["ps"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("SERVICE") && lines[0].contains("STATUS"), "{table}");
    assert_eq!(lines.len(), 2, "only the running container without -a:\n{table}");
    assert!(lines[1].starts_with(&web) && lines[1].contains(" Up "), "{table}");
    let all = p.ok(&["ps", "-a"]);
    let job_line = all.lines().find(|l| l.starts_with(&job)).expect("job row");
    assert!(job_line.contains("Exited (3)") && job_line.contains("ago"), "{all}");
    // Columns align: STATUS starts at the same offset on every line.
    // (In characters: a cut command ends in `…`, as Docker's.)
    let col = all.lines().next().unwrap().find("STATUS").unwrap();
    let from_col = |l: &str| l.chars().skip(col).collect::<String>();
    assert!(all.lines().skip(1).all(|l| from_col(l).starts_with("Up") || from_col(l).starts_with("Exited")), "{all}");
    assert!(all.contains("\"sh -c echo job-done…\""), "the command, cut as Docker's:\n{all}");
    // JSON Lines, as Compose ≥ 2.21: one object per line.
    let jsonl = p.ok(&["ps", "-a", "--format", "json"]);
    let rows: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    assert_eq!(rows.len(), 2, "{jsonl}");
    let j = rows.iter().find(|r| r["Service"] == "job").unwrap();
    assert_eq!((j["State"].as_str(), j["ExitCode"].as_i64()), (Some("exited"), Some(3)));
    assert_eq!(j["Name"], job.as_str());
    let job_id = j["ID"].as_str().unwrap();
    assert!(job_id.len() == 64 && job_id.chars().all(|c| c.is_ascii_hexdigit()), "{job_id}");
    assert_eq!(p.ok(&["ps", "-a", "--status", "exited", "-q"]).trim(), job_id);
    assert_eq!(
        p.ok(&["ps", "-a", "--filter", "status=exited", "--format", "{{.Name}} {{.State}}"]),
        format!("{job} exited\n")
    );
    assert_eq!(p.ok(&["ps", "-a", "--services"]), "job\nweb\n");
    let err = p.berth(&["ps", "nope"]);
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains(&format!("no container of service `nope` in project `{}`", p.project)), "{msg}");
    p.teardown();
}

#[test]
fn logs_tail_timestamps_prefixes_and_since() {
    if !support::require_root() {
        return;
    }
    let p = common::project("opslogs", STACK);
    let web = p.up("web", 1);
    let job = p.up("job", 1);
    p.wait_log(&web, "web-three");
    p.wait_exit(&job);
    let all = p.ok(&["logs", "--no-color"]);
    assert!(all.contains("web-1 | web-one\n") && all.contains("job-1 | job-done\n"), "{all}");
    assert_eq!(all.lines().count(), 4, "{all}");
    let tail = p.ok(&["logs", "--tail", "1", "web"]);
    assert_eq!(tail, "web-1 | web-three\n");
    // -n: the short form of --tail, as docker compose logs.
    assert_eq!(p.ok(&["logs", "-n", "2", "web"]), "web-1 | web-two\nweb-1 | web-three\n");
    let ts = p.ok(&["logs", "-t", "--tail", "1", "job"]);
    let rest = ts.strip_prefix("job-1 | ").expect(&ts);
    assert!(rest.ends_with("Z job-done\n") && rest.starts_with("20"), "{ts}");
    assert_eq!(p.ok(&["logs", "--since", "2000-01-01T00:00:00Z", "job"]), "job-1 | job-done\n");
    assert_eq!(p.ok(&["logs", "--since", "2999-01-01T00:00:00Z"]), "");
    assert!(!p.berth(&["logs", "--since", "yesterday"]).status.success());
    // --until: only what was written before it; --index: one replica of each service.
    assert_eq!(p.ok(&["logs", "--until", "2000-01-01T00:00:00Z"]), "");
    assert_eq!(p.ok(&["logs", "--no-color", "--until", "2999-01-01T00:00:00Z"]), all);
    assert_eq!(p.ok(&["logs", "--index", "1", "--tail", "1", "web"]), "web-1 | web-three\n");
    assert!(!p.berth(&["logs", "--index", "2", "web"]).status.success(), "no web-2");
    assert!(!p.berth(&["logs", "--until", "tomorrow"]).status.success());
    p.teardown();
}

#[test]
fn logs_follow_sees_new_lines_and_ends_with_the_container() {
    if !support::require_root() {
        return;
    }
    let stack = "services:
  tick:
    image: busybox:test
    command: [sh, -c, 'echo start; while [ ! -e /tmp/go ]; do usleep 20000; done; echo later; while [ ! -e /tmp/stop ]; do usleep 20000; done']
";
    let p = common::project("opsfollow", stack);
    let id = p.up("tick", 1);
    p.wait_log(&id, "start");
    let mut child = p.cmd(&["logs", "--follow"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "tick-1 | start");
    std::thread::sleep(Duration::from_millis(200));
    // How fast a line arrives is measured by the benchmarks (bench/), not here: the suite also
    // runs in a slow emulated guest.
    p.ok(&["exec", "tick", "touch", "/tmp/go"]);
    assert_eq!(lines.next().unwrap().unwrap(), "tick-1 | later");
    p.ok(&["exec", "tick", "touch", "/tmp/stop"]);
    let deadline = Instant::now() + crate::support::patience(Duration::from_secs(5));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "logs --follow did not end with its container");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    p.teardown();
}

/// `ps --orphans=false` hides the containers of services gone from the stack file; by
/// default (`--orphans`) they are listed, as `docker compose ps`.
#[test]
fn ps_orphans_false_hides_services_gone_from_the_file() {
    if !support::require_root() {
        return;
    }
    let both = "services:\n  web:\n    image: busybox:test\n    command: [sleep, '1000']\n  old:\n    image: busybox:test\n    command: [sleep, '1000']\n";
    let p = common::project("opsorph", both);
    let web = p.up("web", 1);
    let old = p.up("old", 1);
    let file = p.dir.path().join("compose.yaml");
    let full = std::fs::read_to_string(&file).unwrap();
    let without_old = full.split("  old:").next().unwrap().to_string();
    std::fs::write(&file, &without_old).unwrap();
    let names = |args: &[&str]| -> Vec<String> {
        let mut args = args.to_vec();
        args.extend(["--format", "{{.Name}}"]);
        let mut v: Vec<String> = p.ok(&args).lines().map(String::from).collect();
        v.sort();
        v
    };
    let both_names = {
        let mut v = vec![old.clone(), web.clone()];
        v.sort();
        v
    };
    assert_eq!(names(&["ps"]), both_names, "orphans are listed by default");
    assert_eq!(names(&["ps", "--orphans"]), both_names);
    assert_eq!(names(&["ps", "--orphans=false"]), vec![web.clone()]);
    assert_eq!(p.ok(&["ps", "--orphans=false", "-q"]).lines().count(), 1);
    std::fs::write(&file, &full).unwrap();
    p.teardown();
}
