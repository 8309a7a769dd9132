//! End-to-end: container names. A changed `container_name:` replaces the old container (not a
//! second one beside it), and `--compatibility` / COMPOSE_COMPATIBILITY name containers as
//! docker-compose v1 did (`demo_web_1`).

mod support;

use support::stack::{containers_of, Stack};

/// Renaming a service's container (`container_name:` changed) recreates it under the new name:
/// the old one is removed, not left running beside it, and its anonymous volume goes to the
/// new one (as Compose, which finds containers by label, not name).
#[test]
fn a_changed_container_name_replaces_the_old_container() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("rename").image("busybox:latest");
    let (first, second) = (format!("{}-first", s.project), format!("{}-second", s.project));
    let stack = |name: &str| {
        format!(
            "services:\n  app:\n    image: busybox:latest\n    container_name: {name}\n    command: [sleep, '600']\n    volumes: ['/data']\n"
        )
    };
    s.write(&stack(&first));
    s.up(&["-d"]).success();
    s.berth(&["exec", "-T", "app", "sh", "-c", "echo kept > /data/f"]).success();
    assert_eq!(containers_of(&s.roots, &s.project), std::slice::from_ref(&first));

    s.write(&stack(&second));
    let plan = s.berth(&["plan"]);
    plan.success();
    assert!(plan.stdout().contains(&format!("replaces {first}")), "{}", plan.stdout());
    s.up(&["-d"]).success();
    assert_eq!(containers_of(&s.roots, &s.project), std::slice::from_ref(&second), "the old container was left behind");
    let rt = berth::runtime::Runtime::new(&s.roots);
    assert!(rt.state(&second).is_ok_and(|st| st.is_running()));
    assert!(rt.state(&first).is_err(), "{first} still exists in the runtime");
    let data = s.berth(&["exec", "-T", "app", "cat", "/data/f"]);
    assert_eq!(data.stdout(), "kept\n", "the anonymous volume did not follow: {}", data.stderr());
    s.down_clean();
}

/// `--compatibility`: `_` joins the names (`<project>_web_1`, one-offs `<project>_web_run_…`);
/// containers made without it keep their names until recreated; COMPOSE_COMPATIBILITY in
/// `.env` does the same as the flag.
#[test]
fn compatibility_mode_names_containers_with_underscores() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("compat")
        .image("busybox:latest")
        .file("services:\n  web:\n    image: busybox:latest\n    command: [sleep, '600']\n");
    let p = s.project.clone();
    s.berth(&["--compatibility", "up", "-d"]).success();
    assert_eq!(containers_of(&s.roots, &p), [format!("{p}_web_1")]);
    let ps = s.berth(&["--compatibility", "ps", "--format", "{{.Name}} {{.Service}} {{.State}}"]);
    assert_eq!(ps.stdout(), format!("{p}_web_1 web running\n"), "{}", ps.stderr());
    let run = s.berth(&["--compatibility", "run", "--rm", "web", "true"]);
    run.success();
    let one = s.berth(&["--compatibility", "run", "-d", "web", "sleep", "600"]);
    one.success();
    let names = containers_of(&s.roots, &p);
    assert!(names.iter().any(|n| n.starts_with(&format!("{p}_web_run_"))), "{names:?}");

    // Without the flag, the existing container is kept (same config), under its name.
    s.up(&["-d"]).success();
    assert!(containers_of(&s.roots, &p).contains(&format!("{p}_web_1")));
    assert!(!containers_of(&s.roots, &p).contains(&format!("{p}-web-1")));
    // A new replica takes the mode in force: `-` here, `_` with COMPOSE_COMPATIBILITY in .env.
    s.up(&["-d", "--scale", "web=2"]).success();
    assert!(containers_of(&s.roots, &p).contains(&format!("{p}-web-2")));
    std::fs::write(s.dir.join(".env"), "COMPOSE_COMPATIBILITY=true\n").unwrap();
    s.up(&["-d", "--scale", "web=3"]).success();
    assert!(containers_of(&s.roots, &p).contains(&format!("{p}_web_3")), "{:?}", containers_of(&s.roots, &p));
    s.down_clean();
}
