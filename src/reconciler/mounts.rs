//! A service's `volumes:` and `tmpfs:` → the volumes layer's [`MountRequest`]s (the
//! translate step for mounts: the volumes layer never sees a stack file's types), and the
//! [`VolumeManager`] wired to the runtime (which containers mount a volume).

use crate::paths::Roots;
use crate::spec::model::{MountKind, Service, ServiceVolume, Stack};
use crate::spec::units::parse_bytes;
use crate::volumes::{MountRequest, VolumeError, VolumeManager, VolumeSpec};

/// The volume manager of `roots`, asking the runtime which containers mount a volume.
pub fn volume_manager(roots: &Roots) -> VolumeManager {
    let rt = roots.clone();
    VolumeManager::new(roots, move |path: &std::path::Path| crate::runtime::Runtime::new(&rt).bind_users(path))
}

/// The spec of top-level volume `key` of `stack`, named `name` (what `up` ensures before
/// containers; an undeclared key gets the defaults).
pub fn volume_spec(stack: &Stack, key: &str, name: &str) -> VolumeSpec {
    let def = stack.volumes.get(key);
    let owned = |m: &indexmap::IndexMap<String, String>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    VolumeSpec {
        name: name.to_string(),
        project: Some(stack.name.clone()),
        external: def.is_some_and(|v| v.external),
        driver: def.and_then(|v| v.driver.clone()),
        driver_opts: def.map(|v| owned(&v.driver_opts)).unwrap_or_default(),
        labels: def.map(|v| owned(&v.labels)).unwrap_or_default(),
    }
}

/// What one container of `service_name` asks of the volumes layer: `volumes:` then `tmpfs:`.
pub fn mount_requests(service_name: &str, svc: &Service, stack: &Stack) -> Result<Vec<MountRequest>, VolumeError> {
    let mut out = Vec::with_capacity(svc.volumes.len() + svc.tmpfs.len());
    for v in &svc.volumes {
        out.push(request(service_name, v, stack)?);
    }
    for t in &svc.tmpfs {
        out.push(tmpfs_entry(service_name, t)?);
    }
    Ok(out)
}

fn request(service: &str, v: &ServiceVolume, stack: &Stack) -> Result<MountRequest, VolumeError> {
    let target = v.target.clone();
    Ok(match v.kind {
        MountKind::Bind => {
            let b = v.bind.as_ref();
            MountRequest::Bind {
                source: v.source.clone(),
                target,
                read_only: v.read_only,
                create_host_path: b.is_some_and(|b| b.create_host_path),
                propagation: b.and_then(|b| b.propagation.clone()),
                selinux: b.and_then(|b| b.selinux.clone()),
            }
        }
        MountKind::Tmpfs => {
            let t = v.tmpfs.as_ref();
            MountRequest::Tmpfs { target, size: t.and_then(|t| t.size).map(|s| s.0), mode: t.and_then(|t| t.mode) }
        }
        MountKind::Volume => {
            let volume = match v.source.as_deref() {
                None => None,
                Some(key) => {
                    let decl = stack
                        .volumes
                        .get(key)
                        .ok_or_else(|| VolumeError::Undeclared { service: service.into(), volume: key.into() })?;
                    Some(volume_spec(stack, key, &decl.name))
                }
            };
            let opts = v.volume.as_ref();
            MountRequest::Volume {
                volume,
                target,
                read_only: v.read_only,
                nocopy: opts.is_some_and(|o| o.nocopy),
                subpath: opts.and_then(|o| o.subpath.clone()),
            }
        }
        other => {
            let kind = serde_json::to_value(other).ok().and_then(|k| k.as_str().map(str::to_string));
            MountRequest::Unsupported { kind: kind.unwrap_or_default(), target }
        }
    })
}

/// A `tmpfs:` entry: `/run` or `/run:size=64m,mode=1777` (options as docker's `--tmpfs`).
pub fn tmpfs_entry(service: &str, entry: &str) -> Result<MountRequest, VolumeError> {
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
    Ok(MountRequest::Tmpfs { target: target.into(), size, mode })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_entries() {
        let t = |target: &str, size, mode| MountRequest::Tmpfs { target: target.into(), size, mode };
        assert_eq!(tmpfs_entry("s", "/run").unwrap(), t("/run", None, None));
        assert_eq!(tmpfs_entry("s", "/run:size=64m,mode=1777").unwrap(), t("/run", Some(64 << 20), Some(0o1777)));
        let e = tmpfs_entry("web", "/run:mode=9").unwrap_err().to_string();
        assert_eq!(e, "service `web`: invalid tmpfs `/run:mode=9`: mode `9` is not octal");
        assert!(tmpfs_entry("s", "run").is_err());
        assert!(tmpfs_entry("s", "/run:exec").unwrap_err().to_string().contains("unsupported option `exec`"));
    }

    #[test]
    fn service_volumes_become_requests() {
        let stack: Stack = serde_json::from_value(serde_json::json!({
            "name": "demo",
            "services": {},
            "volumes": {"data": {"name": "demo_data", "labels": {"a": "b"}}}
        }))
        .unwrap();
        let v: ServiceVolume = serde_json::from_value(
            serde_json::json!({"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": true}}),
        )
        .unwrap();
        let MountRequest::Volume { volume: Some(spec), nocopy: true, .. } = request("web", &v, &stack).unwrap() else {
            panic!("not a named volume request")
        };
        assert_eq!((spec.name.as_str(), spec.project.as_deref()), ("demo_data", Some("demo")));
        assert_eq!(spec.labels.get("a").map(String::as_str), Some("b"));
        let undeclared: ServiceVolume =
            serde_json::from_value(serde_json::json!({"type": "volume", "source": "nope", "target": "/d"})).unwrap();
        assert!(request("web", &undeclared, &stack).unwrap_err().to_string().contains("nope"));
        let npipe: ServiceVolume =
            serde_json::from_value(serde_json::json!({"type": "npipe", "source": "x", "target": "/d"})).unwrap();
        assert_eq!(
            request("web", &npipe, &stack).unwrap(),
            MountRequest::Unsupported { kind: "npipe".into(), target: "/d".into() }
        );
    }
}
