//! The device allowlist: one table ([`DEVICE_ALLOW`]), written as-is to the v1 `devices`
//! controller and compiled here into the eBPF program that is cgroup v2's device controller.
//!
//! Why: cgroup v2 has no `devices.allow` file. Its device controller is a program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE` attached (`BPF_CGROUP_DEVICE`) to the cgroup directory
//! (bpf(2); kernel docs admin-guide/cgroup-v2.rst, "Device controller"). Without one, a
//! container holding CAP_MKNOD (in Docker's default set) could mknod the host's disks or
//! /dev/mem and open them (mknod(2), the v1 devices.rst "Device Whitelist Controller").
//!
//! What the program checks, for every mknod(2) and open(2) of a device node by a process in
//! the cgroup: the kernel passes `struct bpf_cgroup_dev_ctx { access_type, major, minor }`
//! where `access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*`. The program unpacks type
//! (low 16 bits), access (high 16 bits), major and minor into r2..r5, then for each rule in
//! order: skip to the next rule unless the type matches (unless the rule is `a`), the requested
//! access is a subset of the rule's (unless the rule is `rwm`), the major matches (unless `*`)
//! and the minor matches (unless `*`); a rule that matches returns 1 (allow). After the last
//! rule it returns 0, which the kernel turns into EPERM. Same semantics as the v1 list: the
//! wildcard rules `c *:* m` / `b *:* m` allow creating any node but never reading or writing
//! one. The instructions are emitted by hand (as runc's devices/ebpf and crun's ebpf.c do), so
//! no compiler, clang or libbpf is needed.
//!
//! The attach uses `BPF_F_ALLOW_MULTI` and then detaches any program attached earlier to the
//! same directory (runc's replace semantics), so re-creating a cgroup never stacks programs.
//! The cgroup holds a reference to the attached program; our fd is closed on return.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Docker's default device allowlist, in v1 `devices.allow` syntax. Without it CAP_MKNOD would
/// let the container create and open the host's disks.
pub const DEVICE_ALLOW: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",    // null
    "c 1:5 rwm",    // zero
    "c 1:7 rwm",    // full
    "c 1:8 rwm",    // random
    "c 1:9 rwm",    // urandom
    "c 5:0 rwm",    // tty
    "c 5:1 rwm",    // console
    "c 5:2 rwm",    // ptmx
    "c 136:* rwm",  // pts
    "c 10:200 rwm", // net/tun
];

/// `BPF_DEVCG_ACC_*` bits (include/uapi/linux/bpf.h), also used as the rule's access mask.
pub const ACC_MKNOD: u32 = 1;
pub const ACC_READ: u32 = 2;
pub const ACC_WRITE: u32 = 4;
const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

