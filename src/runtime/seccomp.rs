//! The default seccomp filter (seccomp(2)).
//!
//! Model: a DENYLIST derived from Docker's default profile (moby `profiles/seccomp/default.json`).
//! Docker's profile is an allowlist; every syscall it leaves out or gates behind a capability
//! outside the default set is denied here with EPERM, unless the container was granted that
//! capability (as Docker does for `--cap-add`). Everything else is allowed. This keeps new,
//! harmless syscalls working while closing the known escape and host-tampering classes:
//! kernel modules, kexec, reboot, the clock, keyrings, bpf/perf, userfaultfd, open_by_handle_at
//! (the "shocker" escape), mount and the new mount API, namespace creation (clone/unshare with
//! CLONE_NEW*, setns), and clone3 (ENOSYS, so libc falls back to clone whose flags we can see).

use std::collections::BTreeMap;

use caps::{Capability, CapsHashSet};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

type Rules = BTreeMap<i64, Vec<SeccompRule>>;

/// Syscalls denied unless the container holds `cap` (None: always denied).
fn gated() -> Vec<(Option<Capability>, Vec<i64>)> {
    use libc::*;
    use Capability::*;
    let sys_admin = vec![
        SYS_mount,
        SYS_umount2,
        SYS_pivot_root,
        SYS_setns,
        SYS_unshare,
        SYS_fsopen,
        SYS_fsconfig,
        SYS_fsmount,
        SYS_fspick,
        SYS_move_mount,
        SYS_open_tree,
        SYS_mount_setattr,
        SYS_quotactl,
        SYS_quotactl_fd,
        SYS_sethostname,
        SYS_setdomainname,
        SYS_name_to_handle_at,
        SYS_fanotify_init,
        SYS_lookup_dcookie,
        SYS_swapon,
        SYS_swapoff,
    ];
    let mut time = vec![SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex];
    let mut never = vec![SYS_userfaultfd, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_nfsservctl];
    let mut rawio = vec![];
    #[cfg(target_arch = "x86_64")]
    {
        time.push(SYS_time);
        never.extend([SYS_uselib, SYS_ustat, SYS_sysfs, SYS__sysctl]);
        rawio.extend([SYS_iopl, SYS_ioperm]);
    }
    vec![
        (Some(CAP_SYS_ADMIN), sys_admin),
        (Some(CAP_SYS_TIME), time),
        (Some(CAP_SYS_MODULE), vec![SYS_init_module, SYS_finit_module, SYS_delete_module]),
        (Some(CAP_SYS_BOOT), vec![SYS_reboot, SYS_kexec_load, SYS_kexec_file_load]),
        (Some(CAP_SYS_PACCT), vec![SYS_acct]),
        (Some(CAP_SYS_PTRACE), vec![SYS_kcmp, SYS_process_vm_readv, SYS_process_vm_writev]),
        (Some(CAP_SYS_NICE), vec![SYS_get_mempolicy, SYS_set_mempolicy, SYS_mbind, SYS_move_pages]),
        (Some(CAP_DAC_READ_SEARCH), vec![SYS_open_by_handle_at]),
        (Some(CAP_BPF), vec![SYS_bpf]),
        (Some(CAP_PERFMON), vec![SYS_perf_event_open]),
        (Some(CAP_SYS_RAWIO), rawio),
        (Some(CAP_SYSLOG), vec![SYS_syslog]),
        (None, never),
    ]
}

/// The CLONE_NEW* flags clone(2) may not carry without CAP_SYS_ADMIN.
const NS_FLAGS: [u64; 7] = [
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
];

/// The EPERM denylist for a container holding `caps`.
pub fn deny_rules(caps: &CapsHashSet) -> Result<Rules, String> {
    let mut rules = Rules::new();
    for (cap, calls) in gated() {
        if cap.is_some_and(|c| caps.contains(&c)) {
            continue;
        }
        for nr in calls {
            rules.insert(nr, Vec::new());
        }
    }
    // personality(2): Docker allows only a few personas; keep PER_LINUX and the query.
    let persona = |v: u64| SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, v);
    let p = SeccompRule::new(vec![
        persona(0).map_err(|e| e.to_string())?,
        persona(0x0008).map_err(|e| e.to_string())?,
        persona(0xffff_ffff).map_err(|e| e.to_string())?,
    ])
    .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_personality, vec![p]);
    if !caps.contains(&Capability::CAP_SYS_ADMIN) {
        let mut clone_rules = Vec::new();
        for flag in NS_FLAGS {
            let c = SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag)
                .map_err(|e| e.to_string())?;
            clone_rules.push(SeccompRule::new(vec![c]).map_err(|e| e.to_string())?);
        }
        rules.insert(libc::SYS_clone, clone_rules);
    }
    Ok(rules)
}

fn arch() -> Result<seccompiler::TargetArch, String> {
    std::env::consts::ARCH.try_into().map_err(|e: seccompiler::BackendError| e.to_string())
}

/// The two programs to install: the EPERM denylist, then clone3 → ENOSYS.
pub fn programs(caps: &CapsHashSet) -> Result<Vec<BpfProgram>, String> {
    let deny =
        SeccompFilter::new(deny_rules(caps)?, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch()?)
            .map_err(|e| e.to_string())?;
    let mut out = vec![BpfProgram::try_from(deny).map_err(|e| e.to_string())?];
    if !caps.contains(&Capability::CAP_SYS_ADMIN) {
        let clone3: Rules = [(libc::SYS_clone3, Vec::new())].into_iter().collect();
        let f = SeccompFilter::new(clone3, SeccompAction::Allow, SeccompAction::Errno(libc::ENOSYS as u32), arch()?)
            .map_err(|e| e.to_string())?;
        out.push(BpfProgram::try_from(f).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Install the programs (needs no_new_privs or CAP_SYS_ADMIN; call last before exec).
pub fn install(progs: &[BpfProgram]) -> Result<(), String> {
    for p in progs {
        seccompiler::apply_filter(p).map_err(|e| format!("install seccomp filter: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_caps_deny_the_escape_classes() {
        let caps = crate::runtime::caps::DOCKER_DEFAULT.iter().copied().collect();
        let rules = deny_rules(&caps).unwrap();
        for nr in [
            libc::SYS_mount,
            libc::SYS_kexec_load,
            libc::SYS_bpf,
            libc::SYS_open_by_handle_at,
            libc::SYS_keyctl,
            libc::SYS_init_module,
            libc::SYS_userfaultfd,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_clone,
        ] {
            assert!(rules.contains_key(&nr), "syscall {nr} not denied");
        }
        assert!(!rules.contains_key(&libc::SYS_read));
        assert_eq!(programs(&caps).unwrap().len(), 2);
    }

    #[test]
    fn sys_admin_lifts_the_mount_gate() {
        let caps = [Capability::CAP_SYS_ADMIN].into_iter().collect();
        let rules = deny_rules(&caps).unwrap();
        assert!(!rules.contains_key(&libc::SYS_mount));
        assert!(!rules.contains_key(&libc::SYS_clone));
        assert!(rules.contains_key(&libc::SYS_kexec_load));
    }
}
