//! End-to-end volumes through the real `berth` CLI: named volumes shared between services and
//! kept by `down`, removed by `down -v`; external volumes kept; read-only binds; relative bind
//! paths resolved from the stack file's directory; tmpfs size limits; image content copied
//! into a fresh named volume.

mod support;

use std::process::Command;

use support::stack::{sh, sh_until_ok, Run, Stack};

/// Volume names `berth volume ls -q` prints (`--all` for every project's).
fn volumes(s: &Stack, all: bool) -> Vec<String> {
    let r = if all { s.berth(&["volume", "ls", "--all", "-q"]) } else { s.berth(&["volume", "ls", "-q"]) };
    r.success();
    r.stdout().lines().map(str::to_string).collect()
}

const SHARED: &str = r#"
services:
  writer:
    image: busybox:latest
    command: [sh, -c, "[ -f /data/first ] || echo written-once > /data/first; echo boot >> /data/boots; exec sleep 600"]
    volumes: [data:/data]
  reader:
    image: busybox:latest
    command: [sleep, "600"]
    depends_on: [writer]
    volumes: ["data:/in:ro"]
volumes:
  data: {}
"#;

#[test]
fn a_named_volume_is_shared_kept_by_down_and_removed_by_down_v() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("volshare").image("busybox:latest").file(SHARED);
    let vol = format!("{}_data", s.project);
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "reader", "cat /in/first").trim(), "written-once");
    assert_ne!(sh(&s, "reader", "touch /in/x").code(), 0, "a :ro named volume took a write");

    s.berth(&["down", "-t", "1"]).success();
    assert!(volumes(&s, false).contains(&vol), "down removed {vol}: {:?}", volumes(&s, true));
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "reader", "cat /in/first").trim(), "written-once");
    let boots = sh_until_ok(&s, "reader", "[ $(wc -l < /in/boots) -eq 2 ] && cat /in/boots");
    assert_eq!(boots.lines().count(), 2, "{boots}");

    s.berth(&["down", "-v", "-t", "1"]).success();
    assert!(!volumes(&s, true).contains(&vol), "down -v kept {vol}");
    s.down_clean();
}

#[test]
fn an_external_volume_survives_down_v() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("volext").image("busybox:latest");
    let ext = format!("{}-ext", s.project);
    s.write(&format!(
        r#"
services:
  app:
    image: busybox:latest
    command: [sh, -c, "echo kept >> /ext/log; exec sleep 600"]
    volumes: [shared:/ext]
volumes:
  shared: {{external: true, name: {ext}}}
"#
    ));
    // Not created yet: up refuses rather than creating it.
    let r = s.up(&["-d"]);
    r.failure();
    assert!(r.stderr().contains(&ext), "{}", r.stderr());
    s.berth(&["volume", "create", &ext]).success();
    s.up(&["-d"]).success();
    sh_until_ok(&s, "app", "grep -q kept /ext/log");
    s.down_clean();
    assert!(volumes(&s, true).contains(&ext), "down -v removed the external volume {ext}");
    // Its data is still there for the next up.
    s.up(&["-d"]).success();
    let log = sh_until_ok(&s, "app", "[ $(wc -l < /ext/log) -eq 2 ] && cat /ext/log");
    assert_eq!(log.lines().count(), 2, "{log}");
    s.down_clean();
    s.berth(&["volume", "rm", &ext]).success();
    assert!(!volumes(&s, true).contains(&ext), "volume rm kept {ext}");
}

#[test]
fn a_read_only_bind_refuses_writes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("robind").image("busybox:latest").file(
        r#"
services:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    volumes: ["./ro:/ro:ro", "./rw:/rw"]
"#,
    );
    for d in ["ro", "rw"] {
        std::fs::create_dir_all(s.dir.join(d)).unwrap();
    }
    std::fs::write(s.dir.join("ro/file"), "host-data\n").unwrap();
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "app", "cat /ro/file").trim(), "host-data");
    for cmd in ["touch /ro/new", "echo x > /ro/file", "rm /ro/file"] {
        let r = sh(&s, "app", cmd);
        assert_ne!(r.code(), 0, "`{cmd}` succeeded on a :ro bind");
    }
    assert_eq!(std::fs::read_to_string(s.dir.join("ro/file")).unwrap(), "host-data\n");
    assert!(!s.dir.join("ro/new").exists());
    sh(&s, "app", "echo from-container > /rw/out").success();
    assert_eq!(std::fs::read_to_string(s.dir.join("rw/out")).unwrap(), "from-container\n");
    s.down_clean();
}

