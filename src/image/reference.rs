//! Image references, parsed and normalized as Docker does (distribution/reference):
//! `busybox`, `busybox:1.36`, `registry:5000/ns/name:tag`, `name@sha256:…`. A name without a
//! registry lives on `docker.io`, and a one-component name on Docker Hub gets `library/`, so
//! `busybox` and `docker.io/library/busybox:latest` are the same image. The default tag is
//! `latest` (only when no digest is given).

use std::fmt;

use super::error::{ImageError, Result};

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";
const LEGACY_DOMAIN: &str = "index.docker.io";
const OFFICIAL_PREFIX: &str = "library/";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host (with port), e.g. `docker.io`, `registry:5000`.
    pub domain: String,
    /// Repository path within the registry, e.g. `library/busybox`.
    pub path: String,
    pub tag: Option<String>,
    /// `sha256:<hex>` of a manifest.
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Reference> {
        let bad =
            |reason: &str| ImageError::InvalidReference { reference: input.to_string(), reason: reason.to_string() };
        if input.is_empty() {
            return Err(bad("empty reference"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                validate_digest(d).map_err(|r| bad(&r))?;
                (r, Some(d.to_string()))
            }
            None => (input, None),
        };
        // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(rest[last_slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            validate_tag(t).map_err(|r| bad(&r))?;
        }
        let (domain, path) = split_domain(name);
        validate_path(&path).map_err(|r| bad(&r))?;
        let tag = match (tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (t, _) => t,
        };
        Ok(Reference { domain, path, tag, digest })
    }

    /// The fully qualified repository, e.g. `docker.io/library/busybox`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository as Docker shows it: `busybox`, `user/app`, `registry:5000/ns/name`.
    pub fn familiar_repository(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path.strip_prefix(OFFICIAL_PREFIX).unwrap_or(&self.path).to_string()
        } else {
            self.repository()
        }
    }

    /// The short form: `busybox:latest`.
    pub fn familiar(&self) -> String {
        self.render(&self.familiar_repository())
    }

    fn render(&self, repo: &str) -> String {
        let mut s = repo.to_string();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form, used as the tag key in the store's index.json.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&self.repository()))
    }
}

/// Docker's rule: the first component is a registry when it has a `.` or `:` or is `localhost`.
fn split_domain(name: &str) -> (String, String) {
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    let domain = if domain == LEGACY_DOMAIN { DEFAULT_DOMAIN.to_string() } else { domain };
    let path = if domain == DEFAULT_DOMAIN && !path.contains('/') { format!("{OFFICIAL_PREFIX}{path}") } else { path };
    (domain, path)
}

fn validate_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("empty repository name".into());
    }
    for comp in path.split('/') {
        let ok_chars =
            comp.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let ok_ends = comp.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && comp.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok_chars || !ok_ends {
            return Err(format!(
                "repository component `{comp}` must be lower-case letters, digits and separators (. _ -)"
            ));
        }
    }
    Ok(())
}

fn validate_tag(tag: &str) -> std::result::Result<(), String> {
    let first_ok = tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok || tag.len() > 128 {
        return Err(format!("invalid tag `{tag}`"));
    }
    Ok(())
}

/// Only sha256 digests are supported (the store's blobs are sha256).
pub fn validate_digest(d: &str) -> std::result::Result<(), String> {
    match d.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) => Ok(()),
        _ => Err(format!("invalid digest `{d}` (expected sha256:<64 hex digits>)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn short_names_normalize_to_docker_hub_library() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox"), full("docker.io/library/busybox:latest"));
        assert_eq!(full("index.docker.io/library/busybox"), full("busybox:latest"));
        assert_eq!(full("user/app:1"), "docker.io/user/app:1");
    }

    #[test]
    fn tags_ports_and_digests() {
        let r = Reference::parse("registry:5000/ns/name:tag").unwrap();
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("registry:5000", "ns/name", Some("tag")));
        let r = Reference::parse("localhost/app").unwrap();
        assert_eq!(r.domain, "localhost");
        let r = Reference::parse("busybox:1.36").unwrap();
        assert_eq!(r.familiar(), "busybox:1.36");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.familiar(), format!("busybox@{d}"));
    }

    #[test]
    fn familiar_forms() {
        assert_eq!(Reference::parse("docker.io/library/busybox:latest").unwrap().familiar(), "busybox:latest");
        assert_eq!(Reference::parse("docker.io/user/app").unwrap().familiar_repository(), "user/app");
        assert_eq!(Reference::parse("registry:5000/x").unwrap().familiar_repository(), "registry:5000/x");
    }

    #[test]
    fn invalid_references_are_refused() {
        for bad in ["", "Busybox", "busybox:", "busybox:-x", "a//b", "busybox@sha256:zz", "bad name"] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
