//! Attaching a terminal or a log reader to a container from the CLI side: following the
//! JSON-lines log while it is written (across rotation), and relaying a pty for `run -it`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};

use super::logs::LogLine;
use super::tty::ConsoleSize;

/// Follows a log file: each `poll` prints the complete records written since the last one.
pub struct LogFollower {
    path: std::path::PathBuf,
    file: Option<File>,
    partial: Vec<u8>,
}

impl LogFollower {
    pub fn new(path: &Path) -> Self {
        LogFollower { path: path.to_path_buf(), file: None, partial: Vec::new() }
    }

    /// Like [`LogFollower::new`], but the file is opened at once (when it exists), so its
    /// records from the start are the first to be read even if it is rotated before the first poll.
    pub fn open(path: &Path) -> Self {
        LogFollower { path: path.to_path_buf(), file: File::open(path).ok(), partial: Vec::new() }
    }

    /// Copy new records to `out` / `err`, as the container wrote them.
    pub fn poll(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        self.poll_records(&mut |rec| {
            let w: &mut dyn Write = if rec.stream == "stderr" { &mut *err } else { &mut *out };
            let _ = w.write_all(rec.log.as_bytes());
            let _ = w.flush();
        });
    }

    /// Hand each new complete record to `on`; handles the file appearing late and rotation
    /// (the old handle is drained to its end before switching to the new file).
    pub fn poll_records(&mut self, on: &mut dyn FnMut(LogLine)) {
        if self.file.is_none() {
            self.file = File::open(&self.path).ok();
        }
        self.drain(on);
        let rotated = match (&self.file, std::fs::metadata(&self.path)) {
            (Some(f), Ok(m)) => f.metadata().map(|fm| fm.ino() != m.ino()).unwrap_or(false),
            _ => false,
        };
        if rotated {
            self.file = File::open(&self.path).ok();
            self.drain(on);
        }
    }

    fn drain(&mut self, on: &mut dyn FnMut(LogLine)) {
        let Some(f) = self.file.as_mut() else { return };
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        self.partial.extend_from_slice(&buf);
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            if let Ok(rec) = serde_json::from_slice::<LogLine>(&line) {
                on(rec);
            }
        }
    }
}

/// The size of the caller's terminal: stdin's, else stdout's (`berth run -t` with a
/// redirected stdin still draws on the terminal), else None.
pub fn caller_window_size() -> Option<ConsoleSize> {
    ConsoleSize::of(0).or_else(|| ConsoleSize::of(1))
}

/// Give the container's terminal our terminal's size (TIOCGWINSZ → TIOCSWINSZ, tty_ioctl(4)).
/// Best effort: with no terminal of ours the container keeps the size it started with.
pub fn copy_window_size(master: &OwnedFd) {
    if let Some(size) = caller_window_size() {
        let _ = size.apply(master.as_raw_fd());
    }
}

/// Set by the SIGWINCH handler, taken by [`relay_pty_step`], which then re-copies the size.
static WINCH: AtomicBool = AtomicBool::new(false);

extern "C" fn on_winch(_: libc::c_int) {
    // Only an atomic store: async-signal-safe (signal-safety(7)). The ioctls happen in the
    // relay loop, whose poll(2) the signal interrupts (EINTR), so the resize is prompt.
    WINCH.store(true, Ordering::SeqCst);
}

/// Whether a SIGWINCH came since the last call (or [`WinchRelay::install`]), for relays that
/// poll for it (`berth attach`).
pub fn take_winch() -> bool {
    WINCH.swap(false, Ordering::SeqCst)
}

/// While alive, our terminal's size follows into the relayed pty: SIGWINCH is caught, and
/// [`relay_pty_step`] copies the size after each one. Dropping it puts back the SIGWINCH
/// disposition found at [`WinchRelay::install`] (default: ignored).
pub struct WinchRelay(Option<SigAction>);

impl WinchRelay {
    pub fn install() -> Self {
        let action = SigAction::new(SigHandler::Handler(on_winch), SaFlags::SA_RESTART, SigSet::empty());
        // SAFETY: the handler only stores into an atomic.
        let old = unsafe { sigaction(Signal::SIGWINCH, &action) }.ok();
        // A resize between the first copy and now would be lost: copy once more on the next step.
        WINCH.store(true, Ordering::SeqCst);
        WinchRelay(old)
    }
}

impl Drop for WinchRelay {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            // SAFETY: restores the disposition sigaction(2) returned at install.
            let _ = unsafe { sigaction(Signal::SIGWINCH, old) };
        }
    }
}

/// Puts our stdin in raw mode while alive (when it is a terminal); restores it on drop.
pub struct RawMode(Option<nix::sys::termios::Termios>);

