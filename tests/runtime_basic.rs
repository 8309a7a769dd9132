//! The container baseline, as root against the real kernel: namespaces, rootfs, capabilities,
//! no_new_privs, masked paths, fds, users, exit codes, logs, and a clean removal.

#[path = "runtime_common/mod.rs"]
mod common;
mod support;

use common::*;

#[test]
fn exit_code_and_output_propagate() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let (code, out) = sh(&env, "exit", "echo hello; echo oops >&2; exit 42");
    assert_eq!(code, 42);
    assert_eq!(out, "hello\noops\n");
}

#[test]
fn sees_only_its_own_processes_and_hostname() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("ns");
    let mut cfg = config(&env, &id, &["sh", "-c", "ps -o pid,comm | tail -n +2; hostname; echo $$"]);
    cfg.hostname = Some("berth-test".into());
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // ps lists sh (pid 1) and ps itself (or tail), nothing of the host.
    assert!(lines.iter().filter(|l| l.contains("sh") || l.contains("ps") || l.contains("tail")).count() >= 2, "{out}");
    assert!(lines.len() <= 5, "more processes than expected:\n{out}");
    assert!(out.contains("berth-test\n"), "{out}");
    assert_eq!(lines.last(), Some(&"1"), "the shell is PID 1: {out}");
}

#[test]
fn no_host_mounts_and_standard_dev() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let (code, out) = sh(
        &env,
        "mounts",
        "cat /proc/mounts; ls /dev; test -c /dev/null && echo null-ok; echo x > /dev/null && echo write-ok; ls -d /dev/pts/ptmx /dev/shm /dev/mqueue",
    );
    assert_eq!(code, 0, "{out}");
    // The overlay's own options name its host dirs; no other mount may come from the host.
    let others: String = out.lines().filter(|l| !l.starts_with("overlay / ")).collect::<Vec<_>>().join("\n");
    assert!(
        !others.contains("/work") && !others.contains("/tmp/") && !others.contains("/dev/vda"),
        "host mounts visible:\n{out}"
    );
    assert!(out.contains("overlay / overlay"), "{out}");
    assert!(out.contains("proc /proc proc"), "{out}");
    assert!(out.contains("/sys sysfs ro"), "{out}");
    assert!(out.contains("/dev/shm tmpfs"), "{out}");
    for d in ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "null-ok", "write-ok"] {
        assert!(out.contains(d), "missing {d}:\n{out}");
    }
}

#[test]
fn default_capabilities_and_no_new_privs() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let (code, out) =
        sh(&env, "caps", "grep -E '^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapInh:\t0000000000000000"), "{out}");
    // As Docker: no_new_privs only with `no-new-privileges:true` (seccomp needs no NNP).
    assert!(out.contains("NoNewPrivs:\t0"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
}

#[test]
fn cannot_mount_or_write_proc_sys() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let script = "mount -t tmpfs none /mnt 2>&1 && echo MOUNTED; \
                  echo 1 > /proc/sys/kernel/panic 2>&1 && echo WROTE; \
                  cat /proc/kcore 2>&1 | head -c 10 | wc -c; \
                  unshare -U true 2>&1 && echo UNSHARED; echo done";
    let (code, out) = sh(&env, "mount", script);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("MOUNTED") && !out.contains("WROTE") && !out.contains("UNSHARED"), "{out}");
    assert!(out.contains("done"), "{out}");
}

#[test]
fn only_stdio_fds_reach_the_workload() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let (code, out) = sh(&env, "fds", "ls /proc/self/fd | sort -n | tr '\\n' ' '");
    assert_eq!(code, 0, "{out}");
    // 0,1,2 plus the fd ls itself opened for the directory (3).
    assert_eq!(out.trim(), "0 1 2 3", "{out}");
}

#[test]
fn runs_as_requested_user_with_groups() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("user");
    let mut cfg = config(&env, &id, &["sh", "-c", "id -u; id -g; id -G; grep CapEff /proc/self/status; echo $HOME"]);
    cfg.process.user = Some("app".into());
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000", "{out}");
    assert_eq!(lines[1], "1000", "{out}");
    assert!(lines[2].split(' ').any(|g| g == "2000"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
    assert!(out.contains("/home/app"), "{out}");
}

#[test]
fn missing_command_is_reported_clearly() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("nope");
    let cfg = config(&env, &id, &["/bin/nope"]);
    env.rt.create(&cfg).unwrap();
    let err = env.rt.start(&id).unwrap_err().to_string();
    assert!(err.contains("exec: `/bin/nope` not found in the image"), "{err}");
    remove_and_check(&env, &id);
}

