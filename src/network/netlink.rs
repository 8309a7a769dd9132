//! The netlink seam: a small synchronous facade over `rtnetlink` (which is async), driven by a
//! current-thread tokio runtime owned by each [`Netlink`] session. A session talks to the
//! network namespace its socket was opened in, so sessions for a container's netns are opened
//! on a thread that has `setns`-ed into it (see `netns.rs`).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::RawFd;

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlag};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlag, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteProtocol};
use rtnetlink::{Handle, IpVersion};

use super::error::{NetworkError, Result};
use super::ipam::Ipv4Net;
use super::ipam6::Ipv6Net;

const EEXIST: i32 = libc::EEXIST;
const ENODEV: i32 = libc::ENODEV;

pub struct Netlink {
    rt: tokio::runtime::Runtime,
    handle: Handle,
}

/// The errno carried by a netlink NACK, if that is what `e` is.
fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => Some(m.raw_code().abs()),
        _ => None,
    }
}

fn nl(op: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetworkError {
    let op = op.into();
    move |source| NetworkError::Netlink { op, source: Box::new(source) }
}

impl Netlink {
    /// Opens a session in the calling thread's network namespace. Must not be called from
    /// inside a tokio runtime (see [`outside_tokio`]).
    pub fn connect() -> Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| NetworkError::sys("tokio runtime for netlink", e))?;
        let (conn, handle, _) = {
            let _guard = rt.enter();
            rtnetlink::new_connection().map_err(|e| NetworkError::sys("netlink socket", e))?
        };
        rt.spawn(conn);
        Ok(Netlink { rt, handle })
    }

    fn block<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The index of link `name` in the calling thread's network namespace, or None when there
    /// is no such link. if_nametoindex(3) (one SIOCGIFINDEX ioctl) rather than an RTM_GETLINK:
    /// the kernel fills, and netlink-packet-route parses, every attribute of the link for a
    /// GETLINK, which showed in `up` profiles; an index is all that is needed here.
    pub fn link_index(&self, name: &str) -> Result<Option<u32>> {
        link_index(name)
    }

    /// Creates bridge `name` (or finds it) and returns its index.
    pub fn ensure_bridge(&self, name: &str) -> Result<u32> {
        if let Some(i) = self.link_index(name)? {
            return Ok(i);
        }
        match self.block(self.handle.link().add().bridge(name.to_string()).execute()) {
            Ok(()) => {}
            Err(e) if errno(&e) == Some(EEXIST) => {}
            Err(e) => return Err(nl(format!("create bridge {name}"))(e)),
        }
        self.link_index(name)?.ok_or_else(|| NetworkError::NotFound(name.to_string()))
    }

    pub fn set_up(&self, index: u32) -> Result<()> {
        self.block(self.handle.link().set(index).up().execute()).map_err(nl(format!("set link {index} up")))
    }

    /// Adds `ip/prefix` to link `index`; an address already there is fine.
    pub fn add_address(&self, index: u32, ip: Ipv4Addr, prefix: u8) -> Result<()> {
        match self.block(self.handle.address().add(index, IpAddr::V4(ip), prefix).execute()) {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(EEXIST) => Ok(()),
            Err(e) => Err(nl(format!("add address {ip}/{prefix} to link {index}"))(e)),
        }
    }

    /// Adds `ip/prefix` to link `index` without duplicate address detection (the address is
    /// usable at once, not "tentative" for a second or two: berth allocated it, no one else
    /// on the bridge has it); an address already there is fine. IPv6 must be enabled on the
    /// link (see [`enable_ipv6`]).
    pub fn add_address6(&self, index: u32, ip: Ipv6Addr, prefix: u8) -> Result<()> {
        let mut req = self.handle.address().add(index, IpAddr::V6(ip), prefix);
        req.message_mut().header.flags.push(AddressHeaderFlag::Nodad);
        match self.block(req.execute()) {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(EEXIST) => Ok(()),
            Err(e) => Err(nl(format!("add address {ip}/{prefix} to link {index}"))(e)),
        }
    }

    /// Adds an IPv6 default route via `gateway` out of link `index`.
    pub fn add_default_route6(&self, index: u32, gateway: Ipv6Addr) -> Result<()> {
        let req = self.handle.route().add().v6().gateway(gateway).output_interface(index);
        match self.block(req.execute()) {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(EEXIST) => Ok(()),
            Err(e) => Err(nl(format!("add default route via {gateway}"))(e)),
        }
    }

    /// Every IPv6 network the host already uses (addresses and routes), link-local and
    /// multicast ones and default routes left out: IPAM never hands these out.
    pub fn host_networks6(&self) -> Result<Vec<Ipv6Net>> {
        let addrs: Vec<_> =
            self.block(self.handle.address().get().execute().try_collect()).map_err(nl("list addresses"))?;
        let mut out = Vec::new();
        for a in &addrs {
            for attr in &a.attributes {
                if let AddressAttribute::Address(IpAddr::V6(ip)) = attr {
                    if routable6(ip) {
                        out.push(Ipv6Net::new(*ip, a.header.prefix_len)?);
                    }
                }
            }
        }
        let routes: Vec<_> =
            self.block(self.handle.route().get(IpVersion::V6).execute().try_collect()).map_err(nl("list routes"))?;
        for r in &routes {
            let prefix = r.header.destination_prefix_length;
            for attr in &r.attributes {
                if let (RouteAttribute::Destination(RouteAddress::Inet6(ip)), true) = (attr, prefix > 0) {
                    if routable6(ip) {
                        out.push(Ipv6Net::new(*ip, prefix)?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether any IPv6 route of this namespace was learned from a router advertisement.
    pub fn has_ra_routes(&self) -> Result<bool> {
        let routes: Vec<_> =
            self.block(self.handle.route().get(IpVersion::V6).execute().try_collect()).map_err(nl("list routes"))?;
        Ok(routes.iter().any(|r| r.header.protocol == RouteProtocol::Ra))
    }

    /// Deletes link `index`; a link already gone is fine.
    pub fn delete_link(&self, index: u32) -> Result<()> {
        let mut links = self.handle.link();
        match self.block(links.del(index).execute()) {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(ENODEV) => Ok(()),
            Err(e) => Err(nl(format!("delete link {index}"))(e)),
        }
    }

    /// Every IPv4 network the host already uses: its addresses' subnets and its routes
    /// (except default routes, which overlap everything). IPAM never hands these out.
    pub fn host_networks(&self) -> Result<Vec<Ipv4Net>> {
        let addrs: Vec<_> =
            self.block(self.handle.address().get().execute().try_collect()).map_err(nl("list addresses"))?;
        let mut out = Vec::new();
        for a in &addrs {
            for attr in &a.attributes {
                if let AddressAttribute::Address(IpAddr::V4(ip)) = attr {
                    out.push(Ipv4Net::new(*ip, a.header.prefix_len)?);
                }
            }
        }
        let routes: Vec<_> =
            self.block(self.handle.route().get(IpVersion::V4).execute().try_collect()).map_err(nl("list routes"))?;
        for r in &routes {
            let prefix = r.header.destination_prefix_length;
            for attr in &r.attributes {
                if let (RouteAttribute::Destination(RouteAddress::Inet(ip)), true) = (attr, prefix > 0) {
                    out.push(Ipv4Net::new(*ip, prefix)?);
                }
            }
        }
        Ok(out)
    }

    /// Creates a veth pair: `host` (up, enslaved to `master`) here, and its peer created
    /// directly inside the namespace `peer_ns` as `peer_name` with MAC `mac`, so it never
    /// appears in the host namespace and needs no move or rename.
    pub fn create_veth(&self, host: &str, master: u32, peer_name: &str, peer_ns: RawFd, mac: [u8; 6]) -> Result<()> {
        let mut peer = LinkMessage::default();
        peer.attributes.push(LinkAttribute::IfName(peer_name.to_string()));
        peer.attributes.push(LinkAttribute::NetNsFd(peer_ns));
        peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
        let mut req = self.handle.link().add();
        let msg = req.message_mut();
        msg.header.flags.push(LinkFlag::Up);
        msg.header.change_mask.push(LinkFlag::Up);
        msg.attributes.push(LinkAttribute::IfName(host.to_string()));
        msg.attributes.push(LinkAttribute::Controller(master));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.block(req.execute()).map_err(nl(format!("create veth {host}")))
    }

    /// Adds a default route via `gateway` out of link `index`.
    pub fn add_default_route(&self, index: u32, gateway: Ipv4Addr) -> Result<()> {
        let req = self.handle.route().add().v4().gateway(gateway).output_interface(index);
        match self.block(req.execute()) {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(EEXIST) => Ok(()),
            Err(e) => Err(nl(format!("add default route via {gateway}"))(e)),
        }
    }
}

/// Neither link-local (fe80::/10), multicast, loopback nor unspecified.
fn routable6(ip: &Ipv6Addr) -> bool {
    !(ip.is_multicast() || ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xffc0) == 0xfe80)
}

/// Whether this host's IPv6 routes came from router advertisements (see
/// `firewall::enable_forwarding`); false when they cannot be read.
pub fn has_ra_routes() -> Result<bool> {
    outside_tokio(|| Netlink::connect()?.has_ra_routes())
}

/// Turns IPv6 on for link `ifname` in the calling thread's network namespace (a namespace's
/// new links follow its `default` setting, which a host may have switched off). An error
/// naming the cause when the kernel has no IPv6 at all (`ipv6.disable=1`).
pub fn enable_ipv6(ifname: &str) -> Result<()> {
    let dir = std::path::Path::new("/proc/sys/net/ipv6/conf").join(ifname);
    if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        return Err(NetworkError::invalid(
            "enable_ipv6",
            ifname,
            "this kernel has IPv6 disabled (booted with ipv6.disable=1?)",
        ));
    }
    let path = dir.join("disable_ipv6");
    match std::fs::read_to_string(&path) {
        Ok(v) if v.trim() == "0" => Ok(()),
        _ => std::fs::write(&path, "0").map_err(|e| NetworkError::io(&path, e)),
    }
}

/// See [`Netlink::link_index`]; needs no netlink session.
pub fn link_index(name: &str) -> Result<Option<u32>> {
    let Ok(c) = std::ffi::CString::new(name) else { return Ok(None) };
    if name.len() >= libc::IFNAMSIZ {
        return Ok(None);
    }
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index != 0 {
        return Ok(Some(index));
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENXIO) => Ok(None),
        _ => Err(NetworkError::sys(format!("look up link {name}"), err)),
    }
}

/// Runs `f` where a current-thread runtime may be built: on this thread normally, on a
/// scoped helper thread when called from inside a tokio runtime (the reconciler is async and
/// `block_on` panics inside a runtime).
pub fn outside_tokio<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    })
}
