//! `top`: the processes of a container, found through its cgroup (every process the
//! container ever forked is in it, whatever pid namespace games it plays), described from
//! /proc as `ps -ef` does: UID PID PPID C STIME TTY TIME CMD (proc(5)).

use std::fs;

use serde::Serialize;

use crate::runtime::cgroup;

/// One process, as `ps -ef` shows it (host pids, as `docker top`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proc {
    pub uid: u32,
    pub pid: i32,
    pub ppid: i32,
    /// Lifetime CPU use in percent (ps's C column).
    pub c: u64,
    pub stime: String,
    pub tty: String,
    pub time: String,
    pub cmd: String,
}

impl Proc {
    pub fn row(&self) -> Vec<String> {
        let p = self;
        vec![
            p.uid.to_string(),
            p.pid.to_string(),
            p.ppid.to_string(),
            p.c.to_string(),
            p.stime.clone(),
            p.tty.clone(),
            p.time.clone(),
            p.cmd.clone(),
        ]
    }
}

pub const HEADER: &[&str] = &["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

/// The fields of /proc/PID/stat that `top` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFields {
    pub ppid: i32,
    pub tty_nr: u64,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in clock ticks.
    pub start_ticks: u64,
}

/// Parse /proc/PID/stat. The command name is in parentheses and may itself contain spaces
/// and parentheses, so the fields are counted from the *last* `)`.
pub fn parse_stat(text: &str) -> Option<StatFields> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(StatFields { ppid: f.get(1)?.parse().ok()?, tty_nr: n(4)?, cpu_ticks: n(11)? + n(12)?, start_ticks: n(19)? })
}

/// `pts/3` for a pseudo-terminal, `?` for none, `tty1` for a console (major/minor from
/// tty_nr as in proc(5)).
pub fn tty_name(tty_nr: u64) -> String {
    if tty_nr == 0 {
        return "?".into();
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 if minor < 64 => format!("tty{minor}"),
        _ => format!("{major}:{minor}"),
    }
}

/// `HH:MM:SS` of a tick count.
pub fn cpu_time(ticks: u64, hz: u64) -> String {
    let s = ticks / hz.max(1);
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// ps's STIME: `HH:MM` (UTC) when started within the last day, else `MonDD`.
pub fn start_time(start_unix: u64, now_unix: u64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let ts = crate::runtime::logs::rfc3339(start_unix as i64, 0);
    if now_unix.saturating_sub(start_unix) < 86_400 {
        return ts[11..16].to_string();
    }
    let month = ts[5..7].parse::<usize>().unwrap_or(1).clamp(1, 12);
    format!("{}{}", MONTHS[month - 1], &ts[8..10])
}

fn clock_ticks() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as u64,
        _ => 100,
    }
}

/// Seconds since the epoch at boot (`btime` in /proc/stat) and uptime in seconds.
fn boot_and_uptime() -> (u64, f64) {
    let btime = fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0);
    let uptime = fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0);
    (btime, uptime)
}

/// One process from /proc; None when it is gone.
pub fn read_proc(pid: i32) -> Option<Proc> {
    let stat = parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid =
        status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|v| v.split_whitespace().next()?.parse().ok())?;
    let hz = clock_ticks();
    let (btime, uptime) = boot_and_uptime();
    let elapsed = (uptime * hz as f64) as u64;
    let alive = elapsed.saturating_sub(stat.start_ticks).max(1);
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut cmd: String =
        raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(String::from_utf8_lossy).collect::<Vec<_>>().join(" ");
    if cmd.is_empty() {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        cmd = format!("[{}]", comm.trim());
    }
    Some(Proc {
        uid,
        pid,
        ppid: stat.ppid,
        c: stat.cpu_ticks * 100 / alive,
        stime: start_time(btime + stat.start_ticks / hz, btime + uptime as u64),
        tty: tty_name(stat.tty_nr),
        time: cpu_time(stat.cpu_ticks, hz),
        cmd,
    })
}

/// Every process of container `id` of the root with id `root_id` (by its cgroup), in pid order.
pub fn container_procs(root_id: &str, id: &str) -> Vec<Proc> {
    let cg = cgroup::load(root_id, id);
    if !cg.exists() {
        return Vec::new();
    }
    cgroup::procs(&cg).into_iter().filter_map(read_proc).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_odd_command_names() {
        let text = "4242 (my (odd) cmd) S 4200 4242 4242 34817 4242 4194560 100 0 0 0 30 12 0 0 20 0 1 0 5000 1000 200";
        let f = parse_stat(text).unwrap();
        assert_eq!(f, StatFields { ppid: 4200, tty_nr: 34817, cpu_ticks: 42, start_ticks: 5000 });
        assert_eq!(tty_name(34817), "pts/1");
        assert_eq!(tty_name(0), "?");
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn times_render_like_ps() {
        assert_eq!(cpu_time(100 * 3725, 100), "01:02:05");
        assert_eq!(start_time(1_767_225_599, 1_767_225_600), "23:59");
        assert_eq!(start_time(1_767_225_599, 1_767_225_599 + 3 * 86_400), "Dec31");
    }

    #[test]
    fn reads_our_own_process() {
        let me = read_proc(std::process::id() as i32).unwrap();
        assert_eq!(me.pid, std::process::id() as i32);
        assert!(!me.cmd.is_empty());
    }
}