#[test]
fn non_namespaced_sysctl_and_impossible_ulimit_are_refused_before_creation() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("sysctl");
    let mut cfg = config(&env, &id, &["true"]);
    cfg.sysctls.insert("kernel.panic".into(), "1".into());
    let err = env.rt.create(&cfg).unwrap_err().to_string();
    assert!(err.contains("sysctl kernel.panic is not namespaced"), "{err}");
    let mut cfg = config(&env, &id, &["true"]);
    // Above fs.nr_open: refused on every host, by a root with CAP_SYS_RESOURCE too.
    let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open").unwrap().trim().parse().unwrap();
    cfg.process.ulimits.push(berth::runtime::Ulimit { name: "nofile".into(), soft: 1024, hard: nr_open + 1 });
    let err = env.rt.create(&cfg).unwrap_err().to_string();
    assert!(err.contains("ulimit nofile"), "{err}");
    assert!(!env.roots.container_state(&id).exists());
}

#[test]
fn namespaced_sysctl_ulimit_readonly_root_and_mounts() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("opts");
    let host_dir = env.dir.path().join("vol");
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(host_dir.join("f"), "from-host").unwrap();
    let mut cfg = config(&env, &id, &["sh", "-c",
        "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ulimit -n; cat /data/f; touch /data/g 2>&1 || echo ro-vol; \
         touch /x 2>&1 || echo ro-root; touch /scratch/y && echo tmpfs-ok"]);
    cfg.sysctls.insert("net.ipv4.ip_unprivileged_port_start".into(), "80".into());
    cfg.process.ulimits.push(berth::runtime::Ulimit { name: "nofile".into(), soft: 512, hard: 1024 });
    cfg.rootfs.read_only = true;
    cfg.mounts.push(berth::runtime::Mount::Bind {
        source: host_dir.clone(),
        target: "/data".into(),
        read_only: true,
        propagation: Default::default(),
    });
    cfg.mounts.push(berth::runtime::Mount::Tmpfs { target: "/scratch".into(), size: Some(1 << 20), mode: None });
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!(code, 0, "{out}");
    for want in ["80\n", "512\n", "from-host", "ro-vol", "ro-root", "tmpfs-ok"] {
        assert!(out.contains(want), "missing {want:?}:\n{out}");
    }
    assert!(!host_dir.join("g").exists());
}

#[test]
fn mount_targets_cannot_escape_the_rootfs_through_symlinks() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let outside = env.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // The image points two entries at the host directory, absolutely and with ../ hops.
    std::os::unix::fs::symlink(&outside, env.rootfs.join("abs")).unwrap();
    let hops = format!("../../../../../../../../..{}", outside.display());
    std::os::unix::fs::symlink(hops, env.rootfs.join("rel")).unwrap();
    let src = env.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let id = id("escape");
    let mut cfg = config(&env, &id, &["sh", "-c", "ls -d /abs/t1 /rel/t2 && echo mounted"]);
    cfg.mounts.push(berth::runtime::Mount::Tmpfs { target: "/abs/t1".into(), size: None, mode: None });
    cfg.mounts.push(berth::runtime::Mount::Bind {
        source: src,
        target: "/rel/t2".into(),
        read_only: false,
        propagation: Default::default(),
    });
    let (code, _, out) = run(&env, &cfg);
    remove_and_check(&env, &id);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mounted"), "{out}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "a mount target was created outside the rootfs");
}

#[test]
fn log_is_rotated_at_its_size_limit() {
    if !support::require_root() {
        return;
    }
    let env = env();
    let id = id("rotate");
    let mut cfg = config(&env, &id, &["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done"]);
    cfg.log_max_size = Some(4096);
    let (code, _, out) = run(&env, &cfg);
    let log = env.rt.log_path(&id);
    let rotated = berth::runtime::logs::rotated(&log);
    assert!(rotated.exists(), "no rotation");
    assert!(std::fs::metadata(&log).unwrap().len() <= 4096);
    remove_and_check(&env, &id);
    assert_eq!(code, 0);
    assert!(out.ends_with("line 299\n"), "{out}");
}

#[test]
fn host_block_devices_cannot_be_opened_even_with_mknod() {
    if !support::require_root() {
        return;
    }
    // The host root fs's device numbers, from our own mountinfo ("maj:min" is field 3).
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = info.lines().find(|l| l.split(' ').nth(4) == Some("/")).unwrap();
    let (maj, min) = line.split(' ').nth(2).unwrap().split_once(':').unwrap();
    let env = env();
    let script = format!(
        "mknod /tmp/disk b {maj} {min} && echo made; head -c 1 /tmp/disk >/dev/null 2>&1 && echo READ-DISK; echo done"
    );
    let (code, out) = sh(&env, "mknod", &script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("done"), "{out}");
    assert!(!out.contains("READ-DISK"), "the container read the host's disk: {out}");
}
