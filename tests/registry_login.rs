//! Issue 18: `berth login` / `logout` against a registry stand-in on 127.0.0.1 (a few lines of
//! HTTP that answer `/v2/` with 401 + `WWW-Authenticate: Basic` unless the right credentials
//! come, as distribution's htpasswd auth does; the Debian registry's htpasswd needs bcrypt
//! hashes, which nothing here can make). Checks Docker's file format (base64 `user:password`
//! under auths.<server>.auth, mode 0600, other keys kept), that a wrong password stores
//! nothing, and that a pull after the login sends the stored credentials, and none after logout.
//! No traffic leaves 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// (request path, Authorization header) of every request the stand-in answered.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A registry stand-in.
struct FakeRegistry {
    port: u16,
    seen: Seen,
}

fn start(expected: &str) -> FakeRegistry {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(expected));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut auth = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("authorization") {
                        auth = Some(v.trim().to_string());
                    }
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let ok = auth.as_deref() == Some(expected.as_str());
            log.lock().unwrap().push((path.clone(), auth));
            let (status, extra, body) = match (ok, path.as_str()) {
                (false, _) => (
                    "401 Unauthorized",
                    "WWW-Authenticate: Basic realm=\"test\"\r\n",
                    "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
                ),
                (true, "/v2/") => ("200 OK", "", "{}"),
                (true, _) => ("404 Not Found", "", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}"),
            };
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    FakeRegistry { port, seen }
}

fn berth(root: &Path, cfg: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("DOCKER_CONFIG", cfg)
        .env_remove("BERTH_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn login_stores_docker_credentials_that_pull_uses_and_logout_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cfg) = (tmp.path().join("root"), tmp.path().join("docker"));
    std::fs::create_dir_all(&cfg).unwrap();
    let file = cfg.join("config.json");
    let other = base64::engine::general_purpose::STANDARD.encode("bob:x");
    std::fs::write(
        &file,
        format!(r#"{{"auths":{{"other.example:5000":{{"auth":"{other}"}}}},"psFormat":"table {{{{.ID}}}}"}}"#),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let reg = start("alice:s3cr:et");
    let server = format!("127.0.0.1:{}", reg.port);

    // A wrong password: refused by the registry, nothing stored.
    let before = std::fs::read(&file).unwrap();
    let o = berth(&root, &cfg, &["login", "-u", "alice", "--password-stdin", &server], "wrong\n");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&server) && text(&o).contains("unauthorized"), "{}", text(&o));
    assert_eq!(std::fs::read(&file).unwrap(), before, "a failed login changed the file");

    let o = berth(&root, &cfg, &["login", "-u", "alice", "--password-stdin", &server], "s3cr:et\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Login Succeeded"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let want = base64::engine::general_purpose::STANDARD.encode("alice:s3cr:et");
    assert_eq!(v["auths"][&server]["auth"], want.as_str(), "{v}");
    assert_eq!(v["auths"]["other.example:5000"]["auth"], other.as_str(), "other logins kept");
    assert_eq!(v["psFormat"], "table {{.ID}}", "other keys kept");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    // A pull sends them (the stand-in has no such image: a 404 after authenticating).
    reg.seen.lock().unwrap().clear();
    let o = berth(&root, &cfg, &["image", "pull", &format!("{server}/team/app:1")], "");
    assert!(!o.status.success() && text(&o).contains("not found"), "{}", text(&o));
    let seen = reg.seen.lock().unwrap().clone();
    let expected = format!("Basic {want}");
    assert!(
        seen.iter().any(|(p, a)| p.contains("/team/app/manifests/1") && a.as_deref() == Some(expected.as_str())),
        "{seen:?}"
    );

    let o = berth(&root, &cfg, &["logout", &server], "");
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Removing login credentials"),
        "{}",
        text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(v["auths"].get(&server).is_none() && v["auths"].get("other.example:5000").is_some(), "{v}");
    let o = berth(&root, &cfg, &["logout", &server], "");
    assert!(String::from_utf8_lossy(&o.stdout).contains("Not logged in"), "{}", text(&o));
    reg.seen.lock().unwrap().clear();
    let o = berth(&root, &cfg, &["image", "pull", &format!("{server}/team/app:1")], "");
    assert!(text(&o).contains("unauthorized"), "{}", text(&o));
    assert!(reg.seen.lock().unwrap().iter().all(|(_, a)| a.is_none()), "credentials sent after logout");

    // Usage errors name what is missing.
    let o = berth(&root, &cfg, &["login", &server], "");
    assert!(!o.status.success() && text(&o).contains("-u USER"), "{}", text(&o));
}
