//! Published ports: Compose's forms (host ip, host port or range, container port, tcp/udp)
//! resolved to concrete host bindings, and the "is this host port free" check made before
//! anything is created.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use serde::{Deserialize, Serialize};

use super::error::{NetworkError, Result};
use crate::common::port::{PortRequest, Protocol};

/// A port as the user asked for it: host side possibly a range or absent (ephemeral).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub host_ip: IpAddr,
    /// Inclusive host port range; None = any free (ephemeral) port.
    pub host_ports: Option<(u16, u16)>,
    pub target: u16,
    pub proto: Proto,
    /// No host ip given, on a host with IPv6: bound on `[::]` too (IPv6-only), with the same
    /// port, as Docker publishes `8080:80` on `0.0.0.0:8080` and `[::]:8080`.
    pub also6: bool,
}

impl Wanted {
    /// The `[::]` side of a dual-stack port.
    pub fn v6_side(&self) -> Wanted {
        Wanted { host_ip: IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), also6: false, ..self.clone() }
    }

    /// Whether `port` is free on every address this port binds.
    pub fn bindable(&self, port: u16) -> bool {
        try_bind(self.host_ip, port, self.proto).is_some()
            && (!self.also6 || try_bind(self.v6_side().host_ip, port, self.proto).is_some())
    }
}

/// Whether this host can bind IPv6 sockets (a kernel without IPv6, or with it disabled, cannot).
fn ipv6_bindable() -> bool {
    static CAN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CAN.get_or_init(|| bind_tcp(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0))).is_ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Resolves one Compose port entry. Default host ip: every address (0.0.0.0), which covers
/// 127.0.0.1 and the host's own addresses, as Docker does.
pub fn wanted(port: &PortRequest) -> Result<Wanted> {
    let proto = match port.protocol {
        Protocol::Tcp => Proto::Tcp,
        Protocol::Udp => Proto::Udp,
        Protocol::Sctp => return Err(NetworkError::invalid("port protocol", "sctp", "only tcp and udp are supported")),
    };
    let given = port.host_ip.as_deref().is_some_and(|s| !s.is_empty());
    let host_ip = match port.host_ip.as_deref().filter(|s| !s.is_empty()) {
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(s) => s
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| NetworkError::invalid("host ip", s, "not an IP address"))?,
    };
    let host_ports = match port.published.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(parse_range(s)?),
    };
    Ok(Wanted { host_ip, host_ports, target: port.target, proto, also6: !given && ipv6_bindable() })
}

fn parse_range(s: &str) -> Result<(u16, u16)> {
    let bad = || NetworkError::invalid("published port", s, "expected PORT or START-END");
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b): (u16, u16) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// Whether `port` can be bound on `ip` right now (port 0 asks the kernel for any port, and
/// the answer is returned).
pub fn try_bind(ip: IpAddr, port: u16, proto: Proto) -> Option<u16> {
    let addr = SocketAddr::new(ip, port);
    match proto {
        Proto::Tcp => bind_tcp(addr).ok()?.local_addr().ok().map(|a| a.port()),
        Proto::Udp => bind_udp(addr).ok()?.local_addr().ok().map(|a| a.port()),
    }
}

/// A listening TCP socket on `addr` (SO_REUSEADDR, as std and tokio set it); an IPv6 one is
/// IPv6-only (IPV6_V6ONLY), as Docker binds `[::]`: `[::]:8080` and `0.0.0.0:8080` are two
/// bindings, which may belong to different containers, never one socket taking both.
pub fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = socket(addr, socket2::Type::STREAM)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    Ok(s.into())
}

/// A bound UDP socket on `addr` (IPv6-only for an IPv6 address, as [`bind_tcp`]).
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let s = socket(addr, socket2::Type::DGRAM)?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

fn socket(addr: SocketAddr, ty: socket2::Type) -> std::io::Result<socket2::Socket> {
    let s = socket2::Socket::new(socket2::Domain::for_address(addr), ty.cloexec(), None)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    Ok(s)
}

/// Picks the host port for `w`: the first free port of its range, or an ephemeral one.
/// `held(port)` says a port is already ours (held by this project's proxy for a container
/// being replaced), which counts as free.
pub fn pick(w: &Wanted, held: impl Fn(u16) -> bool) -> Option<u16> {
    match w.host_ports {
        // An ephemeral port of the IPv4 side, free on the IPv6 side too (a few tries).
        None => (0..16).filter_map(|_| try_bind(w.host_ip, 0, w.proto)).find(|p| w.bindable(*p)),
        Some((a, b)) => (a..=b).find(|p| held(*p) || w.bindable(*p)),
    }
}

/// The error for a port no candidate of which is free.
pub fn in_use(service: &str, w: &Wanted) -> NetworkError {
    in_use_by(service, w, String::new())
}

/// [`in_use`] naming who holds the port (`holder`: ` (published by …)`, or empty).
pub fn in_use_by(service: &str, w: &Wanted, holder: String) -> NetworkError {
    let port = w.host_ports.map(|(a, _)| a).unwrap_or(0);
    NetworkError::PortInUse {
        service: service.to_string(),
        port,
        proto: w.proto.as_str().to_string(),
        host_ip: w.host_ip.to_string(),
        holder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(published: Option<&str>, host_ip: Option<&str>, proto: Protocol) -> PortRequest {
        PortRequest {
            target: 80,
            published: published.map(String::from),
            host_ip: host_ip.map(String::from),
            protocol: proto,
        }
    }

    #[test]
    fn compose_forms() {
        let w = wanted(&port(Some("8000-8010"), Some("127.0.0.1"), Protocol::Udp)).unwrap();
        assert_eq!(w.host_ports, Some((8000, 8010)));
        assert_eq!(w.host_ip.to_string(), "127.0.0.1");
        assert_eq!(w.proto, Proto::Udp);
        let w = wanted(&port(None, None, Protocol::Tcp)).unwrap();
        assert_eq!((w.host_ports, w.host_ip.to_string()), (None, "0.0.0.0".to_string()));
        assert!(wanted(&port(Some("9-1"), None, Protocol::Tcp)).is_err());
        assert!(wanted(&port(Some("1"), None, Protocol::Sctp)).is_err());
        assert_eq!(wanted(&port(Some("1"), Some("[::1]"), Protocol::Tcp)).unwrap().host_ip.to_string(), "::1");
    }

    #[test]
    fn pick_skips_busy_ports() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = busy.local_addr().unwrap().port();
        let w = Wanted {
            host_ip: "127.0.0.1".parse().unwrap(),
            host_ports: Some((p, p)),
            target: 1,
            proto: Proto::Tcp,
            also6: false,
        };
        assert_eq!(pick(&w, |_| false), None);
        assert_eq!(pick(&w, |q| q == p), Some(p), "a port our proxy holds counts as free");
        let e = in_use("web", &w).to_string();
        assert_eq!(
            e,
            format!("port {p}/tcp of service `web` is already in use on 127.0.0.1; choose another host port")
        );
        let eph = Wanted { host_ports: None, ..w };
        assert!(pick(&eph, |_| false).is_some_and(|q| q > 0));
    }
}
