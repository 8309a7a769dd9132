//! Seccomp, no_new_privs and `privileged` against real containers, through the real CLI: each
//! test performs the attack and asserts it fails (or, where Docker allows it, that it works),
//! in the container's first process (/proc/1, the init path) and in `exec`'d processes.

mod support;

use support::stack::Stack;

const DENY_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "args": null}]
}"#;

const STACK: &str = r#"
services:
  def:
    image: busybox:latest
    command: [sleep, "600"]
  nnp:
    image: busybox:latest
    command: [sleep, "600"]
    security_opt: ["no-new-privileges:true"]
  unconf:
    image: busybox:latest
    command: [sleep, "600"]
    security_opt: ["seccomp:unconfined"]
  custom:
    image: busybox:latest
    command: [sleep, "600"]
    init: true
    security_opt: ["seccomp=profiles/deny-mkdir.json", "no-new-privileges=false"]
"#;

fn exec(s: &Stack, service: &str, script: &str) -> String {
    let r = s.berth(&["exec", service, "sh", "-c", script]);
    r.text()
}

fn status_line(text: &str, key: &str) -> String {
    text.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in {text}")).to_string()
}

#[test]
fn default_profile_no_new_privs_unconfined_and_custom() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secc").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(s.dir.join("profiles")).unwrap();
    std::fs::write(s.dir.join("profiles/deny-mkdir.json"), DENY_MKDIR).unwrap();
    s.up(&["-d"]).success();

    let statuses = "grep -E '^(NoNewPrivs|Seccomp):' /proc/1/status /proc/self/status";
    // Default: filtered (mode 2), no_new_privs off as in Docker, for PID 1 and for exec.
    let def = exec(&s, "def", statuses);
    assert_eq!(def.matches("NoNewPrivs:\t0").count(), 2, "{def}");
    assert_eq!(def.matches("Seccomp:\t2").count(), 2, "{def}");
    // The attack: a user namespace (no capability needed, so only seccomp stops it).
    let userns = exec(&s, "def", "unshare -U true && echo made-userns");
    assert!(userns.contains("Operation not permitted"), "{userns}");
    assert!(!userns.contains("made-userns"), "{userns}");
    // Namespace creation through clone(2) flags is refused too (busybox unshare -f forks).
    let netns = exec(&s, "def", "unshare -n true; echo rc=$?");
    assert!(netns.contains("Operation not permitted") && !netns.contains("rc=0"), "{netns}");

    // no-new-privileges:true: on for PID 1 and exec; seccomp still on.
    let nnp = exec(&s, "nnp", statuses);
    assert_eq!(nnp.matches("NoNewPrivs:\t1").count(), 2, "{nnp}");
    assert_eq!(nnp.matches("Seccomp:\t2").count(), 2, "{nnp}");

    // seccomp:unconfined: no filter, and what the default refused now works.
    let unconf = exec(&s, "unconf", statuses);
    assert_eq!(unconf.matches("Seccomp:\t0").count(), 2, "{unconf}");
    let userns = exec(&s, "unconf", "unshare -U true && echo made-userns");
    assert!(userns.contains("made-userns"), "{userns}");

    // A custom profile (relative to the project dir) denying mkdir; the rest works; the init
    // (init: true) and the workload behind it are filtered too.
    let custom = exec(&s, "custom", &format!("{statuses} /proc/2/status"));
    assert_eq!(custom.matches("Seccomp:\t2").count(), 3, "{custom}");
    let mk =
        exec(&s, "custom", "mkdir /tmp/d; echo rc=$?; touch /tmp/f && echo touched; unshare -U true && echo userns");
    assert!(mk.contains("Operation not permitted") && mk.contains("rc=1"), "{mk}");
    assert!(mk.contains("touched") && mk.contains("userns"), "{mk}");

    s.down_clean();
}

#[test]
fn a_bad_profile_file_is_named() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("seccbad").image("busybox:latest").file(
        r#"
services:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    security_opt: ["seccomp=nope.json"]
"#,
    );
    let r = s.up(&["-d"]);
    r.failure();
    assert!(r.text().contains("nope.json"), "{}", r.text());
    std::fs::write(s.dir.join("nope.json"), r#"{"defaultAction": "SCMP_ACT_SOMETIMES"}"#).unwrap();
    let r = s.up(&["-d"]);
    r.failure();
    assert!(r.text().contains("nope.json") && r.text().contains("not a valid"), "{}", r.text());
    s.down_clean();
}

