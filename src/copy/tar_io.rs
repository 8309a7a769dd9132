//! Tar streams: [`TarSink`] writes entries as a tar (`cp SRC -`, `export`), [`read_tar`] feeds
//! a tar stream's entries to a sink (`cp - DEST`).
//!
//! A tar stream is untrusted input, read through [`TarGuard`]: the `tar` crate reads GNU long
//! names and PAX headers whole into memory, as large as their header says, so the guard
//! follows the stream's own framing and refuses any such header over [`MAX_EXTENSION`] before
//! a byte of it is buffered. File data is streamed, never held.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{shown, CopyError, Kind, Meta, Result, Sink};

/// Largest GNU long-name or PAX extension header accepted (Go's archive/tar allows 1 MiB).
pub const MAX_EXTENSION: u64 = 1 << 20;

pub struct TarSink<W: Write> {
    b: tar::Builder<W>,
}

impl<W: Write> TarSink<W> {
    pub fn new(w: W) -> Self {
        let mut b = tar::Builder::new(w);
        b.mode(tar::HeaderMode::Complete);
        TarSink { b }
    }

    /// Finish the archive and hand back the writer.
    pub fn into_inner(self) -> Result<W> {
        self.b.into_inner().map_err(|e| CopyError::Io { path: "<tar stream>".into(), source: e })
    }
}

fn tar_path(path: &[OsString]) -> std::path::PathBuf {
    let mut bytes = Vec::new();
    for (i, c) in path.iter().enumerate() {
        if i > 0 {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(c.as_bytes());
    }
    Path::new(OsStr::from_bytes(&bytes)).to_path_buf()
}

impl<W: Write> Sink for TarSink<W> {
    fn entry(&mut self, path: &[OsString], kind: &Kind, meta: &Meta, data: Option<&mut dyn Read>) -> Result<()> {
        let sh = shown(path);
        let io = |e| CopyError::Io { path: sh.clone(), source: e };
        let mut h = tar::Header::new_gnu();
        h.set_mode(meta.mode);
        h.set_uid(meta.uid.into());
        h.set_gid(meta.gid.into());
        h.set_mtime(meta.mtime.max(0) as u64);
        h.set_size(0);
        let p = tar_path(path);
        match kind {
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                self.b.append_data(&mut h, p, io::empty()).map_err(io)
            }
            Kind::File => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(meta.size);
                let mut empty = io::empty();
                let data: &mut dyn Read = match data {
                    Some(d) => d,
                    None => &mut empty,
                };
                self.b.append_data(&mut h, p, data.take(meta.size)).map_err(io)
            }
            Kind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                self.b.append_link(&mut h, p, Path::new(target)).map_err(io)
            }
            Kind::HardLink(target) => {
                h.set_entry_type(tar::EntryType::Link);
                self.b.append_link(&mut h, p, tar_path(target)).map_err(io)
            }
            Kind::Fifo | Kind::Char(_) | Kind::Block(_) => {
                let (t, dev) = match kind {
                    Kind::Char(d) => (tar::EntryType::Char, *d),
                    Kind::Block(d) => (tar::EntryType::Block, *d),
                    _ => (tar::EntryType::Fifo, 0),
                };
                h.set_entry_type(t);
                let dev = dev as libc::dev_t;
                h.set_device_major(libc::major(dev)).map_err(&io)?;
                h.set_device_minor(libc::minor(dev)).map_err(&io)?;
                self.b.append_data(&mut h, p, io::empty()).map_err(io)
            }
        }
    }

    fn finish(&mut self) -> Result<()> {
        self.b.finish().map_err(|e| CopyError::Io { path: "<tar stream>".into(), source: e })
    }
}

