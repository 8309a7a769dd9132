//! A minimal nfnetlink client for nf_tables (NETLINK_NETFILTER, NFNL_SUBSYS_NFTABLES): message
//! and attribute encoding, dumps, and atomic batches, with every reply parsed within bounds
//! (a length field never reaches past its buffer, a dump stops at a fixed size and time).
//!
//! Only what berth's firewall needs: no `nft` binary and no libnftnl (see nftables.rs for why
//! no crate). Constants are those of `linux/netfilter/nfnetlink.h` and `nf_tables.h`.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{self as sock, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType};

pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
pub const NFT_MSG_NEWTABLE: u16 = 0;
pub const NFT_MSG_GETTABLE: u16 = 1;
pub const NFT_MSG_DELTABLE: u16 = 2;
pub const NFT_MSG_NEWCHAIN: u16 = 3;
pub const NFT_MSG_GETCHAIN: u16 = 4;
pub const NFT_MSG_NEWRULE: u16 = 6;
pub const NFT_MSG_GETRULE: u16 = 7;
pub const NFT_MSG_DELRULE: u16 = 8;
pub const NFT_MSG_GETGEN: u16 = 16;

const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_BATCH_GENID: u16 = 1;
const NFTA_GEN_ID: u16 = 1;

const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// A dump larger than this is refused rather than read on (berth's table holds a few rules
/// per network; the whole host's table list is small).
const MAX_DUMP_BYTES: usize = 32 << 20;
/// A reply that does not come within this is an error, not a hang.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Netlink attributes being built, each 4-byte aligned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs(pub Vec<u8>);

impl Attrs {
    pub fn new() -> Self {
        Attrs(Vec::new())
    }

    pub fn bytes(mut self, ty: u16, data: &[u8]) -> Self {
        let len = 4 + data.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(align4(self.0.len()), 0);
        self
    }

    /// A NUL-terminated string, as nf_tables wants names.
    pub fn str(self, ty: u16, s: &str) -> Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.bytes(ty, &v)
    }

    /// nf_tables reads its integer attributes in network byte order.
    pub fn be32(self, ty: u16, v: u32) -> Self {
        self.bytes(ty, &v.to_be_bytes())
    }

    pub fn be64(self, ty: u16, v: u64) -> Self {
        self.bytes(ty, &v.to_be_bytes())
    }

    pub fn nested(self, ty: u16, inner: Attrs) -> Self {
        self.bytes(ty | NLA_F_NESTED, &inner.0)
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One nf_tables request: message type (NFT_MSG_*), extra flags, address family, attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub ty: u16,
    pub flags: u16,
    pub family: u8,
    pub attrs: Attrs,
}

impl Msg {
    pub fn new(ty: u16, family: u8, attrs: Attrs) -> Self {
        Msg { ty, flags: 0, family, attrs }
    }

    pub fn flags(mut self, flags: u16) -> Self {
        self.flags |= flags;
        self
    }
}

/// nlmsghdr + nfgenmsg + attributes. `ty` is the full netlink type.
fn encode(ty: u16, flags: u16, seq: u32, family: u8, res_id: u16, attrs: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + NFGENMSG_LEN + attrs.len();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.push(family);
    v.push(0); // NFNETLINK_V0
    v.extend_from_slice(&res_id.to_be_bytes());
    v.extend_from_slice(attrs);
    v
}

fn nft_type(msg: u16) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | msg
}

/// A batch: BEGIN (with the generation the changes were computed against, so the kernel
/// refuses them with ERESTART when anyone changed the ruleset since), the messages, END. The
/// kernel applies it all or nothing. Message `i` gets sequence number `seq + 1 + i`.
pub fn batch(msgs: &[Msg], genid: Option<u32>, seq: u32) -> Vec<u8> {
    let begin_attrs = genid.map_or_else(Attrs::new, |g| Attrs::new().be32(NFNL_BATCH_GENID, g));
    let mut out = encode(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES, &begin_attrs.0);
    for (i, m) in msgs.iter().enumerate() {
        let flags = NLM_F_REQUEST | NLM_F_ACK | m.flags;
        out.extend(encode(nft_type(m.ty), flags, seq + 1 + i as u32, m.family, 0, &m.attrs.0));
    }
    out.extend(encode(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 1 + msgs.len() as u32, 0, NFNL_SUBSYS_NFTABLES, &[]));
    out
}

/// One netlink message of a reply: its type, flags, sequence number and payload (for nf_tables
/// objects, the attributes after the nfgenmsg; `family` is nfgenmsg's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub family: u8,
    pub payload: Vec<u8>,
}

impl Reply {
    /// The errno of an NLMSG_ERROR (0 for an ACK).
    fn error(&self) -> Option<i32> {
        (self.ty == NLMSG_ERROR).then(|| self.payload.get(..4).map_or(-libc::EBADMSG, read_i32).abs())
    }
}

