//! Kubernetes names: object names as RFC 1035 labels (the strictest rule any of the
//! generated kinds has: Services need it), and label values.

/// A valid DNS-1035 label for `raw`: lower-case, `[a-z0-9-]`, starting with a letter,
/// ending with a letter or digit, at most 63 characters. `_` and `.` become `-`.
pub fn dns_label(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert_str(0, "x-");
    }
    s.truncate(63);
    let trimmed = s.trim_end_matches('-');
    if trimmed.is_empty() {
        "x".into()
    } else {
        trimmed.to_string()
    }
}

/// A valid label value: `[A-Za-z0-9._-]`, starting and ending alphanumeric, at most 63.
pub fn label_value(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .take(63)
        .collect();
    s.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// A valid key of a Secret or ConfigMap: `[-._a-zA-Z0-9]+`.
pub fn data_key(raw: &str) -> String {
    let s: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect();
    if s.is_empty() {
        "content".into()
    } else {
        s
    }
}

/// Whether `key` is a valid label or annotation key: an optional DNS-1123 subdomain prefix
/// (at most 253) and `/`, then a name of at most 63 `[A-Za-z0-9._-]`, alphanumeric at both ends.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                part.len() <= 63
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && part.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && part.ends_with(|c: char| c.is_ascii_alphanumeric())
            })
    });
    name_ok && prefix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_names() {
        assert_eq!(dns_label("web"), "web");
        assert_eq!(dns_label("My_DB.primary"), "my-db-primary");
        assert_eq!(dns_label("1st"), "x-1st");
        assert_eq!(dns_label("a_"), "a");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
        assert_eq!(label_value("proj_"), "proj");
        assert_eq!(data_key("db password"), "db-password");
        assert!(is_qualified_name("com.example.team"));
        assert!(is_qualified_name("example.com/team_a"));
        assert!(!is_qualified_name("a/b/c"));
        assert!(!is_qualified_name("-x"));
        assert!(!is_qualified_name(&"k".repeat(64)));
    }
}
