//! Bind mounts of a service: a [`MountRequest::Bind`] into a [`Mount`], the source checked
//! (or created). Bind sources arrive absolute from the loader (relative paths resolved
//! against the stack file's directory, `~` expanded).

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{Mount, Propagation};

use super::error::{io_err, Result, VolumeError};
use super::request::MountRequest;

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
pub fn bind_mount(service: &str, r: &MountRequest) -> Result<Mount> {
    let MountRequest::Bind { source, target, read_only, create_host_path, propagation, selinux } = r else {
        return Err(VolumeError::UnsupportedMount {
            service: service.into(),
            kind: "non-bind".into(),
            target: r.target().into(),
        });
    };
    let Some(raw) = source.as_deref() else {
        return Err(VolumeError::BindWithoutSource { service: service.into(), target: target.clone() });
    };
    let source = PathBuf::from(raw);
    if !source.is_absolute() {
        return Err(VolumeError::BindSourceRelative { service: service.into(), source_path: raw.into() });
    }
    ensure_source(service, &source, *create_host_path)?;
    let propagation = match propagation.as_deref() {
        None => Propagation::default(),
        Some(p) => parse_propagation(p).ok_or_else(|| VolumeError::BadPropagation {
            service: service.into(),
            target: target.clone(),
            value: p.into(),
        })?,
    };
    if let Some(z) = selinux.as_deref() {
        // No SELinux labelling in berth: `:z`/`:Z` are accepted as Compose files use them.
        tracing::debug!(service, source = raw, option = z, "selinux relabel option ignored (no SELinux support)");
    }
    Ok(Mount::Bind { source, target: target.clone(), read_only: *read_only, propagation })
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

    fn bind(source: &str, create: bool) -> MountRequest {
        MountRequest::Bind {
            source: Some(source.into()),
            target: "/t".into(),
            read_only: true,
            create_host_path: create,
            propagation: Some("rslave".into()),
            selinux: Some("z".into()),
        }
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
