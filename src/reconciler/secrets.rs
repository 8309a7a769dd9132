//! A service's `secrets:` and `configs:` → read-only files in its containers, where Compose
//! puts them: a secret at `/run/secrets/<name>` (a relative `target` under `/run/secrets`), a
//! config at `/<name>` (a relative `target` under `/`); an absolute `target` as given.
//!
//! Each one is materialized as a copy of its content (from `file:`, the `environment:`
//! variable's value, or a config's inline `content:`) in the container's volatile run dir
//! (`<run>/containers/<id>/secrets/`, 0700 inside the 0700 run root, so no other host user
//! can reach it; on a tmpfs outside `--root`, so it never reaches a disk), owned by
//! `uid`/`gid` (default 0) with `mode` (default 0444, as Compose), and bind-mounted read-only
//! at its target. Compose bind-mounts a `file:` source itself and ignores uid/gid/mode for
//! it; the copy honours them for every source alike, and a file changed on the host is read
//! again by the next create. The copy goes with the container: `Runtime::remove` removes the
//! run dir (a `run --rm` removed by its monitor included).
//!
//! A `file:` that names a directory is bind-mounted read-only as it is (as Compose does;
//! uid/gid/mode cannot apply to a tree and are warned about). `external: true` needs Swarm:
//! refused, as Compose refuses it.
//!
//! Content is never logged or printed: errors name the secret, its file or variable, never
//! what it holds.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::paths::Roots;
use crate::runtime::{IdMap, Mount, Propagation, UserNs};
use crate::spec::model::{FileObject, FileRef, Service, Stack};

/// Where secrets go when their target is not absolute (Compose's `/run/secrets`).
pub const SECRETS_DIR: &str = "/run/secrets";
/// Compose's default mode for a materialized secret or config.
const DEFAULT_MODE: u32 = 0o444;
/// Largest content copied: it lives in memory (a tmpfs) for as long as the container exists.
/// Swarm caps secrets at 500 KiB; certificate bundles and config files stay far below this.
const MAX_CONTENT: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }

    /// The top-level section that declares it.
    fn section(self) -> &'static str {
        match self {
            Kind::Secret => "secrets",
            Kind::Config => "configs",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error)]
