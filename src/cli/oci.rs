//! `-f oci://REGISTRY/REPOSITORY[:TAG|@DIGEST]`: a Compose project published as an OCI artifact
//! (`berth publish`, `docker compose publish`) is fetched, checked (see
//! `image::registry::artifact`) and written into a cache directory named by its manifest
//! digest, `$XDG_CACHE_HOME/berth/oci/<digest>` (else `~/.cache/…`), as docker compose does; the
//! `-f` entry becomes its Compose files there, in their order, with its env files beside them,
//! so relative paths and `.env` resolve inside the artifact's own directory.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::image::registry::artifact::{self, PartKind};

use super::GlobalOpts;

const SCHEME: &str = "oci://";

/// Replaces every `oci://` entry of the `-f` files by the files of its artifact.
pub fn resolve(g: &mut GlobalOpts) -> anyhow::Result<()> {
    if !g.files.iter().any(|f| f.to_string_lossy().starts_with(SCHEME)) {
        return Ok(());
    }
    let mut files = Vec::new();
    for f in std::mem::take(&mut g.files) {
        match f.to_string_lossy().strip_prefix(SCHEME) {
            Some(reference) => files.extend(fetch(reference, insecure(g, reference))?),
            None => files.push(f),
        }
    }
    g.files = files;
    Ok(())
}

fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("berth").join("oci")
}

/// Whether `reference`'s registry is one of the global `--insecure-registry` ones (Compose's
/// hidden flag: OCI artifacts from it over plain http; images are not concerned).
pub fn insecure(g: &GlobalOpts, reference: &str) -> bool {
    let Ok(r) = crate::image::reference::Reference::parse(reference) else { return false };
    g.insecure_registries.contains(&r.domain)
}

fn fetch(reference: &str, insecure: bool) -> anyhow::Result<Vec<PathBuf>> {
    let (digest, parts) =
        artifact::fetch(reference, insecure).with_context(|| format!("fetching the stack {SCHEME}{reference}"))?;
    let dir = cache_root().join(digest.trim_start_matches("sha256:"));
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    if !dir.is_dir() {
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        for p in &parts {
            // The names were checked to be plain file names (artifact::plain_name).
            let path = tmp.join(&p.name);
            std::fs::write(&path, &p.bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        // Content-addressed: a concurrent fetch of the same artifact wrote the same files.
        if std::fs::rename(&tmp, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    eprintln!("stack {SCHEME}{reference} is stored in {}", dir.display());
    Ok(parts.iter().filter(|p| p.kind == PartKind::ComposeFile).map(|p| in_dir(&dir, &p.name)).collect())
}

fn in_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