/// Feed every entry of the tar stream `r` to `sink` (paths as stored, a leading `/` dropped;
/// any `..` refuses the stream), then finish the sink.
pub fn read_tar(r: &mut dyn Read, sink: &mut dyn Sink) -> Result<u64> {
    let mut archive = tar::Archive::new(TarGuard::new(r));
    let mut count = 0;
    for entry in archive.entries().map_err(CopyError::Tar)? {
        let mut entry = entry.map_err(CopyError::Tar)?;
        let raw = entry.path_bytes().into_owned();
        let sh = String::from_utf8_lossy(&raw).into_owned();
        let refuse = |reason: &str| CopyError::Refused { path: sh.clone(), reason: reason.to_string() };
        let path = crate::image::extract::normalize(&raw).map_err(refuse)?;
        let h = entry.header();
        // An empty numeric field (some writers leave owner and time blank) reads as 0.
        let num = |r: io::Result<u64>| r.unwrap_or(0);
        let meta = Meta {
            mode: h.mode().map_err(CopyError::Tar)? & 0o7777,
            uid: u32::try_from(num(h.uid())).map_err(|_| refuse("uid out of range"))?,
            gid: u32::try_from(num(h.gid())).map_err(|_| refuse("gid out of range"))?,
            mtime: num(h.mtime()) as i64,
            size: entry.size(),
        };
        let dev = || {
            libc::makedev(h.device_major().ok().flatten().unwrap_or(0), h.device_minor().ok().flatten().unwrap_or(0))
        };
        let link = || entry.link_name_bytes().map(|b| b.into_owned()).ok_or_else(|| refuse("link without a target"));
        let kind = match h.entry_type() {
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
            tar::EntryType::Symlink => Kind::Symlink(OsStr::from_bytes(&link()?).to_os_string()),
            tar::EntryType::Link => Kind::HardLink(crate::image::extract::normalize(&link()?).map_err(refuse)?),
            tar::EntryType::Fifo => Kind::Fifo,
            tar::EntryType::Char => Kind::Char(dev()),
            tar::EntryType::Block => Kind::Block(dev()),
            other => return Err(refuse(&format!("unsupported tar entry type {other:?}"))),
        };
        if path.is_empty() {
            continue; // the archive's own `./`
        }
        let data: Option<&mut dyn Read> = if kind == Kind::File { Some(&mut entry) } else { None };
        sink.entry(&path, &kind, &meta, data)?;
        count += 1;
    }
    sink.finish()?;
    Ok(count)
}

/// Follows a tar stream's framing (512-byte headers, data padded to 512) as it is read, and
/// fails the read at the header of a GNU long name/link or PAX extension larger than
/// [`MAX_EXTENSION`], before the `tar` crate would allocate it.
pub struct TarGuard<R: Read> {
    inner: R,
    header: Vec<u8>,
    /// Bytes of the current entry's data (and padding) still to pass.
    left: u64,
    /// The data of a PAX header being passed (at most MAX_EXTENSION), for its `size` record.
    pax: Option<Vec<u8>>,
    /// A PAX `size` for the next entry.
    next_size: Option<u64>,
    /// GNU sparse extension blocks still to come.
    sparse_ext: bool,
    /// The data size of a GNU sparse entry, passed after its extension blocks.
    sparse_data: u64,
    done: bool,
}

impl<R: Read> TarGuard<R> {
    pub fn new(inner: R) -> Self {
        TarGuard {
            inner,
            header: Vec::with_capacity(512),
            left: 0,
            pax: None,
            next_size: None,
            sparse_ext: false,
            sparse_data: 0,
            done: false,
        }
    }

    fn feed(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() && !self.done {
            if self.left > 0 {
                let n = (self.left.min(buf.len() as u64)) as usize;
                if let Some(p) = self.pax.as_mut() {
                    p.extend_from_slice(&buf[..n]);
                }
                self.left -= n as u64;
                buf = &buf[n..];
                if self.left == 0 {
                    if let Some(p) = self.pax.take() {
                        self.next_size = pax_size(&p);
                    }
                }
                continue;
            }
            let n = (512 - self.header.len()).min(buf.len());
            self.header.extend_from_slice(&buf[..n]);
            buf = &buf[n..];
            if self.header.len() == 512 {
                let h = std::mem::take(&mut self.header);
                self.header.reserve(512);
                self.on_header(&h)?;
            }
        }
        Ok(())
    }