pub enum SecretsError {
    #[error("service `{service}`: {kind} `{name}` reads file {}: {source}; create the file or fix `{}.{name}.file`", path.display(), kind.section())]
    File {
        service: String,
        kind: Kind,
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("service `{service}`: {kind} `{name}` reads file {}, which is not a regular file or directory", path.display())]
    NotAFile { service: String, kind: Kind, name: String, path: PathBuf },
    #[error("service `{service}`: {kind} `{name}` comes from environment variable `{var}`, which is not set; set it in the environment or in the project's .env file")]
    UnsetVariable { service: String, kind: Kind, name: String, var: String },
    #[error("service `{service}`: {kind} `{name}` is `external: true`, which only Docker Swarm provides (docker compose refuses it too); declare it with `file:` or `environment:`")]
    External { service: String, kind: Kind, name: String },
    #[error("service `{service}`: {kind} `{name}` is not declared under top-level `{}:`", kind.section())]
    Undeclared { service: String, kind: Kind, name: String },
    #[error("service `{service}`: {kind} `{name}` has no source; give it `file:`, `environment:`{}", if *kind == Kind::Config { " or `content:`" } else { "" })]
    NoSource { service: String, kind: Kind, name: String },
    #[error("service `{service}`: {kind} `{name}`: {what} `{value}` is not a numeric id; give a number such as 1000")]
    BadId { service: String, kind: Kind, name: String, what: &'static str, value: String },
    #[error("service `{service}`: {kind} `{name}`: {what} {id} is not mapped in the service's user namespace")]
    Unmapped { service: String, kind: Kind, name: String, what: &'static str, id: u32 },
    #[error("service `{service}`: {kind} `{name}`: {op} {}: {source}", path.display())]
    Write {
        service: String,
        kind: Kind,
        name: String,
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, SecretsError>;

/// Bytes of a secret or config: `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Content(Vec<u8>);

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Copied into the container's run dir.
    Content(Content),
    /// A host directory (`file:` naming one), bind-mounted as it is.
    Dir(PathBuf),
}

/// One secret or config of a service, resolved: where it goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// The key under top-level `secrets:`/`configs:`.
    pub name: String,
    /// Absolute path in the container.
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub source: Source,
}

/// Every secret and config of `service`, their content read (files, variables). Checked by
/// `up`'s preflight, so a missing file fails before anything is created.
pub fn resolve(stack: &Stack, service_name: &str, service: &Service) -> Result<Vec<Entry>> {
    let groups = [(Kind::Secret, &service.secrets, &stack.secrets), (Kind::Config, &service.configs, &stack.configs)];
    let mut out = Vec::new();
    for (kind, refs, declared) in groups {
        for r in refs {
            let obj = declared.get(&r.source).ok_or_else(|| SecretsError::Undeclared {
                service: service_name.to_string(),
                kind,
                name: r.source.clone(),
            })?;
            out.push(entry(service_name, kind, r, obj)?);
        }
    }
    Ok(out)
}

fn entry(service: &str, kind: Kind, r: &FileRef, obj: &FileObject) -> Result<Entry> {
    let name = r.source.clone();
    let id = |what: &'static str, v: &Option<String>| match v.as_deref().map(str::trim) {
        None | Some("") => Ok(0),
        Some(s) => s.parse::<u32>().map_err(|_| SecretsError::BadId {
            service: service.to_string(),
            kind,
            name: name.clone(),
            what,
            value: s.to_string(),
        }),
    };
    let (uid, gid) = (id("uid", &r.uid)?, id("gid", &r.gid)?);
    let source = source(service, kind, &name, obj)?;
    if matches!(source, Source::Dir(_)) && (r.uid.is_some() || r.gid.is_some() || r.mode.is_some()) {
        tracing::warn!(service, kind = kind.as_str(), name = %name, "uid, gid and mode do not apply to a directory source; it is mounted as it is");
    }
    // Permission bits only: a secret is data, never a setuid or sticky file.
    let mode = r.mode.unwrap_or(DEFAULT_MODE) & 0o777;
    Ok(Entry { kind, target: target(kind, r), name, uid, gid, mode, source })
}

/// Where `r` goes in the container (Compose's rules; see the module doc).
pub fn target(kind: Kind, r: &FileRef) -> String {
    let base = match kind {
        Kind::Secret => SECRETS_DIR,
        Kind::Config => "",
    };
    match r.target.as_deref().filter(|t| !t.is_empty()) {
        Some(t) if t.starts_with('/') => t.to_string(),
        Some(t) => format!("{base}/{t}"),
        None => format!("{base}/{}", r.source),
    }
}

/// What `obj` holds. Its sources are exclusive in the schema; `file` wins, as in compose-go.
fn source(service: &str, kind: Kind, name: &str, obj: &FileObject) -> Result<Source> {
    let who = || (service.to_string(), name.to_string());
    if obj.external {
        let (service, name) = who();
        return Err(SecretsError::External { service, kind, name });
    }
    if let Some(file) = obj.file.as_deref() {
        return read_file(service, kind, name, Path::new(file));
    }
    if let Some(var) = obj.environment.as_deref() {
        return match &obj.env_value {
            Some(v) => Ok(Source::Content(Content(v.0.clone().into_bytes()))),
            None => {
                let (service, name) = who();
                Err(SecretsError::UnsetVariable { service, kind, name, var: var.to_string() })
            }
        };
    }
    match (kind, obj.content.as_deref()) {
        (Kind::Config, Some(c)) => Ok(Source::Content(Content(c.as_bytes().to_vec()))),
        _ => {
            let (service, name) = who();
            Err(SecretsError::NoSource { service, kind, name })
        }
    }
}

fn read_file(service: &str, kind: Kind, name: &str, path: &Path) -> Result<Source> {
    let err = |source| SecretsError::File {
        service: service.to_string(),
        kind,
        name: name.to_string(),
        path: path.to_path_buf(),
        source,
    };
    // Followed like the bind mount Compose makes; checked first so a FIFO never blocks us.
    let meta = fs::metadata(path).map_err(err)?;
    if meta.is_dir() {
        return Ok(Source::Dir(path.to_path_buf()));
    }
    if !meta.is_file() {
        return Err(SecretsError::NotAFile {
            service: service.to_string(),
            kind,
            name: name.to_string(),
            path: path.to_path_buf(),
        });
    }
    let what = if kind == Kind::Secret { "secret" } else { "config" };
    crate::fsutil::read_file_limited(path, MAX_CONTENT, what).map(|b| Source::Content(Content(b))).map_err(err)
}

/// The dir holding container `id`'s copies (volatile: a reboot ends the container anyway).
pub fn dir(roots: &Roots, id: &str) -> PathBuf {
    roots.container_run(id).join("secrets")
}

/// Write `service`'s secrets and configs for container `id` and return their read-only bind
/// mounts (none, and nothing written, for a service without any). A copy left by an earlier
/// create of the same id is replaced.
pub fn materialize(
    roots: &Roots,
    stack: &Stack,
    service_name: &str,
    service: &Service,
    id: &str,
    userns: Option<&UserNs>,
) -> Result<Vec<Mount>> {
    let entries = resolve(stack, service_name, service)?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let dir = dir(roots, id);
    let io = |e: &Entry, op: &'static str, path: &Path| {
        let (service, kind, name, path) = (service_name.to_string(), e.kind, e.name.clone(), path.to_path_buf());
        move |source| SecretsError::Write { service, kind, name, op, path, source }
    };
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io(&entries[0], "remove stale", &dir))?;
    }
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(io(&entries[0], "create", parent))?;
    }
    // 0700 root: other users cannot even look up the copies, whatever their own mode.
    fs::DirBuilder::new().mode(0o700).create(&dir).map_err(io(&entries[0], "create", &dir))?;
    let mut mounts = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let source = match &e.source {
            Source::Dir(p) => p.clone(),
            Source::Content(c) => {
                let path = dir.join(format!("{}-{i}", e.kind));
                let (uid, gid) = host_ids(service_name, e, userns)?;
                write_copy(&path, c, uid, gid, e.mode).map_err(io(e, "write", &path))?;
                path
            }
        };
        mounts.push(Mount::Bind {
            source,
            target: e.target.clone(),
            read_only: true,
            propagation: Propagation::default(),
        });
    }
    Ok(mounts)
}

