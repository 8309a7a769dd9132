//! Seccomp (seccomp(2)): a [`Profile`] (Docker's default from [`super::seccomp_default`], or a
//! user's `seccomp=FILE`) compiled for the native architecture and the container's
//! capabilities into classic BPF programs, installed by the container's processes before exec.
//!
//! seccompiler builds one program per action, so a profile with several actions becomes a
//! small stack of programs; the kernel runs them all and keeps the most restrictive result, the
//! newest program winning among equals (seccomp(2), "return values"):
//! 1. the gate: every syscall named by an entry whose action differs from the default (with the
//!    entry's argument conditions) → ALLOW, anything else → the default action;
//! 2. one program per other action (e.g. clone3 → ERRNO(ENOSYS)): its syscalls → that action,
//!    anything else → ALLOW;
//! 3. the guard, written by hand: on x86_64 every x32 syscall (nr | 0x40000000, same
//!    AUDIT_ARCH_X86_64, which seccompiler's arch check lets through) gets the default action,
//!    so an x32 alias can never bypass a rule; and, as runc does, a syscall numbered above every
//!    syscall the profile names (one a newer kernel added) gets ENOSYS instead of EPERM, so libc
//!    falls back to an older call rather than failing.
//!
//! Every program starts with seccompiler's arch check: a syscall of another ABI (i386 `int
//! 0x80` on x86_64, arm32 on aarch64) kills the process.
//!
//! Installed while the process still holds CAP_SYS_ADMIN (before the user switch), which is
//! what lets berth leave no_new_privs off by default as Docker does (see `process.rs`).

use std::collections::BTreeMap;

use caps::CapsHashSet;
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use super::config::SeccompMode;
use super::seccomp_profile::{Action, Arg, Filter, Op, Profile, SyscallRule};

/// Syscall → rules (empty: unconditional), as seccompiler takes them.
type Rules = BTreeMap<i64, Vec<SeccompRule>>;

/// The programs for a container's processes: None when unconfined.
pub fn programs(mode: &SeccompMode, caps: &CapsHashSet) -> Result<Option<Vec<BpfProgram>>, String> {
    match mode {
        SeccompMode::Unconfined => Ok(None),
        SeccompMode::Default => compile(&super::seccomp_default::profile(), caps).map(Some),
        SeccompMode::Profile(p) => compile(p, caps).map(Some),
        SeccompMode::File(path) => {
            Err(format!("seccomp profile {} was not loaded when the container was created", path.display()))
        }
    }
}

/// Install the programs in order. Needs CAP_SYS_ADMIN (in the caller's user namespace) or
/// no_new_privs. Not `seccompiler::apply_filter`: that sets no_new_privs first, every time,
/// which would take setuid (sudo, su) away from every container, which Docker does not do.
pub fn install(progs: &[BpfProgram]) -> Result<(), String> {
    for p in progs {
        let len = u16::try_from(p.len()).map_err(|_| format!("seccomp program of {} instructions", p.len()))?;
        let prog = libc::sock_fprog { len, filter: p.as_ptr().cast_mut().cast::<libc::sock_filter>() };
        // SAFETY: seccomp(2) SECCOMP_SET_MODE_FILTER copies `len` instructions from `filter`
        // (seccompiler's sock_filter is #[repr(C)] with the layout of linux/filter.h's, as is
        // libc's) and keeps no pointer to them; `p` outlives the call.
        let rc = unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) };
        if rc != 0 {
            return Err(format!("install seccomp filter: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// The syscall number of `name` on the native architecture; None when it has none there.
pub fn syscall_nr(name: &str) -> Option<i64> {
    let t = super::seccomp_nrs::TABLE;
    t.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| t[i].1)
}

/// The native architecture as Docker's profiles name it (Go's GOARCH).
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn target_arch() -> Result<seccompiler::TargetArch, String> {
    std::env::consts::ARCH.try_into().map_err(|e: seccompiler::BackendError| e.to_string())
}

fn action(a: Action, errno: Option<u32>) -> Result<SeccompAction, String> {
    Ok(match a {
        Action::Allow => SeccompAction::Allow,
        Action::Errno => SeccompAction::Errno(errno.unwrap_or(libc::EPERM as u32)),
        Action::KillThread => SeccompAction::KillThread,
        Action::KillProcess => SeccompAction::KillProcess,
        Action::Trap => SeccompAction::Trap,
        Action::Trace => SeccompAction::Trace(errno.unwrap_or(0)),
        Action::Log => SeccompAction::Log,
        Action::Notify => return Err("SCMP_ACT_NOTIFY needs a seccomp agent, which berth does not have".into()),
    })
}

/// The running kernel's (major, minor), for `minKernel`.
fn kernel_version() -> (u32, u32) {
    let rel = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    parse_version(&rel).unwrap_or((0, 0))
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next().unwrap_or("0").parse().unwrap_or(0)))
}