    fn on_header(&mut self, h: &[u8]) -> io::Result<()> {
        if self.sparse_ext {
            self.sparse_ext = h[504] != 0;
            if !self.sparse_ext {
                self.left = self.sparse_data;
            }
            return Ok(());
        }
        if h.iter().all(|&b| b == 0) {
            self.done = true; // end of archive: the tar crate stops here
            return Ok(());
        }
        let size = numeric(&h[124..136]).ok_or_else(|| invalid("a tar header has an unreadable size".into()))?;
        let kind = h[156];
        let extension = matches!(kind, b'L' | b'K' | b'x' | b'g');
        if extension && size > MAX_EXTENSION {
            return Err(invalid(format!(
                "a tar extension header (type `{}`) of {size} bytes: at most {MAX_EXTENSION} are accepted",
                kind as char
            )));
        }
        let size = if extension { size } else { self.next_size.take().unwrap_or(size) };
        // The `tar` crate honours extension headers only in ustar and GNU headers.
        let recognized = &h[257..265] == b"ustar\x0000" || &h[257..265] == b"ustar  \0";
        if kind == b'x' && recognized {
            self.pax = Some(Vec::with_capacity(size as usize));
        }
        self.left = size.div_ceil(512) * 512;
        if kind == b'S' && h[482] != 0 {
            // GNU sparse: extension blocks come first, then the data.
            self.sparse_ext = true;
            self.sparse_data = self.left;
            self.left = 0;
        }
        if self.left == 0 {
            if let Some(p) = self.pax.take() {
                self.next_size = pax_size(&p);
            }
        }
        Ok(())
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A tar numeric field: octal text, or base-256 when the high bit of its first byte is set.
fn numeric(f: &[u8]) -> Option<u64> {
    if f[0] & 0x80 != 0 {
        let mut v: u64 = 0;
        for (i, &b) in f.iter().enumerate() {
            let b = if i == 0 { b & 0x7f } else { b };
            v = v.checked_mul(256)?.checked_add(b.into())?;
        }
        return Some(v);
    }
    let s = std::str::from_utf8(f).ok()?.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// The `size` record of PAX extension data (`<len> size=<n>\n` records).
fn pax_size(data: &[u8]) -> Option<u64> {
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..sp]).ok()?.parse().ok()?;
        if len <= sp || len > rest.len() {
            return None;
        }
        let rec = &rest[sp + 1..len];
        if let Some(v) = rec.strip_prefix(b"size=") {
            return std::str::from_utf8(v).ok()?.trim_end_matches('\n').parse().ok();
        }
        rest = &rest[len..];
    }
    None
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.feed(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_extension_headers_are_refused_before_they_are_read() {
        // A PAX header claiming 1 GiB of records: refused at its header, nothing allocated.
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_size(1 << 30);
        h.set_path("pax").unwrap();
        h.set_cksum();
        let mut stream = h.as_bytes().to_vec();
        stream.extend_from_slice(&[b'1'; 4096]);
        struct Nothing;
        impl Sink for Nothing {
            fn entry(&mut self, _: &[OsString], _: &Kind, _: &Meta, _: Option<&mut dyn Read>) -> Result<()> {
                Ok(())
            }
            fn finish(&mut self) -> Result<()> {
                Ok(())
            }
        }
        let err = read_tar(&mut stream.as_slice(), &mut Nothing).unwrap_err().to_string();
        assert!(err.contains("extension header (type `x`) of 1073741824 bytes"), "{err}");
    }

    #[test]
    fn a_normal_stream_with_long_names_and_pax_sizes_passes_the_guard() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("{}/f", "d".repeat(300));
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"hello"[..]).unwrap();
        b.append_pax_extensions([("size", &b"3"[..])]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, "g", &b"abc"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        struct Names(Vec<(String, u64)>);
        impl Sink for Names {
            fn entry(&mut self, p: &[OsString], _: &Kind, m: &Meta, d: Option<&mut dyn Read>) -> Result<()> {
                let mut v = Vec::new();
                if let Some(d) = d {
                    d.read_to_end(&mut v).unwrap();
                }
                assert_eq!(v.len() as u64, m.size);
                self.0.push((shown(p), m.size));
                Ok(())
            }
            fn finish(&mut self) -> Result<()> {
                Ok(())
            }
        }
        let mut names = Names(Vec::new());
        read_tar(&mut bytes.as_slice(), &mut names).unwrap();
        assert_eq!(names.0, vec![(long, 5), ("g".to_string(), 3)]);
    }
}
