//! Threat model, local users: berth runs as root and keeps image layers, containers' writable
//! layers, volumes and records on the host. A local user without privileges must not be able to
//! execute a setuid-root file a container or an image put there (that is euid 0 on the host),
//! read a service's environment values from berth's records, or hold one of berth's locks and
//! hang every berth command. Each test performs the attack as an unprivileged uid (`setpriv`)
//! and checks that it fails, and that the same step works for root (so the test can fail).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::stack::{sh, Stack};
use support::unpriv::{as_attacker, as_root};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o7777
}

/// Every entry named `name` under `dir` (as root; bounded depth, symlinks not followed).
fn find(dir: &Path, name: &str, depth: usize, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if e.file_name() == name {
            out.push(e.path());
        } else if ft.is_dir() && depth < 12 {
            find(&e.path(), name, depth + 1, out);
        }
    }
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const STACK: &str = r#"
services:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    environment:
      API_TOKEN: tok-secret-7f3a
    volumes: [data:/data]
volumes:
  data: {}
"#;

#[test]
fn setuid_files_and_records_under_the_state_root_are_out_of_other_users_reach() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secstate").image("busybox:latest").file(STACK);
    // An older berth (or an admin's mkdir) left the roots world-traversable.
    let root = s.roots.state.clone();
    std::fs::create_dir_all(&s.roots.run).unwrap();
    for d in [&root, &s.roots.run] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    s.up(&["-d"]).success();
    assert_eq!(mode(&root), 0o700, "the state root is tightened at startup");
    assert_eq!(mode(&s.roots.run), 0o700, "the run root is tightened at startup");
    // The attack's material: setuid-root copies of a shell in the writable layer and in the
    // named volume, made by root inside the container (any image may ship such a file).
    // (busybox picks its applet by its own name, hence the directories.)
    let plant = "for d in /sushi-layer /data/sushi-vol; do mkdir $d && cp /bin/busybox $d/busybox && chmod 4755 $d/busybox; done";
    sh(&s, "app", plant).success();
    let mut found = Vec::new();
    find(&root, "sushi-layer", 0, &mut found);
    find(&root, "sushi-vol", 0, &mut found);
    let found: Vec<PathBuf> = found.into_iter().map(|d| d.join("busybox")).collect();
    assert_eq!(found.len(), 2, "host paths of the setuid files: {found:?}");
    let mut configs = Vec::new();
    find(&root.join("containers"), "config.json", 0, &mut configs);
    assert!(!configs.is_empty(), "no container record found");
    let config = configs[0].to_string_lossy().into_owned();
    assert!(std::fs::read_to_string(&config).unwrap().contains("tok-secret-7f3a"), "the record holds the env value");
    for f in &found {
        let f = f.to_string_lossy().into_owned();
        assert_eq!(mode(Path::new(&f)) & 0o4000, 0o4000, "{f} is setuid");
        // Control: the path is right and executable for root.
        let ok = as_root(&[&f, "true"]);
        assert!(ok.status.success(), "root runs {f}: {}", text(&ok));
        // The attack: run it as an unprivileged local user.
        let out = as_attacker(&[&f, "id", "-u"]);
        assert!(!out.status.success(), "an unprivileged user executed {f}: {}", text(&out));
        assert!(text(&out).contains("Permission denied"), "{}", text(&out));
    }
    // The attack: read a service's environment values (API tokens) from its record.
    let out = as_attacker(&["cat", &config]);
    assert!(!out.status.success() && !text(&out).contains("tok-secret"), "{}", text(&out));
    assert_eq!(mode(Path::new(&config)) & 0o077, 0, "records are 0600");
    // Upgrade path: an older berth's loose modes are tightened by the next command.
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    s.berth(&["ps"]).success();
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(Path::new(&config)), 0o600);
    s.down_clean();
}

#[test]
fn other_users_cannot_open_berths_locks() {
    if !support::require_root() {
        return;
    }
    let ipam = Path::new(berth::network::HOST_LOCK);
    // An older berth made the host-wide IPAM lock 0644: anyone could flock it.
    if ipam.exists() {
        std::fs::set_permissions(ipam, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut s = Stack::new("seclock")
        .image("busybox:latest")
        .file("services:\n  app:\n    image: busybox:latest\n    command: [sleep, '600']\n");
    s.up(&["-d"]).success();
    assert_eq!(mode(ipam), 0o600, "{} is tightened when berth opens it", ipam.display());
    let project_lock = berth::reconciler::lock::project_lock_path(&s.roots, &s.project);
    let project_lock = project_lock.to_string_lossy().into_owned();
    let ipam = ipam.to_string_lossy().into_owned();
    for lock in [&ipam, &project_lock] {
        // Control: root can take it (the path is right). Waiting, not -n: the IPAM lock is
        // host-wide, and the other tests of this binary take it while they run.
        let ok = as_root(&["flock", "-w", "120", lock, "true"]);
        assert!(ok.status.success(), "root flocks {lock}: {}", text(&ok));
        // The attack: hold it forever as another user, hanging every berth command.
        let out = as_attacker(&["flock", "-n", lock, "true"]);
        assert!(!out.status.success(), "an unprivileged user took {lock}: {}", text(&out));
        assert!(text(&out).contains("Permission denied"), "{}", text(&out));
    }
    s.down_clean();
}

#[test]
fn a_project_lock_held_too_long_names_its_holder() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secwait")
        .image("busybox:latest")
        .file("services:\n  app:\n    image: busybox:latest\n    command: [sleep, '600']\n");
    let lock = berth::reconciler::lock::project_lock_path(&s.roots, &s.project);
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let mut holder = std::process::Command::new("flock").arg("-o").arg(&lock).args(["sleep", "60"]).spawn().unwrap();
    s.eventually(std::time::Duration::from_secs(10), "the holder has the lock", || {
        std::fs::read_to_string("/proc/locks").unwrap_or_default().contains(&format!(" {} ", holder.id()))
    });
    let out = s.command(&["up", "-d"]).env("BERTH_LOCK_WAIT", "0.5").output().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let msg = text(&out);
    assert!(!out.status.success(), "{msg}");
    assert!(msg.contains(&format!("pid {}: flock", holder.id())), "the error names the holder: {msg}");
    s.down_clean();
}
