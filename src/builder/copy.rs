//! COPY and ADD: resolve the sources (globs, `.dockerignore`, never outside the context or
//! stage root), hash what would be copied (the cache key), then write it into a fresh layer
//! directory — no container needed. Docker's rules: a directory source copies its contents;
//! several sources need a destination ending in `/`; such a destination, a glob matching
//! several paths or an existing directory in the image make it a directory; files from the
//! context become root-owned unless `--chown` (a stage or image keeps its owners); `--chmod`
//! applies to files and directories; ADD extracts local tar archives (plain or gzip) and
//! refuses URLs (no egress).

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::ignore::segments;
use super::tree::Tree;

/// What one COPY/ADD does, resolved.
#[derive(Debug)]
pub struct Plan {
    pub items: Vec<Item>,
}

#[derive(Debug)]
pub struct Item {
    /// Path in the source tree (`""` is its root).
    pub src: String,
    /// Absolute destination path in the image (without the leading `/`).
    pub dest: String,
    /// ADD of a local tar archive: extract into `dest`.
    pub extract: bool,
}

/// The ownership and mode COPY applies.
#[derive(Clone, Copy)]
pub struct Attrs {
    /// `--chown`, resolved; else None.
    pub owner: Option<(u32, u32)>,
    /// Files from the build context become 0:0 (a stage or image keeps its owners).
    pub reset_owner: bool,
    pub chmod: Option<u32>,
}

/// Resolve `sources` (substituted words) against `src` for destination `dest` (absolute,
/// symlinks already resolved in the image, a trailing `/` when the Dockerfile wrote one).
/// Docker's rules: several sources need a destination ending in `/`; a destination ending in
/// `/`, a wildcard matching several paths, or an existing directory make it a directory; a
/// directory source copies its contents; a top-level symlink source is followed (inside the
/// source tree).
pub fn plan(src: &Tree<'_>, image: &Tree<'_>, sources: &[String], dest: &str, add: bool) -> Result<Plan, String> {
    if sources.len() > 1 && !dest.ends_with('/') {
        return Err(format!(
            "with more than one source, the destination must be a directory and end with a / (`{dest}/`)"
        ));
    }
    let mut matched = Vec::new();
    for s in sources {
        if s.contains("://") || s.starts_with("git@") {
            return Err(format!("source `{s}`: ADD from a URL is not supported (builds have no network); download it into the build context and COPY it"));
        }
        let segs = segments(s);
        if segs.contains(&"..") {
            return Err(format!("source `{s}` is outside the build context"));
        }
        let matches = if s.contains(['*', '?', '[']) {
            src.glob(&segs)
        } else {
            let resolved = src.resolve(&segs.join("/"));
            src.lookup(&resolved)
                .map(|_| (resolved, segs.last().copied().unwrap_or("").to_string()))
                .into_iter()
                .collect()
        };
        if matches.is_empty() {
            return Err(format!("source `{s}`: no such file or directory (or excluded by .dockerignore)"));
        }
        matched.extend(matches);
    }
    let dest_is_dir = dest.ends_with('/') || matched.len() > 1 || image.lookup(dest).is_some_and(|e| e.meta.is_dir());
    let dest_segs = segments(dest);
    let mut items = Vec::new();
    for (m, name) in matched {
        let Some(entry) = src.lookup(&m) else { continue };
        let is_dir = entry.meta.is_dir();
        let extract = add && entry.meta.is_file() && is_tar(&entry.real);
        let target = if is_dir || extract || !dest_is_dir || name.is_empty() {
            dest_segs.join("/")
        } else {
            dest_segs.iter().copied().chain([name.as_str()]).collect::<Vec<_>>().join("/")
        };
        items.push(Item { src: m, dest: target, extract });
    }
    Ok(Plan { items })
}

