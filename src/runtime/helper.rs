//! Entry point of the `berth-monitor` helper binary (src/bin/berth-monitor.rs). It is kept
//! separate from the `berth` CLI so the resident monitor maps and touches as little as
//! possible (no clap, no tracing, no tokio): see the RSS note in mod.rs.
//!
//! Modes: `monitor <state-dir> [room]`, `zygote [room]`, `exec <state-dir> <exec-json> [console]`. (The init is a fork of the
//! container's first process, see `pid1`.)

use std::path::Path;

/// Dispatch on argv; returns the process exit status.
/// Releases a container's network sandbox (veth, address, hosts files, published ports):
/// what a monitor does after removing an orphaned `--rm` container. The network layer is the
/// runtime's peer, not a part of it, so the helper binary installs it (src/bin/berth-monitor.rs).
pub type ReleaseNetwork = fn(&crate::paths::Roots, &str) -> Result<(), String>;

static RELEASE_NETWORK: std::sync::OnceLock<ReleaseNetwork> = std::sync::OnceLock::new();

/// Install the network release hook (once, before [`main`]).
pub fn set_release_network(f: ReleaseNetwork) {
    let _ = RELEASE_NETWORK.set(f);
}

pub(super) fn release_network(roots: &crate::paths::Roots, id: &str) -> Result<(), String> {
    match RELEASE_NETWORK.get() {
        Some(f) => f(roots, id),
        None => Err("no network release hook installed in this helper".into()),
    }
}

pub fn main(args: &[String]) -> i32 {
    match args.get(1).map(String::as_str) {
        // An optional last argument is blank room for the monitor's title (see `proctitle`).
        Some("monitor") if args.len() == 3 || (args.len() == 4 && super::proctitle::is_room(&args[3])) => {
            // comm would otherwise be the fd number we were exec'd through.
            let _ = nix::sys::prctl::set_name(c"berth-monitor");
            // Only 0/1/2 are ours: an fd our starter's own parent leaked to it without
            // CLOEXEC (a CI runner's output pipe, say) would otherwise stay open as long as
            // the container runs, and whoever waits for that pipe's EOF would hang.
            // SAFETY: close_range(2) at the start of this freshly exec'd, single-threaded helper:
            // nothing in it has opened or refers to a descriptor from 3 up. No nix wrapper.
            unsafe { libc::close_range(3, u32::MAX, 0) };
            super::monitor::main(Path::new(&args[2]))
        }
        // Forks monitors on request (see `zygote`); fd 0 is the request socket.
        Some("zygote") if args.len() == 2 || (args.len() == 3 && super::proctitle::is_room(&args[2])) => {
            let _ = nix::sys::prctl::set_name(c"berth-zygote");
            // The room stays for the monitors it forks; until then it reads `berth-zygote`.
            super::proctitle::set("berth-zygote", false);
            // SAFETY: as for the monitor, below: nothing here has opened an fd from 3 up yet.
            unsafe { libc::close_range(3, u32::MAX, 0) };
            super::zygote::main()
        }
        // `exec <state-dir> <exec-json> console`: stdin is the socket the pty master goes out on.
        Some("exec") if args.len() == 4 || (args.len() == 5 && args[4] == "console") => {
            let _ = nix::sys::prctl::set_name(c"berth-exec");
            super::exec::main(Path::new(&args[2]), &args[3], args.len() == 5)
        }
        _ => {
            eprintln!("berth-monitor is berth's internal container helper; it is not meant to be run by hand");
            2
        }
    }
}