fn read_i32(b: &[u8]) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    i32::from_ne_bytes(a)
}

/// The messages in one datagram; a length field that does not fit is an error.
pub fn parse(buf: &[u8]) -> io::Result<Vec<Reply>> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(malformed(format!("netlink message length {len} of {} bytes left", rest.len())));
        }
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        let seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        let body = &rest[NLMSG_HDRLEN..len];
        let (family, payload) = if ty >= 0x100 && body.len() >= NFGENMSG_LEN {
            (body[0], body[NFGENMSG_LEN..].to_vec())
        } else {
            (0, body.to_vec())
        };
        out.push(Reply { ty, flags, seq, family, payload });
        rest = &rest[align4(len).min(rest.len())..];
    }
    Ok(out)
}

/// The attributes of `buf` as (type without flags, value); stops at the first one whose
/// length does not fit.
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > rest.len() {
            return None;
        }
        let value = &rest[4..len];
        rest = &rest[align4(len).min(rest.len())..];
        Some((ty, value))
    })
}

pub fn attr(buf: &[u8], ty: u16) -> Option<&[u8]> {
    attrs(buf).find(|(t, _)| *t == ty).map(|(_, v)| v)
}

/// A name attribute, without its NUL.
pub fn attr_str(buf: &[u8], ty: u16) -> Option<String> {
    attr(buf, ty).map(|v| String::from_utf8_lossy(v.split(|b| *b == 0).next().unwrap_or_default()).into_owned())
}

pub fn attr_be64(buf: &[u8], ty: u16) -> Option<u64> {
    attr(buf, ty).and_then(|v| v.try_into().ok()).map(u64::from_be_bytes)
}

