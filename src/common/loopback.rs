//! Bring `lo` up in a network namespace the runtime created itself (`NetNs::New`): a fresh
//! netns starts with loopback down, and "network: none" means loopback only, not nothing
//! (Docker's behaviour; netdevice(7) SIOCGIFFLAGS / SIOCSIFFLAGS on a datagram socket).

use std::os::fd::AsRawFd;

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

/// Why `lo` could not be brought up: the step and the system's error.
#[derive(Debug, thiserror::Error)]
#[error("loopback: {step}")]
pub struct LoopbackError {
    pub step: &'static str,
    #[source]
    pub source: std::io::Error,
}

pub fn up() -> Result<(), LoopbackError> {
    let sock = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| LoopbackError { step: "socket", source: e.into() })?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write `req`, which outlives the calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(LoopbackError { step: "get flags", source: std::io::Error::last_os_error() });
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(LoopbackError { step: "set flags", source: std::io::Error::last_os_error() });
        }
    }
    Ok(())
}
