//! The userland port proxy: one long-lived `berth __proxy CONFIG` process per project (not one
//! per port), a current-thread tokio runtime forwarding TCP connections and UDP datagrams from
//! host addresses to container addresses. Its configuration is a JSON file in the state dir;
//! SIGHUP makes it reload and reconcile its listeners, after which it writes a status file
//! naming the generation it applied and any binding that failed. It exits on SIGTERM or when
//! its configuration lists no ports.
//!
//! Why a proxy and not nftables DNAT: it reaches 127.0.0.1 without route_localnet, needs no
//! `nft` binary (not installed here), works the same in every firewall setup, and a container
//! reaching its own published port works without hairpin NAT.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use super::ports::Proto;
use super::store::{read_json, write_json};

/// UDP "connections" idle this long are forgotten.
const UDP_IDLE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyConfig {
    pub generation: u64,
    pub entries: Vec<ProxyEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProxyEntry {
    pub container: String,
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub proto: Proto,
    pub backend: SocketAddr,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyStatus {
    pub generation: u64,
    pub pid: u32,
    /// `host_ip:port/proto: error` for each binding that failed.
    pub errors: Vec<String>,
}

pub fn status_path(config: &Path) -> PathBuf {
    config.with_extension("status")
}

/// Entry point of `berth __proxy CONFIG` (the caller has moved the process out of its
/// starter's cgroup first: see cli/network.rs).
pub fn run(config: &Path) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(serve(config));
    drop(rt);
    result
}

async fn serve(config: &Path) -> std::io::Result<()> {
    // Handlers first: a SIGHUP sent before they exist would kill the process.
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut running: HashMap<ProxyEntry, JoinHandle<()>> = HashMap::new();
    loop {
        let cfg: ProxyConfig = read_json(config).ok().flatten().unwrap_or_default();
        let errors = reconcile(&mut running, &cfg.entries).await;
        let status = ProxyStatus { generation: cfg.generation, pid: std::process::id(), errors };
        if let Err(e) = write_json(&status_path(config), &status) {
            tracing::warn!(error = %e, "writing proxy status");
        }
        if cfg.entries.is_empty() {
            return Ok(());
        }
        tokio::select! {
            _ = hup.recv() => continue,
            _ = term.recv() => return Ok(()),
        }
    }
}

/// Stops listeners no longer wanted, then starts the new ones (retrying briefly, since an
/// aborted listener frees its port only once its task is dropped).
async fn reconcile(running: &mut HashMap<ProxyEntry, JoinHandle<()>>, want: &[ProxyEntry]) -> Vec<String> {
    running.retain(|e, task| {
        let keep = want.contains(e);
        if !keep {
            task.abort();
        }
        keep
    });
    tokio::task::yield_now().await;
    let mut errors = Vec::new();
    for e in want {
        if running.contains_key(e) {
            continue;
        }
        match start(e).await {
            Ok(task) => {
                running.insert(e.clone(), task);
            }
            Err(err) => errors.push(format!("{}:{}/{}: {err}", e.host_ip, e.host_port, e.proto.as_str())),
        }
    }
    errors
}

async fn start(e: &ProxyEntry) -> std::io::Result<JoinHandle<()>> {
    let addr = SocketAddr::new(e.host_ip, e.host_port);
    let mut last = None;
    for _ in 0..20 {
        let res = match e.proto {
            Proto::Tcp => super::ports::bind_tcp(addr)
                .and_then(|l| l.set_nonblocking(true).map(|_| l))
                .and_then(TcpListener::from_std)
                .map(|l| tokio::spawn(tcp_loop(l, e.backend))),
            Proto::Udp => super::ports::bind_udp(addr)
                .and_then(|s| s.set_nonblocking(true).map(|_| s))
                .and_then(UdpSocket::from_std)
                .map(|s| tokio::spawn(udp_loop(Arc::new(s), e.backend))),
        };
        match res {
            Ok(task) => return Ok(task),
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                last = Some(err);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("bind failed")))
}

async fn tcp_loop(listener: TcpListener, backend: SocketAddr) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else { continue };
        tokio::spawn(async move {
            if let Ok(mut up) = TcpStream::connect(backend).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
            }
        });
    }
}

/// One connected upstream socket per client address; replies go back through the listener.
async fn udp_loop(listener: Arc<UdpSocket>, backend: SocketAddr) {
    let mut flows = Flows::default();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, client)) = listener.recv_from(&mut buf).await else { continue };
        let flows = &mut flows.0;
        flows.retain(|_, (_, task)| !task.is_finished());
        let up = match flows.entry(client) {
            std::collections::hash_map::Entry::Occupied(e) => e.get().0.clone(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let Some(up) = upstream(backend).await else { continue };
                let task = tokio::spawn(udp_replies(up.clone(), listener.clone(), client));
                slot.insert((up.clone(), task)).0.clone()
            }
        };
        let _ = up.send(&buf[..n]).await;
    }
}

/// A socket connected to `backend`, for one client's datagrams.
async fn upstream(backend: SocketAddr) -> Option<Arc<UdpSocket>> {
    let up = UdpSocket::bind(SocketAddr::new(unspecified(backend.ip()), 0)).await.ok()?;
    up.connect(backend).await.ok()?;
    Some(Arc::new(up))
}

/// The UDP flows of one listener; dropping them (when the listener's task is aborted) stops
/// their reply tasks, which hold the listening socket and would otherwise keep the port bound.
#[derive(Default)]
struct Flows(HashMap<SocketAddr, (Arc<UdpSocket>, JoinHandle<()>)>);

impl Drop for Flows {
    fn drop(&mut self) {
        for (_, task) in self.0.values() {
            task.abort();
        }
    }
}

async fn udp_replies(up: Arc<UdpSocket>, listener: Arc<UdpSocket>, client: SocketAddr) {
    let mut buf = vec![0u8; 65536];
    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, up.recv(&mut buf)).await {
        let _ = listener.send_to(&buf[..n], client).await;
    }
}

fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}
