//! The run dir becomes a tmpfs of its own where it would sit on disk, only when no other berth
//! process uses it and nothing is mounted under it (as root; /tmp here is on the root disk).

mod support;

use std::path::Path;

use berth::paths::ensure_volatile_run_dir;
use nix::sys::statfs::{statfs, TMPFS_MAGIC};

fn is_tmpfs(p: &Path) -> bool {
    statfs(p).is_ok_and(|s| s.filesystem_type() == TMPFS_MAGIC)
}

fn mounts_at(p: &Path) -> usize {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines().filter(|l| l.split(' ').nth(4) == Some(p.to_str().unwrap())).count()
}

/// The two tests take turns: a child spawned by one holds copies of the other's open lock
/// files from fork to exec, and a lock held that way, however briefly, reads as "another berth
/// process uses the run dir" (it failed that way under load).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Unmounts whatever the test mounted, even when an assertion fails.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        while mounts_at(self.0) > 0 {
            if nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH).is_err() {
                break;
            }
        }
    }
}

#[test]
fn run_dir_is_mounted_once_and_never_over_live_state() {
    if !support::require_root() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::Builder::new().prefix("berth-rundir-").tempdir().unwrap();
    if is_tmpfs(tmp.path()) {
        eprintln!("SKIP: {} is already a tmpfs", tmp.path().display());
        return;
    }
    let run = tmp.path().join("run");
    let _cleanup = Unmount(&run);

    // Another berth process is running (holds the shared lock): nothing is mounted.
    let other = berth::fsutil::open_lock_file(&tmp.path().join("run.lock")).unwrap();
    berth::fsutil::flock(&other, libc::LOCK_SH).unwrap();
    let (held, mounted) = ensure_volatile_run_dir(&run).unwrap();
    assert!(!mounted && !is_tmpfs(&run), "mounted while another berth process used the run dir");
    drop((other, held));

    // Something is mounted under it (a container's netns): nothing is mounted over it.
    let sub = run.join("netns");
    std::fs::create_dir_all(&sub).unwrap();
    let _sub_cleanup = Unmount(&sub);
    nix::mount::mount(Some("tmpfs"), &sub, Some("tmpfs"), nix::mount::MsFlags::empty(), None::<&str>).unwrap();
    let (held, mounted) = ensure_volatile_run_dir(&run).unwrap();
    assert!(!mounted, "mounted over a live mount");
    drop(held);
    drop(_sub_cleanup);

    // Alone, nothing live: a tmpfs, once, hiding the stale files; a second call keeps it.
    std::fs::write(run.join("stale.lock"), b"").unwrap();
    let (held, mounted) = ensure_volatile_run_dir(&run).unwrap();
    assert!(mounted && is_tmpfs(&run), "not mounted");
    assert!(!run.join("stale.lock").exists(), "stale files still visible");
    let (held2, again) = ensure_volatile_run_dir(&run).unwrap();
    assert!(!again);
    assert_eq!(mounts_at(&run), 1, "mounted twice");
    // Both callers hold the lock shared, so a third berth can still take it shared.
    let third = berth::fsutil::open_lock_file(&tmp.path().join("run.lock")).unwrap();
    berth::fsutil::flock(&third, libc::LOCK_SH | libc::LOCK_NB).expect("shared lock");
    drop((held, held2, third));
}

/// Commands that only read (`config` here) leave the default run dir alone: no tmpfs, no lock
/// file (the test suite runs some of them without `--root`).
#[test]
fn read_only_commands_leave_the_default_run_dir_alone() {
    if !support::require_root() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::Builder::new().prefix("berth-rundir-cfg-").tempdir().unwrap();
    std::fs::write(tmp.path().join("compose.yaml"), "services:\n  a:\n    image: busybox\n").unwrap();
    let state = |p: &Path| (mounts_at(p), p.with_extension("lock").exists());
    let run = Path::new(berth::paths::DEFAULT_RUN_DIR);
    let before = state(run);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("config")
        .current_dir(tmp.path())
        .env_remove("BERTH_ROOT")
        .env_remove("COMPOSE_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state(run), before, "berth config mounted or locked {}", run.display());
}
