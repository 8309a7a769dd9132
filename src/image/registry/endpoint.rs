//! Where a reference lives on the wire: the registry's base URL (scheme, API host) and the
//! repository's URLs of the distribution API (OCI distribution-spec `/v2/<name>/...`).
//!
//! Scheme: plain http for loopback registries (`localhost`, `127.0.0.0/8`, `::1`), as Docker
//! treats them as insecure by default, and for hosts listed in `BERTH_INSECURE_REGISTRIES`
//! (comma-separated `host[:port]`, Docker's `insecure-registries`); https for everything else.

use crate::image::reference::{Reference, DEFAULT_DOMAIN};

/// Docker Hub's API host (`docker.io` names the registry, not the server).
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Environment variable listing registries reached over plain http.
pub const INSECURE_ENV: &str = "BERTH_INSECURE_REGISTRIES";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The registry as users name it (`docker.io`, `127.0.0.1:5000`), for messages and auth.
    pub registry: String,
    /// `scheme://host[:port]`, no trailing slash.
    pub base: String,
    /// Repository path within the registry (`library/busybox`).
    pub repository: String,
    /// The reference as the user wrote it in short form, for messages.
    pub reference: String,
}

impl Endpoint {
    pub fn new(r: &Reference) -> Endpoint {
        let host = if r.domain == DEFAULT_DOMAIN { DOCKER_HUB_API } else { r.domain.as_str() };
        let insecure = std::env::var(INSECURE_ENV).unwrap_or_default();
        let scheme = if plain_http(&r.domain, &insecure) { "http" } else { "https" };
        Endpoint {
            registry: r.domain.clone(),
            base: format!("{scheme}://{host}"),
            repository: r.path.clone(),
            reference: r.familiar(),
        }
    }

    /// [`Endpoint::new`], over plain http when `insecure` (Compose's `--insecure-registry`).
    pub fn maybe_insecure(r: &Reference, insecure: bool) -> Endpoint {
        let mut ep = Endpoint::new(r);
        if insecure {
            ep.base = ep.base.replacen("https://", "http://", 1);
        }
        ep
    }

    /// A manifest by tag or digest.
    pub fn manifest_url(&self, tag_or_digest: &str) -> String {
        format!("{}/v2/{}/manifests/{tag_or_digest}", self.base, self.repository)
    }

    pub fn blob_url(&self, digest: &str) -> String {
        format!("{}/v2/{}/blobs/{digest}", self.base, self.repository)
    }

    /// Where a blob upload session starts (POST).
    pub fn uploads_url(&self) -> String {
        format!("{}/v2/{}/blobs/uploads/", self.base, self.repository)
    }

    /// A `Location` header made absolute (registries may answer with a path only).
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            format!("{}/{location}", self.base)
        }
    }
}

/// Whether `domain` (`host[:port]`) is reached over plain http.
fn plain_http(domain: &str, insecure_list: &str) -> bool {
    if insecure_list.split(',').map(str::trim).any(|h| !h.is_empty() && (h == domain || h == host_of(domain))) {
        return true;
    }
    let host = host_of(domain);
    host == "localhost"
        || host == "[::1]"
        || host == "::1"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` → host (an IPv6 literal keeps its brackets).
fn host_of(domain: &str) -> &str {
    if domain.starts_with('[') {
        return domain.find(']').map_or(domain, |i| &domain[..=i]);
    }
    domain.rsplit_once(':').map_or(domain, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        Endpoint::new(&Reference::parse(s).unwrap())
    }

    #[test]
    fn docker_hub_and_loopback_endpoints() {
        let e = ep("busybox");
        assert_eq!(e.base, "https://registry-1.docker.io");
        assert_eq!(e.manifest_url("latest"), "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
        let e = ep("127.0.0.1:5000/test/busybox:1");
        assert_eq!(e.base, "http://127.0.0.1:5000");
        assert_eq!(e.registry, "127.0.0.1:5000");
        assert_eq!(e.blob_url("sha256:ab"), "http://127.0.0.1:5000/v2/test/busybox/blobs/sha256:ab");
        assert_eq!(ep("localhost:5000/x").base, "http://localhost:5000");
        assert_eq!(ep("registry.example:5000/x").base, "https://registry.example:5000");
        let r = Reference::parse("registry.example:5000/x").unwrap();
        assert_eq!(Endpoint::maybe_insecure(&r, true).base, "http://registry.example:5000");
        assert_eq!(Endpoint::maybe_insecure(&r, false).base, "https://registry.example:5000");
    }

    #[test]
    fn insecure_list_and_hosts() {
        assert!(plain_http("reg.lan:5000", "other, reg.lan:5000"));
        assert!(plain_http("reg.lan:5000", "reg.lan"));
        assert!(!plain_http("reg.lan:5000", ""));
        assert!(plain_http("[::1]:5000", ""));
        assert!(plain_http("127.1.2.3:80", ""));
        assert_eq!(host_of("[::1]:5000"), "[::1]");
    }

    #[test]
    fn locations_are_made_absolute() {
        let e = ep("127.0.0.1:5000/a");
        assert_eq!(e.absolute("/v2/a/blobs/uploads/x?_state=1"), "http://127.0.0.1:5000/v2/a/blobs/uploads/x?_state=1");
        assert_eq!(e.absolute("https://s3/x"), "https://s3/x");
    }
}