#[derive(Debug, Error)]
pub enum DeviceBpfError {
    #[error("device rule {rule:?}: {reason}")]
    Rule { rule: String, reason: String },
    #[error("{op} on {}: {source}", path.display())]
    Sys {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the kernel rejected the device program for {}: {source}; verifier log: {log}", path.display())]
    Verifier {
        path: PathBuf,
        #[source]
        source: io::Error,
        log: String,
    },
}

impl DeviceBpfError {
    /// The errno of a failed syscall (EPERM/ENOSYS mean: no BPF cgroup-device support here).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Sys { source, .. } | Self::Verifier { source, .. } => source.raw_os_error(),
            Self::Rule { .. } => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, DeviceBpfError>;

/// Which device nodes a rule covers (`BPF_DEVCG_DEV_*`; `All` is v1's `a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevType {
    Block,
    Char,
    All,
}

impl DevType {
    /// The `BPF_DEVCG_DEV_*` value, `None` for `All`.
    pub fn bpf(self) -> Option<u32> {
        match self {
            Self::Block => Some(1),
            Self::Char => Some(2),
            Self::All => None,
        }
    }
}

/// One allowlist entry: `None` in major/minor is the `*` wildcard; access is `ACC_*` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub dev: DevType,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

impl Rule {
    /// The v1 semantics the program implements: does this rule allow `access` on the node?
    pub fn allows(&self, dev: DevType, major: u32, minor: u32, access: u32) -> bool {
        (self.dev == DevType::All || self.dev == dev)
            && access & self.access == access
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
    }
}

/// Parse one v1 line: `a`, or `TYPE MAJOR:MINOR ACCESS` with TYPE in `a b c`, numbers or `*`,
/// ACCESS a non-empty subset of `rwm`.
pub fn parse_rule(line: &str) -> Result<Rule> {
    let bad = |reason: &str| DeviceBpfError::Rule { rule: line.to_string(), reason: reason.to_string() };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let dev = match fields.first().copied() {
        Some("a") => DevType::All,
        Some("b") => DevType::Block,
        Some("c") => DevType::Char,
        _ => return Err(bad("type must be a, b or c")),
    };
    if fields == ["a"] {
        return Ok(Rule { dev, major: None, minor: None, access: ACC_ALL });
    }
    let [_, numbers, acc] = fields[..] else { return Err(bad("expected `TYPE MAJOR:MINOR ACCESS`")) };
    let (major, minor) = numbers.split_once(':').ok_or_else(|| bad("expected MAJOR:MINOR"))?;
    // Linux device numbers: 12-bit major, 20-bit minor; both fit a sign-extended BPF immediate.
    let num = |s: &str, max: u32| match s {
        "*" => Ok(None),
        _ => s.parse::<u32>().ok().filter(|n| *n <= max).map(Some).ok_or_else(|| bad("bad device number")),
    };
    let (major, minor) = (num(major, 0xfff)?, num(minor, 0xf_ffff)?);
    let mut access = 0;
    for c in acc.chars() {
        access |= match c {
            'm' => ACC_MKNOD,
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => return Err(bad("access must be made of r, w and m")),
        };
    }
    Ok(Rule { dev, major, minor, access })
}

pub fn parse_rules(lines: &[&str]) -> Result<Vec<Rule>> {
    lines.iter().map(|l| parse_rule(l)).collect()
}

/// One eBPF instruction (`struct bpf_insn`): opcode, dst/src registers, offset, immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

/// Opcodes used (include/uapi/linux/bpf_common.h, bpf.h): class | op | source.
pub mod op {
    pub const LDX_MEM_W: u8 = 0x01 | 0x60; // BPF_LDX | BPF_MEM | BPF_W
    pub const ALU_AND_K: u8 = 0x04 | 0x50; // 32-bit dst &= imm
    pub const ALU_RSH_K: u8 = 0x04 | 0x70; // 32-bit dst >>= imm
    pub const ALU_MOV_K: u8 = 0x04 | 0xb0; // 32-bit dst = imm
    pub const ALU_MOV_X: u8 = 0x04 | 0xb0 | 0x08; // 32-bit dst = src
    pub const JMP_JNE_K: u8 = 0x05 | 0x50; // if dst != imm goto +off
    pub const JMP_JNE_X: u8 = 0x05 | 0x50 | 0x08; // if dst != src goto +off
    pub const JMP_EXIT: u8 = 0x05 | 0x90;
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, dst, src, off, imm }
}

/// The program for `rules`: a 6-instruction prologue, one block per rule, a final deny.
pub fn program(rules: &[Rule]) -> Vec<Insn> {
    // r1 = ctx; r2 = type, r3 = access, r4 = major, r5 = minor.
    let mut out = vec![
        insn(op::LDX_MEM_W, 2, 1, 0, 0),
        insn(op::ALU_AND_K, 2, 0, 0, 0xffff),
        insn(op::LDX_MEM_W, 3, 1, 0, 0),
        insn(op::ALU_RSH_K, 3, 0, 0, 16),
        insn(op::LDX_MEM_W, 4, 1, 4, 0),
        insn(op::LDX_MEM_W, 5, 1, 8, 0),
    ];
    for rule in rules {
        out.extend(rule_block(rule));
    }
    out.extend([insn(op::ALU_MOV_K, 0, 0, 0, 0), insn(op::JMP_EXIT, 0, 0, 0, 0)]);
    out
}

/// One rule: conditional jumps past the block's end (to the next rule), then `return 1`.
/// Jump offsets are filled in once the block's length is known (offsets count from the
/// instruction after the jump).
fn rule_block(rule: &Rule) -> Vec<Insn> {
    let mut block = Vec::new();
    if let Some(t) = rule.dev.bpf() {
        block.push(insn(op::JMP_JNE_K, 2, 0, 0, t as i32));
    }
    if rule.access != ACC_ALL {
        // r1 = access & allowed; allowed only if that leaves the request unchanged.
        block.push(insn(op::ALU_MOV_X, 1, 3, 0, 0));
        block.push(insn(op::ALU_AND_K, 1, 0, 0, rule.access as i32));
        block.push(insn(op::JMP_JNE_X, 1, 3, 0, 0));
    }
    if let Some(major) = rule.major {
        block.push(insn(op::JMP_JNE_K, 4, 0, 0, major as i32));
    }
    if let Some(minor) = rule.minor {
        block.push(insn(op::JMP_JNE_K, 5, 0, 0, minor as i32));
    }
    block.extend([insn(op::ALU_MOV_K, 0, 0, 0, 1), insn(op::JMP_EXIT, 0, 0, 0, 0)]);
    let len = block.len();
    for (i, ins) in block.iter_mut().enumerate() {
        if ins.code == op::JMP_JNE_K || ins.code == op::JMP_JNE_X {
            ins.off = (len - i - 1) as i16;
        }
    }
    block
}