/// Whether an entry applies to this container (moby's `setupSeccomp`): every included cap
/// held, no excluded one; the native arch among included arches and not excluded ones.
fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

fn applies(rule: &SyscallRule, caps: &[String], kernel: &mut impl FnMut() -> (u32, u32)) -> bool {
    let arch = go_arch();
    let min_ok = |f: &Filter, k: &mut dyn FnMut() -> (u32, u32)| {
        f.min_kernel.as_deref().and_then(parse_version).map(|min| k() >= min)
    };
    if let Some(ex) = &rule.excludes {
        if list(&ex.arches).iter().any(|x| x == arch)
            || list(&ex.caps).iter().any(|x| caps.contains(x))
            || min_ok(ex, kernel) == Some(true)
        {
            return false;
        }
    }
    if let Some(inc) = &rule.includes {
        let arches = list(&inc.arches);
        if (!arches.is_empty() && !arches.iter().any(|x| x == arch))
            || !list(&inc.caps).iter().all(|x| caps.contains(x))
            || min_ok(inc, kernel) == Some(false)
        {
            return false;
        }
    }
    true
}

/// An entry's argument conditions as seccompiler rules (empty: unconditional). As runc does
/// for libseccomp: conditions on distinct arguments are ANDed in one rule; when an argument
/// appears twice, each condition becomes a rule of its own (ORed).
fn arg_rules(args: &[Arg]) -> Result<Vec<SeccompRule>, String> {
    let cond = |a: &Arg| {
        let op = match a.op {
            Op::Ne => SeccompCmpOp::Ne,
            Op::Lt => SeccompCmpOp::Lt,
            Op::Le => SeccompCmpOp::Le,
            Op::Eq => SeccompCmpOp::Eq,
            Op::Ge => SeccompCmpOp::Ge,
            Op::Gt => SeccompCmpOp::Gt,
            Op::MaskedEq => SeccompCmpOp::MaskedEq(a.value),
        };
        let value = if a.op == Op::MaskedEq { a.value_two } else { a.value };
        SeccompCondition::new(a.index, SeccompCmpArgLen::Qword, op, value)
            .map_err(|e| format!("seccomp argument {}: {e}", a.index))
    };
    if args.is_empty() {
        return Ok(Vec::new());
    }
    let repeated = args.iter().enumerate().any(|(i, a)| args[..i].iter().any(|b| b.index == a.index));
    let rule = |c: Vec<SeccompCondition>| SeccompRule::new(c).map_err(|e| e.to_string());
    if repeated {
        args.iter().map(|a| rule(vec![cond(a)?])).collect()
    } else {
        Ok(vec![rule(args.iter().map(cond).collect::<Result<_, _>>()?)?])
    }
}

/// Add rules for `nr`: unconditional (empty) wins over any conditions.
fn add(rules: &mut Rules, nr: i64, new: &[SeccompRule]) {
    use std::collections::btree_map::Entry;
    match rules.entry(nr) {
        Entry::Vacant(v) => {
            v.insert(new.to_vec());
        }
        Entry::Occupied(mut o) if new.is_empty() => o.get_mut().clear(),
        Entry::Occupied(mut o) if !o.get().is_empty() => o.get_mut().extend_from_slice(new),
        Entry::Occupied(_) => {}
    }
}

