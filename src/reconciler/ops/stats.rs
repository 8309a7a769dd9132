//! `stats`: live resource use of containers, from the counters the kernel keeps anyway:
//! CPU time (v1 `cpuacct.usage`, v2 `cpu.stat` usage_usec) sampled twice, memory and its
//! limit (v1 `memory.usage_in_bytes`/`limit_in_bytes`, v2 `memory.current`/`max`, minus
//! inactive file cache as Docker reports it), `pids.current`, and traffic from
//! /proc/PID/net/dev, which shows the network namespace of that process (proc(5)).

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use cgroups_rs::Controller;
use serde::Serialize;

use super::human;
use crate::runtime::cgroup;

/// One container's numbers at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stats {
    pub name: String,
    pub cpu_percent: f64,
    pub mem_usage: u64,
    pub mem_limit: u64,
    pub mem_percent: f64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub pids: u64,
}

pub const HEADER: &[&str] = &["NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"];

impl Stats {
    pub fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            format!("{:.2}%", self.cpu_percent),
            format!("{} / {}", human::bytes_binary(self.mem_usage), human::bytes_binary(self.mem_limit)),
            format!("{:.2}%", self.mem_percent),
            format!("{} / {}", human::bytes_decimal(self.net_rx), human::bytes_decimal(self.net_tx)),
            self.pids.to_string(),
        ]
    }
}

/// What to sample: the container's id, its display name, and its PID 1 (for the netns).
#[derive(Debug, Clone)]
pub struct Target {
    /// The state root's id (`Roots::id`), which the container's cgroup name includes.
    pub root_id: &'static str,
    pub id: String,
    pub name: String,
    pub pid: Option<i32>,
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `key value` lines (memory.stat, cpu.stat).
pub fn stat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Total CPU time of the container's cgroup, in nanoseconds.
pub fn cpu_ns(root_id: &str, id: &str) -> Option<u64> {
    let cg = cgroup::load(root_id, id);
    if let Some(acct) = cg.controller_of::<cgroups_rs::cpuacct::CpuAcctController>() {
        if let Some(v) = read_u64(&acct.path().join("cpuacct.usage")) {
            return Some(v);
        }
    }
    let text = fs::read_to_string(cgroup::controller_dir(root_id, id, "cpu").join("cpu.stat")).ok()?;
    stat_value(&text, "usage_usec").map(|us| us * 1000)
}

/// Memory in use (without inactive file cache) and the limit (the host's memory when none).
pub fn memory(root_id: &str, id: &str) -> (u64, u64) {
    let dir = cgroup::controller_dir(root_id, id, "memory");
    let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    let (usage, limit, inactive) = if dir.join("memory.usage_in_bytes").exists() {
        (
            read_u64(&dir.join("memory.usage_in_bytes")),
            read_u64(&dir.join("memory.limit_in_bytes")),
            stat_value(&stat, "total_inactive_file"),
        )
    } else {
        (read_u64(&dir.join("memory.current")), read_u64(&dir.join("memory.max")), stat_value(&stat, "inactive_file"))
    };
    let usage = usage.unwrap_or(0).saturating_sub(inactive.unwrap_or(0));
    let host = host_memory();
    let limit = match limit {
        Some(l) if host == 0 || l < host => l,
        _ => host,
    };
    (usage, limit)
}

fn host_memory() -> u64 {
    let text = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

pub fn pids(root_id: &str, id: &str) -> u64 {
    read_u64(&cgroup::controller_dir(root_id, id, "pids").join("pids.current"))
        .unwrap_or_else(|| cgroup::procs(&cgroup::load(root_id, id)).len() as u64)
}

/// Received and sent bytes over every interface but loopback, from /proc/net/dev text.
pub fn parse_net_dev(text: &str) -> (u64, u64) {
    let mut rx_tx = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = counters.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if f.len() >= 9 {
            rx_tx.0 += f[0];
            rx_tx.1 += f[8];
        }
    }
    rx_tx
}

/// Sample every target twice, `interval` apart (CPU % is a rate), and return their numbers.
pub fn sample(targets: &[Target], interval: Duration) -> Vec<Stats> {
    let before: Vec<Option<u64>> = targets.iter().map(|t| cpu_ns(t.root_id, &t.id)).collect();
    let start = Instant::now();
    std::thread::sleep(interval);
    let wall = start.elapsed().as_nanos().max(1) as f64;
    targets
        .iter()
        .zip(before)
        .map(|(t, b)| {
            let cpu = match (b, cpu_ns(t.root_id, &t.id)) {
                (Some(b), Some(a)) => a.saturating_sub(b) as f64 / wall * 100.0,
                _ => 0.0,
            };
            let (mem_usage, mem_limit) = memory(t.root_id, &t.id);
            let (net_rx, net_tx) = t
                .pid
                .and_then(|p| fs::read_to_string(format!("/proc/{p}/net/dev")).ok())
                .map(|s| parse_net_dev(&s))
                .unwrap_or((0, 0));
            Stats {
                name: t.name.clone(),
                cpu_percent: cpu,
                mem_usage,
                mem_limit,
                mem_percent: if mem_limit > 0 { mem_usage as f64 * 100.0 / mem_limit as f64 } else { 0.0 },
                net_rx,
                net_tx,
                pids: pids(t.root_id, &t.id),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_sums_all_but_loopback() {
        let text = "Inter-|   Receive                            |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0\n  eth1:     500       1    0    0    0     0          0         0      300       5    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(text), (2000, 1000));
    }

    #[test]
    fn stat_lines_by_key() {
        let text = "cache 10\ntotal_inactive_file 4096\ninactive_file 7\n";
        assert_eq!(stat_value(text, "total_inactive_file"), Some(4096));
        assert_eq!(stat_value(text, "inactive_file"), Some(7));
        assert_eq!(stat_value(text, "nope"), None);
    }

    #[test]
    fn row_renders_like_docker_stats() {
        let s = Stats {
            name: "demo-web-1".into(),
            cpu_percent: 1.5,
            mem_usage: 1536 * 1024,
            mem_limit: 64 << 20,
            mem_percent: 2.34,
            net_rx: 1200,
            net_tx: 0,
            pids: 2,
        };
        assert_eq!(s.row(), ["demo-web-1", "1.50%", "1.5MiB / 64MiB", "2.34%", "1.2kB / 0B", "2"]);
    }
}