fn malformed(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// A NETLINK_NETFILTER socket in the caller's network namespace.
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

impl Socket {
    pub fn open() -> io::Result<Socket> {
        let fd = sock::socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )?;
        let tv = nix::sys::time::TimeVal::new(REPLY_TIMEOUT.as_secs() as libc::time_t, 0);
        sock::setsockopt(&fd, sockopt::ReceiveTimeout, &tv)?;
        let seq = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_secs() as u32);
        Ok(Socket { fd, seq })
    }

    fn next_seq(&mut self, n: u32) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(n + 2);
        s
    }

    fn send(&self, buf: &[u8]) -> io::Result<()> {
        // To the kernel: port id 0, no multicast groups.
        let n = sock::sendto(self.fd.as_raw_fd(), buf, &NetlinkAddr::new(0, 0), MsgFlags::empty())?;
        if n != buf.len() {
            return Err(malformed(format!("netlink: sent {n} of {} bytes", buf.len())));
        }
        Ok(())
    }

    /// One datagram's messages (blocking up to [`REPLY_TIMEOUT`]).
    fn recv(&self) -> io::Result<Vec<Reply>> {
        let mut buf = vec![0u8; 256 * 1024];
        // MSG_TRUNC makes the kernel report the real length, so a cut datagram is detected.
        let n = match sock::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::MSG_TRUNC) {
            Ok(n) => n,
            Err(nix::errno::Errno::EAGAIN) => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer from the kernel's nf_tables"))
            }
            Err(e) => return Err(e.into()),
        };
        if n > buf.len() {
            return Err(malformed(format!("netlink datagram of {n} bytes cut at {}", buf.len())));
        }
        parse(&buf[..n])
    }

    /// A dump request (NLM_F_DUMP): every object message until NLMSG_DONE. Err(EINTR) when
    /// the ruleset changed during the dump (the caller reads again).
    pub fn dump(&mut self, msg: &Msg) -> io::Result<Vec<Reply>> {
        let seq = self.next_seq(0);
        let flags = NLM_F_REQUEST | NLM_F_DUMP | msg.flags;
        self.send(&encode(nft_type(msg.ty), flags, seq, msg.family, 0, &msg.attrs.0))?;
        let (mut out, mut bytes, mut interrupted) = (Vec::new(), 0usize, false);
        loop {
            for r in self.recv()? {
                if r.seq != seq {
                    continue;
                }
                interrupted |= r.flags & NLM_F_DUMP_INTR != 0;
                match r.ty {
                    NLMSG_DONE if interrupted => return Err(io::Error::from_raw_os_error(libc::EINTR)),
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => match r.error() {
                        Some(0) | None => {}
                        Some(e) => return Err(io::Error::from_raw_os_error(e)),
                    },
                    _ => {
                        bytes += r.payload.len();
                        if bytes > MAX_DUMP_BYTES {
                            return Err(malformed(format!("nf_tables dump over {MAX_DUMP_BYTES} bytes")));
                        }
                        out.push(r);
                    }
                }
            }
        }
    }

    /// The ruleset's generation (it changes with every committed batch).
    pub fn genid(&mut self) -> io::Result<u32> {
        let seq = self.next_seq(0);
        self.send(&encode(nft_type(NFT_MSG_GETGEN), NLM_F_REQUEST, seq, 0, 0, &[]))?;
        loop {
            for r in self.recv()? {
                if r.seq != seq {
                    continue;
                }
                if let Some(e) = r.error() {
                    return Err(io::Error::from_raw_os_error(if e == 0 { libc::EBADMSG } else { e }));
                }
                let id = attr(&r.payload, NFTA_GEN_ID).and_then(|v| v.try_into().ok()).map(u32::from_be_bytes);
                return id.ok_or_else(|| malformed("nf_tables generation reply without an id".into()));
            }
        }
    }

    /// Sends `msgs` as one atomic batch and waits for the kernel's answer to each. Err with
    /// the first message's errno (ERESTART: the generation moved, read and try again) and the
    /// index of the message it concerns (None: the batch itself).
    pub fn commit(&mut self, msgs: &[Msg], genid: Option<u32>) -> Result<(), (Option<usize>, io::Error)> {
        let seq = self.next_seq(msgs.len() as u32);
        self.send(&batch(msgs, genid, seq)).map_err(|e| (None, e))?;
        let mut acked = vec![false; msgs.len()];
        while !acked.iter().all(|a| *a) {
            for r in self.recv().map_err(|e| (None, e))? {
                let Some(errno) = r.error() else { continue };
                let index = r.seq.wrapping_sub(seq + 1) as usize;
                if errno != 0 {
                    return Err(((index < msgs.len()).then_some(index), io::Error::from_raw_os_error(errno)));
                }
                if let Some(a) = acked.get_mut(index) {
                    *a = true;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nested() {
        let a = Attrs::new().str(1, "ab").be32(2, 7);
        assert_eq!(a.0, vec![7, 0, 1, 0, b'a', b'b', 0, 0, 8, 0, 2, 0, 0, 0, 0, 7]);
        let n = Attrs::new().nested(4, Attrs::new().be32(1, 1));
        assert_eq!(n.0[..4], [12, 0, 4, 0x80]);
        let parsed: Vec<(u16, &[u8])> = attrs(&n.0).collect();
        assert_eq!(parsed, vec![(4, &n.0[4..])]);
        assert_eq!(attr_str(&a.0, 1).as_deref(), Some("ab"));
    }

    #[test]
    fn a_batch_is_framed_by_begin_and_end_with_the_generation() {
        let msgs = [Msg::new(NFT_MSG_NEWTABLE, 2, Attrs::new().str(1, "berth")).flags(NLM_F_CREATE)];
        let b = batch(&msgs, Some(42), 100);
        let replies = parse(&b).unwrap();
        assert_eq!(replies.len(), 3);
        assert_eq!((replies[0].ty, replies[0].seq), (NFNL_MSG_BATCH_BEGIN, 100));
        // BEGIN's nfgenmsg names the subsystem (res_id, big-endian) and carries the genid.
        assert_eq!(&b[16..20], &[0, 0, 0, 10]);
        assert_eq!(attr(&b[20..28], NFNL_BATCH_GENID), Some(&42u32.to_be_bytes()[..]));
        assert_eq!(replies[1].ty, (10 << 8) | NFT_MSG_NEWTABLE);
        assert_eq!(replies[1].flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
        assert_eq!((replies[1].seq, replies[1].family), (101, 2));
        assert_eq!(attr_str(&replies[1].payload, 1).as_deref(), Some("berth"));
        assert_eq!((replies[2].ty, replies[2].seq), (NFNL_MSG_BATCH_END, 102));
    }

    #[test]
    fn lengths_that_do_not_fit_are_refused_not_followed() {
        let mut b = encode(nft_type(NFT_MSG_GETGEN), 1, 1, 0, 0, &Attrs::new().be32(1, 5).0);
        b[0] = 200; // longer than the buffer
        assert!(parse(&b).is_err());
        // An attribute claiming more than is there ends the walk.
        let bad = [50u8, 0, 1, 0, 1, 2];
        assert_eq!(attrs(&bad).count(), 0);
        assert_eq!(attrs(&[2u8, 0, 1, 0]).count(), 0, "attribute length under its header");
    }

    #[test]
    fn errors_carry_the_errno() {
        let mut payload = (-libc::ERESTART).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        let r = Reply { ty: NLMSG_ERROR, flags: 0, seq: 1, family: 0, payload };
        assert_eq!(r.error(), Some(libc::ERESTART));
        let short = Reply { ty: NLMSG_ERROR, flags: 0, seq: 1, family: 0, payload: vec![] };
        assert_eq!(short.error(), Some(libc::EBADMSG));
    }
}
