//! Queries for names that are not the project's go to the host's resolvers (or the service's
//! `dns:` servers), from the server's own network namespace: the host's, so a resolver on the
//! host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) works, which a container
//! asking it directly could never reach.
//!
//! Bounded: at most [`MAX_IN_FLIGHT`] forwarded queries at once for the whole server (beyond
//! that a query gets SERVFAIL at once; nothing queues), each upstream gets [`UPSTREAM_TIMEOUT`],
//! and at most three upstreams are tried, as glibc does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

use super::answer::answers_query;
use super::table::parse_server;

/// Forwarded queries in flight at once, across every container.
pub const MAX_IN_FLIGHT: usize = 256;
/// How long one upstream may take to answer.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// Upstreams tried per query (resolv.conf's MAXNS).
const MAX_SERVERS: usize = 3;
/// Replaces the host's resolv.conf nameservers: `ADDR[:PORT][,…]`. For tests, which must
/// never query the machine's real resolver (they give the server a responder on 127.0.0.1).
pub const UPSTREAM_ENV: &str = "BERTH_DNS_UPSTREAM";
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// The host's nameservers, read from resolv.conf again whenever the file changes.
pub struct HostUpstreams {
    fixed: Option<Vec<SocketAddr>>,
    path: PathBuf,
    cached: Mutex<(Option<SystemTime>, Vec<SocketAddr>)>,
}

impl HostUpstreams {
    pub fn from_env() -> Self {
        let fixed = std::env::var(UPSTREAM_ENV).ok().map(|v| v.split(',').filter_map(parse_server).collect());
        HostUpstreams { fixed, path: PathBuf::from(HOST_RESOLV_CONF), cached: Mutex::new((None, Vec::new())) }
    }

    pub fn get(&self) -> Vec<SocketAddr> {
        if let Some(f) = &self.fixed {
            return f.clone();
        }
        let mtime = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if cached.0 != mtime || mtime.is_none() {
            let text = std::fs::read_to_string(&self.path).unwrap_or_default();
            *cached = (mtime, nameservers(&text));
        }
        cached.1.clone()
    }
}

/// The `nameserver` lines of a resolv.conf, loopback ones included (the server runs in the
/// host's namespace, where they answer).
pub fn nameservers(resolv: &str) -> Vec<SocketAddr> {
    resolv
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next().and_then(parse_server)).flatten()
        })
        .collect()
}

/// Send `query` over UDP to each server in turn until one answers it.
pub async fn udp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in servers.iter().take(MAX_SERVERS) {
        let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let Ok(sock) = UdpSocket::bind(bind).await else { continue };
        if sock.connect(server).await.is_err() || sock.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 65535];
        let got = timeout(UPSTREAM_TIMEOUT, async {
            // A connected socket only gets the server's datagrams; skip any that do not answer
            // this query (a late reply to another one).
            loop {
                match sock.recv(&mut buf).await {
                    Ok(n) if answers_query(query, &buf[..n]) => return Some(n),
                    Ok(_) => continue,
                    Err(_) => return None,
                }
            }
        })
        .await;
        if let Ok(Some(n)) = got {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

/// Send `query` over TCP (two-byte length prefix) to each server in turn until one answers.
pub async fn tcp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    let len = u16::try_from(query.len()).ok()?;
    for server in servers.iter().take(MAX_SERVERS) {
        let exchange = async {
            let mut s = TcpStream::connect(server).await.ok()?;
            let mut framed = len.to_be_bytes().to_vec();
            framed.extend_from_slice(query);
            s.write_all(&framed).await.ok()?;
            let n = s.read_u16().await.ok()?;
            let mut buf = vec![0u8; usize::from(n)];
            s.read_exact(&mut buf).await.ok()?;
            answers_query(query, &buf).then_some(buf)
        };
        if let Ok(Some(reply)) = timeout(UPSTREAM_TIMEOUT * 2, exchange).await {
            return Some(reply);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_keep_loopback() {
        let text = "# x\nnameserver 127.0.0.53\nsearch corp\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\n";
        let want: Vec<SocketAddr> = vec!["127.0.0.53:53".parse().unwrap(), "10.0.0.1:53".parse().unwrap()];
        assert_eq!(nameservers(text), want);
    }
}
