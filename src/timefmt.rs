//! RFC 3339 UTC timestamps from Unix time, without a date crate: the image store stamps
//! `created` in seconds, the runtime stamps log records and container state in nanoseconds.

/// Now as RFC 3339 UTC with nanoseconds.
pub fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    rfc3339(d.as_secs() as i64, Some(d.subsec_nanos()))
}

/// `YYYY-MM-DDThh:mm:ssZ`, or with `nanos` `YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ`.
pub fn rfc3339(secs: i64, nanos: Option<u32>) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let frac = nanos.map(|n| format!(".{n:09}")).unwrap_or_default();
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{frac}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's days-from-civil
/// inverse, valid over the whole proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_and_without_nanoseconds() {
        assert_eq!(rfc3339(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400, Some(5)), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(-1, None), "1969-12-31T23:59:59Z");
    }
}
