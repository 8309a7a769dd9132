//! A read-only merged view of a stack of unpacked layers (overlayfs lower-dir form: a 0/0
//! character device is a whiteout, `trusted.overlay.opaque=y` makes a directory opaque), used
//! to read files of an image or stage without mounting anything: COPY --from sources, existing
//! destination directories, /etc/passwd for --chown. A build context is the one-layer case.
//!
//! Paths are `/`-separated and relative to the root; symlinks in parent positions are not
//! followed (a source path through a symlinked directory is not found, never escapes).

use std::collections::BTreeMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::ignore::{segments, Ignore};

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Layers, lowest first, and (for a build context) the `.dockerignore` to apply.
pub struct Tree<'a> {
    layers: &'a [PathBuf],
    ignore: Option<&'a Ignore>,
}

/// A file visible in the merged view: where it really is, and its metadata.
pub struct Entry {
    pub real: PathBuf,
    pub meta: Metadata,
}

pub fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

pub fn is_opaque(dir: &Path) -> bool {
    matches!(xattr_get(dir, OPAQUE_XATTR), Some(v) if v == b"y")
}

/// lgetxattr(2) of one attribute (None when absent or unreadable).
pub fn xattr_get(path: &Path, name: &str) -> Option<Vec<u8>> {
    xattr::get(path, name).ok().flatten()
}

impl<'a> Tree<'a> {
    pub fn new(layers: &'a [PathBuf]) -> Self {
        Tree { layers, ignore: None }
    }

    pub fn with_ignore(layers: &'a [PathBuf], ignore: &'a Ignore) -> Self {
        Tree { layers, ignore: Some(ignore) }
    }

    pub fn excluded(&self, rel: &str) -> bool {
        self.ignore.is_some_and(|i| !segments(rel).is_empty() && i.excluded(rel))
    }

    /// The entry at `rel` as the merged view shows it (None: absent, whited out, or ignored).
    /// An excluded directory still shows when a `!pattern` re-includes something below it
    /// (`docs` + `!docs/README.md` keeps docs/README.md, as Docker does); it then holds only
    /// what is re-included.
    pub fn lookup(&self, rel: &str) -> Option<Entry> {
        if !self.excluded(rel) {
            return self.lookup_raw(rel);
        }
        if !self.ignore.is_some_and(|i| i.may_include_below(rel)) {
            return None;
        }
        self.lookup_raw(rel).filter(|e| e.meta.is_dir() && !self.children(rel).is_empty())
    }

    /// `rel` with every symlink on the way followed inside this tree: an absolute target is
    /// relative to the tree's root and `..` stops at the root, so a link never leads out (as
    /// BuildKit resolves COPY destinations; cf. openat2(2) RESOLVE_IN_ROOT). This is what
    /// makes `COPY x /lib/` land in /usr/lib of a usrmerged image instead of replacing the
    /// /lib symlink with a directory. Missing components are kept as they are.
    pub fn resolve(&self, rel: &str) -> String {
        let mut todo: std::collections::VecDeque<String> = segments(rel).into_iter().map(str::to_string).collect();
        let mut out: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(seg) = todo.pop_front() {
            if seg == ".." {
                out.pop();
                continue;
            }
            out.push(seg);
            let Some(e) = self.lookup_raw(&out.join("/")) else { continue };
            if !e.meta.file_type().is_symlink() || hops >= 40 {
                continue;
            }
            hops += 1;
            let Ok(target) = fs::read_link(&e.real) else { continue };
            out.pop();
            let target = target.to_string_lossy().into_owned();
            if target.starts_with('/') {
                out.clear();
            }
            for s in segments(&target).into_iter().rev() {
                todo.push_front(s.to_string());
            }
        }
        out.join("/")
    }

    fn lookup_raw(&self, rel: &str) -> Option<Entry> {
        let segs = segments(rel);
        for layer in self.layers.iter().rev() {
            let mut p = layer.clone();
            for (i, s) in segs.iter().enumerate() {
                p.push(s);
                let Ok(meta) = fs::symlink_metadata(&p) else { break };
                if is_whiteout(&meta) {
                    return None;
                }
                if i + 1 == segs.len() {
                    return Some(Entry { real: p, meta });
                }
                if !meta.is_dir() {
                    return None; // a file here hides a directory of a lower layer
                }
                if is_opaque(&p) && !self.below_has(layer, &segs[..=i], &segs[i + 1..]) {
                    return None;
                }
            }
            if segs.is_empty() {
                return fs::symlink_metadata(layer).ok().map(|meta| Entry { real: layer.clone(), meta });
            }
        }
        None
    }