impl RawMode {
    pub fn enable() -> Self {
        Self::with(nix::sys::termios::cfmakeraw)
    }

    /// Keys one by one, not echoed, signals as usual (Ctrl-C still interrupts): `up --menu`.
    pub fn keys() -> Self {
        use nix::sys::termios::LocalFlags;
        Self::with(|t| t.local_flags.remove(LocalFlags::ICANON | LocalFlags::ECHO))
    }

    fn with(change: impl FnOnce(&mut nix::sys::termios::Termios)) -> Self {
        let stdin = std::io::stdin();
        let Ok(orig) = nix::sys::termios::tcgetattr(stdin.as_fd()) else { return RawMode(None) };
        let mut t = orig.clone();
        change(&mut t);
        let _ = nix::sys::termios::tcsetattr(stdin.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t);
        RawMode(Some(orig))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(orig) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin().as_fd(), nix::sys::termios::SetArg::TCSANOW, orig);
        }
    }
}

/// Relay stdin → master and master → stdout once, waiting at most `timeout`; false when the
/// master is closed (the container side hung up).
pub fn relay_pty_once(master: &OwnedFd, timeout: Duration) -> bool {
    relay_pty_step(&mut Some(std::io::stdin().as_fd()), master, timeout)
}

/// As [`relay_pty_once`], reading from `input` (None: only copy the master to stdout). At the
/// end of `input` it is set to None, so a closed stdin is not polled again (poll(2) reports
/// it readable forever: a busy loop).
pub fn relay_pty_step(input: &mut Option<BorrowedFd<'_>>, master: &OwnedFd, timeout: Duration) -> bool {
    if WINCH.swap(false, Ordering::SeqCst) {
        copy_window_size(master);
    }
    // The master, and the input while there is one.
    let on_master = PollFd::new(master.as_fd(), PollFlags::POLLIN);
    let mut fds = [on_master, input.map_or(on_master, |fd| PollFd::new(fd, PollFlags::POLLIN))];
    let watched = if input.is_some() { 2 } else { 1 };
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    if !matches!(nix::poll::poll(&mut fds[..watched], timeout), Ok(n) if n > 0) {
        return true;
    }
    let ready = |f: &PollFd| {
        f.revents().is_none_or(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR))
    };
    let mut buf = [0u8; 8192];
    if let Some(fd) = input.filter(|_| ready(&fds[1])) {
        match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => *input = None,
            Ok(n) => {
                let _ = nix::unistd::write(master, &buf[..n]);
            }
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => *input = None,
        }
    }
    if ready(&fds[0]) {
        let n = match nix::unistd::read(master.as_raw_fd(), &mut buf) {
            Ok(n) if n > 0 => n,
            _ => return false,
        };
        let mut stdout = std::io::stdout();
        let _ = stdout.write_all(&buf[..n]);
        let _ = stdout.flush();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The current SIGWINCH handler, read without changing it (sigaction(2) with no new action).
    fn winch_handler() -> libc::sighandler_t {
        // SAFETY: an all-zero sigaction is a valid value of this plain C struct.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null new action only reads the current one into `old`, a valid out-pointer.
        assert_eq!(unsafe { libc::sigaction(libc::SIGWINCH, std::ptr::null(), &mut old) }, 0);
        old.sa_sigaction
    }

    #[test]
    fn winch_relay_catches_sigwinch_while_alive_and_restores_the_disposition() {
        let before = winch_handler();
        {
            let _relay = WinchRelay::install();
            assert_eq!(winch_handler(), on_winch as *const () as libc::sighandler_t);
            assert!(WINCH.swap(false, Ordering::SeqCst), "the first relay step copies the size again");
            // raise(3) runs the handler before it returns (signal sent to the calling thread).
            nix::sys::signal::raise(Signal::SIGWINCH).unwrap();
            assert!(WINCH.swap(false, Ordering::SeqCst), "SIGWINCH noted");
        }
        assert_eq!(winch_handler(), before, "disposition put back");
        // Default disposition again: ignored (signal(7)), so this does not kill the test.
        nix::sys::signal::raise(Signal::SIGWINCH).unwrap();
        assert!(!WINCH.load(Ordering::SeqCst));
        // The next relay step takes a noted resize (one test: WINCH is process-wide). Our
        // stdin in tests is no terminal of ours; tests/runtime_winsize.rs checks the sizes.
        let pty = nix::pty::openpty(None, None).unwrap();
        WINCH.store(true, Ordering::SeqCst);
        relay_pty_step(&mut None, &pty.master, Duration::from_millis(1));
        assert!(!WINCH.load(Ordering::SeqCst), "taken by the step");
    }
}
