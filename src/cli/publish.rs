//! `berth publish REPOSITORY[:TAG]`: the stack's Compose files (and, with `--with-env`, its
//! env files) pushed as a Compose project OCI artifact, as `docker compose publish` does, so
//! `berth -f oci://…` or `docker compose -f oci://…` runs it elsewhere.
//!
//! Refused as docker compose refuses them: services that only have a `build` section (nothing
//! to pull on the other side), local `include`s; and, berth's limit, `extends` from another
//! file (the artifact holds the `-f` files only). Asked first (a line on stdin; `-y` answers
//! yes): bind mounts, and env declarations (`env_file`, literal values of variables named like
//! secrets) unless `--with-env` says they are meant to go. Nothing is pushed before every
//! check passed; under `--dry-run` nothing is pushed at all.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use crate::image::registry::artifact::{self, OciVersion, Part, PartKind};
use crate::spec::model::{MountKind, Stack};

use super::GlobalOpts;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Where to publish: REGISTRY/REPOSITORY[:TAG].
    pub repository: String,
    /// Assume "yes" as the answer to every prompt.
    // `--y`: Compose's deprecated spelling.
    #[arg(short = 'y', long = "yes", alias = "y")]
    pub yes: bool,
    /// Include the env files (each service's `env_file`, and the project's `.env`), and publish
    /// env declarations without asking.
    #[arg(long)]
    pub with_env: bool,
    /// The OCI manifest shape: 1.1 (artifactType) or 1.0 (a typed config); default 1.1, then
    /// 1.0 when the registry refuses it.
    #[arg(long, value_parser = ["1.0", "1.1"])]
    pub oci_version: Option<String>,
    /// Add an `image-digests.yaml` layer pinning every service's image to its digest (from
    /// berth's image store, else its registry), as `docker compose publish --resolve-image-digests`.
    #[arg(long)]
    pub resolve_image_digests: bool,
    /// Publish the whole application, as `docker compose publish --app`: every service's image
    /// is copied (from berth's image store) into the artifact's repository, and an OCI image
    /// index listing them, whose subject is the project artifact, is pushed beside it.
    /// Implies --resolve-image-digests.
    #[arg(long)]
    pub app: bool,
    /// Push over plain http (Compose's hidden flag; 127.0.0.1 and localhost always are).
    #[arg(long, hide = true)]
    pub insecure_registry: bool,
}

/// The exit code of a declined prompt (as docker compose: 130).
const CANCELLED: u8 = 130;

pub fn run(g: &GlobalOpts, a: &PublishArgs) -> anyhow::Result<ExitCode> {
    let loaded = super::load::load_stack(g)?;
    let stack = &loaded.stack;
    let files = read_files(&stack.files)?;
    // Each file as written, parsed once (the loader has checked and bounded them already).
    let docs: Vec<(&Path, serde_yaml::Value)> = files
        .iter()
        .map(|(p, b)| (p.as_path(), serde_yaml::from_slice(b).unwrap_or(serde_yaml::Value::Null)))
        .collect();
    refusals(stack, &docs)?;
    let binds = bind_mounts(stack);
    if !binds.is_empty() && !a.yes {
        let mut text = String::from("you are about to publish bind mounts declaration within your OCI artifact.\n");
        text.push_str("only publish them if the paths exist wherever the stack will run\n");
        binds.iter().for_each(|b| text.push_str(&format!("{b}\n")));
        if !confirm(&text, "Are you ok to publish these bind mount declarations?")? {
            return Ok(cancelled());
        }
    }
    let env = env_findings(stack, &docs);
    if !env.is_empty() && !a.with_env && !a.yes {
        let mut text = String::from("you are about to publish env-related declarations within your OCI artifact.\n");
        text.push_str("please double check that you are not leaking sensitive data\n");
        env.iter().for_each(|f| text.push_str(&format!("{f}\n")));
        text.push_str("Use --with-env to silence this prompt\n");
        if !confirm(&text, "Are you ok to publish these env declarations?")? {
            return Ok(cancelled());
        }
    }
    let mut parts: Vec<Part> = files
        .iter()
        .map(|(path, bytes)| Part { kind: PartKind::ComposeFile, name: base_name(path), bytes: bytes.clone() })
        .collect();
    if a.with_env {
        parts.extend(env_files(stack)?);
    }
    // `--app`: every image must be in the store before anything is pushed.
    let app_images = if a.app { app_images(g, stack)? } else { Vec::new() };
    if a.resolve_image_digests || a.app {
        // The same override `config --lock-image-digests` prints, as the artifact's last file.
        let mut pinned = stack.clone();
        super::config::pin_images(&super::ps::roots(g), &mut pinned)?;
        let yaml = super::config::render_lock(&pinned, super::config::Format::Yaml)?;
        parts.push(Part { kind: PartKind::ComposeFile, name: "image-digests.yaml".into(), bytes: yaml.into_bytes() });
    }
    unique_names(&parts)?;
    eprintln!("{} publishing", a.repository);
    if g.dry_run {
        for p in &parts {
            println!("DRY-RUN MODE - would publish {} ({} bytes)", p.name, p.bytes.len());
        }
        for i in &app_images {
            println!("DRY-RUN MODE - would copy the image of service {} ({}) and index it", i.service, i.reference);
        }
        eprintln!("{} published (dry run: nothing was sent)", a.repository);
        return Ok(ExitCode::SUCCESS);
    }
    let version = a.oci_version.as_deref().map(|v| if v == "1.0" { OciVersion::V1_0 } else { OciVersion::V1_1 });
    let created = crate::timefmt::rfc3339_now();
    let insecure = a.insecure_registry || super::oci::insecure(g, &a.repository);
    let done = artifact::publish(&a.repository, &parts, version, &created, insecure)
        .with_context(|| format!("publishing the stack to {}", a.repository))?;
    if a.app {
        let index = push_application(g, &a.repository, &done, &app_images, insecure)?;
        eprintln!("{} application index {index} ({} images)", a.repository, app_images.len());
    }
    eprintln!("{} published", a.repository);
    println!("{}@{}", done.reference, done.digest);
    Ok(ExitCode::SUCCESS)
}

