//! Registry authentication, the pure parts: parsing a `WWW-Authenticate` challenge (RFC 7235;
//! the distribution token flow answers 401 with `Bearer realm=…,service=…,scope=…`), and Basic
//! credentials from Docker's client config (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`, `auths.<registry>.auth` = base64 of `user:password`). Credential
//! helpers (`credsStore`, `credHelpers`) are not consulted.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine as _;

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    /// Token auth: fetch a token from `realm` (with `service` and `scope`).
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parse `Bearer realm="…",service="…"` or `Basic realm="…"`; None for other schemes.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Some(Challenge::Basic),
            "bearer" => {
                let mut params = parse_params(rest);
                Some(Challenge::Bearer {
                    realm: params.remove("realm")?,
                    service: params.remove("service"),
                    scope: params.remove("scope"),
                })
            }
            _ => None,
        }
    }
}

/// `k="v", k2=v2` → map (keys lower-cased; quoted values may hold commas and `\"`).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
        }
        out.insert(key.trim().to_ascii_lowercase(), value);
    }
}

/// Basic credentials (user, password).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Never print the password (tracing, error chains).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: <redacted> }}", self.user)
    }
}

impl Credentials {
    /// The `Authorization` header value.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.user, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
    }
}

/// Credentials for `registry` (`docker.io`, `127.0.0.1:5000`) from Docker's config, if any.
pub(crate) fn credentials_for(registry: &str) -> Option<Credentials> {
    let bytes = std::fs::read(docker_config_path()?).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    lookup(&config, registry)
}

pub(crate) fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// Find `registry` among `auths` keys, which Docker writes as bare hosts or URLs
/// (`https://index.docker.io/v1/` for Docker Hub).
fn lookup(config: &serde_json::Value, registry: &str) -> Option<Credentials> {
    let auths = config.get("auths")?.as_object()?;
    let wanted = normalize(registry);
    let entry = auths.iter().find(|(k, _)| normalize(k) == wanted)?.1;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials { user: user.to_string(), password: password.to_string() })
}

/// `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/` → `host:5000`.
pub(crate) fn normalize(key: &str) -> String {
    let k = key.trim_start_matches("https://").trim_start_matches("http://");
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io".to_string(),
        h => h.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse("bearer realm=http://a/t"),
            Some(Challenge::Bearer { realm: "http://a/t".into(), service: None, scope: None })
        );
        assert_eq!(Challenge::parse(r#"Basic realm="Registry""#), Some(Challenge::Basic));
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse("Bearer service=x"), None, "a bearer challenge needs a realm");
    }

    #[test]
    fn docker_config_credentials() {
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3:cret");
        let config = serde_json::json!({"auths": {
            "https://index.docker.io/v1/": {"auth": auth},
            "127.0.0.1:5000": {"auth": base64::engine::general_purpose::STANDARD.encode("bob:pw")},
        }});
        let hub = lookup(&config, "docker.io").unwrap();
        assert_eq!((hub.user.as_str(), hub.password.as_str()), ("alice", "s3:cret"));
        assert_eq!(lookup(&config, "127.0.0.1:5000").unwrap().user, "bob");
        assert!(lookup(&config, "quay.io").is_none());
        assert!(!format!("{hub:?}").contains("s3:cret"));
        assert_eq!(hub.basic_header(), format!("Basic {auth}"));
    }
}
