//! Bring `lo` up in a network namespace the runtime created itself (`NetNs::New`): a fresh
//! netns starts with loopback down, and "network: none" means loopback only, not nothing
//! (Docker's behaviour; netdevice(7) SIOCGIFFLAGS / SIOCSIFFLAGS on a datagram socket).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub fn up() -> Result<(), String> {
    // SAFETY: plain socket(2); the fd is owned (and closed) by `sock`.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("loopback: socket: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write `req`, which outlives the calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(format!("loopback: get flags: {}", std::io::Error::last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(format!("loopback: set flags: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}
