//! Unit tests of the compiled filters: the programs run in a small classic-BPF interpreter
//! (below) with the kernel's rule for stacked filters, so what is checked is the verdict a
//! syscall gets, not the shape of the code.

use caps::Capability;

use super::*;
use crate::runtime::seccomp_default;

const ERRNO: u32 = 0x0005_0000;
const EPERM: u32 = ERRNO | libc::EPERM as u32;
const ENOSYS: u32 = ERRNO | libc::ENOSYS as u32;
const ALLOW: u32 = 0x7fff_0000;
const KILL_PROCESS: u32 = 0x8000_0000;

fn native_audit_arch() -> u32 {
    if cfg!(target_arch = "x86_64") {
        0xc000_003e
    } else {
        0xc000_00b7
    }
}

/// Run one program on seccomp_data { nr, arch, ip = 0, args } (linux/seccomp.h).
fn run(prog: &[sock_filter], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            0 => nr,
            4 => arch,
            8 | 12 => 0,
            o if (16..64).contains(&o) => {
                let a = args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
            o => panic!("load at offset {o}"),
        }
    };
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let i = &prog[pc];
        pc += 1;
        let jump = |cond: bool| if cond { i.jt as usize } else { i.jf as usize };
        match i.code {
            0x20 => a = word(i.k),            // ld [k]
            0x54 => a &= i.k,                 // and #k
            0x05 => pc += i.k as usize,       // ja
            0x15 => pc += jump(a == i.k),     // jeq
            0x25 => pc += jump(a > i.k),      // jgt
            0x35 => pc += jump(a >= i.k),     // jge
            0x45 => pc += jump(a & i.k != 0), // jset
            0x06 => return i.k,               // ret #k
            c => panic!("opcode {c:#x} not interpreted"),
        }
    }
}

/// The kernel's verdict over a stack (seccomp_run_filters): the lowest action as s32, the
/// newest filter winning ties.
fn verdict(progs: &[BpfProgram], nr: i64, arch: u32, args: [u64; 6]) -> u32 {
    let mut ret = ALLOW;
    for p in progs.iter().rev() {
        let r = run(p, nr as u32, arch, args);
        if ((r & 0xffff_0000) as i32) < ((ret & 0xffff_0000) as i32) {
            ret = r;
        }
    }
    ret
}

fn call(progs: &[BpfProgram], name: &str, args: [u64; 6]) -> u32 {
    let nr = syscall_nr(name).unwrap_or_else(|| panic!("{name} has no number here"));
    verdict(progs, nr, native_audit_arch(), args)
}

fn default_caps() -> CapsHashSet {
    crate::runtime::caps::DOCKER_DEFAULT.iter().copied().collect()
}

fn default_progs(caps: &CapsHashSet) -> Vec<BpfProgram> {
    programs(&SeccompMode::Default, caps).unwrap().unwrap()
}

#[test]
fn the_number_table_is_sorted_and_knows_the_usual_names() {
    let t = crate::runtime::seccomp_nrs::TABLE;
    assert!(t.windows(2).all(|w| w[0].0 < w[1].0), "TABLE must be sorted for the binary search");
    for n in ["read", "execve", "io_uring_setup", "io_uring_enter", "io_uring_register", "clone3", "mkdirat"] {
        assert!(syscall_nr(n).is_some(), "{n}");
    }
    assert_eq!(syscall_nr("read"), Some(libc::SYS_read));
    assert_eq!(syscall_nr("no_such_call"), None);
}

