//! How berth writes to the terminal, chosen once per process by the global `--ansi` and
//! `--progress` flags (or COMPOSE_ANSI / COMPOSE_PROGRESS): whether escape codes (colours,
//! ✔ marks) are used, and how progress lines look. Read by the CLI and the reconciler's
//! progress and log printers; nothing here does I/O.

use std::sync::atomic::{AtomicU8, Ordering};

/// `--ansi`: when to print ANSI escape codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Ansi {
    /// Only when the stream is a terminal.
    #[default]
    Auto,
    Never,
    Always,
}

/// `--progress`: how `up`, `down`, `create`… report what they do (on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// `tty` on a terminal, else `plain`.
    #[default]
    Auto,
    /// Styled lines (` ✔ Container demo-web-1  Started  0.3s`).
    Tty,
    /// Plain lines (`Container demo-web-1  Started  0.3s`).
    Plain,
    /// One JSON object per line (`{"id":"Container demo-web-1","status":"Started",…}`).
    Json,
    /// Nothing but errors.
    Quiet,
}

static ANSI: AtomicU8 = AtomicU8::new(0);
static PROGRESS: AtomicU8 = AtomicU8::new(0);

/// Set both for this process (the CLI does, before any output).
pub fn set(ansi: Ansi, progress: ProgressMode) {
    ANSI.store(ansi as u8, Ordering::Relaxed);
    PROGRESS.store(progress as u8, Ordering::Relaxed);
}

pub fn ansi() -> Ansi {
    match ANSI.load(Ordering::Relaxed) {
        1 => Ansi::Never,
        2 => Ansi::Always,
        _ => Ansi::Auto,
    }
}

pub fn progress() -> ProgressMode {
    match PROGRESS.load(Ordering::Relaxed) {
        1 => ProgressMode::Tty,
        2 => ProgressMode::Plain,
        3 => ProgressMode::Json,
        4 => ProgressMode::Quiet,
        _ => ProgressMode::Auto,
    }
}

/// Whether to colour output written to a stream that `is_terminal` or not.
pub fn colour(is_terminal: bool) -> bool {
    match ansi() {
        Ansi::Auto => is_terminal,
        Ansi::Never => false,
        Ansi::Always => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enums_round_trip_through_the_atomics() {
        // The only test that sets them, so no other test sees a changed mode.
        for (a, p) in [
            (Ansi::Never, ProgressMode::Json),
            (Ansi::Always, ProgressMode::Quiet),
            (Ansi::Auto, ProgressMode::Plain),
            (Ansi::Auto, ProgressMode::Tty),
        ] {
            set(a, p);
            assert_eq!((ansi(), progress()), (a, p));
        }
        set(Ansi::Never, ProgressMode::Auto);
        assert!(!colour(true));
        set(Ansi::Always, ProgressMode::Auto);
        assert!(colour(false));
        set(Ansi::Auto, ProgressMode::Auto);
        assert!(colour(true) && !colour(false));
    }
}