/// The kernel's `struct bpf_insn` bytes (registers share one byte, dst in the low nibble on
/// little-endian machines).
fn encode(insns: &[Insn]) -> Vec<u64> {
    insns
        .iter()
        .map(|i| {
            let regs = if cfg!(target_endian = "little") { i.dst | (i.src << 4) } else { (i.dst << 4) | i.src };
            let mut b = [0u8; 8];
            b[0] = i.code;
            b[1] = regs;
            b[2..4].copy_from_slice(&i.off.to_ne_bytes());
            b[4..8].copy_from_slice(&i.imm.to_ne_bytes());
            u64::from_ne_bytes(b)
        })
        .collect()
}

/// Load the program for `rules` and attach it to the cgroup2 directory `dir`, replacing any
/// device program attached there before. Our program fd is closed on return; the attachment
/// keeps the program alive until it is detached or the cgroup is removed.
pub fn apply(dir: &Path, rules: &[Rule]) -> Result<()> {
    let cg = File::open(dir).map_err(sys_err("open cgroup", dir))?;
    let old = query(cg.as_raw_fd(), dir)?;
    let prog = load(&encode(&program(rules)), dir)?;
    attach(cg.as_raw_fd(), prog.as_raw_fd(), dir)?;
    for id in old {
        detach_id(cg.as_raw_fd(), id, dir)?;
    }
    Ok(())
}

// bpf(2) commands, program and attach types and flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs may sit on one cgroup (and its ancestors); a device access is allowed only
/// if every one of them allows it, so ours can never widen what a parent allows.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `union bpf_attr` for BPF_PROG_LOAD, up to `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct LoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for BPF_PROG_ATTACH / BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// `union bpf_attr` for BPF_PROG_QUERY.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// `union bpf_attr` for BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(2), retried on EINTR and EAGAIN (the verifier may return EAGAIN under memory pressure).
fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<libc::c_long> {
    let mut tries = 0;
    loop {
        // SAFETY: attr is a live, initialized #[repr(C)] bpf_attr prefix of the size we pass;
        // the kernel reads it and may write back into it (query), nothing else.
        let r = unsafe {
            libc::syscall(libc::SYS_bpf, cmd, attr as *mut T as *mut libc::c_void, std::mem::size_of::<T>() as u32)
        };
        if r >= 0 {
            return Ok(r);
        }
        let err = io::Error::last_os_error();
        tries += 1;
        if tries >= 5 || !matches!(err.raw_os_error(), Some(libc::EINTR | libc::EAGAIN)) {
            return Err(err);
        }
    }
}

/// Wrap a raw fd returned by bpf(2) so it is closed exactly once.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: a non-negative return of BPF_PROG_LOAD / BPF_PROG_GET_FD_BY_ID is a new fd that
    // nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

fn sys_err(op: &'static str, dir: &Path) -> impl FnOnce(io::Error) -> DeviceBpfError {
    let path = dir.to_path_buf();
    move |source| DeviceBpfError::Sys { op, path, source }
}

fn load_once(insns: &[u64], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    const LICENSE: &[u8] = b"Apache-2.0\0";
    let mut attr = LoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        ..Default::default()
    };
    attr.prog_name[..13].copy_from_slice(b"berth_devices");
    if let Some(buf) = log {
        attr.log_level = 1;
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    bpf(BPF_PROG_LOAD, &mut attr).map(owned)
}

/// Load the program; on a verifier rejection, load again with a log to explain it.
fn load(insns: &[u64], dir: &Path) -> Result<OwnedFd> {
    // EINVAL / EACCES are the verifier's answers; anything else (EPERM, ENOSYS) is not about
    // the program and a second try would not explain it.
    let err = match load_once(insns, None) {
        Ok(fd) => return Ok(fd),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EACCES)) => e,
        Err(e) => return Err(sys_err("load device program", dir)(e)),
    };
    let mut log = vec![0u8; 64 << 10];
    let source = match load_once(insns, Some(&mut log)) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
    let log = if text.is_empty() { format!("(empty; first error: {err})") } else { text };
    Err(DeviceBpfError::Verifier { path: dir.to_path_buf(), source, log })
}

