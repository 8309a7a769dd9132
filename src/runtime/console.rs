//! The input side of a container started with nobody attached (`Runtime::start`) whose
//! terminal (`tty`) or stdin (`process.stdin`, Compose's `stdin_open`) must stay open: its
//! monitor keeps the pty master or the write end of the stdin pipe, and serves a unix socket
//! in the container's state dir (`attach.sock`, reachable by root only, as the state root is)
//! where `berth attach` sends what is typed. Output needs no socket: it goes to the log, which
//! `attach` follows.
//!
//! Several clients at once (at most [`MAX_CLIENTS`]; more are turned away), as `docker attach`
//! allows: what each sends goes in, in the order it arrives. A client speaks in frames (see
//! [`frame_input`], [`frame_size`]): input, or its terminal's size, which the container's
//! terminal takes (the kernel signals SIGWINCH to the container's foreground processes).
//! Input is forwarded with back-pressure: nothing more is read from any client while the
//! container has not taken what came before (a full pipe or tty buffer never blocks the
//! monitor's loop, whose fds are all non-blocking here). Input to a container whose stdin is
//! closed is dropped. A malformed frame ends that client's connection.

use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::PollFlags;

use super::tty::ConsoleSize;

/// The largest frame payload (and what is read from a client at once).
const CHUNK: usize = 4096;
/// Clients served at once.
pub const MAX_CLIENTS: usize = 16;
/// Frame tags: input for the container, the client's terminal size (rows, columns).
const TAG_INPUT: u8 = b'i';
const TAG_SIZE: u8 = b'w';
const HEADER: usize = 3;

/// A client of a container's attach socket (`berth attach`): input and terminal sizes, each
/// sent whole (one writer at a time, from any thread).
pub struct AttachClient(std::sync::Mutex<UnixStream>);

impl AttachClient {
    pub fn send_input(&self, data: &[u8]) -> std::io::Result<()> {
        self.send(&frame_input(data))
    }

    pub fn send_size(&self, size: ConsoleSize) -> std::io::Result<()> {
        self.send(&frame_size(size))
    }

    fn send(&self, frame: &[u8]) -> std::io::Result<()> {
        use std::io::Write as _;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write_all(frame)
    }
}

