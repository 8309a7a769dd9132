//! Lexical path arithmetic for stack files, as Go's `filepath` does it for Compose: clean,
//! join and relative paths, with no look at the disk (a path may name nothing yet).

use std::path::{Component, Path, PathBuf};

/// Remove `.` and resolve `..` lexically (Go's `filepath.Clean`): `..` at the root is
/// dropped, leading `..` of a relative path are kept, and an empty result is `.`.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `rel` joined to `dir` and cleaned (`./a/../b` → `dir/b`); an absolute `rel` stays itself.
/// `dir` may be relative: the result is then relative too (`sub` + `../x` → `x`).
pub fn join(dir: &Path, rel: &Path) -> PathBuf {
    clean(&dir.join(rel))
}

/// `target` relative to `base` (Go's `filepath.Rel`), both absolute: `/p/a/b` from `/p` is
/// `a/b`, `/p` from `/p/a` is `..`, the same directory is `.`. Either relative: `target`.
pub fn relative(target: &Path, base: &Path) -> PathBuf {
    if !(target.is_absolute() && base.is_absolute()) {
        return target.to_path_buf();
    }
    let (t, b) = (clean(target), clean(base));
    let (t, b): (Vec<Component>, Vec<Component>) = (t.components().collect(), b.components().collect());
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    clean(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_lexical_as_go() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(clean(Path::new("../a/../../b")), PathBuf::from("../../b"));
        assert_eq!(clean(Path::new("./")), PathBuf::from("."));
        assert_eq!(clean(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn join_keeps_relative_dirs_relative() {
        assert_eq!(join(Path::new("/a/b"), Path::new("./c/../d")), PathBuf::from("/a/b/d"));
        assert_eq!(join(Path::new("/a/b"), Path::new("/abs")), PathBuf::from("/abs"));
        assert_eq!(join(Path::new("."), Path::new("./data")), PathBuf::from("data"));
        assert_eq!(join(Path::new("."), Path::new(".")), PathBuf::from("."));
        assert_eq!(join(Path::new("sub"), Path::new("../x")), PathBuf::from("x"));
        assert_eq!(join(Path::new("../other"), Path::new("d")), PathBuf::from("../other/d"));
    }

    #[test]
    fn relative_walks_up_and_down() {
        assert_eq!(relative(Path::new("/p/a/b"), Path::new("/p")), PathBuf::from("a/b"));
        assert_eq!(relative(Path::new("/p"), Path::new("/p/a")), PathBuf::from(".."));
        assert_eq!(relative(Path::new("/p"), Path::new("/p/")), PathBuf::from("."));
        assert_eq!(relative(Path::new("/q/x"), Path::new("/p/a")), PathBuf::from("../../q/x"));
        assert_eq!(relative(Path::new("rel"), Path::new("/p")), PathBuf::from("rel"));
    }
}