#[test]
fn a_relative_bind_resolves_from_the_stack_files_directory() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("relbind").image("busybox:latest");
    let sub = s.dir.join("other/dir");
    std::fs::create_dir_all(sub.join("data")).unwrap();
    std::fs::create_dir_all(s.dir.join("data")).unwrap();
    std::fs::write(sub.join("data/which"), "stack-dir\n").unwrap();
    std::fs::write(s.dir.join("data/which"), "cwd\n").unwrap();
    std::fs::write(
        sub.join("compose.yaml"),
        "services:\n  app: {image: busybox:latest, command: [sleep, \"600\"], volumes: [\"./data:/data\"]}\n",
    )
    .unwrap();
    // Run from the project dir (the "elsewhere"), naming the file by a relative path.
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("--root").arg(s.tmp.path()).args(["-p", &s.project, "-f", "other/dir/compose.yaml"]);
        cmd.args(args).current_dir(&s.dir).env_remove("BERTH_ROOT").env_remove("COMPOSE_FILE");
        Run { out: cmd.output().expect("run berth") }
    };
    run(&["up", "-d"]).success();
    let got = run(&["exec", "app", "cat", "/data/which"]);
    got.success();
    assert_eq!(got.stdout().trim(), "stack-dir", "bind resolved against the working directory");
    run(&["down", "-v", "-t", "1"]).success();
    s.down_clean();
}

#[test]
fn tmpfs_size_limits_are_enforced() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("tmpfs").image("busybox:latest").file(
        r#"
services:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    tmpfs: ["/short:size=1m"]
    volumes:
      - {type: tmpfs, target: /long, tmpfs: {size: 1048576}}
"#,
    );
    s.up(&["-d"]).success();
    for dir in ["/short", "/long"] {
        let mounts = sh_until_ok(&s, "app", &format!("grep ' {dir} ' /proc/mounts"));
        assert!(mounts.contains("tmpfs") && mounts.contains("size=1024k"), "{dir}: {mounts}");
        let small = sh(&s, "app", &format!("dd if=/dev/zero of={dir}/a bs=1024 count=512"));
        small.success();
        let big = sh(&s, "app", &format!("dd if=/dev/zero of={dir}/b bs=1024 count=2048"));
        assert_ne!(big.code(), 0, "2 MiB fit in a 1 MiB tmpfs at {dir}: {}", big.text());
        let used = sh(&s, "app", &format!("du -k {dir}/b | cut -f1")).stdout();
        assert!(used.trim().parse::<u32>().unwrap_or(0) <= 1024, "{dir} holds {used} KiB");
    }
    s.down_clean();
}

#[test]
fn a_fresh_named_volume_gets_the_images_content() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("copyup").image("busybox:latest").file(
        r#"
services:
  etc:
    image: busybox:latest
    command: [sleep, "600"]
    volumes: [etcvol:/etc]
  bin:
    image: busybox:latest
    command: [sleep, "600"]
    volumes: [binvol:/bin]
volumes:
  etcvol: {}
  binvol: {}
"#,
    );
    s.up(&["-d"]).success();
    let passwd = sh_until_ok(&s, "etc", "cat /etc/passwd");
    assert!(passwd.starts_with("root:"), "{passwd}");
    let mode = sh(&s, "etc", "stat -c %a:%u:%g /etc/passwd").stdout();
    assert_eq!(mode.trim(), "644:0:0");
    // The managed hosts file still sits on top of the volume.
    assert!(sh(&s, "etc", "cat /etc/hosts").stdout().contains(&s.name("etc", 1)));
    // /bin: the static busybox and its applet links, so the container runs at all.
    let bin = sh_until_ok(&s, "bin", "ls -l /bin/busybox /bin/sh && /bin/busybox true");
    assert!(bin.contains("sh -> busybox"), "{bin}");
    // A volume with content is not overwritten on the next mount.
    sh(&s, "etc", "echo marker > /etc/marker").success();
    s.berth(&["down", "-t", "1"]).success();
    s.up(&["-d"]).success();
    assert_eq!(sh_until_ok(&s, "etc", "cat /etc/marker").trim(), "marker");
    s.down_clean();
}