#[test]
fn default_profile_is_an_allowlist() {
    let progs = default_progs(&default_caps());
    for ok in ["read", "write", "execve", "openat", "getpid", "setresuid", "close_range", "rt_sigaction", "wait4"] {
        assert_eq!(call(&progs, ok, [0; 6]), ALLOW, "{ok}");
    }
    // Not in the list: EPERM (the default action).
    for denied in [
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "keyctl",
        "add_key",
        "userfaultfd",
        "kexec_load",
        "init_module",
        "open_by_handle_at",
        "mount",
        "umount2",
        "unshare",
        "setns",
        "bpf",
        "perf_event_open",
        "pivot_root",
        "fsopen",
        "sethostname",
        "ptrace",
        "reboot",
        "clock_settime",
    ] {
        // ptrace is allowed on kernels >= 4.8 even without CAP_SYS_PTRACE (moby's minKernel).
        let want = if denied == "ptrace" { ALLOW } else { EPERM };
        assert_eq!(call(&progs, denied, [0; 6]), want, "{denied}");
    }
}

#[test]
fn clone_socket_and_personality_arguments() {
    let progs = default_progs(&default_caps());
    let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
    assert_eq!(call(&progs, "clone", [thread, 0, 0, 0, 0, 0]), ALLOW);
    for ns in [libc::CLONE_NEWNET, libc::CLONE_NEWUSER, libc::CLONE_NEWNS, libc::CLONE_NEWPID] {
        assert_eq!(call(&progs, "clone", [ns as u64 | 17, 0, 0, 0, 0, 0]), EPERM, "clone flags {ns:#x}");
    }
    assert_eq!(call(&progs, "clone3", [0; 6]), ENOSYS, "clone3 → ENOSYS so libc falls back to clone");
    for (family, want) in [(libc::AF_UNIX, ALLOW), (libc::AF_INET, ALLOW), (libc::AF_NETLINK, ALLOW), (39, ALLOW)] {
        assert_eq!(call(&progs, "socket", [family as u64, 1, 0, 0, 0, 0]), want, "family {family}");
    }
    for family in [libc::AF_ALG, libc::AF_VSOCK] {
        assert_eq!(call(&progs, "socket", [family as u64, 1, 0, 0, 0, 0]), EPERM, "family {family}");
    }
    assert_eq!(call(&progs, "personality", [0; 6]), ALLOW);
    assert_eq!(call(&progs, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]), ALLOW);
    let read_implies_exec = 0x0040_0000;
    assert_eq!(call(&progs, "personality", [read_implies_exec, 0, 0, 0, 0, 0]), EPERM);
}