/// A local tar archive (plain or gzip)? The ustar magic at offset 257 decides.
fn is_tar(path: &Path) -> bool {
    let Ok(f) = File::open(path) else { return false };
    let mut head = [0u8; 2];
    let gz = File::open(path).and_then(|mut g| g.read_exact(&mut head)).is_ok() && head == [0x1f, 0x8b];
    let mut r: Box<dyn Read> = if gz { Box::new(flate2::read::GzDecoder::new(f)) } else { Box::new(f) };
    let mut block = [0u8; 512];
    r.read_exact(&mut block).is_ok() && &block[257..262] == b"ustar"
}

/// Hash everything the plan would copy: paths, types, modes, owners, link targets, content.
pub fn content_hash(src: &Tree<'_>, plan: &Plan) -> String {
    let mut h = Sha256::new();
    for item in &plan.items {
        h.update(format!("{}>{}>{}\n", item.src, item.dest, item.extract).as_bytes());
        hash_tree(src, &item.src, &mut h);
    }
    hex::encode(h.finalize())
}

fn hash_tree(src: &Tree<'_>, rel: &str, h: &mut Sha256) {
    let Some(e) = src.lookup(rel) else { return };
    let m = &e.meta;
    h.update(format!("{rel}|{:o}|{}|{}|{}\n", m.mode(), m.uid(), m.gid(), m.len()).as_bytes());
    if m.file_type().is_symlink() {
        if let Ok(t) = fs::read_link(&e.real) {
            h.update(t.to_string_lossy().as_bytes());
        }
    } else if m.is_file() {
        if let Ok(mut f) = File::open(&e.real) {
            let _ = io::copy(&mut f, h);
        }
    } else if m.is_dir() {
        for (_, child) in src.children(rel) {
            hash_tree(src, &child, h);
        }
    }
}

/// Write the plan into `layer` (a fresh, empty directory); `scratch` is a path (not yet
/// existing) for temporary extraction, made and removed here.
pub fn apply(
    src: &Tree<'_>,
    image: &Tree<'_>,
    plan: &Plan,
    attrs: Attrs,
    layer: &Path,
    scratch: &Path,
) -> io::Result<()> {
    for item in &plan.items {
        let dest_segs = segments(&item.dest);
        ensure_parents(image, layer, &dest_segs)?;
        let dest = layer.join(dest_segs.join("/"));
        if item.extract {
            extract_into(src, &item.src, attrs, &dest, scratch)?;
        } else {
            copy_entry(src, &item.src, attrs, &dest)?;
        }
    }
    Ok(())
}

/// Create the destination's parent directories (see [`make_dirs`]), new ones root-owned.
fn ensure_parents(image: &Tree<'_>, layer: &Path, segs: &[&str]) -> io::Result<()> {
    make_dirs(image, layer, &segs[..segs.len().saturating_sub(1)], (0, 0))
}

/// Create directory `segs` and its parents in `layer`: with the image's own metadata where
/// the image has them (so the layer does not change their owner or mode), else 0755 `owner`.
pub fn make_dirs(image: &Tree<'_>, layer: &Path, segs: &[&str], owner: (u32, u32)) -> io::Result<()> {
    let mut p = layer.to_path_buf();
    for i in 0..segs.len() {
        p.push(segs[i]);
        let meta = image.lookup(&segs[..=i].join("/")).map(|e| e.meta).filter(|m| m.is_dir());
        ensure_dir(
            &p,
            meta.as_ref().map_or(0o755, |m| m.mode() & 0o7777),
            meta.as_ref().map_or(owner, |m| (m.uid(), m.gid())),
        )?;
    }
    Ok(())
}

/// A real directory at `p` (never through a symlink: one copied earlier would otherwise let a
/// later entry write outside the layer).
fn ensure_dir(p: &Path, mode: u32, owner: (u32, u32)) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => fs::remove_file(p)?,
        Err(_) => {}
    }
    fs::create_dir(p)?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))?;
    std::os::unix::fs::lchown(p, Some(owner.0), Some(owner.1))
}