/// A service's image as `--app` copies it from berth's store.
struct AppImage {
    service: String,
    reference: String,
    /// Its manifest digest in the store (and so in the artifact's repository).
    digest: String,
}

/// Each service's image, checked to be in berth's store: `--app` copies the images from there.
fn app_images(g: &GlobalOpts, stack: &Stack) -> anyhow::Result<Vec<AppImage>> {
    let store = crate::image::ImageStore::open(&super::ps::roots(g)).context("open the image store")?;
    let mut out = Vec::new();
    for (name, svc) in &stack.services {
        let reference = crate::planner::image_ref(stack, name, svc);
        let digest = match store.resolve(&reference) {
            Ok(resolved) => resolved.manifest_digest,
            Err(e) => {
                bail!("service `{name}`: image {reference} is not in berth's image store ({e}); pull or build it first")
            }
        };
        out.push(AppImage { service: name.clone(), reference, digest });
    }
    Ok(out)
}

/// `--app`: copy each image into the artifact's repository (by digest), then push the index
/// over them; returns the index's digest.
fn push_application(
    g: &GlobalOpts,
    repository: &str,
    artifact: &artifact::Published,
    images: &[AppImage],
    insecure: bool,
) -> anyhow::Result<String> {
    let store = crate::image::ImageStore::open(&super::ps::roots(g)).context("open the image store")?;
    let repo = crate::image::reference::Reference::parse(repository)?.repository();
    let mut copied = Vec::new();
    for AppImage { service, reference: image, digest } in images {
        let target = format!("{repo}@{digest}");
        let report = crate::image::registry::push_to(&store, image, &target, insecure, &|_| {})
            .with_context(|| format!("service `{service}`: copying image {image} to {repo}"))?;
        eprintln!("Image {image}  Copied  {repo}@{}", report.digest);
        copied.push(artifact::AppImage { media_type: report.media_type, digest: report.digest, size: report.size });
    }
    artifact::push_app_index(repository, artifact, &copied, insecure)
        .with_context(|| format!("pushing the application index to {repository}"))
}

fn cancelled() -> ExitCode {
    eprintln!("operation cancelled by user: nothing was published");
    ExitCode::from(CANCELLED)
}

/// Prints `text` and `question [y/N]: `, reads one line of stdin: yes only for y/yes.
fn confirm(text: &str, question: &str) -> anyhow::Result<bool> {
    let mut err = std::io::stderr().lock();
    write!(err, "{text}{question} [y/N]: ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Each `-f` file's bytes, as written (variables not interpolated: the other side does that).
fn read_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                bail!("a stack read from stdin cannot be published: give it as a file with -f");
            }
            Ok((p.clone(), std::fs::read(p).with_context(|| format!("reading {}", p.display()))?))
        })
        .collect()
}

