//! Log output flags as a user calls them: attached `up --no-log-prefix` prints the containers'
//! lines as they wrote them (with `--timestamps`, the time first), `logs --no-color` prints no
//! colour even where colour is forced, and `down --timeout` is `-t`'s long form.

mod support;

use support::stack::Stack;

const ONE: &str = r#"
services:
  web:
    image: busybox:latest
    command: [sh, -c, 'echo web-says-hi; echo second line']
"#;

#[test]
fn up_no_log_prefix_prints_bare_lines() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("noprefix").image("busybox:latest").file(ONE);
    let up = s.up(&["--no-log-prefix", "-t", "1"]);
    up.success();
    let out = up.stdout();
    assert!(out.lines().any(|l| l == "web-says-hi"), "a bare line:\n{out}");
    assert!(out.lines().any(|l| l == "second line"), "{out}");
    assert!(!out.contains(" | "), "no prefix at all:\n{out}");
    // Compose's exit notice is still printed.
    assert!(out.contains("web-1 exited with code 0"), "{out}");
    // With --timestamps: the time, then the line.
    let up = s.up(&["--force-recreate", "--no-log-prefix", "--timestamps", "-t", "1"]);
    up.success();
    let out = up.stdout();
    let line = out.lines().find(|l| l.ends_with(" web-says-hi")).unwrap_or_else(|| panic!("no line:\n{out}"));
    let time = line.split(' ').next().unwrap_or_default();
    assert!(berth::reconciler::ops::human::parse_rfc3339(time).is_some(), "`{line}` starts with a time");
    // With the prefix (the default), for comparison.
    let up = s.up(&["--force-recreate", "-t", "1"]);
    assert!(up.stdout().lines().any(|l| l == "web-1 | web-says-hi"), "{}", up.stdout());
    // Detached, the flag has nothing to act on: refused as Compose's conflicts are.
    s.up(&["-d", "--no-log-prefix"]).failure();
    s.down_clean();
}

#[test]
fn logs_no_color_wins_over_forced_colour_and_down_takes_timeout() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("nocolor").image("busybox:latest").file(ONE);
    s.up(&["-d"]).success();
    s.eventually(std::time::Duration::from_secs(20), "web's line logged", || {
        s.berth(&["logs", "web"]).stdout().contains("web-says-hi")
    });
    let coloured = s.berth(&["--ansi", "always", "logs", "web"]);
    coloured.success();
    assert!(coloured.stdout().contains("\x1b["), "--ansi always colours the prefix:\n{:?}", coloured.stdout());
    let plain = s.berth(&["--ansi", "always", "logs", "--no-color", "web"]);
    plain.success();
    assert!(!plain.stdout().contains('\x1b'), "{:?}", plain.stdout());
    assert!(
        plain.stdout().lines().any(|l| l == "web-1  | web-says-hi" || l == "web-1 | web-says-hi"),
        "{}",
        plain.stdout()
    );
    let bare = s.berth(&["logs", "--no-log-prefix", "web"]);
    assert!(bare.stdout().lines().any(|l| l == "web-says-hi"), "{}", bare.stdout());
    s.berth(&["down", "--timeout", "1"]).success();
    assert!(s.runtime_state("web", 1).is_none(), "down --timeout removed the container");
    s.down_clean();
}
