//! End-to-end: `blkio_config` throttles land in the container's cgroup (v1
//! `blkio.throttle.*_device`, v2 `io.max`), a change recreates the container, a missing
//! device path fails naming the service, and `config` prints the settings normalized.

mod support;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

use support::stack::Stack;

/// The whole disk under the root filesystem, as (path in /dev, "MAJ:MIN"); None when the root
/// is not on a block device (a container, tmpfs, overlay…).
fn root_disk() -> Option<(PathBuf, String)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let line = info.lines().find(|l| l.split(' ').nth(4) == Some("/"))?;
    let mut devno = line.split(' ').nth(2)?.to_string();
    // Throttles take whole disks only (the kernel refuses a partition): go up to its disk.
    let sys = PathBuf::from(format!("/sys/dev/block/{devno}"));
    if sys.join("partition").exists() {
        devno = std::fs::read_to_string(sys.join("../dev")).ok()?.trim().to_string();
    }
    if devno.starts_with("0:") {
        return None;
    }
    let dev = std::fs::read_dir("/dev").ok()?.flatten().map(|e| e.path()).find(|p| {
        std::fs::metadata(p).is_ok_and(|m| {
            m.file_type().is_block_device()
                && format!("{}:{}", nix::sys::stat::major(m.rdev()), nix::sys::stat::minor(m.rdev())) == devno
        })
    })?;
    Some((dev, devno))
}

fn stack(dev: &str, rate: &str) -> String {
    format!(
        "services:
  io:
    image: busybox:latest
    command: [sleep, '600']
    blkio_config:
      weight: 300
      device_read_bps: [{{path: {dev}, rate: {rate}}}]
      device_write_iops: [{{path: {dev}, rate: 40}}]
"
    )
}

/// The container's throttle rules for `devno` as (read bps, write iops).
fn throttles(s: &Stack, devno: &str) -> (String, String) {
    let dir = berth::runtime::cgroup::blkio_dir(s.roots.id(), &s.name("io", 1));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", dir.display()));
    let rule =
        |text: String| text.lines().find(|l| l.starts_with(&format!("{devno} "))).unwrap_or_default().to_string();
    if dir.join("io.max").exists() {
        let line = rule(read("io.max"));
        let key = |k: &str| line.split(' ').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap_or("").to_string();
        (key("rbps"), key("wiops"))
    } else {
        let value = |f: &str| rule(read(f)).split(' ').nth(1).unwrap_or("").to_string();
        (value("blkio.throttle.read_bps_device"), value("blkio.throttle.write_iops_device"))
    }
}

#[test]
fn blkio_throttles_reach_the_cgroup() {
    if !support::require_root() {
        return;
    }
    let Some((dev, devno)) = root_disk() else {
        eprintln!("SKIPPED: the root filesystem is not on a block device; no device to throttle");
        return;
    };
    let dev = dev.display().to_string();
    let mut s = Stack::new("blkio").image("busybox:latest").file(&stack(&dev, "1mb"));

    let config = s.berth(&["config"]).success().stdout();
    assert!(config.contains("blkio_config:") && config.contains("rate: 1048576"), "{config}");

    let up = s.up(&["-d"]);
    up.success();
    assert_eq!(throttles(&s, &devno), ("1048576".to_string(), "40".to_string()));
    // A v1 host without a proportional I/O scheduler (this one's virtio disk): the weight is
    // dropped with a warning naming the service, as Docker does; the throttles still apply.
    let v1 = std::path::Path::new("/sys/fs/cgroup/blkio");
    if v1.is_dir() && !v1.join("blkio.weight").exists() && !v1.join("blkio.bfq.weight").exists() {
        assert!(up.stderr().contains("blkio_config weight ignored") && up.stderr().contains("io"), "{}", up.stderr());
    }
    let pid = s.runtime_state("io", 1).and_then(|st| st.pid);

    // A changed rate is a changed config: the container is recreated with the new limit.
    s.write(&stack(&dev, "2mb"));
    s.up(&["-d"]).success();
    assert_ne!(s.runtime_state("io", 1).and_then(|st| st.pid), pid, "recreated");
    assert_eq!(throttles(&s, &devno).0, "2097152");

    // A device path that does not exist: an error naming the service and the path.
    s.write(&stack("/dev/berth-no-such-disk", "1mb"));
    let out = s.up(&["-d"]);
    out.failure();
    let err = out.stderr();
    assert!(err.contains("io") && err.contains("/dev/berth-no-such-disk"), "{err}");
    s.write(&stack(&dev, "2mb"));
    s.down_clean();
}