    /// Whether `layer` itself holds `dir/rest` (an opaque dir still shows its own children).
    fn below_has(&self, layer: &Path, dir: &[&str], rest: &[&str]) -> bool {
        let mut p = layer.to_path_buf();
        p.extend(dir.iter().chain(rest.iter()));
        fs::symlink_metadata(p).is_ok()
    }

    /// The names in directory `rel` (merged; whiteouts and ignored entries left out), each with
    /// its context-relative path.
    pub fn children(&self, rel: &str) -> Vec<(String, String)> {
        let segs = segments(rel);
        let mut seen: BTreeMap<String, bool> = BTreeMap::new();
        for layer in self.layers.iter().rev() {
            let mut p = layer.clone();
            p.extend(&segs);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => break, // not a directory in this layer: lower ones are hidden
                Err(_) => continue,
            }
            if let Ok(rd) = fs::read_dir(&p) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let white = e.metadata().map(|m| is_whiteout(&m)).unwrap_or(false);
                    seen.entry(name).or_insert(!white);
                }
            }
            if is_opaque(&p) {
                break;
            }
        }
        let base = segs.join("/");
        seen.into_iter()
            .filter(|(_, visible)| *visible)
            .map(|(name, _)| {
                let child = if base.is_empty() { name.clone() } else { format!("{base}/{name}") };
                (name, child)
            })
            .filter(|(_, child)| !self.excluded(child) || self.lookup(child).is_some())
            .collect()
    }

    /// Every path whose segments match the glob `pattern` segment by segment, with its name;
    /// sorted.
    pub fn glob(&self, pattern: &[&str]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.glob_from("", pattern, &mut out);
        out
    }

    fn glob_from(&self, dir: &str, pattern: &[&str], out: &mut Vec<(String, String)>) {
        let Some((first, rest)) = pattern.split_first() else { return };
        for (name, child) in self.children(dir) {
            if super::ignore::glob_match(first, &name) {
                if rest.is_empty() {
                    out.push((child, name));
                } else {
                    self.glob_from(&child, rest, out);
                }
            }
        }
    }

    /// A file's content through the merged view (e.g. /etc/passwd).
    pub fn read_to_string(&self, rel: &str) -> Option<String> {
        let e = self.lookup(rel)?;
        if e.meta.is_file() {
            fs::read_to_string(e.real).ok()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_layers_with_opaque_dirs() {
        let t = tempfile::tempdir().unwrap();
        let (lo, hi) = (t.path().join("lo"), t.path().join("hi"));
        fs::create_dir_all(lo.join("d/sub")).unwrap();
        fs::write(lo.join("d/a"), "lo").unwrap();
        fs::write(lo.join("d/b"), "lo").unwrap();
        fs::write(lo.join("f"), "lo").unwrap();
        fs::create_dir_all(hi.join("d")).unwrap();
        fs::write(hi.join("d/a"), "hi").unwrap();
        fs::write(hi.join("f2"), "hi").unwrap();
        let layers = vec![lo, hi];
        let tree = Tree::new(&layers);
        assert_eq!(tree.read_to_string("d/a").as_deref(), Some("hi"));
        assert_eq!(tree.read_to_string("/d/b").as_deref(), Some("lo"));
        let names: Vec<String> = tree.children("d").into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "b", "sub"]);
        assert_eq!(tree.glob(&["f*"]), [("f".into(), "f".into()), ("f2".into(), "f2".into())]);
        assert!(tree.lookup("d/nope").is_none());
        assert!(tree.lookup("").is_some_and(|e| e.meta.is_dir()));
    }

    #[test]
    fn ignore_filters_the_context() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("keep"), "").unwrap();
        fs::write(t.path().join("secret"), "").unwrap();
        let ig = Ignore::parse("secret\n");
        let layers = vec![t.path().to_path_buf()];
        let tree = Tree::with_ignore(&layers, &ig);
        assert!(tree.lookup("secret").is_none());
        assert_eq!(tree.children("").into_iter().map(|(n, _)| n).collect::<Vec<_>>(), ["keep"]);
    }
}
