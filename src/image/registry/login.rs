//! `berth login` / `berth logout`: Basic credentials in Docker's client config
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), as Docker stores them:
//! `auths.<server>.auth` = base64 of `user:password`, the file mode 0600, every other key of an
//! existing file kept as it was (and in its order). The registry client reads the same file
//! (auth.rs), so a pull or push after a login uses the credentials.
//!
//! A login is checked against the registry first (`GET /v2/` with the credentials, through the
//! same challenge handling as a pull), and the file is only written once they are accepted;
//! it is replaced atomically (temp file, fsync, rename), so it is never seen half-written.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::auth::{docker_config_path, normalize, Credentials};
use super::client::{Client, Request};
use super::endpoint::Endpoint;
use super::error::{RegistryError, Result};
use crate::image::reference::{Reference, DEFAULT_DOMAIN};

/// Largest config.json read (Docker's own are a few KiB).
pub const MAX_CONFIG: u64 = 4 << 20;
/// The key Docker uses for Docker Hub.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// What a user calls a registry, as a config key and as the registry name.
fn server_key(server: &str) -> (String, String) {
    let registry = normalize(server);
    if registry == DEFAULT_DOMAIN {
        return (DOCKER_HUB_KEY.to_string(), registry);
    }
    (registry.clone(), registry)
}

fn config_error(path: &Path, reason: impl std::fmt::Display) -> RegistryError {
    RegistryError::Store(crate::image::ImageError::InvalidArchive {
        path: path.to_path_buf(),
        reason: format!("docker client config: {reason}"),
    })
}

fn config_path() -> Result<PathBuf> {
    docker_config_path()
        .ok_or_else(|| config_error(Path::new("~/.docker/config.json"), "neither DOCKER_CONFIG nor HOME is set"))
}

/// The config as a JSON object (empty when the file does not exist).
fn read_config(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let bytes = match crate::fsutil::read_file_limited(path, MAX_CONFIG, "docker client config") {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(config_error(path, e)),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Default::default());
    }
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(config_error(path, "not a JSON object")),
        Err(e) => Err(config_error(path, e)),
    }
}

fn write_config(path: &Path, config: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| config_error(dir, e))?;
    let mut bytes = serde_json::to_vec_pretty(config).map_err(|e| config_error(path, e))?;
    bytes.push(b'\n');
    let tmp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| config_error(path, e))
}

/// Check `user`/`password` against `server`, then store them; the config file written.
pub fn login(server: &str, user: &str, password: &str) -> Result<PathBuf> {
    let (key, registry) = server_key(server);
    let creds = Credentials { user: user.to_string(), password: password.to_string() };
    verify(&registry, creds)?;
    let path = config_path()?;
    let mut config = read_config(&path)?;
    let auths = config.entry("auths").or_insert_with(|| serde_json::json!({}));
    let Some(auths) = auths.as_object_mut() else {
        return Err(config_error(&path, "`auths` is not an object"));
    };
    // An entry the user wrote in another form (`http://host:5000/`) is the same registry.
    let existing = auths.keys().find(|k| normalize(k) == registry).cloned();
    let entry = auths.entry(existing.unwrap_or(key)).or_insert_with(|| serde_json::json!({}));
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    match entry.as_object_mut() {
        Some(e) => {
            e.insert("auth".into(), encoded.into());
        }
        None => *entry = serde_json::json!({ "auth": encoded }),
    }
    write_config(&path, &config)?;
    Ok(path)
}

/// Forget the credentials of `server`; false when there were none.
pub fn logout(server: &str) -> Result<bool> {
    let (_, registry) = server_key(server);
    let path = config_path()?;
    let mut config = read_config(&path)?;
    let Some(auths) = config.get_mut("auths").and_then(|a| a.as_object_mut()) else { return Ok(false) };
    let before = auths.len();
    auths.retain(|k, _| normalize(k) != registry);
    if auths.len() == before {
        return Ok(false);
    }
    write_config(&path, &config)?;
    Ok(true)
}

/// `GET /v2/` with the credentials: the registry must accept them.
fn verify(registry: &str, creds: Credentials) -> Result<()> {
    let r = Reference::parse(&format!("{registry}/login-check"))?;
    let client = Client::with_credentials(Endpoint::new(&r), Some(creds));
    let url = format!("{}/v2/", client.ep.base);
    let mut resp = client.send(&Request::new("GET", url.clone()))?;
    if !resp.status().is_success() {
        return Err(client.status(&Request::new("GET", url), &mut resp));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dockers() {
        assert_eq!(server_key("docker.io").0, DOCKER_HUB_KEY);
        assert_eq!(server_key("https://index.docker.io/v1/").0, DOCKER_HUB_KEY);
        assert_eq!(server_key("127.0.0.1:5000"), ("127.0.0.1:5000".into(), "127.0.0.1:5000".into()));
        assert_eq!(server_key("http://reg.example:5000/").0, "reg.example:5000");
    }

    #[test]
    fn the_config_file_keeps_what_it_had() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("d/config.json");
        let mut config = serde_json::Map::new();
        config.insert("psFormat".into(), "table".into());
        write_config(&path, &config).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_config(&path).unwrap()["psFormat"], "table");
        fs::write(&path, "[1]").unwrap();
        assert!(read_config(&path).is_err());
    }
}
