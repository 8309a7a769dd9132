//! Bind mounts and tmpfs mounts of a service: plain translation of the stack's `volumes:` and
//! `tmpfs:` entries into [`runtime::Mount`]s. Bind sources arrive absolute from the loader
//! (relative paths resolved against the stack file's directory, `~` expanded).

use std::fs;
use std::path::{Path, PathBuf};

use crate::runtime::{Mount, Propagation};
use crate::spec::model::ServiceVolume;
use crate::spec::units::parse_bytes;

use super::error::{io_err, Result, VolumeError};

/// Compose's propagation names → the runtime's; None for an unknown name.
pub fn parse_propagation(s: &str) -> Option<Propagation> {
    Some(match s {
        "rprivate" => Propagation::Rprivate,
        "private" => Propagation::Private,
        "rslave" => Propagation::Rslave,
        "slave" => Propagation::Slave,
        "rshared" => Propagation::Rshared,
        "shared" => Propagation::Shared,
        _ => return None,
    })
}

/// A `type: bind` entry → a bind mount; a missing source is created as a directory when
/// `bind.create_host_path` is set (the short syntax sets it, as Compose does) and an error
/// naming the service and path otherwise.
pub fn bind_mount(service: &str, v: &ServiceVolume) -> Result<Mount> {
    let Some(raw) = v.source.as_deref() else {
        return Err(VolumeError::BindWithoutSource { service: service.into(), target: v.target.clone() });
    };
    let source = PathBuf::from(raw);
    if !source.is_absolute() {
        return Err(VolumeError::BindSourceRelative { service: service.into(), source_path: raw.into() });
    }
    let opts = v.bind.as_ref();
    ensure_source(service, &source, opts.is_some_and(|b| b.create_host_path))?;
    let propagation = match opts.and_then(|b| b.propagation.as_deref()) {
        None => Propagation::default(),
        Some(p) => parse_propagation(p).ok_or_else(|| VolumeError::BadPropagation {
            service: service.into(),
            target: v.target.clone(),
            value: p.into(),
        })?,
    };
    if let Some(z) = opts.and_then(|b| b.selinux.as_deref()) {
        // No SELinux labelling in berth: `:z`/`:Z` are accepted as Compose files use them.
        tracing::debug!(service, source = raw, option = z, "selinux relabel option ignored (no SELinux support)");
    }
    Ok(Mount::Bind { source, target: v.target.clone(), read_only: v.read_only, propagation })
}

fn ensure_source(service: &str, source: &Path, create: bool) -> Result<()> {
    match fs::symlink_metadata(source) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !create {
                return Err(VolumeError::BindSourceMissing { service: service.into(), path: source.to_path_buf() });
            }
            tracing::debug!(service, path = %source.display(), "creating missing bind mount source");
            fs::create_dir_all(source).map_err(io_err(source))
        }
        Err(e) => Err(io_err(source)(e)),
    }
}

/// A long-form `type: tmpfs` entry.
pub fn tmpfs_long(service: &str, v: &ServiceVolume) -> Result<Mount> {
    check_target(service, &v.target)?;
    let t = v.tmpfs.as_ref();
    Ok(Mount::Tmpfs {
        target: v.target.clone(),
        size: t.and_then(|t| t.size).map(|s| s.0),
        mode: t.and_then(|t| t.mode),
    })
}

/// A `tmpfs:` entry: `/run` or `/run:size=64m,mode=1777` (options as docker's `--tmpfs`).
pub fn tmpfs_entry(service: &str, entry: &str) -> Result<Mount> {
    let bad = |reason: String| VolumeError::BadTmpfs { service: service.into(), entry: entry.into(), reason };
    let (target, opts) = entry.split_once(':').unwrap_or((entry, ""));
    if !target.starts_with('/') {
        return Err(bad(format!("the target `{target}` must be an absolute path")));
    }
    let (mut size, mut mode) = (None, None);
    for opt in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
        match key {
            "size" => size = Some(parse_bytes(value).map_err(|e| bad(format!("size: {e}")))?),
            "mode" => {
                let m = u32::from_str_radix(value, 8).map_err(|_| bad(format!("mode `{value}` is not octal")))?;
                if m > 0o7777 {
                    return Err(bad(format!("mode `{value}` is larger than 7777")));
                }
                mode = Some(m);
            }
            // The runtime mounts every tmpfs nosuid,nodev and read-write already.
            "rw" | "nosuid" | "nodev" => {}
            other => {
                return Err(bad(format!(
                    "unsupported option `{other}`; supported: size=BYTES, mode=OCTAL, rw, nosuid, nodev"
                )))
            }
        }
    }
    Ok(Mount::Tmpfs { target: target.into(), size, mode })
}

pub fn check_target(service: &str, target: &str) -> Result<()> {
    if target.starts_with('/') {
        Ok(())
    } else {
        Err(VolumeError::RelativeTarget { service: service.into(), target: target.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::{BindOptions, MountKind};

    fn bind(source: &str, create: bool) -> ServiceVolume {
        ServiceVolume {
            image: None,
            kind: MountKind::Bind,
            source: Some(source.into()),
            target: "/t".into(),
            read_only: true,
            bind: Some(BindOptions {
                propagation: Some("rslave".into()),
                create_host_path: create,
                selinux: Some("z".into()),
            }),
            volume: None,
            tmpfs: None,
            consistency: None,
        }
    }

    #[test]
    fn tmpfs_entries() {
        assert_eq!(tmpfs_entry("s", "/run").unwrap(), Mount::Tmpfs { target: "/run".into(), size: None, mode: None });
        assert_eq!(
            tmpfs_entry("s", "/run:size=64m,mode=1777").unwrap(),
            Mount::Tmpfs { target: "/run".into(), size: Some(64 << 20), mode: Some(0o1777) }
        );
        let e = tmpfs_entry("web", "/run:mode=9").unwrap_err().to_string();
        assert_eq!(e, "service `web`: invalid tmpfs `/run:mode=9`: mode `9` is not octal");
        assert!(tmpfs_entry("s", "run").is_err());
        assert!(tmpfs_entry("s", "/run:exec").unwrap_err().to_string().contains("unsupported option `exec`"));
    }

    #[test]
    fn binds_create_or_refuse_missing_sources() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("a/b");
        let e = bind_mount("web", &bind(missing.to_str().unwrap(), false)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "service `web`: bind mount source {} does not exist; create it or set bind.create_host_path: true",
                missing.display()
            )
        );
        let m = bind_mount("web", &bind(missing.to_str().unwrap(), true)).unwrap();
        assert!(missing.is_dir());
        assert_eq!(
            m,
            Mount::Bind { source: missing, target: "/t".into(), read_only: true, propagation: Propagation::Rslave }
        );
        assert!(bind_mount("web", &bind("rel/x", true)).is_err());
    }

    #[test]
    fn propagation_names() {
        assert_eq!(parse_propagation("rshared"), Some(Propagation::Rshared));
        assert_eq!(parse_propagation("bogus"), None);
    }
}
