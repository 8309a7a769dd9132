//! The token dance against a fake registry on 127.0.0.1 (a thread answering canned HTTP):
//! 401 with a Bearer challenge → token fetched from the realm with our scope → retried with it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::client::{Client, Request};
use super::endpoint::Endpoint;
use super::error::RegistryError;
use crate::image::reference::Reference;

/// Serve `n` requests (one per connection); `token_ok` decides the token server's answer.
/// Returns the port and the request lines (with their Authorization) seen.
fn fake_registry(n: usize, token_ok: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization:") {
                    auth = h.trim().to_string();
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(format!("{path} {auth}"));
            let (status, extra, body) = if path.starts_with("/token") {
                if token_ok {
                    ("200 OK", String::new(), r#"{"token":"tok123"}"#.to_string())
                } else {
                    ("401 Unauthorized", String::new(), r#"{"details":"nope"}"#.to_string())
                }
            } else if auth.ends_with("Bearer tok123") {
                ("200 OK", String::new(), "{}".to_string())
            } else {
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\",scope=\"repository:test/app:pull\"\r\n"
                );
                (
                    "401 Unauthorized",
                    challenge,
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.to_string(),
                )
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(resp.as_bytes()).unwrap();
        }
    });
    (port, seen)
}

fn client(port: u16) -> Client {
    Client::new(Endpoint::new(&Reference::parse(&format!("127.0.0.1:{port}/test/app:1")).unwrap()), false)
}

#[test]
fn bearer_challenge_fetches_a_token_and_retries() {
    let (port, seen) = fake_registry(3, true);
    let c = client(port);
    let resp = c.send(&Request::new("GET", c.ep.manifest_url("1"))).unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[1].starts_with("/token?") && seen[1].contains("service=fake"), "{seen:?}");
    assert!(seen[1].contains("scope=repository%3Atest%2Fapp%3Apull"), "{seen:?}");
    assert!(seen[2].ends_with("Bearer tok123"), "{seen:?}");
}

#[test]
fn refused_token_is_an_unauthorized_error_naming_the_registry() {
    let (port, _) = fake_registry(2, false);
    let c = client(port);
    let err = c.send(&Request::new("GET", c.ep.manifest_url("1"))).unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("registry 127.0.0.1:{port}")) && text.contains("unauthorized"), "{text}");
}

/// Answer one request with a 200 whose body is `len` bytes; with `state_length` the headers
/// say so, else the body just runs until the connection closes (an "endless" reply).
fn oversized_reply(len: usize, state_length: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Some(Ok(mut stream)) = listener.incoming().next() else { return };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let length = if state_length { format!("Content-Length: {len}\r\n") } else { String::new() };
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n");
        // The client hangs up once it has had enough: write errors are expected.
        let _ = stream.write_all(head.as_bytes());
        let chunk = vec![b' '; 64 << 10];
        let mut sent = 0;
        while sent < len && stream.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
    });
    port
}

#[test]
fn oversized_documents_are_refused() {
    use crate::image::limits::MAX_MANIFEST;
    for state_length in [false, true] {
        let port = oversized_reply(5 << 20, state_length);
        let c = client(port);
        let req = Request::new("GET", c.ep.manifest_url("1"));
        let mut resp = c.send(&req).unwrap();
        let err = c.read_document(&mut resp, "manifest", MAX_MANIFEST, "image manifest").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, RegistryError::Invalid { .. }), "{err:?}");
        assert!(
            text.contains("invalid manifest") && text.contains("larger than 4 MiB (image manifests are limited"),
            "{text}"
        );
    }
}
