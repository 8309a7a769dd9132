//! Process limits checked before anything is created: ulimits (setrlimit(2)) and sysctls,
//! which must be namespaced (sysctl(8) keys that only affect the container's own ipc/net
//! namespace) — a host-wide sysctl would change the machine, so it is refused up front.

use nix::sys::resource::Resource;

use super::config::Ulimit;

/// Map a Docker ulimit name to the kernel resource.
pub fn resource(name: &str) -> Option<Resource> {
    Some(match name {
        "core" => Resource::RLIMIT_CORE,
        "cpu" => Resource::RLIMIT_CPU,
        "data" => Resource::RLIMIT_DATA,
        "fsize" => Resource::RLIMIT_FSIZE,
        "locks" => Resource::RLIMIT_LOCKS,
        "memlock" => Resource::RLIMIT_MEMLOCK,
        "msgqueue" => Resource::RLIMIT_MSGQUEUE,
        "nice" => Resource::RLIMIT_NICE,
        "nofile" => Resource::RLIMIT_NOFILE,
        "nproc" => Resource::RLIMIT_NPROC,
        "rss" => Resource::RLIMIT_RSS,
        "rtprio" => Resource::RLIMIT_RTPRIO,
        "rttime" => Resource::RLIMIT_RTTIME,
        "sigpending" => Resource::RLIMIT_SIGPENDING,
        "stack" => Resource::RLIMIT_STACK,
        "as" => Resource::RLIMIT_AS,
        _ => return None,
    })
}

/// Check names and soft <= hard; `current_hard` says what this process may raise to without
/// CAP_SYS_RESOURCE (which berth may not hold), so an impossible ulimit fails before start.
pub fn check_ulimit(u: &Ulimit, can_raise: bool) -> Result<Resource, String> {
    let res = resource(&u.name).ok_or_else(|| format!("unknown ulimit {:?}", u.name))?;
    if u.soft > u.hard {
        return Err(format!("ulimit {}: soft limit {} is above the hard limit {}", u.name, u.soft, u.hard));
    }
    if res == Resource::RLIMIT_NOFILE {
        above_nr_open(u, nr_open())?;
    }
    if !can_raise {
        if let Ok((_, hard)) = nix::sys::resource::getrlimit(res) {
            if u.hard > hard {
                return Err(format!(
                    "ulimit {}: hard limit {} is above this host's hard limit {hard}, which berth cannot raise without CAP_SYS_RESOURCE",
                    u.name, u.hard
                ));
            }
        }
    }
    Ok(res)
}

/// `fs.nr_open`: no process may have more open files, CAP_SYS_RESOURCE or not (setrlimit(2)
/// fails with EPERM above it). None when it cannot be read.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open").ok()?.trim().parse().ok()
}

/// A `nofile` ulimit above `fs.nr_open` (`nr_open`) is impossible on every host, for root with
/// CAP_SYS_RESOURCE too: refuse it before anything is created.
pub fn above_nr_open(u: &Ulimit, nr_open: Option<u64>) -> Result<(), String> {
    match nr_open {
        Some(max) if u.hard > max || u.soft > max => Err(format!(
            "ulimit {}: {}:{} is above this host's fs.nr_open ({max}), the most open files any process may have",
            u.name, u.soft, u.hard
        )),
        _ => Ok(()),
    }
}

/// Is `key` (dotted or slashed) a sysctl scoped to the container's own namespaces?
/// The list follows runc's validator (libcontainer/configs/validate).
pub fn is_namespaced_sysctl(key: &str, own_ipc: bool, own_net: bool, own_uts: bool) -> bool {
    let key = key.replace('/', ".");
    let ipc = matches!(
        key.as_str(),
        "kernel.msgmax"
            | "kernel.msgmnb"
            | "kernel.msgmni"
            | "kernel.sem"
            | "kernel.shmall"
            | "kernel.shmmax"
            | "kernel.shmmni"
            | "kernel.shm_rmid_forced"
    ) || key.starts_with("fs.mqueue.");
    let uts = matches!(key.as_str(), "kernel.domainname" | "kernel.hostname");
    (ipc && own_ipc) || (key.starts_with("net.") && own_net) || (uts && own_uts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctls_must_be_namespaced() {
        assert!(is_namespaced_sysctl("net.ipv4.ip_forward", true, true, true));
        assert!(is_namespaced_sysctl("kernel/shmmax", true, true, true));
        assert!(!is_namespaced_sysctl("net.core.somaxconn", true, false, true));
        assert!(!is_namespaced_sysctl("kernel.panic", true, true, true));
        assert!(!is_namespaced_sysctl("vm.swappiness", true, true, true));
    }

    #[test]
    fn ulimits_are_checked() {
        let bad = Ulimit { name: "nofile".into(), soft: 10, hard: 5 };
        assert!(check_ulimit(&bad, true).unwrap_err().contains("soft limit"));
        let unknown = Ulimit { name: "bogus".into(), soft: 1, hard: 1 };
        assert!(check_ulimit(&unknown, true).is_err());
        let huge = Ulimit { name: "nofile".into(), soft: 1, hard: u64::MAX - 1 };
        assert!(check_ulimit(&huge, false).unwrap_err().contains("ulimit nofile"));
        // Refused even where berth may raise limits (root with CAP_SYS_RESOURCE).
        assert!(check_ulimit(&huge, true).is_err() || nr_open().is_none());
    }

    #[test]
    fn nofile_above_nr_open_is_refused_whatever_the_capabilities() {
        let u = |soft, hard| Ulimit { name: "nofile".into(), soft, hard };
        let err = above_nr_open(&u(1024, 1 << 30), Some(1 << 20)).unwrap_err();
        assert!(err.contains("fs.nr_open (1048576)"), "{err}");
        assert!(above_nr_open(&u(1024, 1 << 20), Some(1 << 20)).is_ok());
        assert!(above_nr_open(&u(1024, 1 << 30), None).is_ok());
    }
}
