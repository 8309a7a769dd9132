//! Keeps the benchmark harness from rotting: runs `bench/compare --smoke` (one run of every
//! suite, berth only, no peers, no installs) against the berth binary under test, and checks
//! that it exits 0 and prints a well-formed markdown table for every suite.
//!
//! Needs root (the primitives suite makes namespaces, mounts and cgroups); skips loudly otherwise.

use std::path::Path;
use std::process::Command;

const SUITES: &[&str] = &["primitives", "run", "up10", "chain10", "net10", "down10", "scale100", "restart", "watch"];
const COLUMNS: usize = 7;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Cells of one markdown table row, with `\|` kept inside a cell.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().expect("one cell").push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            _ => out.last_mut().expect("one cell").push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Every suite has a heading followed by a table whose rows all have the 7 columns, and every
/// row either has figures or says why it has none.
fn check_report(report: &str) {
    for suite in SUITES {
        let heading = format!("### {suite} — ");
        let start = report.find(&heading).unwrap_or_else(|| panic!("no section for suite {suite} in:\n{report}"));
        let section = &report[start + heading.len()..];
        let end = section.find("\n### ").unwrap_or(section.len());
        let rows: Vec<&str> = section[..end].lines().filter(|l| l.starts_with('|')).collect();
        assert!(rows.len() >= 3, "suite {suite}: no table (header, rule, one row) in:\n{report}");
        assert_eq!(
            cells(rows[0]),
            ["tool", "measure", "runs", "median", "min", "max", "ratio"],
            "suite {suite}: header"
        );
        for row in &rows[2..] {
            let c = cells(row);
            assert_eq!(c.len(), COLUMNS, "suite {suite}: malformed row {row:?}");
            assert!(!c[3].is_empty(), "suite {suite}: empty median cell in {row:?}");
            assert!(!c[3].contains("harness error"), "suite {suite}: {row:?}");
            assert!(
                c[2] == "—"
                    || c[2].starts_with("sum")
                    || c[2].starts_with("derived")
                    || c[2].parse::<u32>().is_ok_and(|n| n >= 1),
                "suite {suite}: bad runs cell in {row:?}"
            );
        }
    }
    // The kernel floor is berth-independent: it must always have a number.
    assert!(report.contains("| kernel | unshare(CLONE_NEWNET) | 1 |"), "primitives suite measured nothing:\n{report}");
}

#[test]
fn bench_compare_smoke() {
    if !is_root() {
        eprintln!("SKIP: needs root (bench/compare --smoke makes namespaces, mounts and cgroups)");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(repo.join("bench/compare"))
        .arg("--smoke")
        .env("BERTH_BIN", env!("CARGO_BIN_EXE_berth"))
        .output()
        .expect("run python3 bench/compare --smoke");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench/compare --smoke failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    check_report(&stdout);
}

#[test]
fn report_checker_rejects_a_malformed_table() {
    let good = SUITES
        .iter()
        .map(|s| {
            format!(
                "### {s} — x\n\n| tool | measure | runs | median | min | max | ratio |\n|---|---|---|---|---|---|---|\n\
                 | kernel | unshare(CLONE_NEWNET) | 1 | 1 ms | 1 ms | 1 ms | — |\n"
            )
        })
        .collect::<String>();
    check_report(&good);
    let bad = good.replacen("| 1 ms | — |", "| — |", 1);
    assert!(std::panic::catch_unwind(|| check_report(&bad)).is_err());
    assert_eq!(cells(r"| a | b \| c |"), ["a", "b | c"]);
}
