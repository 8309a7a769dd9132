//! Running a command as an unprivileged host user, for tests that play a local attacker:
//! `setpriv` (util-linux) switches to a uid/gid that no account and no file of the test uses,
//! with no supplementary groups and no capabilities. Nothing is added to /etc/passwd, so
//! there is nothing to remove afterwards.

use std::process::{Command, Output};

/// A uid/gid no account on a Debian host uses (below 65534 `nobody`, above system ranges).
pub const ATTACKER: u32 = 64_999;

/// Run `argv` as [`ATTACKER`].
pub fn as_attacker(argv: &[&str]) -> Output {
    Command::new("setpriv")
        .arg(format!("--reuid={ATTACKER}"))
        .arg(format!("--regid={ATTACKER}"))
        .args(["--clear-groups", "--inh-caps=-all", "--"])
        // setpriv keeps its capabilities (PR_SET_KEEPCAPS) until its own execve, so the program
        // it runs is looked up with root's powers: `env` (from a public path) makes the
        // attacker's lookup of `argv[0]` happen without any.
        .arg("/usr/bin/env")
        .args(argv)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("run setpriv")
}

/// Run `argv` as root (the control: the same command works for the owner).
pub fn as_root(argv: &[&str]) -> Output {
    Command::new(argv[0]).args(&argv[1..]).output().expect("run as root")
}
