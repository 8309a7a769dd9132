//! The embedded DNS server: every container on a project network resolves its peers' names
//! (service, container name, aliases, hostname) over DNS, not only through /etc/hosts — for
//! `nslookup`/`dig`-style tools, nginx's `resolver`, Node's `dns.resolve*`, SRV-less DNS-SD,
//! and programs that cache a lookup from before a peer existed.
//!
//! Where it listens: 127.0.0.11:53 inside each container's own network namespace, as Docker's
//! embedded DNS does (not on each bridge's gateway, as aardvark-dns does). Why:
//! - isolation is by socket, not by source address: a query arriving on container C's socket
//!   is answered from the networks C is on, and no packet a container forges can change that;
//! - no host firewall (an INPUT policy of DROP, a host's own dnsmasq on port 53 of every
//!   address) can break it, and nothing is opened on the host's interfaces;
//! - upstream queries leave from the host's namespace, where the host's own resolvers
//!   (systemd-resolved's 127.0.0.53) answer — a container could never reach those itself.
//!
//! One server per state root (`berth __dns`, a helper in berth's cgroup like the port proxy),
//! started by the first container that needs it and exiting after the last: see `ctl` (the
//! client side, called by the network layer on register/unregister) and `server`. Names come
//! from the same registrations as the hosts files, which stay as the fallback.
//!
//! Files: `table` (who sees which names), `answer` (the packet path: a query and a view in,
//! a reply out; property-tested), `forward` (upstreams, bounded), `server`, `ctl`.

mod answer;
mod ctl;
mod forward;
mod server;
mod table;

use std::net::Ipv4Addr;
use std::path::PathBuf;

pub use ctl::DnsCtl;
pub use forward::UPSTREAM_ENV;
pub use server::run;

use super::store::Store;

/// The address the server answers on inside each container's namespace (Docker's).
pub const LISTEN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// The server's files in the root's run dir: control socket, lock, pid, log, and the lock
/// clients take to start one (see `ctl`).
#[derive(Debug, Clone)]
pub struct Files {
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub lock: PathBuf,
    pub spawn_lock: PathBuf,
    pub pid: PathBuf,
    pub log: PathBuf,
}

impl Files {
    pub fn new(store: &Store) -> Self {
        let dir = store.dns_dir();
        Files {
            socket: dir.join("control.sock"),
            lock: dir.join("lock"),
            spawn_lock: dir.join("spawn.lock"),
            pid: dir.join("pid"),
            log: dir.join("log"),
            dir,
        }
    }
}
