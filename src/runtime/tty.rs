//! The container's terminal for `tty: true`. As runc's console socket: the pty is created
//! INSIDE the container, on its own /dev/pts instance (so `tty`, ttyname(3) and job control
//! work there), and its master is passed out over a unix socket (SCM_RIGHTS, unix(7)): child →
//! monitor → the starting CLI, which relays it to the user's terminal.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use serde::{Deserialize, Serialize};

/// A terminal's size in character cells (the OCI runtime spec's `process.consoleSize`). Given to
/// the container's pty before its process starts, so the first `stty size` (or a full-screen
/// program's first draw) already sees the caller's size; later changes follow SIGWINCH
/// ([`super::attach::WinchRelay`]).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsoleSize {
    pub height: u16,
    pub width: u16,
}

impl ConsoleSize {
    /// The size of the terminal on `fd` (TIOCGWINSZ, tty_ioctl(4)); None when `fd` is not a
    /// terminal or reports no size (0x0, as a fresh pty does).
    pub fn of(fd: RawFd) -> Option<ConsoleSize> {
        let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one `struct winsize` into `ws`.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } != 0 || (ws.ws_row == 0 && ws.ws_col == 0) {
            return None;
        }
        Some(ConsoleSize { height: ws.ws_row, width: ws.ws_col })
    }

    /// Set the size of the terminal on `fd` (TIOCSWINSZ on a pty master: the kernel sends
    /// SIGWINCH to the slave's foreground process group when the size changed).
    pub fn apply(self, fd: RawFd) -> Result<(), String> {
        let ws = libc::winsize { ws_row: self.height, ws_col: self.width, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads one `struct winsize` from `ws`.
        if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } != 0 {
            return Err(format!("set the terminal size: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

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
                // SAFETY: SCM_RIGHTS descriptors are new entries the kernel installed in our
                // table for this message; nothing else owns them.
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

/// In the container child (after pivot_root): open a pty on the container's /dev/pts (sized
/// `size`, when given), make its slave our stdio and controlling terminal, and send the master
/// out over `console`.
pub fn setup_in_container(console: RawFd, size: Option<ConsoleSize>) -> Result<(), String> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| format!("open /dev/ptmx in the container: {e}"))?;
    nix::pty::grantpt(&master).map_err(|e| format!("grantpt: {e}"))?;
    nix::pty::unlockpt(&master).map_err(|e| format!("unlockpt: {e}"))?;
    if let Some(size) = size {
        size.apply(master.as_raw_fd())?;
    }
    let name = nix::pty::ptsname_r(&master).map_err(|e| format!("ptsname: {e}"))?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open {name}: {e}"))?;
    for target in 0..3 {
        nix::unistd::dup2(slave, target).map_err(|e| format!("dup2 the tty: {}", std::io::Error::from(e)))?;
    }
    let _ = nix::unistd::close(slave);
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal) and touches no memory of
    // ours; nix only offers ioctls through macros that generate unsafe functions.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(format!("set controlling tty: {}", std::io::Error::last_os_error()));
    }
    send_fd(console, b"tty", master.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_size_round_trips_through_a_pty_and_is_none_elsewhere() {
        let pty = nix::pty::openpty(None, None).unwrap();
        assert_eq!(ConsoleSize::of(pty.slave.as_raw_fd()), None, "a fresh pty has no size yet");
        let size = ConsoleSize { height: 37, width: 111 };
        size.apply(pty.master.as_raw_fd()).unwrap();
        assert_eq!(ConsoleSize::of(pty.slave.as_raw_fd()), Some(size));
        let (r, _w) = nix::unistd::pipe().unwrap();
        assert_eq!(ConsoleSize::of(r.as_raw_fd()), None, "not a terminal");
        assert!(size.apply(r.as_raw_fd()).unwrap_err().contains("set the terminal size"));
    }

    #[test]
    fn console_size_is_optional_in_configs() {
        use crate::runtime::config::{ExecConfig, ProcessConfig};
        let p: ProcessConfig = serde_json::from_str(r#"{"args":["sh"],"tty":true}"#).unwrap();
        assert_eq!(p.console_size, None);
        assert!(!serde_json::to_string(&p).unwrap().contains("console_size"), "omitted when unset");
        let e = ExecConfig { console_size: Some(ConsoleSize { height: 5, width: 9 }), ..Default::default() };
        let back: ExecConfig = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back.console_size, Some(ConsoleSize { height: 5, width: 9 }));
    }
}
