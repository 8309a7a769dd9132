//! `berth __dns`: the server process. One per state root, started by the first container that
//! uses it (see `ctl`), gone after the last one. A current-thread tokio runtime holds, for
//! every such container, a UDP socket and a TCP listener bound to 127.0.0.11:53 inside that
//! container's network namespace (bound from a short-lived thread that entered it), and one
//! control socket (a Unix socket in the run dir, root only) on which `sync` makes it re-read
//! the network store and answer `ok` once its sockets and names match it.
//!
//! Bounds: a UDP query is at most 4 KiB (larger ones are cut and get FORMERR); per container
//! at most [`MAX_TCP_PER_CONTAINER`] TCP connections, each idle at most [`TCP_IDLE`] and closed
//! after [`TCP_QUERIES`] queries; messages are length-prefixed, so 64 KiB at most; forwarding
//! is bounded as `forward` says. A control client gets [`CONTROL_TIMEOUT`] to speak.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket, UnixListener};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::answer::{self, Outcome};
use super::forward::{self, HostUpstreams, MAX_IN_FLIGHT};
use super::table::{self, Table, View};
use super::{Files, LISTEN};
use crate::network::netns;
use crate::network::store::Store;
use crate::paths::Roots;

pub const MAX_TCP_PER_CONTAINER: usize = 16;
pub const TCP_IDLE: Duration = Duration::from_secs(10);
pub const TCP_QUERIES: usize = 100;
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
const UDP_MAX: usize = 4096;

struct Shared {
    table: RwLock<Arc<Table>>,
    host: HostUpstreams,
    in_flight: Arc<Semaphore>,
    seed: AtomicU64,
}

impl Shared {
    fn view(&self, id: &str) -> Option<View> {
        self.table.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    fn upstreams(&self, view: &View) -> Vec<SocketAddr> {
        if view.upstreams.is_empty() {
            self.host.get()
        } else {
            view.upstreams.clone()
        }
    }

    /// A fresh shuffle seed per answer (splitmix64 over a counter).
    fn seed(&self) -> u64 {
        let mut z = self.seed.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What is served for one container: its namespace (by inode, so a recreated one is seen) and
/// the tasks owning its sockets (aborting them closes the sockets, releasing the namespace).
struct Served {
    ino: u64,
    tasks: Vec<JoinHandle<()>>,
}

/// Entry point of `berth __dns`. Returns at once when another server holds the root's lock.
pub fn run(roots: &Roots) -> io::Result<()> {
    let store = Store::new(roots);
    let files = Files::new(&store);
    fs::create_dir_all(&files.dir)?;
    let lock = File::create(&files.lock)?;
    let Ok(_lock) = Flock::lock(lock, FlockArg::LockExclusiveNonblock) else { return Ok(()) };
    let _ = fs::remove_file(&files.socket);
    let listener = std::os::unix::net::UnixListener::bind(&files.socket)?;
    fs::write(&files.pid, std::process::id().to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(serve(&store, listener));
    let _ = fs::remove_file(&files.socket);
    let _ = fs::remove_file(&files.pid);
    drop(rt);
    result
}

async fn serve(store: &Store, listener: std::os::unix::net::UnixListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = UnixListener::from_std(listener)?;
    let mut seed = [0u8; 8];
    let _ = getrandom::getrandom(&mut seed);
    let shared = Arc::new(Shared {
        table: RwLock::new(Arc::new(Table::new())),
        host: HostUpstreams::from_env(),
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        seed: AtomicU64::new(u64::from_ne_bytes(seed)),
    });
    let mut served: HashMap<String, Served> = HashMap::new();
    let mut term = signal(SignalKind::terminate())?;
    loop {
        let conn = tokio::select! {
            _ = term.recv() => break,
            c = listener.accept() => c,
        };
        let Ok((conn, _)) = conn else { continue };
        if !control(conn, store, &shared, &mut served).await {
            continue;
        }
        // Nothing left to serve: answer every client already waiting (each one re-reads the
        // store: one may have registered a container), then go — a client would otherwise
        // find its connection closed unanswered and have to start the next server itself.
        while served.is_empty() {
            match timeout(Duration::ZERO, listener.accept()).await {
                Ok(Ok((conn, _))) => {
                    control(conn, store, &shared, &mut served).await;
                }
                _ => break,
            }
        }
        if served.is_empty() {
            break;
        }
    }
    for (_, s) in served.drain() {
        stop(s).await;
    }
    Ok(())
}

/// One control connection: a `sync` line in, the store re-read, the answer out (`ok`, `bye PID`
/// when nothing is left to serve, or `error …`). False when it was not a `sync` (nothing done).
async fn control(
    conn: tokio::net::UnixStream,
    store: &Store,
    shared: &Arc<Shared>,
    served: &mut HashMap<String, Served>,
) -> bool {
    let (read, mut write) = conn.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(64));
    if !matches!(timeout(CONTROL_TIMEOUT, reader.read_line(&mut line)).await, Ok(Ok(_))) || line.trim() != "sync" {
        return false;
    }
    let errors = reload(store, shared, served).await;
    let reply = match (served.is_empty(), errors.is_empty()) {
        (true, _) => format!("bye {}\n", std::process::id()),
        (false, true) => "ok\n".to_string(),
        (false, false) => format!("error {}\n", errors.join("; ")),
    };
    let _ = timeout(CONTROL_TIMEOUT, write.write_all(reply.as_bytes())).await;
    true
}

/// Re-read the store: new names for everyone, sockets for new containers, none for gone ones.
async fn reload(store: &Store, shared: &Arc<Shared>, served: &mut HashMap<String, Served>) -> Vec<String> {
    let (sandboxes, networks) = match (store.sandboxes(), store.networks()) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) | (_, Err(e)) => return vec![format!("reading the network store: {e}")],
    };
    let table = table::build(&sandboxes, &networks);
    let mut errors = Vec::new();
    let wanted: HashMap<&String, Option<u64>> =
        table.keys().map(|id| (id, fs::metadata(store.netns_path(id)).ok().map(|m| m.ino()))).collect();
    let gone: Vec<String> = served
        .iter()
        .filter(|(id, s)| wanted.get(id).copied().flatten() != Some(s.ino))
        .map(|(id, _)| id.clone())
        .collect();
    for id in gone {
        if let Some(s) = served.remove(&id) {
            stop(s).await;
        }
    }
    *shared.table.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(table.clone());
    for (id, ino) in wanted {
        // No namespace file: the container is being torn down; nothing to serve.
        let Some(ino) = ino else { continue };
        if served.contains_key(id) {
            continue;
        }
        match open_sockets(&store.netns_path(id)) {
            Ok((udp, tcp)) => {
                let udp = Arc::new(udp);
                let tasks = vec![
                    tokio::spawn(udp_loop(id.clone(), udp, shared.clone())),
                    tokio::spawn(tcp_loop(id.clone(), tcp, shared.clone())),
                ];
                served.insert(id.clone(), Served { ino, tasks });
            }
            Err(e) => errors.push(format!("{id}: {e}")),
        }
    }
    errors
}

async fn stop(s: Served) {
    for t in &s.tasks {
        t.abort();
    }
    for t in s.tasks {
        let _ = t.await;
    }
}

/// Bind 127.0.0.11:53 (UDP and TCP) inside the namespace at `netns_path`.
fn open_sockets(netns_path: &Path) -> io::Result<(UdpSocket, TcpListener)> {
    let (udp, tcp) = netns::run_in(netns_path, || {
        let addr = SocketAddr::from((LISTEN, 53));
        let io = |e: io::Error| crate::network::NetworkError::sys(format!("bind {addr}"), e);
        let udp = std::net::UdpSocket::bind(addr).map_err(io)?;
        let tcp = std::net::TcpListener::bind(addr).map_err(io)?;
        udp.set_nonblocking(true).map_err(io)?;
        tcp.set_nonblocking(true).map_err(io)?;
        Ok((udp, tcp))
    })
    .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((UdpSocket::from_std(udp)?, TcpListener::from_std(tcp)?))
}

async fn udp_loop(id: String, sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; UDP_MAX];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else { continue };
        let Some(view) = shared.view(&id) else { continue };
        let query = &buf[..n];
        match answer::answer(query, &view, true, shared.seed()) {
            Outcome::Reply(r) => {
                let _ = sock.send_to(&r, peer).await;
            }
            Outcome::Forward => {
                let Ok(permit) = shared.in_flight.clone().try_acquire_owned() else {
                    send_servfail(&sock, query, peer).await;
                    continue;
                };
                let (q, sock, servers) = (query.to_vec(), sock.clone(), shared.upstreams(&view));
                tokio::spawn(async move {
                    match forward::udp(&q, &servers).await {
                        Some(r) => {
                            let _ = sock.send_to(&r, peer).await;
                        }
                        None => send_servfail(&sock, &q, peer).await,
                    }
                    drop(permit);
                });
            }
            Outcome::Drop => {}
        }
    }
}