/// The copy: made 0600 (so it is never readable by anyone else while being written), then
/// given its owner and mode.
fn write_copy(path: &Path, c: &Content, uid: u32, gid: u32, mode: u32) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(&c.0)?;
    std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
    f.set_permissions(fs::Permissions::from_mode(mode))
}

/// The host ids that appear as `e.uid`/`e.gid` in the container (the same without a user
/// namespace).
fn host_ids(service: &str, e: &Entry, userns: Option<&UserNs>) -> Result<(u32, u32)> {
    let Some(ns) = userns else { return Ok((e.uid, e.gid)) };
    let map = |what: &'static str, id: u32, m: &[IdMap]| {
        to_host(id, m).ok_or_else(|| SecretsError::Unmapped {
            service: service.to_string(),
            kind: e.kind,
            name: e.name.clone(),
            what,
            id,
        })
    };
    Ok((map("uid", e.uid, &ns.uid_map)?, map("gid", e.gid, &ns.gid_map)?))
}

fn to_host(id: u32, map: &[IdMap]) -> Option<u32> {
    map.iter()
        .find(|m| id >= m.container_id && id - m.container_id < m.size)
        .and_then(|m| m.host_id.checked_add(id - m.container_id))
}

/// Remove container `id`'s copies, if any (a create that failed before the runtime knew the
/// container; otherwise `Runtime::remove` already removed them with the run dir).
pub fn remove(roots: &Roots, id: &str) -> std::io::Result<()> {
    let dir = dir(roots, id);
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // The run dir itself when nothing else is in it (no runtime state: it was ours alone).
    let _ = fs::remove_dir(roots.container_run(id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::SecretText;
    use std::os::unix::fs::MetadataExt;

    fn fref(source: &str, target: Option<&str>) -> FileRef {
        FileRef { source: source.into(), target: target.map(Into::into), uid: None, gid: None, mode: None }
    }

    #[test]
    fn targets_as_compose_places_them() {
        assert_eq!(target(Kind::Secret, &fref("db_pw", None)), "/run/secrets/db_pw");
        assert_eq!(target(Kind::Secret, &fref("db_pw", Some("pw.txt"))), "/run/secrets/pw.txt");
        assert_eq!(target(Kind::Secret, &fref("db_pw", Some("/etc/pw"))), "/etc/pw");
        assert_eq!(target(Kind::Config, &fref("app", None)), "/app");
        assert_eq!(target(Kind::Config, &fref("app", Some("app.conf"))), "/app.conf");
        assert_eq!(target(Kind::Config, &fref("app", Some("/etc/app.conf"))), "/etc/app.conf");
    }

    fn stack(dir: &Path) -> Stack {
        let mut st = Stack::default();
        let file = dir.join("pw.txt");
        fs::write(&file, "s3cret\n").unwrap();
        st.secrets.insert("f".into(), FileObject { file: Some(file.display().to_string()), ..Default::default() });
        st.secrets.insert(
            "e".into(),
            FileObject {
                environment: Some("PW".into()),
                env_value: Some(SecretText("from-env".into())),
                ..Default::default()
            },
        );
        st.secrets.insert("unset".into(), FileObject { environment: Some("NOPE".into()), ..Default::default() });
        st.secrets.insert(
            "gone".into(),
            FileObject { file: Some(dir.join("missing").display().to_string()), ..Default::default() },
        );
        st.secrets.insert("ext".into(), FileObject { external: true, ..Default::default() });
        st.configs.insert("c".into(), FileObject { content: Some("k=v".into()), ..Default::default() });
        st
    }

    #[test]
    fn resolves_sources_and_defaults() {
        let t = tempfile::tempdir().unwrap();
        let st = stack(t.path());
        let svc = Service {
            secrets: vec![
                fref("f", None),
                FileRef { uid: Some("70".into()), mode: Some(0o4640), ..fref("e", Some("x")) },
            ],
            configs: vec![fref("c", None)],
            ..Default::default()
        };
        let got = resolve(&st, "db", &svc).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].source, Source::Content(Content(b"s3cret\n".to_vec())));
        assert_eq!((got[0].uid, got[0].gid, got[0].mode), (0, 0, 0o444));
        assert_eq!(got[1].source, Source::Content(Content(b"from-env".to_vec())));
        assert_eq!((got[1].target.as_str(), got[1].uid, got[1].mode), ("/run/secrets/x", 70, 0o640));
        assert_eq!((got[2].target.as_str(), &got[2].source), ("/c", &Source::Content(Content(b"k=v".to_vec()))));
        assert_eq!(format!("{:?}", got[1].source), "Content(<8 bytes>)", "Debug never shows content");
    }

    #[test]
    fn errors_name_the_service_secret_and_source() {
        let t = tempfile::tempdir().unwrap();
        let st = stack(t.path());
        let one = |name: &str| {
            let svc = Service { secrets: vec![fref(name, None)], ..Default::default() };
            resolve(&st, "db", &svc).unwrap_err().to_string()
        };
        let missing = one("gone");
        assert!(missing.starts_with("service `db`: secret `gone` reads file "), "{missing}");
        assert!(missing.contains("missing: No such file"), "{missing}");
        assert!(one("unset").contains("environment variable `NOPE`, which is not set"));
        assert!(one("ext").contains("`external: true`"));
        let svc =
            Service { secrets: vec![FileRef { uid: Some("bob".into()), ..fref("f", None) }], ..Default::default() };
        assert!(resolve(&st, "db", &svc).unwrap_err().to_string().contains("uid `bob` is not a numeric id"));
    }

    #[test]
    fn maps_ids_through_a_user_namespace() {
        let m = [IdMap { container_id: 0, host_id: 100_000, size: 65536 }];
        assert_eq!(to_host(0, &m), Some(100_000));
        assert_eq!(to_host(1000, &m), Some(101_000));
        assert_eq!(to_host(65536, &m), None);
    }

    #[test]
    fn materializes_private_copies_with_owner_and_mode() {
        let t = tempfile::tempdir().unwrap();
        let st = stack(t.path());
        let roots = Roots::new(Some(&t.path().join("root")));
        let svc = Service {
            secrets: vec![FileRef { mode: Some(0o400), ..fref("f", None) }],
            configs: vec![fref("c", Some("/etc/c.conf"))],
            ..Default::default()
        };
        let mounts = materialize(&roots, &st, "db", &svc, "p-db-1", None).unwrap();
        assert_eq!(mounts.len(), 2);
        let Mount::Bind { source, target, read_only, .. } = &mounts[0] else { panic!("bind") };
        assert_eq!((target.as_str(), *read_only), ("/run/secrets/f", true));
        assert_eq!(fs::read(source).unwrap(), b"s3cret\n");
        assert_eq!(fs::metadata(source).unwrap().mode() & 0o7777, 0o400);
        assert_eq!(fs::metadata(dir(&roots, "p-db-1")).unwrap().mode() & 0o7777, 0o700);
        // Again (a recreate of the same id): replaced, not refused.
        materialize(&roots, &st, "db", &svc, "p-db-1", None).unwrap();
        remove(&roots, "p-db-1").unwrap();
        assert!(!roots.container_run("p-db-1").exists());
        let none = materialize(&roots, &st, "db", &Service::default(), "p-web-1", None).unwrap();
        assert!(none.is_empty() && !roots.container_run("p-web-1").exists());
    }
}
