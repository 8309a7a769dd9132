//! Storage: named volumes → PersistentVolumeClaims, anonymous volumes and tmpfs → emptyDir,
//! `shm_size` → a memory emptyDir at /dev/shm, `secrets`/`configs` → Secret/ConfigMap
//! mounted at the same paths. Bind mounts are reported (host paths do not exist on nodes).

use base64::Engine as _;
use serde_json::{json, Value};

use crate::spec::model::{FileObject, FileRef, MountKind};
use crate::spec::units::parse_bytes;
use crate::spec::Service;

use super::{names, Context, ConvertError, Result};

/// A pod's volumes and its container's mounts.
#[derive(Debug, Default)]
pub struct PodStorage {
    pub volumes: Vec<Value>,
    pub mounts: Vec<Value>,
    /// Named volumes claimed per replica (a StatefulSet's volumeClaimTemplates).
    pub claim_templates: Vec<String>,
}

impl PodStorage {
    fn add(&mut self, volume: Value, mount: Value) {
        if !self.volumes.iter().any(|v| v["name"] == volume["name"]) {
            self.volumes.push(volume);
        }
        self.mounts.push(mount);
    }
}

/// The claim name of a named volume (the PVC that already exists, for `external: true`).
fn claim_name(ctx: &Context, key: &str) -> String {
    match ctx.stack.volumes.get(key) {
        Some(v) if v.external => names::dns_label(&v.name),
        _ => names::dns_label(key),
    }
}

fn memory_dir(size: Option<u64>) -> Value {
    let mut d = json!({ "medium": "Memory" });
    if let Some(s) = size.filter(|s| *s > 0) {
        d["sizeLimit"] = json!(super::resources::memory(s));
    }
    d
}

