//! The container's terminal for `tty: true`. As runc's console socket: the pty is created
//! INSIDE the container, on its own /dev/pts instance (so `tty`, ttyname(3) and job control
//! work there), and its master is passed out over a unix socket (SCM_RIGHTS, unix(7)): child →
//! monitor → the starting CLI, which relays it to the user's terminal.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// Send `msg` with `fd` attached.
pub fn send_fd(sock: RawFd, msg: &[u8], fd: RawFd) -> Result<(), String> {
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock, &[IoSlice::new(msg)], &cmsg, MsgFlags::empty(), None)
        .map(|_| ())
        .map_err(|e| format!("pass the tty master: {e}"))
}

/// Receive one message and the fd attached to it, if any; empty bytes at EOF.
pub fn recv_fd(sock: RawFd) -> Result<(Vec<u8>, Option<OwnedFd>), String> {
    let mut buf = vec![0u8; 4096];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| format!("receive from the monitor: {e}"))?;
    let mut fd = None;
    for c in msg.cmsgs().map_err(|e| e.to_string())? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for f in fds {
                // The first fd is ours; close any extra a confused sender attached.
                let owned = unsafe { OwnedFd::from_raw_fd(f) };
                if fd.is_none() {
                    fd = Some(owned);
                }
            }
        }
    }
    let n = msg.bytes;
    buf.truncate(n);
    Ok((buf, fd))
}

/// In the container child (after pivot_root): open a pty on the container's /dev/pts, make its
/// slave our stdio and controlling terminal, and send the master out over `console`.
pub fn setup_in_container(console: RawFd) -> Result<(), String> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| format!("open /dev/ptmx in the container: {e}"))?;
    nix::pty::grantpt(&master).map_err(|e| format!("grantpt: {e}"))?;
    nix::pty::unlockpt(&master).map_err(|e| format!("unlockpt: {e}"))?;
    let name = nix::pty::ptsname_r(&master).map_err(|e| format!("ptsname: {e}"))?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open {name}: {e}"))?;
    for target in 0..3 {
        if unsafe { libc::dup2(slave, target) } < 0 {
            return Err(format!("dup2 the tty: {}", std::io::Error::last_os_error()));
        }
    }
    unsafe { libc::close(slave) };
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(format!("set controlling tty: {}", std::io::Error::last_os_error()));
    }
    send_fd(console, b"tty", master.as_raw_fd())
}