fn owner_of(attrs: Attrs, m: &fs::Metadata) -> (u32, u32) {
    match attrs.owner {
        Some(o) => o,
        None if attrs.reset_owner => (0, 0),
        None => (m.uid(), m.gid()),
    }
}

fn copy_entry(src: &Tree<'_>, rel: &str, attrs: Attrs, dest: &Path) -> io::Result<()> {
    let Some(e) = src.lookup(rel) else { return Ok(()) };
    let m = &e.meta;
    let owner = owner_of(attrs, m);
    let mode = attrs.chmod.unwrap_or(m.mode() & 0o7777);
    if m.is_dir() {
        ensure_dir(dest, mode, owner)?;
        for (_, child) in src.children(rel) {
            let name = child.rsplit('/').next().unwrap_or("");
            copy_entry(src, &child, attrs, &dest.join(name))?;
        }
        return set_mtime(dest, m);
    }
    if let Ok(old) = fs::symlink_metadata(dest) {
        if old.is_dir() {
            fs::remove_dir_all(dest)?;
        } else {
            fs::remove_file(dest)?;
        }
    }
    if m.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(&e.real)?, dest)?;
    } else if m.is_file() {
        let mut from = File::open(&e.real)?;
        let mut to = fs::OpenOptions::new().write(true).create_new(true).open(dest)?;
        io::copy(&mut from, &mut to)?;
        fs::set_permissions(dest, fs::Permissions::from_mode(mode))?;
    } else {
        tracing::warn!(path = rel, "skipping a special file in COPY");
        return Ok(());
    }
    std::os::unix::fs::lchown(dest, Some(owner.0), Some(owner.1))?;
    set_mtime(dest, m)
}