fn attach(cg: i32, prog: i32, dir: &Path) -> Result<()> {
    let mut attr = AttachAttr {
        target_fd: cg as u32,
        attach_bpf_fd: prog as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop).map_err(sys_err("attach device program", dir))
}

/// Ids of the device programs attached directly to the cgroup (not inherited ones).
fn query(cg: i32, dir: &Path) -> Result<Vec<u32>> {
    let mut ids = [0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cg as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr).map_err(sys_err("query device programs", dir))?;
    Ok(ids[..(attr.prog_cnt as usize).min(ids.len())].to_vec())
}

fn prog_fd(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdAttr { prog_id: id, ..Default::default() };
    bpf(BPF_PROG_GET_FD_BY_ID, &mut attr).map(owned)
}

/// Detach the program with this id; one already gone (ENOENT) is fine.
fn detach_id(cg: i32, id: u32, dir: &Path) -> Result<()> {
    let prog = match prog_fd(id) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        Err(e) => return Err(sys_err("open old device program", dir)(e)),
    };
    let mut attr = AttachAttr {
        target_fd: cg as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    match bpf(BPF_PROG_DETACH, &mut attr) {
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => Err(sys_err("detach old device program", dir)(e)),
        _ => Ok(()),
    }
}

/// Ids of the device programs attached to the cgroup2 directory `dir`.
pub fn attached_programs(dir: &Path) -> Result<Vec<u32>> {
    let cg = File::open(dir).map_err(sys_err("open cgroup", dir))?;
    query(cg.as_raw_fd(), dir)
}

