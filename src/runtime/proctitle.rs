//! Process titles: what `ps -eo args`, `top -c` and /proc/PID/cmdline show for berth's helper
//! processes. A monitor reads `berth-monitor <container-name>`, so an operator looking at the
//! host sees which container each one serves; the container's init reads `berth-init`.
//!
//! prctl(PR_SET_MM_ARG_START) would need CAP_SYS_RESOURCE (missing on some hosts); instead
//! the memory the kernel reads the command line from (the ranges in /proc/self/stat fields
//! 48-51, proc(5)) is overwritten in place, as setproctitle(3) does. A title never outgrows
//! that area: it is cut to fit. Processes that will want a longer title than their arguments
//! hold are exec'd with [`room`] as an extra, blank argument.

/// A blank argument reserving room for a later title (see the module doc).
pub fn room() -> String {
    " ".repeat(ROOM)
}

/// Room for `berth-monitor ` and a container name of a reasonable length.
const ROOM: usize = 112;

/// Whether `arg` is the blank argument of [`room`].
pub fn is_room(arg: &str) -> bool {
    !arg.is_empty() && arg.bytes().all(|b| b == b' ')
}

/// Replace this process's command line by `title` (cut to the space the kernel gave its
/// arguments). With `blank_env` its environment area is zeroed too (the init: the monitor's
/// environment it was cloned with is not the container's business). Best effort: a failure
/// leaves the old command line, which is harmless.
pub fn set(title: &str, blank_env: bool) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return };
    // `rest` starts at field 3 (state): field N is tokens[N - 3].
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| tokens.get(n - 3).and_then(|v| v.parse::<usize>().ok());
    let (Some(arg_start), Some(arg_end), Some(env_start), Some(env_end)) = (field(48), field(49), field(50), field(51))
    else {
        return;
    };
    overwrite(arg_start, arg_end, title.as_bytes());
    if blank_env {
        overwrite(env_start, env_end, b"");
    }
}

/// Zero [start, end) and copy `text` to its start, keeping the last byte a NUL (so the kernel
/// reads the area as a plain argument list: see get_mm_cmdline in fs/proc/base.c).
fn overwrite(start: usize, end: usize, text: &[u8]) {
    if end <= start || end - start > 1 << 20 {
        return;
    }
    let len = end - start;
    // SAFETY: [start, end) is this process's own argument (or environment) area on its initial
    // stack, mapped writable for the life of the process (the kernel reads /proc/PID/cmdline
    // from it). Callers are single-threaded (the monitor, the init) and nothing reads the old
    // strings after this point: the helper collected its arguments into owned Strings first
    // thing (src/bin/berth-monitor.rs), and the init, which blanks its environment, no longer
    // reads it.
    unsafe {
        let p = start as *mut u8;
        std::ptr::write_bytes(p, 0, len);
        std::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len().min(len - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_blank_and_recognised() {
        assert!(is_room(&room()) && room().len() == ROOM);
        assert!(!is_room("") && !is_room(" x "));
    }
}