/// A frame of input for the container: tag, length (2 bytes, big-endian), bytes. Input longer
/// than a frame holds is cut into several.
fn frame_input(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + HEADER);
    for chunk in data.chunks(CHUNK) {
        out.push(TAG_INPUT);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// A frame with the client's terminal size, for the container's terminal.
fn frame_size(size: ConsoleSize) -> Vec<u8> {
    let mut out = vec![TAG_SIZE, 0, 4];
    out.extend_from_slice(&size.height.to_be_bytes());
    out.extend_from_slice(&size.width.to_be_bytes());
    out
}

pub struct Console {
    /// The pty master, or the write end of the container's stdin pipe.
    target: OwnedFd,
    /// Whether `target` is a terminal (sizes apply to it).
    tty: bool,
    listener: UnixListener,
    clients: Vec<Client>,
    /// Read from the clients, not yet taken by the container.
    pending: Vec<u8>,
    path: PathBuf,
}

/// One client: its connection and the start of a frame not yet complete.
struct Client {
    stream: UnixStream,
    partial: Vec<u8>,
}

/// What one complete frame says.
#[derive(Debug, PartialEq)]
enum Frame {
    Input(Vec<u8>),
    Size(ConsoleSize),
}

impl Client {
    /// Take the complete frames off the front of what was read; Err on a malformed one.
    fn frames(&mut self) -> Result<Vec<Frame>, ()> {
        let mut out = Vec::new();
        loop {
            if self.partial.len() < HEADER {
                return Ok(out);
            }
            let len = usize::from(u16::from_be_bytes([self.partial[1], self.partial[2]]));
            if len > CHUNK {
                return Err(());
            }
            if self.partial.len() < HEADER + len {
                return Ok(out);
            }
            let tag = self.partial[0];
            let body: Vec<u8> = self.partial.drain(..HEADER + len).skip(HEADER).collect();
            out.push(match (tag, body.len()) {
                (TAG_INPUT, _) => Frame::Input(body),
                (TAG_SIZE, 4) => Frame::Size(ConsoleSize {
                    height: u16::from_be_bytes([body[0], body[1]]),
                    width: u16::from_be_bytes([body[2], body[3]]),
                }),
                _ => return Err(()),
            });
        }
    }
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
pub fn connect(dir: &Path) -> std::io::Result<AttachClient> {
    let (_dir_fd, path) = socket_path(dir)?;
    UnixStream::connect(path).map(|s| AttachClient(std::sync::Mutex::new(s)))
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
        let tty = nix::unistd::isatty(target.as_raw_fd()).unwrap_or(false);
        Ok(Console { target, tty, listener, clients: Vec::new(), pending: Vec::new(), path })
    }

    /// The fds the loop should poll for this console, and for what: the container's side
    /// while input waits for it; else the listener (while there is room) and every client.
    pub fn interests(&self) -> Vec<(BorrowedFd<'_>, PollFlags)> {
        if !self.pending.is_empty() {
            return vec![(self.target.as_fd(), PollFlags::POLLOUT)];
        }
        let listener = (self.clients.len() < MAX_CLIENTS).then(|| (self.listener.as_fd(), PollFlags::POLLIN));
        listener.into_iter().chain(self.clients.iter().map(|c| (c.stream.as_fd(), PollFlags::POLLIN))).collect()
    }

    /// Some fds of [`Console::interests`] are ready (`fired`, in its order): move things along.
    pub fn on_ready(&mut self, fired: &[bool]) {
        if !self.pending.is_empty() {
            self.flush();
            return;
        }
        let mut fired = fired.iter().copied();
        if self.clients.len() < MAX_CLIENTS && fired.next().unwrap_or(false) {
            self.accept();
        }
        let ready: Vec<bool> = fired.collect();
        let mut gone = Vec::new();
        for (i, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
            if i < self.clients.len() && !self.read_client(i) {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
        self.flush();
    }

    fn accept(&mut self) {
        if let Ok((stream, _)) = self.listener.accept() {
            if stream.set_nonblocking(true).is_ok() {
                self.clients.push(Client { stream, partial: Vec::new() });
            }
        }
    }

    /// Read what client `i` sent; false when it is gone (EOF, error, a malformed frame).
    fn read_client(&mut self, i: usize) -> bool {
        let client = &mut self.clients[i];
        let mut buf = [0u8; CHUNK];
        match client.stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => client.partial.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => return true,
            Err(_) => return false,
        }
        let Ok(frames) = client.frames() else { return false };
        for frame in frames {
            match frame {
                Frame::Input(bytes) => self.pending.extend_from_slice(&bytes),
                Frame::Size(size) if self.tty && size.height > 0 && size.width > 0 => {
                    let _ = size.apply(self.target.as_raw_fd());
                }
                Frame::Size(_) => {}
            }
        }
        true
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
    use std::os::fd::AsRawFd;

    use super::*;

    /// Poll the console's fds once (1 s at most) and hand it what fired.
    fn step(console: &mut Console) {
        let interests = console.interests();
        let mut fds: Vec<_> = interests.iter().map(|(fd, fl)| nix::poll::PollFd::new(*fd, *fl)).collect();
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(1000u16)).unwrap();
        let fired: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        drop(interests);
        console.on_ready(&fired);
    }

    fn read_exact(r: &OwnedFd, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        let mut at = 0;
        while at < n {
            at += nix::unistd::read(r.as_raw_fd(), &mut got[at..]).unwrap();
        }
        got
    }

    #[test]
    fn clients_input_reaches_the_target_in_order_from_several_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        let mut console = Console::open(dir.path(), w).map_err(|(e, _)| e).unwrap();
        let a = connect(dir.path()).unwrap();
        step(&mut console); // accept a
        let b = connect(dir.path()).unwrap();
        step(&mut console); // accept b
        assert_eq!(console.clients.len(), 2);
        a.send_input(b"hello ").unwrap();
        step(&mut console);
        b.send_input(b"world\n").unwrap();
        step(&mut console);
        assert_eq!(read_exact(&r, 12), b"hello world\n");
        // A size to a pipe is ignored; a client that goes is dropped, the other stays.
        a.send_size(ConsoleSize { height: 10, width: 20 }).unwrap();
        step(&mut console);
        drop(a);
        step(&mut console);
        assert_eq!(console.clients.len(), 1);
        b.send_input(&[b'x'; 5000]).unwrap();
        // Two frames (4096 + 904 bytes), read one step at a time.
        step(&mut console);
        step(&mut console);
        assert_eq!(read_exact(&r, 5000), vec![b'x'; 5000]);
        let path = dir.path().join("attach.sock");
        drop(console);
        assert!(!path.exists(), "the socket goes with the console");
    }

    #[test]
    fn a_size_frame_sizes_a_terminal_and_malformed_frames_end_the_client() {
        let dir = tempfile::tempdir().unwrap();
        let pty = nix::pty::openpty(None, None).unwrap();
        let mut console = Console::open(dir.path(), pty.master).map_err(|(e, _)| e).unwrap();
        let a = connect(dir.path()).unwrap();
        step(&mut console);
        a.send_size(ConsoleSize { height: 33, width: 99 }).unwrap();
        step(&mut console);
        assert_eq!(ConsoleSize::of(pty.slave.as_raw_fd()), Some(ConsoleSize { height: 33, width: 99 }));
        // An unknown tag, then a frame longer than allowed: each ends its client.
        let (_dir_fd, path) = socket_path(dir.path()).unwrap();
        for bad in [&b"z\x00\x01q"[..], &[b'i', 0xff, 0xff][..]] {
            let mut raw = UnixStream::connect(&path).unwrap();
            step(&mut console);
            let before = console.clients.len();
            raw.write_all(bad).unwrap();
            step(&mut console);
            assert_eq!(console.clients.len(), before - 1, "{bad:?} kept its client");
        }
        // At most MAX_CLIENTS: the listener is not polled beyond.
        let _many: Vec<_> = (0..MAX_CLIENTS + 2).map(|_| UnixStream::connect(&path).unwrap()).collect();
        for _ in 0..MAX_CLIENTS + 2 {
            step(&mut console);
        }
        assert_eq!(console.clients.len(), MAX_CLIENTS);
    }
}
