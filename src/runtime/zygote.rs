//! The monitor zygote: one helper process that forks container monitors on request, so a
//! command that starts many containers (`up`, `start`) execs the helper binary once instead of
//! once per container.
//!
//! Why: every exec of a dynamically linked glibc program costs ~1.5 ms of CPU on this kind of
//! VM (ld.so relocation, and glibc's cpuid cache probing, which traps to the hypervisor). A
//! fork of the small single-threaded zygote costs ~0.1 ms. The forked monitor is what an exec'd
//! one would be: same sealed binary behind /proc/self/exe (CVE-2019-5736), empty environment,
//! default signal dispositions, fds 0/1/2 = stdin, readiness socket, monitor.log and nothing
//! else; it then detaches exactly as before (`monitor::main`: setsid, fork, parent exits).
//!
//! Protocol, over a SOCK_SEQPACKET pair (one request per packet, so requests from parallel
//! starters never merge): the packet's bytes are the container's state dir, and it carries
//! three fds (stdin, readiness socket, monitor.log). The zygote answers nothing: the monitor
//! reports on the readiness socket, and a failed fork is reported there too. The zygote exits
//! when its starter closes the socket (or dies), after reaping its children.

use std::ffi::OsStr;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::{ForkResult, Pid};

use super::binary;

/// The starter's handle on a running zygote.
pub struct Zygote {
    sock: Option<OwnedFd>,
    child: Child,
}

impl Zygote {
    /// Start the zygote from the sealed helper `helper`.
    pub fn spawn(helper: &OwnedFd) -> std::io::Result<Zygote> {
        let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
            .map_err(std::io::Error::from)?;
        let child = Command::new(binary::exec_path(helper))
            .arg0(binary::HELPER_NAME)
            .arg("zygote")
            .arg(super::proctitle::room())
            .env_clear()
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Zygote { sock: Some(ours), child })
    }

    /// Ask for a monitor of the container in `state_dir`, with these fds as its 0, 1 and 2.
    /// An error means the zygote is gone (the caller starts the monitor another way).
    pub fn fork_monitor(&self, state_dir: &Path, fds: [RawFd; 3]) -> std::io::Result<()> {
        let sock = self.sock.as_ref().ok_or_else(|| std::io::Error::other("the monitor zygote is closed"))?;
        let bytes = state_dir.as_os_str().as_bytes();
        let cmsg = [ControlMessage::ScmRights(&fds)];
        let sent = sendmsg::<()>(sock.as_raw_fd(), &[IoSlice::new(bytes)], &cmsg, MsgFlags::MSG_NOSIGNAL, None)
            .map_err(std::io::Error::from)?;
        if sent != bytes.len() {
            return Err(std::io::Error::other("short write to the monitor zygote"));
        }
        Ok(())
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        // Closing our end is the zygote's cue to reap its children and exit; wait so it is
        // not left a zombie of a long-lived starter.
        drop(self.sock.take());
        let _ = self.child.wait();
    }
}

/// The zygote's main loop (`berth-monitor zygote`, fd 0 = the request socket).
pub fn main() -> i32 {
    let _ = super::cgroupfs::hierarchies(); // read once here, inherited by every fork
                                            // Into berth's helpers' cgroup before the first fork: every monitor is born there (no
                                            // migration per monitor). A failure is the monitor's to report (it tries again).
    let _ = super::cgroup_home::enter();
    loop {
        match next_request(0) {
            Ok(Some((dir, fds))) => serve(&dir, fds),
            Ok(None) => break,
            Err(_) => break,
        }
        reap(WaitPidFlag::WNOHANG);
    }
    reap(WaitPidFlag::empty());
    super::cgroup_home::leave();
    0
}

/// One request: a state dir and its three fds; None at EOF.
fn next_request(sock: RawFd) -> Result<Option<(PathBuf, Vec<OwnedFd>)>, nix::Error> {
    let mut buf = vec![0u8; 4096];
    let mut space = nix::cmsg_space!([RawFd; 3]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    let mut fds = Vec::new();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            // SAFETY: SCM_RIGHTS descriptors are new entries the kernel installed in our table
            // for this message (close-on-exec); nothing else owns them.
            fds.extend(raw.into_iter().map(|f| unsafe { OwnedFd::from_raw_fd(f) }));
        }
    }
    let n = msg.bytes;
    if n == 0 && fds.is_empty() {
        return Ok(None);
    }
    Ok(Some((PathBuf::from(OsStr::from_bytes(&buf[..n])), fds)))
}

fn serve(dir: &Path, fds: Vec<OwnedFd>) {
    let Ok([stdin, report, log]) = <[OwnedFd; 3]>::try_from(fds) else {
        return; // a malformed request: dropping its fds hangs up on the starter
    };
    // SAFETY: the zygote is single-threaded (see the module doc), so the child may allocate and
    // take locks freely.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => {
            let code = become_monitor(dir, [stdin, report, log]);
            // SAFETY: _exit(2) ends the forked monitor without running the zygote's exit
            // handlers; nix has no wrapper for it.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { .. }) => {}
        Err(e) => {
            let msg = format!("err fork the monitor: {e}\n");
            let _ = nix::unistd::write(&report, msg.as_bytes());
        }
    }
}

/// In the forked child: take the request's fds as 0/1/2, close every other (the request
/// socket included), and run the monitor as `berth-monitor monitor DIR` would.
fn become_monitor(dir: &Path, fds: [OwnedFd; 3]) -> i32 {
    for (target, fd) in fds.iter().enumerate() {
        if nix::unistd::dup2(fd.as_raw_fd(), target as i32).is_err() {
            return 1;
        }
    }
    drop(fds);
    // SAFETY: close_range(2) in the forked, single-threaded child: the request's fds are now
    // 0/1/2 and dropped above; nothing here refers to a descriptor from 3 up (the request socket
    // is the zygote's, not ours to use). No nix wrapper.
    unsafe { libc::close_range(3, u32::MAX, 0) };
    let _ = nix::sys::prctl::set_name(c"berth-monitor");
    super::monitor::main(dir)
}

fn reap(flags: WaitPidFlag) {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(flags)) {
        if status == nix::sys::wait::WaitStatus::StillAlive {
            break;
        }
    }
}
