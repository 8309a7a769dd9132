//! Capabilities: Docker's default set, adjusted by cap_add / cap_drop, or everything when
//! privileged (capabilities(7)). Applied by shrinking the bounding set and clearing the
//! inheritable and ambient sets before exec, so a root workload's effective set after execve
//! equals the bounding set exactly, and a non-root one gets none (as in Docker). Inheritable is
//! cleared as in the fix for CVE-2022-24769.

use caps::{CapSet, Capability, CapsHashSet};

use super::config::CapsConfig;

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Parse `net_admin`, `NET_ADMIN` or `CAP_NET_ADMIN`.
pub fn parse_cap(name: &str) -> Result<Capability, String> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
    full.parse().map_err(|_| format!("unknown capability {name:?}"))
}

/// Every capability the kernel knows (privileged containers, `exec --privileged`).
pub fn all_caps() -> CapsHashSet {
    caps::all()
}

/// The capability set a container's processes get.
pub fn effective_set(cfg: &CapsConfig) -> Result<CapsHashSet, String> {
    if cfg.privileged {
        return Ok(all_caps());
    }
    let is_all = |n: &String| n.eq_ignore_ascii_case("all");
    let mut set: CapsHashSet =
        if cfg.drop.iter().any(is_all) { CapsHashSet::new() } else { DOCKER_DEFAULT.iter().copied().collect() };
    for d in cfg.drop.iter().filter(|n| !is_all(n)) {
        set.remove(&parse_cap(d)?);
    }
    for a in &cfg.add {
        if is_all(a) {
            set.extend(caps::all());
        } else {
            set.insert(parse_cap(a)?);
        }
    }
    Ok(set)
}

/// Bitmask of a set, as shown in /proc/PID/status (CapEff).
pub fn mask(set: &CapsHashSet) -> u64 {
    set.iter().fold(0, |m, c| m | c.bitmask())
}

/// Shrink the bounding set to `keep` and clear inheritable and ambient. Call while still
/// holding CAP_SETPCAP (before switching user).
pub fn restrict(keep: &CapsHashSet) -> Result<(), String> {
    for cap in caps::all() {
        if !keep.contains(&cap) {
            // Capabilities the running kernel does not know yield EINVAL: nothing to drop.
            if let Err(e) = caps::drop(None, CapSet::Bounding, cap) {
                if caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
                    return Err(format!("drop {cap} from the bounding set: {e}"));
                }
            }
        }
    }
    caps::clear(None, CapSet::Ambient).map_err(|e| format!("clear ambient capabilities: {e}"))?;
    caps::clear(None, CapSet::Inheritable).map_err(|e| format!("clear inheritable capabilities: {e}"))?;
    Ok(())
}

/// Shrink this process's own effective and permitted sets to `keep` (for a root process that
/// will not exec, such as the init: the bounding set only limits what an exec gains).
/// Effective first: it must stay a subset of permitted at every step.
pub fn limit_current(keep: &CapsHashSet) -> Result<(), String> {
    for set in [CapSet::Effective, CapSet::Permitted] {
        let now = caps::read(None, set).map_err(|e| format!("read {set:?} capabilities: {e}"))?;
        let limited: CapsHashSet = now.intersection(keep).copied().collect();
        caps::set(None, set, &limited).map_err(|e| format!("limit {set:?} capabilities: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_is_dockers_mask() {
        let set = effective_set(&CapsConfig::default()).unwrap();
        assert_eq!(mask(&set), 0xa80425fb);
    }

    #[test]
    fn add_and_drop_adjust_the_default() {
        let cfg = CapsConfig {
            add: vec!["net_admin".into()],
            drop: vec!["CAP_CHOWN".into(), "mknod".into()],
            privileged: false,
        };
        let set = effective_set(&cfg).unwrap();
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_CHOWN));
        assert!(!set.contains(&Capability::CAP_MKNOD));
        let only = CapsConfig { add: vec!["KILL".into()], drop: vec!["all".into()], privileged: false };
        assert_eq!(effective_set(&only).unwrap().into_iter().collect::<Vec<_>>(), [Capability::CAP_KILL]);
        assert!(effective_set(&CapsConfig { add: vec!["bogus".into()], ..Default::default() }).is_err());
    }
}
