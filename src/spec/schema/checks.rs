//! Scalar checks that a type alone cannot express: durations, byte sizes, restart and pull
//! policies, ranges. Each returns the whole message, in the form
//! "invalid value `x`; expected …".

use super::shape::{Check, Shape};
use crate::spec::units::{parse_bytes, parse_duration};

pub const DURATION: Shape = Shape::Check(Check { what: "a duration", check: duration });
pub const BYTES: Shape = Shape::Check(Check { what: "a byte size", check: bytes });
/// A byte size, or -1 for "unlimited" (memswap_limit).
pub const BYTES_OR_UNLIMITED: Shape = Shape::Check(Check { what: "a byte size", check: bytes_or_unlimited });
pub const PULL_POLICY: Shape = Shape::Check(Check { what: "a string", check: pull_policy });
pub const CONTAINER_NAME: Shape = Shape::Check(Check { what: "a string", check: container_name });
pub const OOM_SCORE_ADJ: Shape = Shape::Check(Check { what: "an integer", check: oom_score_adj });
pub const PERCENT: Shape = Shape::Check(Check { what: "an integer", check: percent });
pub const NON_NEGATIVE: Shape = Shape::Check(Check { what: "an integer", check: non_negative });
/// A device count: an integer or `all`.
pub const COUNT: Shape = Shape::Check(Check { what: "an integer or `all`", check: count });
/// cpu_rt_period / cpu_rt_runtime: microseconds, or a duration.
pub const MICROS_OR_DURATION: Shape =
    Shape::Check(Check { what: "an integer or a duration", check: micros_or_duration });

fn duration(s: &str) -> Result<(), String> {
    parse_duration(s).map(drop).map_err(|e| e.to_string())
}

fn bytes(s: &str) -> Result<(), String> {
    parse_bytes(s).map(drop).map_err(|e| e.to_string())
}

fn bytes_or_unlimited(s: &str) -> Result<(), String> {
    if s.trim() == "-1" {
        return Ok(());
    }
    bytes(s)
}

fn pull_policy(s: &str) -> Result<(), String> {
    let ok = match s.strip_prefix("every_") {
        Some(d) => every(d),
        None => {
            matches!(s, "always" | "never" | "build" | "if_not_present" | "missing" | "refresh" | "daily" | "weekly")
        }
    };
    if ok {
        return Ok(());
    }
    Err(format!(
        "invalid value `{s}`; expected one of always, never, missing, build, refresh, if_not_present, daily, weekly or every_<interval> (e.g. every_12h)"
    ))
}

/// `every_` intervals: one or more `<digits><w|d|h|m|s>` groups, as the Compose schema's
/// pattern has it.
fn every(d: &str) -> bool {
    let mut digits = 0;
    let mut groups = 0;
    for c in d.chars() {
        match c {
            '0'..='9' => digits += 1,
            'w' | 'd' | 'h' | 'm' | 's' if digits > 0 => {
                digits = 0;
                groups += 1;
            }
            _ => return false,
        }
    }
    groups > 0 && digits == 0
}

/// Docker's container name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, anchored (the Compose schema's
/// pattern is unanchored, which would let `bad name!` through).
fn container_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = s.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        return Ok(());
    }
    Err(format!(
        "invalid container name `{s}`; expected at least two letters, digits, `_`, `.` or `-`, starting with a letter or digit"
    ))
}

fn int_in(s: &str, lo: i64, hi: i64) -> Result<(), String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        Ok(_) => Err(format!("invalid value `{s}`; expected an integer from {lo} to {hi}")),
        Err(_) => Err(format!("invalid value `{s}`; expected an integer")),
    }
}

fn oom_score_adj(s: &str) -> Result<(), String> {
    int_in(s, -1000, 1000)
}

fn percent(s: &str) -> Result<(), String> {
    int_in(s, 0, 100)
}

fn non_negative(s: &str) -> Result<(), String> {
    int_in(s, 0, i64::MAX)
}

fn count(s: &str) -> Result<(), String> {
    if s == "all" || s.trim().parse::<u64>().is_ok() {
        return Ok(());
    }
    Err(format!("invalid value `{s}`; expected a non-negative integer or `all`"))
}

fn micros_or_duration(s: &str) -> Result<(), String> {
    if s.trim().parse::<i64>().is_ok() || parse_duration(s).is_ok() {
        return Ok(());
    }
    Err(format!("invalid value `{s}`; expected an integer (microseconds) or a duration such as 400ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policies() {
        for ok in [
            "always",
            "never",
            "build",
            "if_not_present",
            "missing",
            "refresh",
            "daily",
            "weekly",
            "every_12h",
            "every_1d2h30m",
        ] {
            assert!(pull_policy(ok).is_ok(), "{ok}");
        }
        for bad in ["sometimes", "every_", "every_h", "every_12", "every_12x"] {
            assert!(pull_policy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_names() {
        assert!(container_name("web-1").is_ok());
        assert!(container_name("a").is_err());
        assert!(container_name("-web").is_err());
        assert!(container_name("bad name!").is_err());
    }

    #[test]
    fn ranges_and_counts() {
        assert!(oom_score_adj("-1000").is_ok());
        assert_eq!(oom_score_adj("1001").unwrap_err(), "invalid value `1001`; expected an integer from -1000 to 1000");
        assert!(count("all").is_ok() && count("2").is_ok() && count("some").is_err());
        assert!(micros_or_duration("400ms").is_ok() && micros_or_duration("950000").is_ok());
        assert!(bytes_or_unlimited("-1").is_ok() && bytes_or_unlimited("-2").is_err());
    }
}
