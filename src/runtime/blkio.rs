//! Block I/O limits (Compose `blkio_config`) as cgroup file writes.
//!
//! - v1 (blkio controller): `blkio.weight` ("N", 10-1000), `blkio.weight_device` ("MAJ:MIN N"),
//!   `blkio.throttle.{read,write}_{bps,iops}_device` ("MAJ:MIN N"), one rule per write(2).
//! - v2 (io controller, Documentation/admin-guide/cgroup-v2.rst "IO"): `io.weight` ("default N"
//!   and "MAJ:MIN N", 1-10000: Compose's 10-1000 weight converted as runc does), or BFQ's
//!   `io.bfq.weight` (same 1-1000 range as v1) when the kernel offers it; `io.max`, one line per
//!   device: "MAJ:MIN rbps=N wbps=N riops=N wiops=N" with only the keys asked for.
//!
//! The weight files exist only with a proportional I/O scheduler (CFQ, BFQ) or blk-iocost:
//! many hosts (virtio disks with `none`/`mq-deadline`) have none. As Docker ("Your kernel does
//! not support Block I/O weight … discarded"), a missing weight file is a warning; a throttle
//! that cannot be written is an error.
//!
//! Device numbers come from the host's device paths, resolved by the caller (see
//! [`device_number`]) so the error names the service.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One per-device value: a weight, or a rate (bytes or operations per second).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceValue {
    pub major: u64,
    pub minor: u64,
    pub value: u64,
}

/// Everything of `blkio_config` but the plain weight (kept in `Resources::blkio_weight`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct BlkioDevices {
    pub weight_device: Vec<DeviceValue>,
    pub read_bps: Vec<DeviceValue>,
    pub write_bps: Vec<DeviceValue>,
    pub read_iops: Vec<DeviceValue>,
    pub write_iops: Vec<DeviceValue>,
}

impl BlkioDevices {
    pub fn is_empty(&self) -> bool {
        self.weight_device.is_empty() && !self.has_throttle()
    }

    pub fn has_throttle(&self) -> bool {
        !(self.read_bps.is_empty()
            && self.write_bps.is_empty()
            && self.read_iops.is_empty()
            && self.write_iops.is_empty())
    }
}

/// One write to a cgroup file; `weight` marks a proportional-weight file (missing: warn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub file: &'static str,
    pub line: String,
    pub weight: bool,
}

fn w(file: &'static str, line: String, weight: bool) -> Write {
    Write { file, line, weight }
}

fn dev(d: &DeviceValue) -> String {
    format!("{}:{}", d.major, d.minor)
}

/// The v1 writes, in order (weights first).
pub fn v1_writes(weight: Option<u16>, d: &BlkioDevices) -> Vec<Write> {
    let mut out: Vec<Write> = weight.map(|n| w("blkio.weight", n.to_string(), true)).into_iter().collect();
    out.extend(d.weight_device.iter().map(|x| w("blkio.weight_device", format!("{} {}", dev(x), x.value), true)));
    let throttles = [
        ("blkio.throttle.read_bps_device", &d.read_bps),
        ("blkio.throttle.write_bps_device", &d.write_bps),
        ("blkio.throttle.read_iops_device", &d.read_iops),
        ("blkio.throttle.write_iops_device", &d.write_iops),
    ];
    for (file, list) in throttles {
        out.extend(list.iter().map(|x| w(file, format!("{} {}", dev(x), x.value), false)));
    }
    out
}

/// cgroup v2 io.weight (1-10000) from a v1 blkio weight (10-1000), as runc's
/// `ConvertBlkIOToIOWeightValue`.
pub fn v1_weight_to_v2(weight: u64) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (weight.saturating_sub(10)) * 9999 / 990
}

/// The v2 writes: weights to `io.bfq.weight` when `bfq` (the kernel offers it; v1 values), else
/// to `io.weight` (converted); then one `io.max` line per device.
pub fn v2_writes(weight: Option<u16>, d: &BlkioDevices, bfq: bool) -> Vec<Write> {
    let (file, conv): (&'static str, fn(u64) -> u64) =
        if bfq { ("io.bfq.weight", |v| v) } else { ("io.weight", v1_weight_to_v2) };
    let mut out: Vec<Write> =
        weight.map(|n| w(file, format!("default {}", conv(u64::from(n))), true)).into_iter().collect();
    out.extend(d.weight_device.iter().map(|x| w(file, format!("{} {}", dev(x), conv(x.value)), true)));
    // One line per device, its keys in io.max's order, devices in order of first mention.
    let mut lines: Vec<((u64, u64), Vec<String>)> = Vec::new();
    let keyed = [("rbps", &d.read_bps), ("wbps", &d.write_bps), ("riops", &d.read_iops), ("wiops", &d.write_iops)];
    for (key, list) in keyed {
        for x in list {
            let pair = format!("{key}={}", x.value);
            match lines.iter_mut().find(|(k, _)| *k == (x.major, x.minor)) {
                Some((_, keys)) => {
                    keys.retain(|k| !k.starts_with(&format!("{key}=")));
                    keys.push(pair);
                }
                None => lines.push(((x.major, x.minor), vec![pair])),
            }
        }
    }
    out.extend(lines.into_iter().map(|((ma, mi), keys)| w("io.max", format!("{ma}:{mi} {}", keys.join(" ")), false)));
    out
}

/// Apply `writes` in cgroup directory `dir`. A missing weight file is a warning (returned, for
/// the caller to log); any other failure is an error naming the file and the rule.
pub fn apply(dir: &Path, writes: &[Write]) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for x in writes {
        let path: PathBuf = dir.join(x.file);
        if x.weight && !path.exists() {
            let warning = format!(
                "{} is missing (no proportional I/O scheduler on this kernel); block I/O weight {:?} discarded",
                path.display(),
                x.line
            );
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
            continue;
        }
        std::fs::write(&path, &x.line).map_err(|e| format!("write {:?} to {}: {e}", x.line, path.display()))?;
    }
    Ok(warnings)
}

