//! `up --menu` (or COMPOSE_MENU=true): while attached on a terminal, single keys act on the
//! running stack, as docker compose's navigation menu does: `d` detaches (berth returns, the
//! stack keeps running, supervised as after `up -d`), `w` turns watch mode on and off (when the
//! stack has `develop.watch` rules). Docker Desktop's keys have no berth counterpart.
//!
//! The terminal goes to non-canonical, no-echo mode (signals still work: Ctrl-C stops the
//! stack as without the menu) and is restored on the way out.

use std::io::{IsTerminal as _, Read as _};
use std::os::fd::AsFd as _;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::paths::Roots;
use crate::spec::model::Stack;
use crate::watch::WatchOptions;

/// Whether the menu is on: `--menu[=BOOL]` wins over COMPOSE_MENU; only on a terminal (both
/// stdin, which it reads, and stdout, where the logs go).
pub fn wanted(flag: Option<bool>) -> bool {
    let env = std::env::var("COMPOSE_MENU").ok().map(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True"));
    flag.or(env).unwrap_or(false) && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Runs `attached` (the log stream) with the menu's key reader beside it; `can_watch` says
/// whether `w` has rules to watch.
pub fn with_menu<T>(
    roots: &Roots,
    stack: &Stack,
    watch_opts: &WatchOptions,
    can_watch: bool,
    attached: impl FnOnce() -> T,
) -> T {
    let _keys = crate::runtime::attach::RawMode::keys();
    let watch_hint = if can_watch { "w Enable Watch" } else { "w (no develop.watch rules)" };
    eprintln!("\x1b[2m  d Detach   {watch_hint}\x1b[0m");
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| read_keys(roots, stack, watch_opts, can_watch, &done));
        let result = attached();
        done.store(true, Ordering::SeqCst);
        result
    })
}

/// Reads single keys until `done`; a watch it started is stopped before it returns.
fn read_keys(roots: &Roots, stack: &Stack, watch_opts: &WatchOptions, can_watch: bool, done: &AtomicBool) {
    let stop_watch = AtomicBool::new(false);
    std::thread::scope(|s| {
        let mut watcher: Option<std::thread::ScopedJoinHandle<'_, ()>> = None;
        let stdin = std::io::stdin();
        while !done.load(Ordering::SeqCst) {
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(100u16)) {
                Ok(n) if n > 0 => {}
                _ => continue,
            }
            let mut key = [0u8; 1];
            match stdin.lock().read(&mut key) {
                Ok(1) => {}
                // End of input: no more keys, the stack goes on.
                _ => break,
            }
            match key[0] {
                b'd' | b'D' => {
                    crate::reconciler::attach::request_detach();
                    break;
                }
                b'w' | b'W' if !can_watch => eprintln!("watch: the stack has no develop.watch rules"),
                b'w' | b'W' => match watcher.take() {
                    Some(w) => {
                        stop_watch.store(true, Ordering::SeqCst);
                        let _ = w.join();
                        eprintln!("\x1b[2m  Watch disabled\x1b[0m");
                    }
                    None => {
                        stop_watch.store(false, Ordering::SeqCst);
                        eprintln!("\x1b[2m  Watch enabled\x1b[0m");
                        let stop = &stop_watch;
                        watcher = Some(s.spawn(move || {
                            if let Err(e) =
                                crate::watch::watch(roots, stack, watch_opts, stop, &crate::watch::StderrReport)
                            {
                                eprintln!("watch: {e}");
                            }
                        }));
                    }
                },
                _ => {}
            }
        }
        stop_watch.store(true, Ordering::SeqCst);
        if let Some(w) = watcher {
            let _ = w.join();
        }
    });
}
