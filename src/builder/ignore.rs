//! A build's `.dockerignore`: which file applies, read with a size limit. The patterns
//! themselves are [`crate::common::patterns`].

use std::path::Path;

use super::error::{io_err, Result};
pub use crate::common::patterns::{glob_match, path_match, segments, Ignore};

/// Largest `.dockerignore` read. Every pattern is matched against every path of the build
/// context, so patterns cost time as well as memory; real files hold a few dozen lines, and
/// 1 MiB (tens of thousands of patterns) refuses only mistakes and attacks.
pub const MAX_DOCKERIGNORE: u64 = 1 << 20;

/// The ignore file of a build: `<Dockerfile>.dockerignore` next to the Dockerfile when
/// there is one (BuildKit's per-Dockerfile ignore file), else `<context>/.dockerignore`,
/// else nothing.
pub fn load(context: &Path, dockerfile: Option<&Path>) -> Result<Ignore> {
    if let Some(own) = dockerfile.map(|d| {
        let mut p = d.as_os_str().to_owned();
        p.push(".dockerignore");
        std::path::PathBuf::from(p)
    }) {
        if let Some(ig) = read(&own)? {
            return Ok(ig);
        }
    }
    Ok(read(&context.join(".dockerignore"))?.unwrap_or_default())
}

fn read(path: &Path) -> Result<Option<Ignore>> {
    match crate::fsutil::read_string_limited(path, MAX_DOCKERIGNORE, ".dockerignore file") {
        Ok(text) => Ok(Some(Ignore::parse(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dockerfile_of_its_own_has_its_own_ignore_file() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(".dockerignore"), "a\n").unwrap();
        std::fs::write(t.path().join("web.Dockerfile.dockerignore"), "b\n").unwrap();
        let own = load(t.path(), Some(&t.path().join("web.Dockerfile"))).unwrap();
        assert!(own.excluded("b") && !own.excluded("a"));
        let shared = load(t.path(), Some(&t.path().join("Dockerfile"))).unwrap();
        assert!(shared.excluded("a") && !shared.excluded("b"));
        assert!(!load(&t.path().join("nope"), None).unwrap().excluded("a"));
    }

    #[test]
    fn oversized_ignore_file_is_refused_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join(".dockerignore");
        std::fs::File::create(&path).unwrap().set_len(MAX_DOCKERIGNORE + 1).unwrap();
        let err = load(t.path(), None).unwrap_err();
        let text = crate::errchain::chain(&err);
        assert!(text.contains(".dockerignore") && text.contains("larger than 1 MiB"), "{text}");
    }
}