async fn send_servfail(sock: &UdpSocket, query: &[u8], peer: SocketAddr) {
    if let Outcome::Reply(r) = answer::servfail(query) {
        let _ = sock.send_to(&r, peer).await;
    }
}

async fn tcp_loop(id: String, listener: TcpListener, shared: Arc<Shared>) {
    let conns = Arc::new(Semaphore::new(MAX_TCP_PER_CONTAINER));
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // Over the limit: the connection is closed at once (the client retries or fails;
        // the server's memory does not grow with the number of clients).
        let Ok(permit) = conns.clone().try_acquire_owned() else { continue };
        let (id, shared) = (id.clone(), shared.clone());
        tokio::spawn(async move {
            tcp_conn(&id, stream, &shared).await;
            drop(permit);
        });
    }
}

async fn tcp_conn(id: &str, mut s: TcpStream, shared: &Shared) {
    for _ in 0..TCP_QUERIES {
        let Ok(Ok(len)) = timeout(TCP_IDLE, s.read_u16()).await else { return };
        let mut query = vec![0u8; usize::from(len)];
        if !matches!(timeout(TCP_IDLE, s.read_exact(&mut query)).await, Ok(Ok(_))) {
            return;
        }
        let Some(view) = shared.view(id) else { return };
        let reply = match answer::answer(&query, &view, false, shared.seed()) {
            Outcome::Reply(r) => r,
            Outcome::Forward => {
                let forwarded = match shared.in_flight.clone().try_acquire_owned() {
                    Ok(_permit) => forward::tcp(&query, &shared.upstreams(&view)).await,
                    Err(_) => None,
                };
                match forwarded.map(Outcome::Reply).unwrap_or_else(|| answer::servfail(&query)) {
                    Outcome::Reply(r) => r,
                    _ => return,
                }
            }
            Outcome::Drop => return,
        };
        let Ok(n) = u16::try_from(reply.len()) else { return };
        let mut framed = n.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if !matches!(timeout(TCP_IDLE, s.write_all(&framed)).await, Ok(Ok(()))) {
            return;
        }
    }
}
