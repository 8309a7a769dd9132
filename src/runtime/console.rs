//! The input side of a container started with nobody attached (`Runtime::start`) whose
//! terminal (`tty`) or stdin (`process.stdin`, Compose's `stdin_open`) must stay open: its
//! monitor keeps the pty master or the write end of the stdin pipe, and serves a unix socket
//! in the container's state dir (`attach.sock`, reachable by root only, as the state root is)
//! where `berth attach` sends what is typed. Output needs no socket: it goes to the log, which
//! `attach` follows.
//!
//! One client at a time (the next one waits in the listen backlog). Input is forwarded with
//! back-pressure: nothing more is read from the client while the container has not taken
//! what came before (a full pipe or tty buffer never blocks the monitor's loop, whose fds are
//! all non-blocking here). Input to a container whose stdin is closed is dropped.

use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::PollFlags;

/// What a client may hand over at once.
const CHUNK: usize = 4096;

pub struct Console {
    /// The pty master, or the write end of the container's stdin pipe.
    target: OwnedFd,
    listener: UnixListener,
    client: Option<UnixStream>,
    /// Read from the client, not yet taken by the container.
    pending: Vec<u8>,
    path: PathBuf,
}

/// The socket's name in the container's state dir.
pub const SOCKET: &str = "attach.sock";

/// A unix socket path is at most 107 bytes, and a state dir's path can be longer: `dir`'s
/// socket is reached through an `O_PATH` fd of `dir` (`/proc/self/fd/N/attach.sock`), valid
/// while the returned fd is open.
pub fn socket_path(dir: &Path) -> std::io::Result<(OwnedFd, PathBuf)> {
    let fd =
        nix::fcntl::open(dir, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty())?;
    // SAFETY: `open` just returned this fd, which nothing else owns.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let path = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET}", fd.as_raw_fd()));
    Ok((fd, path))
}

/// Connect to the attach socket in state dir `dir`.
pub fn connect(dir: &Path) -> std::io::Result<UnixStream> {
    let (_dir_fd, path) = socket_path(dir)?;
    UnixStream::connect(path)
}

impl Console {
    /// Serve the attach socket in state dir `dir` for input to `target` (made non-blocking
    /// here). On failure `target` comes back: the caller keeps it open all the same (a
    /// terminal whose master closes hangs up its container).
    pub fn open(dir: &Path, target: OwnedFd) -> Result<Console, (String, OwnedFd)> {
        let path = dir.join(SOCKET);
        let _ = std::fs::remove_file(&path);
        let bound = socket_path(dir).and_then(|(_fd, via)| UnixListener::bind(via));
        let listener = match bound {
            Ok(l) => l,
            Err(e) => return Err((format!("bind {}: {e}", path.display()), target)),
        };
        // Root only, whatever the umask (the state dir is private already).
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        if let Err(e) =
            listener.set_nonblocking(true).map_err(|e| e.to_string()).and_then(|()| nonblocking(target.as_fd()))
        {
            return Err((format!("{}: {e}", path.display()), target));
        }
        Ok(Console { target, listener, client: None, pending: Vec::new(), path })
    }

    /// The one fd the loop should poll for this console, and for what: the container's side
    /// while input waits for it, else the client, else the listener.
    pub fn interest(&self) -> (BorrowedFd<'_>, PollFlags) {
        if !self.pending.is_empty() {
            (self.target.as_fd(), PollFlags::POLLOUT)
        } else if let Some(c) = &self.client {
            (c.as_fd(), PollFlags::POLLIN)
        } else {
            (self.listener.as_fd(), PollFlags::POLLIN)
        }
    }

    /// The fd of [`Console::interest`] is ready: move things along.
    pub fn on_ready(&mut self) {
        if !self.pending.is_empty() {
            self.flush();
            return;
        }
        if let Some(client) = self.client.as_mut() {
            let mut buf = [0u8; CHUNK];
            match client.read(&mut buf) {
                Ok(0) => self.client = None,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    self.flush();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(_) => self.client = None,
            }
            return;
        }
        if let Ok((stream, _)) = self.listener.accept() {
            if stream.set_nonblocking(true).is_ok() {
                self.client = Some(stream);
            }
        }
    }

    /// Hand the container what it will take now.
    fn flush(&mut self) {
        while !self.pending.is_empty() {
            match nix::unistd::write(&self.target, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::EAGAIN) => return,
                Err(Errno::EINTR) => continue,
                // Its stdin is closed (EPIPE) or its terminal gone (EIO): nobody reads.
                Err(_) => self.pending.clear(),
            }
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn nonblocking(fd: BorrowedFd<'_>) -> Result<(), String> {
    let flags = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL).map_err(|e| format!("fcntl: {e}"))?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags)).map_err(|e| format!("fcntl: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_client_s_input_reaches_the_target_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        let mut console = Console::open(dir.path(), w).map_err(|(e, _)| e).unwrap();
        let mut client = connect(dir.path()).unwrap();
        console.on_ready(); // accept
        client.write_all(b"hello\n").unwrap();
        let mut poll = [nix::poll::PollFd::new(console.interest().0, console.interest().1)];
        nix::poll::poll(&mut poll, nix::poll::PollTimeout::from(1000u16)).unwrap();
        console.on_ready(); // read + write
        let mut got = [0u8; 6];
        nix::unistd::read(r.as_raw_fd(), &mut got).unwrap();
        assert_eq!(&got, b"hello\n");
        drop(client);
        console.on_ready(); // EOF: the next client may come
        assert!(console.client.is_none());
        let path = dir.path().join("attach.sock");
        drop(console);
        assert!(!path.exists(), "the socket goes with the console");
    }
}
