//! The cgroup v2 device controller (a BPF_CGROUP_DEVICE program), as root on the real kernel.
//! This host is hybrid (v1 controllers), but BPF device programs attach to any cgroup2
//! directory, so each test makes its own directory under the cgroup2 mount at
//! /sys/fs/cgroup/unified, attaches berth's program built from Docker's allowlist, and runs
//! busybox inside it against device nodes it creates in a temp dir.

mod support;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth::runtime::devices_bpf::{self, DEVICE_ALLOW};

const UNIFIED: &str = "/sys/fs/cgroup/unified";
const EPERM_TEXT: &str = "Operation not permitted";

/// A cgroup2 directory of our own with the device program attached; removed on drop (every
/// process we put in it has exited and been reaped by then).
struct TestCgroup {
    dir: PathBuf,
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let deadline = Instant::now() + crate::support::patience(Duration::from_secs(5));
        while std::fs::remove_dir(&self.dir).is_err() && self.dir.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!self.dir.exists(), "cgroup {} left behind", self.dir.display());
    }
}

/// Root, a cgroup2 mount at /sys/fs/cgroup/unified and bpf(2) permitted, or a loud SKIP.
fn setup(name: &str) -> Option<(TestCgroup, tempfile::TempDir)> {
    if !support::require_root() {
        return None;
    }
    let is_v2 = nix::sys::statfs::statfs(UNIFIED)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false);
    if !is_v2 {
        println!("SKIP: {name}: {UNIFIED} is not a cgroup2 mount");
        eprintln!("SKIP: {name}: {UNIFIED} is not a cgroup2 mount");
        return None;
    }
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir =
        Path::new(UNIFIED).join(format!("berth-devtest-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir(&dir).unwrap();
    let cg = TestCgroup { dir };
    let rules = devices_bpf::parse_rules(DEVICE_ALLOW).unwrap();
    match devices_bpf::apply(&cg.dir, &rules) {
        Ok(()) => {}
        Err(e) if matches!(e.errno(), Some(libc::EPERM | libc::ENOSYS)) => {
            println!("SKIP: {name}: no BPF cgroup-device support here: {e}");
            eprintln!("SKIP: {name}: no BPF cgroup-device support here: {e}");
            return None;
        }
        Err(e) => panic!("attach device program: {e}"),
    }
    // Under the build's target dir: a real disk, not a possibly nodev /tmp.
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    Some((cg, tmp))
}

/// Run busybox with `args` in `cwd`, inside `cg` when given: (exit code, stdout + stderr).
fn busybox(cg: Option<&TestCgroup>, cwd: &Path, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("/bin/busybox");
    cmd.args(args).current_dir(cwd);
    if let Some(cg) = cg {
        // Opened here (O_CLOEXEC); the child only write(2)s "0" = "move me", which is
        // async-signal-safe, between fork and exec.
        let procs: File = OpenOptions::new().write(true).open(cg.dir.join("cgroup.procs")).unwrap();
        let fd = procs.as_raw_fd();
        // SAFETY: the closure only calls write(2) on an fd that stays open until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        drop(procs);
        return (out.status.code().unwrap_or(-1), text(&out));
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), text(&out))
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn mknod(cg: &TestCgroup, dir: &Path, name: &str, kind: &str, major: u32, minor: u32) {
    let (maj, min) = (major.to_string(), minor.to_string());
    let (code, out) = busybox(Some(cg), dir, &["mknod", name, kind, &maj, &min]);
    assert_eq!(code, 0, "mknod {name} {kind} {major}:{minor} inside the cgroup: {out}");
}

#[test]
fn allowed_char_nodes_open_for_read_and_write() {
    let Some((cg, tmp)) = setup("allowed_char_nodes_open_for_read_and_write") else { return };
    let dir = tmp.path();
    mknod(&cg, dir, "null", "c", 1, 3);
    let (code, out) = busybox(Some(&cg), dir, &["sh", "-c", "exec 3<>./null && echo rw-ok"]);
    assert_eq!((code, out.trim()), (0, "rw-ok"));
    // Existing host nodes on the list: /dev/zero read, /dev/null written.
    let (code, out) =
        busybox(Some(&cg), dir, &["sh", "-c", "head -c 4 /dev/zero | wc -c; echo x >/dev/null && echo w-ok"]);
    assert_eq!((code, out.split_whitespace().collect::<Vec<_>>()), (0, vec!["4", "w-ok"]), "{out}");
    // tun (10:200) is on the list: opening it may fail for lack of a driver, never with EPERM.
    mknod(&cg, dir, "tun", "c", 10, 200);
    let (_, out) = busybox(Some(&cg), dir, &["sh", "-c", "exec 3<>./tun"]);
    assert!(!out.contains(EPERM_TEXT), "tun denied: {out}");
}

#[test]
fn mem_node_can_be_made_but_not_opened() {
    let Some((cg, tmp)) = setup("mem_node_can_be_made_but_not_opened") else { return };
    let dir = tmp.path();
    // `c *:* m` lets the node be created (1:1 is /dev/mem) ...
    mknod(&cg, dir, "mem", "c", 1, 1);
    // ... but neither read nor written.
    let (code, out) = busybox(Some(&cg), dir, &["head", "-c", "1", "./mem"]);
    assert_ne!(code, 0, "read /dev/mem: {out}");
    assert!(out.contains("./mem") && out.contains(EPERM_TEXT), "{out}");
    let (code, out) = busybox(Some(&cg), dir, &["sh", "-c", "echo x >./mem"]);
    assert_ne!(code, 0, "write /dev/mem: {out}");
    assert!(out.contains(EPERM_TEXT), "{out}");
    // A host char node not on the list (1:11 /dev/kmsg) is refused too.
    let (code, out) = busybox(Some(&cg), dir, &["head", "-c", "1", "/dev/kmsg"]);
    assert!(code != 0 && out.contains(EPERM_TEXT), "{out}");
}

#[test]
fn block_node_can_be_made_but_not_opened() {
    let Some((cg, tmp)) = setup("block_node_can_be_made_but_not_opened") else { return };
    let dir = tmp.path();
    mknod(&cg, dir, "loop", "b", 7, 0);
    let (code, out) = busybox(Some(&cg), dir, &["head", "-c", "1", "./loop"]);
    assert!(code != 0 && out.contains("./loop") && out.contains(EPERM_TEXT), "{out}");
    let (code, out) = busybox(Some(&cg), dir, &["sh", "-c", "exec 3<>./loop"]);
    assert!(code != 0 && out.contains(EPERM_TEXT), "{out}");
    // Control: the same node opens outside the cgroup, so the EPERM above is the program's
    // (not a nodev mount or a missing driver).
    let (code, out) = busybox(None, dir, &["sh", "-c", "exec 3<./loop && echo opened"]);
    if !out.contains("No such device") {
        assert_eq!((code, out.trim()), (0, "opened"));
    }
}

#[test]
fn reapplying_replaces_the_program_and_removal_frees_it() {
    let Some((cg, _tmp)) = setup("reapplying_replaces_the_program_and_removal_frees_it") else { return };
    let first = devices_bpf::attached_programs(&cg.dir).unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    let rules = devices_bpf::parse_rules(DEVICE_ALLOW).unwrap();
    devices_bpf::apply(&cg.dir, &rules).unwrap();
    let second = devices_bpf::attached_programs(&cg.dir).unwrap();
    assert_eq!(second.len(), 1, "programs stacked: {second:?}");
    assert_ne!(first, second);
    // The replaced program is gone at once (our fd was closed, the detach dropped the last ref).
    let deadline = Instant::now() + crate::support::patience(Duration::from_secs(10));
    while devices_bpf::program_exists(first[0]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!devices_bpf::program_exists(first[0]), "replaced program {} still loaded", first[0]);
    // Removing the cgroup releases the attached one (asynchronously, after the cgroup dies).
    let id = second[0];
    drop(cg);
    let deadline = Instant::now() + crate::support::patience(Duration::from_secs(20));
    while devices_bpf::program_exists(id) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!devices_bpf::program_exists(id), "program {id} outlived its cgroup");
}
