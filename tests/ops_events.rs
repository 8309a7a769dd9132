//! Issue 18: `berth events` against real containers: a container that starts and dies shows
//! create → start → die (with its exit code), a health check's first result shows as
//! `health_status: healthy`, `pause`/`kill` show up, `--since/--until` select by time, and a
//! stream started before `down` sees every container's destroy.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use support::stack::Stack;

const STACK: &str = "services:
  short:
    image: busybox:latest
    command: [sh, -c, 'sleep 1; exit 3']
  web:
    image: busybox:latest
    command: [sleep, '1000']
    healthcheck:
      test: [CMD, 'true']
      interval: 100ms
";

fn now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn parse(out: &str) -> Vec<serde_json::Value> {
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect()
}

/// (service, action) of each event, in order.
fn actions(evs: &[serde_json::Value]) -> Vec<(String, String)> {
    evs.iter()
        .map(|e| (e["service"].as_str().unwrap().to_string(), e["action"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn events_show_a_container_start_and_die() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("events").image("busybox:latest").file(STACK);
    let t0 = now();
    s.up(&["-d"]).success();
    s.eventually(Duration::from_secs(15), "`short` to exit and web to be healthy", || {
        let out = s.berth(&["events", "--json", "--since", &format!("{t0:.3}"), "--until", &format!("{:.3}", now())]);
        let got = actions(&parse(&out.stdout()));
        got.contains(&("short".into(), "die".into())) && got.contains(&("web".into(), "health_status: healthy".into()))
    });
    s.berth(&["pause", "web"]).success();
    s.berth(&["unpause", "web"]).success();
    let out = s.berth(&["events", "--json", "--since", &format!("{t0:.3}"), "--until", &format!("{:.3}", now())]);
    let evs = parse(&out.success().stdout());
    for e in &evs {
        assert_eq!(e["type"], "container", "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z') && e["timeNano"].as_i64().is_some(), "{e}");
        assert!(e["id"].as_str().unwrap().starts_with(&s.project), "{e}");
        assert_eq!(e["attributes"]["name"], e["id"], "{e}");
    }
    let short: Vec<&serde_json::Value> = evs.iter().filter(|e| e["service"] == "short").collect();
    let short_actions: Vec<&str> = short.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(short_actions, ["create", "start", "die"], "{evs:?}");
    assert_eq!(short[2]["attributes"]["exitCode"], "3");
    assert_eq!(short[0]["attributes"]["image"], "busybox:latest");
    let web = actions(&evs).into_iter().filter(|(s, _)| s == "web").map(|(_, a)| a).collect::<Vec<_>>();
    assert_eq!(&web[..2], ["create", "start"], "{web:?}");
    assert!(web.ends_with(&["pause".to_string(), "unpause".to_string()]), "{web:?}");
    // The die is reported once, though both the supervisor and later commands saw the exit.
    assert_eq!(short_actions.iter().filter(|a| **a == "die").count(), 1);

    // Time selection: nothing before the project existed; a service filter; text form.
    let none = s.berth(&["events", "--json", "--until", &format!("{:.3}", t0 - 1.0)]).success().stdout();
    assert!(none.is_empty(), "{none}");
    let only =
        s.berth(&["events", "--json", "--since", &format!("{t0:.3}"), "--until", &format!("{:.3}", now()), "short"]);
    assert!(actions(&parse(&only.success().stdout())).iter().all(|(svc, _)| svc == "short"));
    let text =
        s.berth(&["events", "--since", &format!("{t0:.3}"), "--until", &format!("{:.3}", now())]).success().stdout();
    let die = text.lines().find(|l| l.contains(" container die ")).unwrap_or_else(|| panic!("{text}"));
    assert!(die.contains(&s.name("short", 1)) && die.contains("exitCode=3"), "{die}");
    let bad = s.berth(&["events", "--since", "yesterday-ish"]);
    assert!(bad.failure().stderr().contains("--since yesterday-ish"), "{}", bad.stderr());

    // A stream started now sees a kill, then every destroy of `down`.
    let mut child = s.command(&["events", "--json"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500)); // the stream is following the log by now
    s.berth(&["kill", "web"]).success();
    s.berth(&["down", "-t", "1"]).success();
    let mut seen = Vec::new();
    let deadline = Instant::now() + support::patience(Duration::from_secs(10));
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
        }
        let got = actions(&seen);
        if got.contains(&("short".into(), "destroy".into())) && got.contains(&("web".into(), "destroy".into())) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let got = actions(&seen);
    assert!(got.contains(&("web".into(), "kill".into())), "{got:?}");
    assert!(got.contains(&("web".into(), "die".into())), "the killed container's exit: {got:?}");
    assert!(
        got.contains(&("short".into(), "destroy".into())) && got.contains(&("web".into(), "destroy".into())),
        "{got:?}"
    );
    s.down_clean();
}
