//! Named volumes on disk: `Roots.volumes()/<name>/volume.json` (metadata, written atomically)
//! beside `Roots.volumes()/<name>/_data` (the directory bind-mounted into containers). A volume
//! exists exactly when its metadata file does: the metadata is written last on create and
//! removed after the data on remove, so a crash leaves either a retryable half-removed volume
//! or a directory without metadata that the next create reuses.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{io_err, Result, VolumeError};

const META: &str = "volume.json";
const DATA: &str = "_data";

/// What berth records about one volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeMeta {
    pub name: String,
    /// The project that created it (None for `berth volume create` volumes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub created: String,
}

/// The volumes directory of one state root.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    root: PathBuf,
}

/// Docker's rule for volume names (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`), which also keeps a name from
/// ever being a path (`..`, `/`) under the volumes directory.
pub fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) && name.len() <= 255 {
        Ok(())
    } else {
        Err(VolumeError::InvalidName(name.to_string()))
    }
}

impl VolumeMeta {
    /// `{type: none, o: bind, device: PATH}` → PATH.
    pub fn bind_device(&self) -> Option<PathBuf> {
        bind_device(&self.driver_opts)
    }
}

/// The device of a local bind volume, when the driver options describe one.
pub fn bind_device(opts: &BTreeMap<String, String>) -> Option<PathBuf> {
    let is_bind = opts.get("o").is_some_and(|o| o.split(',').any(|x| x == "bind"));
    let is_none = opts.get("type").is_none_or(|t| t == "none");
    opts.get("device").filter(|_| is_bind && is_none).map(PathBuf::from)
}

impl VolumeStore {
    pub fn new(root: PathBuf) -> Self {
        VolumeStore { root }
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The directory mounted into containers: `_data`, or the device of a bind volume.
    pub fn host_path(&self, meta: &VolumeMeta) -> PathBuf {
        meta.bind_device().unwrap_or_else(|| self.dir(&meta.name).join(DATA))
    }

    pub fn read(&self, name: &str) -> Result<Option<VolumeMeta>> {
        validate_name(name)?;
        let path = self.dir(name).join(META);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|source| VolumeError::Metadata { path, source })
    }

    /// Create the directories and then the metadata (the commit point).
    pub fn create(&self, meta: &VolumeMeta) -> Result<()> {
        validate_name(&meta.name)?;
        let dir = self.dir(&meta.name);
        // 0701 as Docker: other users may traverse to a mounted _data but not list volumes.
        fs::DirBuilder::new().recursive(true).mode(0o701).create(&dir).map_err(io_err(&dir))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o701)).map_err(io_err(&dir))?;
        if meta.bind_device().is_none() {
            let data = dir.join(DATA);
            fs::DirBuilder::new().recursive(true).mode(0o755).create(&data).map_err(io_err(&data))?;
        }
        let path = dir.join(META);
        crate::fsutil::write_json_atomic(&path, meta).map_err(io_err(&path))
    }

    pub fn list(&self) -> Result<Vec<VolumeMeta>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.root)(e)),
        };
        let mut out = Vec::new();
        for e in entries.flatten() {
            let Some(name) = e.file_name().to_str().map(str::to_string) else { continue };
            if validate_name(&name).is_err() {
                continue;
            }
            if let Some(meta) = self.read(&name)? {
                out.push(meta);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Remove the data (never the device of a bind volume: that is the user's directory),
    /// then the metadata, then the directory.
    pub fn delete(&self, meta: &VolumeMeta) -> Result<()> {
        let dir = self.dir(&meta.name);
        let data = dir.join(DATA);
        // std's remove_dir_all does not follow symlinks a container may have planted
        // (CVE-2022-21658 was fixed in Rust 1.58.1).
        match fs::remove_dir_all(&data) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&data)(e)),
        }
        let meta_path = dir.join(META);
        match fs::remove_file(&meta_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&meta_path)(e)),
        }
        fs::remove_dir_all(&dir)
            .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
            .map_err(io_err(&dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str) -> VolumeMeta {
        VolumeMeta {
            name: name.into(),
            project: Some("demo".into()),
            labels: BTreeMap::new(),
            driver_opts: BTreeMap::new(),
            created: "2024-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn names_cannot_be_paths() {
        for bad in ["", "..", ".x", "a/b", "-a", "a b", "_x"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        for good in ["demo_data", "a", "x.y-z_1"] {
            validate_name(good).unwrap();
        }
    }

    #[test]
    fn create_read_list_delete() {
        let tmp = tempfile::tempdir().unwrap();
        let store = VolumeStore::new(tmp.path().join("volumes"));
        assert_eq!(store.list().unwrap(), vec![]);
        store.create(&meta("demo_data")).unwrap();
        assert_eq!(store.read("demo_data").unwrap(), Some(meta("demo_data")));
        let path = store.host_path(&meta("demo_data"));
        assert!(path.ends_with("demo_data/_data") && path.is_dir());
        fs::write(path.join("f"), b"x").unwrap();
        assert_eq!(store.list().unwrap().len(), 1);
        store.delete(&meta("demo_data")).unwrap();
        assert!(!store.dir("demo_data").exists());
        assert_eq!(store.read("demo_data").unwrap(), None);
    }

    #[test]
    fn bind_volume_keeps_its_device() {
        let tmp = tempfile::tempdir().unwrap();
        let dev = tmp.path().join("dev");
        fs::create_dir(&dev).unwrap();
        fs::write(dev.join("keep"), b"x").unwrap();
        let mut m = meta("b");
        m.driver_opts = [("type", "none"), ("o", "bind"), ("device", dev.to_str().unwrap())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let store = VolumeStore::new(tmp.path().join("volumes"));
        store.create(&m).unwrap();
        assert_eq!(store.host_path(&m), dev);
        store.delete(&m).unwrap();
        assert!(dev.join("keep").exists());
    }
}
