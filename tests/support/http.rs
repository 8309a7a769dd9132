//! HTTP/1.0 GETs from the host to 127.0.0.1 (tests send traffic nowhere else).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// GET `path` on 127.0.0.1:`port`: the whole response (status line, headers, body), or None
/// when nothing accepts or answers.
pub fn get_any(port: u16, path: &str) -> Option<String> {
    get_any_at(([127, 0, 0, 1], port).into(), path)
}

/// [`get_any`] on a loopback address of either family (`[::1]:port` too).
pub fn get_any_at(addr: SocketAddr, path: &str) -> Option<String> {
    assert!(addr.ip().is_loopback(), "tests send traffic to loopback only, not {addr}");
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(c, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    c.read_to_string(&mut text).ok()?;
    Some(text)
}

/// [`get_any`] when the status is 200: the whole response.
pub fn get(port: u16, path: &str) -> Option<String> {
    get_any(port, path).filter(|t| t.lines().next().is_some_and(|l| l.contains(" 200 ")))
}

/// The body of a 200 response to GET `path`.
pub fn body(port: u16, path: &str) -> Option<String> {
    get(port, path).map(|t| t.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// PUT `body` with `content_type` to `path` on 127.0.0.1:`port` (HTTP/1.0): the status code.
#[allow(dead_code)]
pub fn put(port: u16, path: &str, content_type: &str, body: &[u8]) -> Option<u16> {
    let mut c = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        c,
        "PUT {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .ok()?;
    c.write_all(body).ok()?;
    let mut text = String::new();
    c.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}