/// `per_replica`: named volumes become one claim per replica (StatefulSet) instead of a
/// PersistentVolumeClaim shared by every pod.
pub fn pod_storage(ctx: &mut Context, name: &str, svc: &Service, per_replica: bool) -> Result<PodStorage> {
    let at = format!("services.{name}");
    let mut ps = PodStorage::default();
    for (i, v) in svc.volumes.iter().enumerate() {
        let mut mount = json!({ "mountPath": v.target });
        if v.read_only {
            mount["readOnly"] = json!(true);
        }
        if let Some(sub) = v.volume.as_ref().and_then(|o| o.subpath.as_ref()) {
            mount["subPath"] = json!(sub);
        }
        let vat = format!("{at}.volumes[{i}]");
        let volume = match (v.kind, &v.source) {
            (MountKind::Volume, Some(key))
                if per_replica && !ctx.stack.volumes.get(key).is_some_and(|v| v.external) =>
            {
                mount["name"] = json!(names::dns_label(key));
                ps.mounts.push(mount);
                if !ps.claim_templates.contains(key) {
                    ps.claim_templates.push(key.clone());
                }
                continue;
            }
            (MountKind::Volume, Some(key)) => {
                ctx.volumes_used.entry(key.clone()).or_default().push(name.to_string());
                let claim = claim_name(ctx, key);
                json!({ "name": names::dns_label(&format!("vol-{key}")), "persistentVolumeClaim": { "claimName": claim } })
            }
            (MountKind::Volume, None) => {
                ctx.report.note(
                    &vat,
                    format!("anonymous volume at {}: an emptyDir, emptied whenever the pod is replaced", v.target),
                );
                json!({ "name": format!("anon-{i}"), "emptyDir": {} })
            }
            (MountKind::Tmpfs, _) => {
                let size = v.tmpfs.as_ref().and_then(|t| t.size).map(|s| s.0);
                if v.tmpfs.as_ref().is_some_and(|t| t.mode.is_some()) {
                    ctx.report.loss(format!("{vat}.tmpfs.mode"), "an emptyDir's mode is not settable");
                }
                json!({ "name": format!("tmpfs-{i}"), "emptyDir": memory_dir(size) })
            }
            (MountKind::Bind, Some(src)) if host_path(ctx, svc) => {
                ctx.report.note(
                    &vat,
                    format!(
                        "bind mount {src} → {}: a hostPath volume, the files of whichever node the pod runs on",
                        v.target
                    ),
                );
                json!({ "name": format!("host-{i}"), "hostPath": { "path": src } })
            }
            (MountKind::Bind, src) => {
                ctx.report.loss(&vat, format!("bind mount {} → {}: host paths do not exist on cluster nodes (bake the files into the image, use a ConfigMap, or --host-path)", src.as_deref().unwrap_or("?"), v.target));
                continue;
            }
            (kind, _) => {
                ctx.report.loss(&vat, format!("{kind:?} mount at {} is not converted", v.target));
                continue;
            }
        };
        mount["name"] = volume["name"].clone();
        ps.add(volume, mount);
    }
    for (i, t) in svc.tmpfs.iter().enumerate() {
        let (path, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        let mut size = None;
        for o in opts.split(',').filter(|o| !o.is_empty()) {
            match o.split_once('=') {
                Some(("size", s)) => size = parse_bytes(s).ok(),
                _ => ctx.report.loss(
                    format!("{at}.tmpfs[{i}]"),
                    format!("option `{o}` is not converted (an emptyDir takes only a size)"),
                ),
            }
        }
        let vname = format!("tmpfs-x{i}");
        ps.add(json!({ "name": vname, "emptyDir": memory_dir(size) }), json!({ "name": vname, "mountPath": path }));
    }
    if let Some(shm) = svc.shm_size {
        ps.add(
            json!({ "name": "dshm", "emptyDir": memory_dir(Some(shm.0)) }),
            json!({ "name": "dshm", "mountPath": "/dev/shm" }),
        );
    }
    for r in &svc.secrets {
        file_object(ctx, &at, r, true, &mut ps)?;
    }
    for r in &svc.configs {
        file_object(ctx, &at, r, false, &mut ps)?;
    }
    Ok(ps)
}

/// Whether bind mounts become hostPath volumes: `--host-path`, or the service's
/// `x-berth-kubernetes: {host_path: true}`.
fn host_path(ctx: &Context, svc: &Service) -> bool {
    ctx.opts.host_path || ctx.service_ext(svc).get("host_path").and_then(Value::as_bool) == Some(true)
}

/// One `secrets:`/`configs:` reference: the object (once per stack) and its mount.
fn file_object(ctx: &mut Context, at: &str, r: &FileRef, secret: bool, ps: &mut PodStorage) -> Result<()> {
    let (what, top_key, default_dir) =
        if secret { ("secret", "secrets", "/run/secrets") } else { ("config", "configs", "") };
    let rat = format!("{at}.{top_key}.{}", r.source);
    let table = if secret { &ctx.stack.secrets } else { &ctx.stack.configs };
    let Some(obj) = table.get(&r.source).cloned() else {
        ctx.report.loss(&rat, format!("no top-level {what} `{}`", r.source));
        return Ok(());
    };
    let target = match r.target.as_deref() {
        Some(t) if t.starts_with('/') => t.to_string(),
        Some(t) => format!("{default_dir}/{t}"),
        None => format!("{default_dir}/{}", r.source),
    };
    if r.uid.is_some() || r.gid.is_some() {
        ctx.report.loss(&rat, "uid/gid: a mounted file belongs to root, or to the pod's fsGroup");
    }
    let obj_name = if obj.external {
        names::dns_label(obj.name.as_deref().unwrap_or(&r.source))
    } else {
        names::dns_label(&r.source)
    };
    let key = names::data_key(&r.source);
    if obj.external {
        ctx.report.note(
            format!("{top_key}.{}", r.source),
            format!(
                "external: the {} `{obj_name}` (key `{key}`) must exist in the namespace",
                if secret { "Secret" } else { "ConfigMap" }
            ),
        );
    } else if let Some(content) = content(ctx, top_key, &r.source, &obj, what)? {
        if secret {
            ctx.report.note(
                format!("secrets.{}", r.source),
                "its content is written into the Secret manifest (base64, not encrypted): keep the output private, or make the secret `external: true`",
            );
        }
        let body = object(ctx, &obj_name, &key, content, secret);
        ctx.add(&format!("{top_key}.{}", r.source), body)?;
    }
    let mut item = json!({ "key": key, "path": key });
    if let Some(mode) = r.mode {
        item["mode"] = json!(mode);
    }
    let vname = names::dns_label(&format!("{what}-{}", r.source));
    let source = if secret {
        json!({ "name": vname, "secret": { "secretName": obj_name, "items": [item] } })
    } else {
        json!({ "name": vname, "configMap": { "name": obj_name, "items": [item] } })
    };
    ps.add(source, json!({ "name": vname, "mountPath": target, "subPath": key, "readOnly": true }));
    Ok(())
}

/// The bytes of a secret or config, read now (so they end up in the manifest).
fn content(
    ctx: &mut Context,
    top_key: &str,
    name: &str,
    obj: &FileObject,
    what: &'static str,
) -> Result<Option<Vec<u8>>> {
    let at = format!("{top_key}.{name}");
    if let Some(c) = &obj.content {
        return Ok(Some(c.clone().into_bytes()));
    }
    if let Some(path) = &obj.file {
        let bytes = std::fs::read(path).map_err(|source| ConvertError::ReadFile {
            what,
            name: name.into(),
            path: path.clone(),
            source,
        })?;
        return Ok(Some(bytes));
    }
    if let Some(var) = &obj.environment {
        if let Some(v) = &obj.env_value {
            return Ok(Some(v.0.clone().into_bytes()));
        }
        ctx.report.loss(&at, format!("environment variable `{var}` is not set: no object generated"));
        return Ok(None);
    }
    ctx.report.loss(&at, "no file, environment or content: no object generated");
    Ok(None)
}

fn object(ctx: &Context, name: &str, key: &str, content: Vec<u8>, secret: bool) -> Value {
    let mut labels = ctx.project_labels();
    labels.insert("app.kubernetes.io/name".into(), json!(name));
    let metadata = ctx.metadata(name, Value::Object(labels));
    if secret {
        let data = base64::engine::general_purpose::STANDARD.encode(&content);
        return json!({ "apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "data": { key: data } });
    }
    match String::from_utf8(content) {
        Ok(text) => json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": { key: text } }),
        Err(e) => {
            let data = base64::engine::general_purpose::STANDARD.encode(e.into_bytes());
            json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "binaryData": { key: data } })
        }
    }
}

/// PersistentVolumeClaims for the named volumes the converted services use. Size, storage
/// class and access mode from top-level `x-berth-kubernetes: {volumes: {NAME: {size,
/// storage_class, access_mode}}}`, else `--volume-size` (default 1Gi) and the cluster default.
pub fn finish(ctx: &mut Context) -> Result<()> {
    let ext = ctx.stack_ext();
    for k in ext.as_object().into_iter().flat_map(|o| o.keys()).filter(|k| k.as_str() != "volumes") {
        ctx.report.loss(format!("{}.{k}", super::EXTENSION), "unknown setting (volumes is known): ignored");
    }
    let used = std::mem::take(&mut ctx.volumes_used);
    for (key, users) in &used {
        let at = format!("volumes.{key}");
        let Some(vol) = ctx.stack.volumes.get(key) else { continue };
        if vol.external {
            ctx.report.note(
                &at,
                format!("external: the PersistentVolumeClaim `{}` must exist in the namespace", claim_name(ctx, key)),
            );
            continue;
        }
        if vol.driver.as_deref().is_some_and(|d| d != "local") || !vol.driver_opts.is_empty() {
            ctx.report.loss(&at, "driver/driver_opts: not converted (choose a storage class)");
        }
        let spec = claim_spec(ctx, key);
        let mode = spec["accessModes"][0].as_str().unwrap_or_default().to_string();
        let mut users = users.clone();
        users.sort();
        users.dedup();
        if users.len() > 1 && mode == "ReadWriteOnce" {
            ctx.report.note(&at, format!("shared by {}: ReadWriteOnce puts their pods on one node (set access_mode: ReadWriteMany with a storage class that has it)", users.join(", ")));
        }
        ctx.report.note(&at, "a new PersistentVolumeClaim starts empty: unlike Compose, it is not filled from the image's content at the mount path");
        let name = names::dns_label(key);
        let mut labels = ctx.project_labels();
        labels.insert("app.kubernetes.io/name".into(), json!(name));
        let mut metadata = ctx.metadata(&name, Value::Object(labels));
        let annotations = super::annotations(ctx, &format!("{at}.labels"), &vol.labels);
        if !annotations.is_empty() {
            metadata["annotations"] = Value::Object(annotations);
        }
        let body = json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec });
        ctx.add(&at, body)?;
    }
    Ok(())
}

/// A claim's spec for named volume `key`: size, storage class and access mode from
/// top-level `x-berth-kubernetes: {volumes: {KEY: {…}}}`, else `--volume-size` and the defaults.
pub fn claim_spec(ctx: &Context, key: &str) -> Value {
    let ext = ctx.stack_ext();
    let cfg = ext.get("volumes").and_then(|v| v.get(key)).cloned().unwrap_or(Value::Null);
    let size = cfg.get("size").and_then(Value::as_str).unwrap_or(&ctx.opts.volume_size).to_string();
    let mode = cfg.get("access_mode").and_then(Value::as_str).unwrap_or("ReadWriteOnce").to_string();
    let mut spec = json!({ "accessModes": [mode], "resources": { "requests": { "storage": size } } });
    if let Some(class) = cfg.get("storage_class").and_then(Value::as_str).or(ctx.opts.storage_class.as_deref()) {
        spec["storageClassName"] = json!(class);
    }
    spec
}