/// The (major, minor) of block device `path` on the host, as Docker stats `--device-*` paths.
pub fn device_number(path: &str) -> io::Result<(u64, u64)> {
    let meta = std::fs::metadata(path)?;
    if !meta.file_type().is_block_device() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a block device"));
    }
    let rdev = meta.rdev();
    Ok((nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev)))
}

/// Whether this host's blkio/io cgroups offer a weight file at all (for a warning before any
/// container is made): v1 looks at the blkio hierarchy's root, v2 at `berth/` or any cgroup
/// under the root with the io controller. Unknown counts as supported.
pub fn weight_supported() -> bool {
    let v1 = Path::new("/sys/fs/cgroup/blkio");
    if v1.is_dir() {
        return ["blkio.weight", "blkio.bfq.weight"].iter().any(|f| v1.join(f).exists());
    }
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else { return true };
    let mut saw_io = false;
    for dir in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        if dir.join("io.max").exists() {
            saw_io = true;
            if dir.join("io.weight").exists() || dir.join("io.bfq.weight").exists() {
                return true;
            }
        }
    }
    !saw_io
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(major: u64, minor: u64, value: u64) -> DeviceValue {
        DeviceValue { major, minor, value }
    }

    fn sample() -> BlkioDevices {
        BlkioDevices {
            weight_device: vec![d(8, 0, 400)],
            read_bps: vec![d(8, 0, 12 << 20)],
            write_bps: vec![d(8, 0, 1 << 20), d(254, 0, 2048)],
            read_iops: vec![],
            write_iops: vec![d(8, 0, 30)],
        }
    }

    fn text(ws: &[Write]) -> Vec<String> {
        ws.iter().map(|x| format!("{}: {}", x.file, x.line)).collect()
    }

    #[test]
    fn v1_one_rule_per_file_write() {
        assert_eq!(
            text(&v1_writes(Some(300), &sample())),
            [
                "blkio.weight: 300",
                "blkio.weight_device: 8:0 400",
                "blkio.throttle.read_bps_device: 8:0 12582912",
                "blkio.throttle.write_bps_device: 8:0 1048576",
                "blkio.throttle.write_bps_device: 254:0 2048",
                "blkio.throttle.write_iops_device: 8:0 30",
            ]
        );
    }

    #[test]
    fn v2_io_weight_and_one_io_max_line_per_device() {
        assert_eq!(
            text(&v2_writes(Some(300), &sample(), false)),
            [
                "io.weight: default 2930",
                "io.weight: 8:0 3940",
                "io.max: 8:0 rbps=12582912 wbps=1048576 wiops=30",
                "io.max: 254:0 wbps=2048",
            ]
        );
        assert_eq!(text(&v2_writes(Some(300), &BlkioDevices::default(), true)), ["io.bfq.weight: default 300"]);
        assert_eq!((v1_weight_to_v2(10), v1_weight_to_v2(1000)), (1, 10000));
    }

    #[test]
    fn missing_weight_file_warns_missing_throttle_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blkio.throttle.read_bps_device"), "").unwrap();
        let only_read = BlkioDevices { read_bps: vec![d(8, 0, 100)], ..Default::default() };
        let warnings = apply(dir.path(), &v1_writes(Some(300), &only_read)).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("blkio.weight is missing"), "{warnings:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join("blkio.throttle.read_bps_device")).unwrap(), "8:0 100");
        let write = BlkioDevices { write_bps: vec![d(8, 0, 100)], ..Default::default() };
        let err = apply(&dir.path().join("gone"), &v1_writes(None, &write)).unwrap_err();
        assert!(err.contains("blkio.throttle.write_bps_device"), "{err}");
    }

    #[test]
    fn device_number_of_a_non_block_device_fails() {
        assert!(device_number("/dev/null").is_err(), "a char device is not a block device");
        assert!(device_number("/no/such/dev").is_err());
    }
}