/// What docker compose refuses, and berth's own limit (extends from another file).
fn refusals(stack: &Stack, docs: &[(&Path, serde_yaml::Value)]) -> anyhow::Result<()> {
    let build_only: Vec<&str> = stack
        .services
        .iter()
        .filter(|(_, s)| s.build.is_some() && s.image.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    if !build_only.is_empty() {
        bail!(
            "your Compose stack cannot be published as it only contains a build section for service(s): {}; \
             give them an `image:` pushed to a registry",
            build_only.join(", ")
        );
    }
    for (path, doc) in docs {
        if doc.get("include").is_some() {
            bail!("cannot publish compose file with local includes ({})", path.display());
        }
        let services = doc.get("services").and_then(|s| s.as_mapping());
        for (name, svc) in services.into_iter().flatten() {
            if svc.get("extends").and_then(|e| e.get("file")).is_some() {
                bail!(
                    "service `{}` of {} extends a service of another file, which berth cannot publish yet \
                     (the artifact holds the -f files only); merge it into the file, or add that file with -f",
                    name.as_str().unwrap_or_default(),
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// `service "web": SOURCE:TARGET` for every bind mount.
fn bind_mounts(stack: &Stack) -> Vec<String> {
    let mut out = Vec::new();
    for (name, s) in &stack.services {
        for v in s.volumes.iter().filter(|v| matches!(v.kind, MountKind::Bind)) {
            out.push(format!("service \"{name}\": {}:{}", v.source.as_deref().unwrap_or_default(), v.target));
        }
    }
    out
}

/// `env_file` declarations, and variables named like secrets with a literal value in a file.
fn env_findings(stack: &Stack, docs: &[(&Path, serde_yaml::Value)]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, s) in &stack.services {
        if !s.env_file.is_empty() {
            out.push(format!("service \"{name}\": env_file declared"));
        }
    }
    for (_, doc) in docs {
        let services = doc.get("services").and_then(|s| s.as_mapping());
        for (name, svc) in services.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            for (key, value) in literal_env(svc.get("environment")) {
                if looks_secret(&key) && !value.contains('$') && !value.is_empty() {
                    out.push(format!("service \"{name}\": literal value for \"{key}\""));
                }
            }
        }
    }
    out
}

/// (key, value) of an `environment:` mapping or `KEY=VALUE` list.
fn literal_env(env: Option<&serde_yaml::Value>) -> Vec<(String, String)> {
    let scalar = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    };
    match env {
        Some(serde_yaml::Value::Mapping(m)) => m.iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str()?.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY"].iter().any(|w| k.contains(w))
}

/// The services' env files and the project's `.env`, each under its base name: only files
/// of the project directory itself, since that is where the other side finds them.
fn env_files(stack: &Stack) -> anyhow::Result<Vec<Part>> {
    let mut parts: Vec<Part> = Vec::new();
    let dotenv = stack.project_dir.join(".env");
    let mut paths: Vec<(String, PathBuf)> = Vec::new();
    if dotenv.is_file() {
        paths.push(("the project".into(), dotenv));
    }
    for (name, s) in &stack.services {
        for f in &s.env_file {
            let path = stack.project_dir.join(&f.path);
            if !path.exists() && !f.required {
                continue;
            }
            if path.parent() != Some(stack.project_dir.as_path()) {
                bail!(
                    "env_file {} of service `{name}` is not in the project directory {}: only env files there \
                     can be published (they travel by name)",
                    f.path,
                    stack.project_dir.display()
                );
            }
            paths.push((format!("service `{name}`"), path));
        }
    }
    for (owner, path) in paths {
        let name = base_name(&path);
        if parts.iter().any(|p| p.name == name) {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("reading {} (env file of {owner})", path.display()))?;
        parts.push(Part { kind: PartKind::EnvFile, name, bytes });
    }
    Ok(parts)
}

fn base_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Files travel by name: two of one name would overwrite each other on the other side.
fn unique_names(parts: &[Part]) -> anyhow::Result<()> {
    for (i, p) in parts.iter().enumerate() {
        if parts[..i].iter().any(|q| q.name == p.name) {
            bail!("two files named {} would be published; rename one (files travel by name)", p.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_literals_are_found() {
        let doc: serde_yaml::Value =
            serde_yaml::from_str("{DB_PASSWORD: hunter2, API_KEY: '${KEY}', PLAIN: x, TOKEN: ''}").unwrap();
        let found: Vec<String> = literal_env(Some(&doc))
            .into_iter()
            .filter(|(k, v)| looks_secret(k) && !v.contains('$') && !v.is_empty())
            .map(|(k, _)| k)
            .collect();
        assert_eq!(found, ["DB_PASSWORD"]);
        let list: serde_yaml::Value = serde_yaml::from_str("[GITHUB_TOKEN=ghp_x, A=b]").unwrap();
        assert_eq!(literal_env(Some(&list))[0], ("GITHUB_TOKEN".to_string(), "ghp_x".to_string()));
    }
}