/// Compile `profile` for a container holding `caps` (matched by name, as Docker matches the
/// bounding set).
pub fn compile(profile: &Profile, caps: &CapsHashSet) -> Result<Vec<BpfProgram>, String> {
    let cap_names: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    let default = action(profile.default_action, Some(profile.default_errno_ret.unwrap_or(libc::EPERM as u32)))?;
    let mut kernel_cache = None;
    let mut kernel = || *kernel_cache.get_or_insert_with(kernel_version);
    // The gate's rules, then one rule set per other action, in first-seen order.
    let mut gate = Rules::new();
    let mut by_action: Vec<(SeccompAction, Rules)> = Vec::new();
    let mut max_nr = -1;
    for rule in profile.syscalls.iter().flatten() {
        if !applies(rule, &cap_names, &mut kernel) {
            continue;
        }
        let act = action(rule.action, rule.errno_ret)?;
        let conds = arg_rules(rule.args.as_deref().unwrap_or(&[]))?;
        for nr in rule.all_names().filter_map(syscall_nr) {
            max_nr = max_nr.max(nr);
            if act == default {
                continue;
            }
            add(&mut gate, nr, &conds);
            if act != SeccompAction::Allow {
                let i = match by_action.iter().position(|(a, _)| *a == act) {
                    Some(i) => i,
                    None => {
                        by_action.push((act.clone(), Rules::new()));
                        by_action.len() - 1
                    }
                };
                add(&mut by_action[i].1, nr, &conds);
            }
        }
    }
    let arch = target_arch()?;
    let build = |rules: Rules, mismatch: SeccompAction, matched: SeccompAction| -> Result<BpfProgram, String> {
        let f = SeccompFilter::new(rules, mismatch, matched, arch).map_err(|e| format!("seccomp filter: {e}"))?;
        BpfProgram::try_from(f).map_err(|e| format!("seccomp filter: {e}"))
    };
    let mut out = Vec::new();
    if default != SeccompAction::Allow {
        out.push(build(gate, default.clone(), SeccompAction::Allow)?);
    }
    for (act, rules) in by_action {
        out.push(build(rules, SeccompAction::Allow, act)?);
    }
    let x32 = if default == SeccompAction::Allow { SeccompAction::Errno(libc::EPERM as u32) } else { default.clone() };
    let enosys_above = (default != SeccompAction::Allow && max_nr >= 0).then_some(max_nr as u32);
    out.push(guard(arch, u32::from(x32), enosys_above));
    Ok(out)
}

// Classic BPF opcodes and seccomp_data offsets (linux/bpf_common.h, linux/seccomp.h).
/// BPF_LD | BPF_W | BPF_ABS (0x00 | 0x00 | 0x20).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x05 | 0x10;
const JGT_K: u16 = 0x05 | 0x20;
const JGE_K: u16 = 0x05 | 0x30;
const RET_K: u16 = 0x06;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// __X32_SYSCALL_BIT (arch/x86/include/uapi/asm/unistd.h).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The hand-written guard (step 3 of the module doc): x32 numbers → `x32_ret`; numbers above
/// `enosys_above` → ENOSYS; everything else (and other arches, which the main programs kill)
/// → ALLOW.
fn guard(arch: seccompiler::TargetArch, x32_ret: u32, enosys_above: Option<u32>) -> BpfProgram {
    let audit = match arch {
        seccompiler::TargetArch::x86_64 => 0xc000_003e,
        seccompiler::TargetArch::aarch64 => 0xc000_00b7,
    };
    let mut p = vec![ins(LD_W_ABS, 0, 0, OFF_ARCH), ins(JEQ_K, 1, 0, audit), ins(RET_K, 0, 0, RET_ALLOW)];
    p.push(ins(LD_W_ABS, 0, 0, OFF_NR));
    if arch == seccompiler::TargetArch::x86_64 {
        p.extend([ins(JGE_K, 0, 1, X32_SYSCALL_BIT), ins(RET_K, 0, 0, x32_ret)]);
    }
    if let Some(max) = enosys_above {
        p.extend([ins(JGT_K, 0, 1, max), ins(RET_K, 0, 0, RET_ERRNO | libc::ENOSYS as u32)]);
    }
    p.push(ins(RET_K, 0, 0, RET_ALLOW));
    p
}

#[cfg(test)]
#[path = "seccomp_tests.rs"]
mod tests;