fn set_mtime(p: &Path, m: &fs::Metadata) -> io::Result<()> {
    use nix::sys::stat::{utimensat, UtimensatFlags};
    use nix::sys::time::TimeSpec;
    let t = TimeSpec::new(m.mtime(), m.mtime_nsec());
    utimensat(None, p, &t, &t, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}

/// ADD of a tar: extract it with the image store's safe extractor, then copy the result in.
fn extract_into(src: &Tree<'_>, rel: &str, attrs: Attrs, dest: &Path, scratch: &Path) -> io::Result<()> {
    let Some(e) = src.lookup(rel) else { return Ok(()) };
    let tmp: PathBuf = scratch.to_path_buf();
    fs::create_dir_all(&tmp)?;
    let result = (|| {
        let f = File::open(&e.real)?;
        let mut head = [0u8; 2];
        File::open(&e.real)?.read_exact(&mut head)?;
        let mut r: Box<dyn Read> =
            if head == [0x1f, 0x8b] { Box::new(flate2::read::GzDecoder::new(f)) } else { Box::new(f) };
        crate::image::extract::extract_layer(&mut r, &tmp, rel).map_err(io::Error::other)?;
        let layers = vec![tmp.clone()];
        let t = Tree::new(&layers);
        ensure_dir(dest, 0o755, attrs.owner.unwrap_or((0, 0)))?;
        for (_, child) in t.children("") {
            copy_entry(&t, &child, Attrs { reset_owner: false, ..attrs }, &dest.join(&child))?;
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&tmp);
    result
}

/// `--chown=user[:group]`: names through the image's /etc/passwd and /etc/group, numbers as
/// they are; a user alone gives the group of the same number (as Docker).
pub fn resolve_chown(spec: &str, image: &Tree<'_>) -> Result<(u32, u32), String> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let lookup = |file: &str, name: &str| -> Result<u32, String> {
        if let Ok(n) = name.parse() {
            return Ok(n);
        }
        let text = image.read_to_string(file).unwrap_or_default();
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(2).and_then(|x| x.parse().ok()))
            .ok_or_else(|| format!("--chown={spec}: `{name}` not found in the image's {file}"))
    };
    let uid = lookup("etc/passwd", u)?;
    let gid = match g {
        Some(g) => lookup("etc/group", g)?,
        None => uid,
    };
    Ok((uid, gid))
}

/// A USER (`name`, `uid`, `name:group`, `uid:gid`) as the ids it runs with: a user's group
/// is its primary group from the image's /etc/passwd (0 for an unknown numeric uid).
pub fn resolve_user(spec: &str, image: &Tree<'_>) -> Result<(u32, u32), String> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = image.read_to_string("etc/passwd").unwrap_or_default();
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&u) || (u.parse::<u32>().is_ok() && f.get(2) == Some(&u)));
    let uid = match u.parse::<u32>() {
        Ok(n) => n,
        Err(_) => entry
            .as_ref()
            .and_then(|f| f.get(2)?.parse().ok())
            .ok_or_else(|| format!("user `{u}` not found in the image's /etc/passwd"))?,
    };
    let gid = match g {
        Some(g) => resolve_chown(&format!("{uid}:{g}"), image)?.1,
        None => entry.and_then(|f| f.get(3)?.parse().ok()).unwrap_or(0),
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_and_apply() {
        let t = tempfile::tempdir().unwrap();
        let ctx = t.path().join("ctx");
        fs::create_dir_all(ctx.join("dir/sub")).unwrap();
        fs::write(ctx.join("a.txt"), "a").unwrap();
        fs::write(ctx.join("b.txt"), "b").unwrap();
        fs::write(ctx.join("dir/sub/c"), "c").unwrap();
        let img = t.path().join("img");
        fs::create_dir_all(img.join("srv")).unwrap();
        // The image has /app, so the layer copies its (our) owner: no root needed.
        fs::create_dir_all(img.join("app")).unwrap();
        let (cl, il) = (vec![ctx], vec![img]);
        let (src, image) = (Tree::new(&cl), Tree::new(&il));
        let p = plan(&src, &image, &["*.txt".into(), "dir".into()], "/app/", false).unwrap();
        let dests: Vec<_> = p.items.iter().map(|i| i.dest.as_str()).collect();
        assert_eq!(dests, ["app/a.txt", "app/b.txt", "app"]);
        let single = plan(&src, &image, &["a.txt".into()], "/srv", false).unwrap();
        assert_eq!(single.items[0].dest, "srv/a.txt", "an existing directory in the image");
        let renamed = plan(&src, &image, &["a.txt".into()], "/etc/x.conf", false).unwrap();
        assert_eq!(renamed.items[0].dest, "etc/x.conf");
        assert!(plan(&src, &image, &["../x".into()], "/", false).unwrap_err().contains("outside"));
        assert!(plan(&src, &image, &["nope".into()], "/", false).is_err());
        assert!(plan(&src, &image, &["https://x/y".into()], "/", true).unwrap_err().contains("URL"));
        let layer = t.path().join("layer");
        fs::create_dir(&layer).unwrap();
        let attrs = Attrs { owner: None, reset_owner: false, chmod: None };
        apply(&src, &image, &p, attrs, &layer, &t.path().join("scratch")).unwrap();
        assert_eq!(fs::read_to_string(layer.join("app/sub/c")).unwrap(), "c");
        assert_eq!(fs::read_to_string(layer.join("app/a.txt")).unwrap(), "a");
        assert_ne!(content_hash(&src, &p), content_hash(&src, &single));
    }

    #[test]
    fn chown_names() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("etc")).unwrap();
        fs::write(t.path().join("etc/passwd"), "app:x:1000:1000::/:/bin/sh\n").unwrap();
        fs::write(t.path().join("etc/group"), "staff:x:50:\n").unwrap();
        let l = vec![t.path().to_path_buf()];
        let image = Tree::new(&l);
        assert_eq!(resolve_chown("app", &image).unwrap(), (1000, 1000));
        assert_eq!(resolve_chown("app:staff", &image).unwrap(), (1000, 50));
        assert_eq!(resolve_chown("5:6", &image).unwrap(), (5, 6));
        assert!(resolve_chown("ghost", &image).is_err());
    }
}
