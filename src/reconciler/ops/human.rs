//! Human-facing renderings shared by the operations commands: Docker's relative durations
//! ("3 seconds", "About a minute"), byte sizes (binary for memory, decimal for traffic, as
//! `docker stats` prints them), and the time formats `logs --since` accepts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Docker's `HumanDuration` (go-units): the coarse wording of `Up 3 seconds`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    let mins = secs / 60;
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match () {
        _ if secs < 1 => "Less than a second".to_string(),
        _ if secs == 1 => "1 second".to_string(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if mins == 1 => "About a minute".to_string(),
        _ if mins < 60 => format!("{mins} minutes"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// Binary sizes as `docker stats` shows memory: `1.5MiB`, `64MiB`, `0B`.
pub fn bytes_binary(n: u64) -> String {
    scaled(n as f64, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
}

/// Decimal sizes as `docker stats` shows traffic: `1.2kB`, `3MB`.
pub fn bytes_decimal(n: u64) -> String {
    scaled(n as f64, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB"])
}

fn scaled(mut v: f64, base: f64, units: &[&str]) -> String {
    let mut i = 0;
    while v >= base && i + 1 < units.len() {
        v /= base;
        i += 1;
    }
    // Four significant digits, trailing zeros dropped (Go's %.4g).
    let digits = if v >= 1000.0 {
        0
    } else if v >= 100.0 {
        1
    } else if v >= 10.0 {
        2
    } else {
        3
    };
    let mut s = format!("{v:.digits$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", units[i])
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time (`2026-01-01T10:00:00Z`,
/// `…T10:00:00.5+02:00`); None when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos: i128 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &frac[..n.min(9)];
        nanos = format!("{digits:0<9}").parse().ok()?;
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) && &rest[3..4] == ":" => {
            let m = rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60;
            if rest.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A Go-style duration: `90s`, `10m`, `1h30m`, `1.5h`, `500ms` (the stack file's syntax).
pub fn parse_duration(s: &str) -> Option<Duration> {
    crate::spec::units::parse_duration(s).ok()
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_nanos() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

/// `--since`/`--until`: a duration back from now, or an RFC 3339 time; as nanoseconds since
/// the epoch.
pub fn parse_since(s: &str, now: SystemTime) -> Option<i128> {
    if let Some(t) = parse_rfc3339(s) {
        return Some(t);
    }
    let back = parse_duration(s)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_nanos() as i128;
    Some(now - back.as_nanos() as i128)
}

/// Time elapsed since an RFC 3339 timestamp (zero when it is in the future or unparsable).
pub fn since(ts: &str, now: SystemTime) -> Duration {
    let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0);
    match parse_rfc3339(ts) {
        Some(t) if now > t => Duration::from_nanos((now - t).min(u64::MAX as i128) as u64),
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::logs::rfc3339;

    #[test]
    fn durations_read_like_docker() {
        let s = Duration::from_secs;
        assert_eq!(duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(duration(s(1)), "1 second");
        assert_eq!(duration(s(3)), "3 seconds");
        assert_eq!(duration(s(61)), "About a minute");
        assert_eq!(duration(s(600)), "10 minutes");
        assert_eq!(duration(s(3600)), "About an hour");
        assert_eq!(duration(s(5 * 3600)), "5 hours");
        assert_eq!(duration(s(3 * 86400)), "3 days");
        assert_eq!(duration(s(20 * 86400)), "2 weeks");
        assert_eq!(duration(s(90 * 86400)), "3 months");
        assert_eq!(duration(s(800 * 86400)), "2 years");
    }

    #[test]
    fn sizes_read_like_docker_stats() {
        assert_eq!(bytes_binary(0), "0B");
        assert_eq!(bytes_binary(64 << 20), "64MiB");
        assert_eq!(bytes_binary(1536 * 1024), "1.5MiB");
        assert_eq!(bytes_binary(123_456_789), "117.7MiB");
        assert_eq!(bytes_decimal(1200), "1.2kB");
        assert_eq!(bytes_decimal(999), "999B");
    }

    #[test]
    fn rfc3339_round_trips_with_the_runtime_format() {
        let ts = rfc3339(1_767_225_599, 123);
        assert_eq!(parse_rfc3339(&ts), Some(1_767_225_599 * 1_000_000_000 + 123));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.5Z"), Some(951_782_400 * 1_000_000_000 + 500_000_000));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
    }

    #[test]
    fn go_durations_and_since() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("5x"), None);
        let now = UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(parse_since("10s", now), Some(90_000_000_000));
        assert_eq!(parse_since("1970-01-01T00:00:05Z", now), Some(5_000_000_000));
        assert_eq!(since("1970-01-01T00:00:40Z", now), Duration::from_secs(60));
    }
}