#[test]
fn capabilities_open_their_gates() {
    let mut caps = default_caps();
    caps.insert(Capability::CAP_SYS_ADMIN);
    let progs = default_progs(&caps);
    for ok in ["mount", "unshare", "setns", "sethostname", "clone3"] {
        assert_eq!(call(&progs, ok, [0; 6]), ALLOW, "{ok} with CAP_SYS_ADMIN");
    }
    assert_eq!(call(&progs, "clone", [libc::CLONE_NEWNET as u64, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(call(&progs, "kexec_load", [0; 6]), EPERM, "still no CAP_SYS_BOOT");
    caps.insert(Capability::CAP_SYS_TIME);
    caps.insert(Capability::CAP_DAC_READ_SEARCH);
    let progs = default_progs(&caps);
    assert_eq!(call(&progs, "clock_settime", [0; 6]), ALLOW);
    assert_eq!(call(&progs, "open_by_handle_at", [0; 6]), ALLOW);
    assert_eq!(call(&progs, "io_uring_setup", [0; 6]), EPERM, "no capability opens io_uring");
    // Privileged (every cap) with the default profile still has no io_uring, as Docker.
    let all = default_progs(&caps::all());
    assert_eq!(call(&all, "io_uring_enter", [0; 6]), EPERM);
}

#[test]
fn foreign_abis_and_future_syscalls() {
    let progs = default_progs(&default_caps());
    // Another ABI (i386 on x86_64, arm32 on aarch64): killed by the arch check.
    let foreign = if cfg!(target_arch = "x86_64") { 0x4000_0003 } else { 0x4000_0028 };
    assert_eq!(verdict(&progs, 0, foreign, [0; 6]), KILL_PROCESS);
    // A number above every one the profile names (a newer kernel's): ENOSYS, as runc.
    let max = seccomp_default::ENTRIES.iter().flat_map(|e| e.names).filter_map(|n| syscall_nr(n)).max().unwrap();
    assert_eq!(verdict(&progs, max + 1, native_audit_arch(), [0; 6]), ENOSYS);
    assert_eq!(verdict(&progs, max, native_audit_arch(), [0; 6]), ALLOW, "the highest named one is allowed");
    if cfg!(target_arch = "x86_64") {
        // x32: nr | __X32_SYSCALL_BIT under AUDIT_ARCH_X86_64 never reaches the allowlist.
        let x32_read = 0x4000_0000;
        let x32_mkdir = 0x4000_0000 | 83;
        assert_eq!(verdict(&progs, x32_read, native_audit_arch(), [0; 6]), EPERM);
        let deny_mkdir = custom(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
        );
        assert_eq!(verdict(&deny_mkdir, x32_mkdir, native_audit_arch(), [0; 6]), EPERM, "x32 alias of mkdir");
    }
}

fn custom(json: &str) -> Vec<BpfProgram> {
    let p = Profile::parse(json.as_bytes(), std::path::Path::new("t.json")).unwrap();
    programs(&SeccompMode::Profile(Box::new(p)), &default_caps()).unwrap().unwrap()
}

#[test]
fn custom_profiles_in_dockers_format() {
    // A denylist profile: default allow, mkdir → EACCES, chmod → default errno (EPERM).
    let progs = custom(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["not_a_syscall"], "action": "SCMP_ACT_KILL"}]}"#,
    );
    assert_eq!(call(&progs, "mkdirat", [0; 6]), ERRNO | 13);
    assert_eq!(call(&progs, "fchmodat", [0; 6]), EPERM);
    assert_eq!(call(&progs, "read", [0; 6]), ALLOW);
    assert_eq!(call(&progs, "io_uring_setup", [0; 6]), ALLOW, "a custom default-allow profile allows it");
    // An allowlist with caps-gated and argument entries, and the old `name` form.
    let progs = custom(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
            {"name": "read", "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_KILL"]}},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
            {"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(call(&progs, "read", [0; 6]), ALLOW);
    assert_eq!(call(&progs, "getpid", [0; 6]), ENOSYS, "defaultErrnoRet");
    assert_eq!(call(&progs, "mount", [0; 6]), ENOSYS, "no CAP_SYS_ADMIN");
    assert_eq!(call(&progs, "kill", [0; 6]), ENOSYS, "excluded: CAP_KILL is held");
    // Same index twice: ORed (fd 1 or 2); distinct indexes: ANDed.
    assert_eq!(call(&progs, "write", [1, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(call(&progs, "write", [2, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(call(&progs, "write", [3, 0, 0, 0, 0, 0]), ENOSYS);
    assert_eq!(call(&progs, "lseek", [3, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(call(&progs, "lseek", [3, 0, 1, 0, 0, 0]), ENOSYS);
    let notify = Profile::parse(br#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, std::path::Path::new("n.json")).unwrap();
    assert!(programs(&SeccompMode::Profile(Box::new(notify)), &default_caps()).is_err());
}

#[test]
fn unconfined_and_unloaded_files() {
    assert!(programs(&SeccompMode::Unconfined, &default_caps()).unwrap().is_none());
    let err = programs(&SeccompMode::File("/x/p.json".into()), &default_caps()).unwrap_err();
    assert!(err.contains("/x/p.json"), "{err}");
}

#[test]
fn kernel_versions_parse() {
    assert_eq!(parse_version("6.18.44-fc-v1098"), Some((6, 18)));
    assert_eq!(parse_version("4.8"), Some((4, 8)));
    assert_eq!(parse_version("5"), Some((5, 0)));
    assert_eq!(parse_version("x"), None);
}