/// Is a BPF program with this id still loaded? (Tests use it to check nothing leaked.)
pub fn program_exists(id: u32) -> bool {
    !matches!(prog_fd(id), Err(e) if e.raw_os_error() == Some(libc::ENOENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for exactly the opcodes `program` emits, so the generated code is
    /// checked against the rule semantics without root or a kernel.
    fn run(prog: &[Insn], dev: u32, access: u32, major: u32, minor: u32) -> u64 {
        const CTX: u64 = 0xc0ffee;
        let ctx = [(access << 16) | dev, major, minor];
        let mut r = [0u64; 11];
        r[1] = CTX;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            pc += 1;
            let (d, s) = (i.dst as usize, i.src as usize);
            let jump = |taken: bool| if taken { i.off as usize } else { 0 };
            match i.code {
                op::LDX_MEM_W => {
                    assert_eq!(r[s], CTX, "load from a register that no longer holds ctx");
                    r[d] = u64::from(ctx[i.off as usize / 4]);
                }
                op::ALU_AND_K => r[d] = u64::from(r[d] as u32 & i.imm as u32),
                op::ALU_RSH_K => r[d] = u64::from((r[d] as u32) >> i.imm),
                op::ALU_MOV_K => r[d] = u64::from(i.imm as u32),
                op::ALU_MOV_X => r[d] = u64::from(r[s] as u32),
                op::JMP_JNE_K => pc += jump(r[d] != i.imm as i64 as u64),
                op::JMP_JNE_X => pc += jump(r[d] != r[s]),
                op::JMP_EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    fn docker() -> Vec<Rule> {
        parse_rules(DEVICE_ALLOW).unwrap()
    }

    fn allowed(dev: DevType, major: u32, minor: u32, access: u32) -> bool {
        let t = dev.bpf().unwrap();
        run(&program(&docker()), t, access, major, minor) == 1
    }

    #[test]
    fn parses_v1_lines() {
        let r = parse_rule("c 136:* rwm").unwrap();
        assert_eq!(r, Rule { dev: DevType::Char, major: Some(136), minor: None, access: ACC_ALL });
        let r = parse_rule("b  *:*   m").unwrap();
        assert_eq!(r, Rule { dev: DevType::Block, major: None, minor: None, access: ACC_MKNOD });
        assert_eq!(parse_rule("a").unwrap(), Rule { dev: DevType::All, major: None, minor: None, access: ACC_ALL });
        assert_eq!(parse_rule("c 1:3 rw").unwrap().access, ACC_READ | ACC_WRITE);
        for bad in
            ["", "x 1:3 r", "c 1:3", "c 1-3 r", "c 1:3 rx", "c 4096:0 r", "c 1:1048576 r", "c a:3 r", "c 1:3 r w"]
        {
            assert!(parse_rule(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(parse_rule("c 1:3 rx").unwrap_err().to_string().contains("\"c 1:3 rx\""));
        assert_eq!(docker().len(), DEVICE_ALLOW.len());
    }

    #[test]
    fn program_shape_per_rule_kind() {
        let prologue = program(&[]).len() - 2;
        assert_eq!(prologue, 6);
        let block = |line: &str| program(&[parse_rule(line).unwrap()]).len() - prologue - 2;
        assert_eq!(block("c 1:3 rwm"), 5, "type + major + minor + return 1");
        assert_eq!(block("c 136:* rwm"), 4, "a wildcard minor emits no compare");
        assert_eq!(block("c *:* m"), 6, "type + 3-insn access check + return 1");
        assert_eq!(block("a"), 2, "`a` allows unconditionally");
        assert_eq!(program(&docker()).len(), 6 + 2 * 6 + 8 * 5 + 4 + 5 + 2);
        // The last two instructions are the default deny.
        let p = program(&docker());
        assert_eq!(p[p.len() - 2..], [insn(op::ALU_MOV_K, 0, 0, 0, 0), insn(op::JMP_EXIT, 0, 0, 0, 0)]);
    }

    #[test]
    fn every_jump_lands_on_the_next_rule() {
        let p = program(&docker());
        let starts: Vec<usize> = std::iter::once(6)
            .chain(p.iter().enumerate().filter(|(_, i)| i.code == op::JMP_EXIT).map(|(n, _)| n + 1))
            .collect();
        for (n, i) in p.iter().enumerate() {
            if i.code == op::JMP_JNE_K || i.code == op::JMP_JNE_X {
                let target = n + 1 + i.off as usize;
                assert!(starts.contains(&target), "jump at {n} lands at {target}, not a rule start");
                let exits = p[n..target].iter().filter(|j| j.code == op::JMP_EXIT).count();
                assert_eq!(exits, 1, "jump at {n} must skip exactly its own rule's `return 1`");
            }
        }
    }

    #[test]
    fn program_matches_docker_semantics() {
        use DevType::{Block, Char};
        assert!(allowed(Char, 1, 1, ACC_MKNOD), "c *:* m: any char node may be created");
        assert!(!allowed(Char, 1, 1, ACC_READ), "/dev/mem must not be readable");
        assert!(allowed(Block, 8, 0, ACC_MKNOD));
        assert!(!allowed(Block, 8, 0, ACC_READ) && !allowed(Block, 8, 0, ACC_WRITE));
        assert!(!allowed(Block, 8, 0, ACC_MKNOD | ACC_READ));
        for (maj, min) in
            [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, 0), (136, 77), (10, 200)]
        {
            assert!(allowed(Char, maj, min, ACC_ALL), "c {maj}:{min} rwm");
            assert!(!allowed(Block, maj, min, ACC_READ), "b {maj}:{min} r");
        }
        assert!(!allowed(Char, 10, 201, ACC_READ) && !allowed(Char, 1, 11, ACC_WRITE));
    }

    #[test]
    fn program_agrees_with_the_rules_everywhere() {
        let rules = docker();
        let extra = parse_rules(&["b 7:* r", "a", "c 4:1 w"]).unwrap();
        for set in [rules.clone(), vec![], extra, vec![rules[2]]] {
            let p = program(&set);
            for dev in [DevType::Block, DevType::Char] {
                for major in [0, 1, 4, 5, 7, 8, 10, 136, 4095] {
                    for minor in [0, 1, 3, 5, 7, 8, 9, 200, 0xf_ffff] {
                        for access in 1..=ACC_ALL {
                            let want = set.iter().any(|r| r.allows(dev, major, minor, access));
                            let got = run(&p, dev.bpf().unwrap(), access, major, minor) == 1;
                            assert_eq!(got, want, "{dev:?} {major}:{minor} access {access} rules {set:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn encodes_kernel_bpf_insn_layout() {
        let bytes = encode(&[insn(op::LDX_MEM_W, 4, 1, 4, 0), insn(op::JMP_JNE_K, 5, 0, 3, 136)])
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect::<Vec<u8>>();
        if cfg!(target_endian = "little") {
            assert_eq!(bytes, [0x61, 0x14, 4, 0, 0, 0, 0, 0, 0x55, 0x05, 3, 0, 136, 0, 0, 0]);
        }
    }
}