/// The mount points in a mountinfo text.
fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(str::to_string).collect()
}

#[test]
fn privileged_matches_docker() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("priv").image("busybox:latest").file(
        r#"
services:
  def:
    image: busybox:latest
    command: [sleep, "600"]
  priv:
    image: busybox:latest
    command: [sleep, "600"]
    privileged: true
"#,
    );
    s.up(&["-d"]).success();
    let host_status = std::fs::read_to_string("/proc/self/status").unwrap();
    let host_capeff = status_line(&host_status, "CapEff:");

    let p = exec(&s, "priv", "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/1/status /proc/self/status");
    assert_eq!(p.matches(&host_capeff).count(), 2, "every capability the host has: {host_capeff}\n{p}");
    assert_eq!(p.matches("Seccomp:\t0").count(), 2, "{p}");
    assert_eq!(p.matches("NoNewPrivs:\t0").count(), 2, "{p}");

    // No masked or read-only paths; /sys read-write. (Only mount flags are looked at: nothing
    // is written to the host's /sys.)
    let mounts = |svc: &str| exec(&s, svc, "cat /proc/self/mountinfo");
    let (pm, dm) = (mounts("priv"), mounts("def"));
    let (ppoints, dpoints) = (mount_points(&pm), mount_points(&dm));
    let masked_here: Vec<&str> = berth::runtime::MASKED
        .iter()
        .chain(berth::runtime::READ_ONLY)
        .copied()
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    assert!(!masked_here.is_empty(), "no OCI masked path exists on this host to check");
    for path in &masked_here {
        assert!(dpoints.iter().any(|m| m == path), "default container: {path} not masked/read-only\n{dm}");
        assert!(!ppoints.iter().any(|m| m == path), "privileged container: {path} is masked/read-only\n{pm}");
    }
    let sys_opts = |mi: &str| -> String {
        mi.lines().find(|l| l.split(' ').nth(4) == Some("/sys")).and_then(|l| l.split(' ').nth(5)).unwrap_or("").into()
    };
    assert!(sys_opts(&pm).starts_with("rw"), "privileged /sys: {}", sys_opts(&pm));
    assert!(sys_opts(&dm).starts_with("ro"), "default /sys: {}", sys_opts(&dm));
    // The cgroup view: read-write when privileged, as Docker mounts it; read-only otherwise.
    let cg_opts = |mi: &str| -> Vec<String> {
        mi.lines()
            .filter(|l| l.split(' ').nth(4).is_some_and(|p| p.starts_with("/sys/fs/cgroup")))
            .filter_map(|l| l.split(' ').nth(5).map(str::to_string))
            .collect()
    };
    let (pcg, dcg) = (cg_opts(&pm), cg_opts(&dm));
    assert!(!pcg.is_empty() && pcg.iter().all(|o| o.starts_with("rw")), "privileged /sys/fs/cgroup: {pcg:?}");
    assert!(!dcg.is_empty() && dcg.iter().all(|o| o.starts_with("ro")), "default /sys/fs/cgroup: {dcg:?}");
    if std::path::Path::new("/proc/kcore").exists() {
        let k = exec(&s, "priv", "head -c 4 /proc/kcore | od -c | head -1");
        assert!(k.contains("E   L   F"), "/proc/kcore readable: {k}");
    }

    // Every host device (char or block, outside pts/shm/…) is there with the same numbers.
    let mut host_devs = Vec::new();
    for name in ["loop0", "kmsg", "net/tun", "mem", "kvm", "fuse", "loop-control"] {
        let p = std::path::Path::new("/dev").join(name);
        if let Ok(m) = std::fs::metadata(&p) {
            use std::os::unix::fs::MetadataExt;
            host_devs.push((p, m.rdev()));
        }
    }
    assert!(!host_devs.is_empty(), "none of the candidate host devices exists");
    for (path, rdev) in &host_devs {
        let (major, minor) = (libc::major(*rdev), libc::minor(*rdev));
        let script = format!("stat -c '%t:%T' {}", path.display());
        let want = format!("{major:x}:{minor:x}");
        assert!(exec(&s, "priv", &script).contains(&want), "privileged lacks {}", path.display());
        assert!(!exec(&s, "def", &script).contains(&want), "default container has {}", path.display());
    }
    s.down_clean();
}
