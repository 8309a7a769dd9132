//! Threat model, the caller's and the runtime's descriptors and paths: nothing the user's shell
//! left open may lead a container process to the host (CVE-2024-21626: `exec 7</dir; berth exec
//! -w /proc/self/fd/7`), the init of `init: true` holds no more than the container's
//! capabilities and shows no host paths, and mounts that would hide /proc or /sys (and with
//! them the masked paths) are refused, also when an image's symlink leads there.

mod support;

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use support::stack::{sh, Stack};

/// `cmd` with fd 7 open (not close-on-exec) on `dir`, as after `exec 7</dir` in a shell.
fn with_fd7(mut cmd: Command, dir: &std::path::Path) -> std::process::Output {
    let fd: OwnedFd = std::fs::File::open(dir).expect("open host dir").into();
    let raw = fd.as_raw_fd();
    // SAFETY: only async-signal-safe dup2(2) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run berth");
    drop(fd);
    out
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const APP: &str = "services:\n  app:\n    image: busybox:latest\n    command: [sleep, '600']\n    init: true\n";

#[test]
fn exec_and_run_cannot_reach_the_host_through_an_inherited_fd() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secfd").image("busybox:latest").file(APP);
    s.up(&["-d"]).success();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("HOST-MARKER"), b"x").unwrap();
    // Control: the fd really is inherited by the berth CLI.
    let ctl = with_fd7(
        {
            let mut c = Command::new("sh");
            c.args(["-c", "ls /proc/self/fd/7/"]);
            c
        },
        host.path(),
    );
    assert!(text(&ctl).contains("HOST-MARKER"), "{}", text(&ctl));
    let attacks: [&[&str]; 4] = [
        &["exec", "-w", "/proc/self/fd/7", "app", "ls"],
        &["exec", "-w", "/proc/self/fd/7/made-by-berth", "app", "ls"],
        &["exec", "app", "ls", "/proc/self/fd/7/"],
        &["run", "--rm", "-w", "/proc/self/fd/7", "busybox:latest", "ls"],
    ];
    for args in attacks {
        let out = with_fd7(s.command(args), host.path());
        let t = text(&out);
        assert!(!t.contains("HOST-MARKER"), "`berth {}` reached the host directory: {t}", args.join(" "));
        assert!(!host.path().join("made-by-berth").exists(), "a working dir was created on the host");
    }
    // Nothing of the caller's beyond stdio reaches an exec'd process.
    let fds = with_fd7(s.command(&["exec", "app", "ls", "/proc/self/fd"]), host.path());
    let listed: Vec<String> = String::from_utf8_lossy(&fds.stdout).split_whitespace().map(str::to_string).collect();
    assert!(!listed.iter().any(|f| f == "7"), "fd 7 leaked into the container: {listed:?}");
    s.down_clean();
}

#[test]
fn the_init_holds_the_containers_capabilities_and_no_host_paths() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secinit").image("busybox:latest").file(APP);
    s.up(&["-d"]).success();
    let status = sh(&s, "app", "grep -E '^(CapEff|CapPrm)' /proc/1/status; cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/1/environ | tr '\\0' ' '");
    status.success();
    let out = status.stdout();
    // Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
    // NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
    assert!(out.contains("CapPrm:\t00000000a80425fb") && out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("berth-init"), "{out}");
    let root = s.roots.state.to_string_lossy().into_owned();
    assert!(!out.contains(&root) && !out.contains("/var/lib/berth"), "PID 1 shows host paths: {out}");
    s.down_clean();
}

#[test]
fn mounts_over_proc_or_sys_are_refused_and_host_binds_warned() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("secmnt").image("busybox:latest");
    std::fs::create_dir_all(s.dir.join("fake")).unwrap();
    for target in ["/proc", "/proc/sys/kernel", "/sys", "/x/../proc/kcore"] {
        s.write(&format!("services:\n  app:\n    image: busybox:latest\n    command: [sleep, '600']\n    volumes: ['./fake:{target}']\n"));
        let out = s.up(&["-d"]);
        out.failure();
        let t = out.stderr();
        assert!(t.contains("mount target") && t.contains("app"), "{target}: {t}");
        assert!(s.berth(&["ps", "-a", "-q"]).stdout().trim().is_empty(), "{target}: a container was made");
    }
    // An image whose symlink leads a harmless-looking target into /proc.
    s.write(
        "services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM busybox:latest\n        RUN ln -s /proc /hack\n    image: secmnt-link:1\n    command: [sleep, '600']\n    volumes: ['./fake:/hack/kcore']\n",
    );
    let out = s.up(&["-d"]);
    out.failure();
    assert!(out.stderr().contains("inside /proc") && out.stderr().contains("symlinks"), "{}", out.stderr());
    // Allowed, with a warning: the user's explicit choice, as Docker allows it.
    s.write("services:\n  app:\n    image: busybox:latest\n    command: [sleep, '600']\n    volumes: ['/:/host:ro']\n");
    let out = s.up(&["-d"]);
    out.success();
    assert!(out.stderr().contains("binding host / at /host gives it the host's whole filesystem"), "{}", out.stderr());
    s.berth(&["down", "-v", "-t", "0", "--rmi", "local"]).success();
    s.down_clean();
}
