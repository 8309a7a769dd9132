//! Identifiers: random ones from the kernel's CSPRNG (getrandom(2): container uids, anonymous
//! volume names, one-off container suffixes) and derived ones (a prefix of a SHA-256: kernel
//! object names, root ids, default hostnames, config hashes).

use sha2::{Digest, Sha256};

/// `bytes` random bytes as 2×`bytes` lower-case hex digits.
pub fn hex_id(bytes: usize) -> std::io::Result<String> {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).map_err(|e| {
        e.raw_os_error().map_or_else(|| std::io::Error::other(e.to_string()), std::io::Error::from_raw_os_error)
    })?;
    Ok(hex::encode(b))
}

/// How long a short id (and a default hostname) is: 12 hex digits, as Docker's.
pub const SHORT: usize = 12;

/// A random container id (`bytes` random bytes in hex) whose short form is not all decimal
/// digits, as Docker's ids: the short form is the default hostname, and resolvers take an
/// all-digit name for a number, not a name (glibc's `gethostbyname("541444741713")` fails).
pub fn container_id(bytes: usize) -> std::io::Result<String> {
    loop {
        let id = hex_id(bytes)?;
        if !all_digits(&id[..SHORT.min(id.len())]) {
            return Ok(id);
        }
    }
}

/// The default hostname derived from `seed` (a container's name): the first 12 hex digits of
/// its SHA-256, hashed again while they are all decimal digits (see [`container_id`]), so
/// the same container always gets the same name and it always resolves.
pub fn default_hostname(seed: &str) -> String {
    let mut h = sha256_hex(seed);
    while all_digits(&h[..SHORT]) {
        h = sha256_hex(&h);
    }
    h.truncate(SHORT);
    h
}

/// The hostname a container without one gets from its id: the id's first 12 characters
/// (without a trailing `-` or `.`), unless those are all digits; then [`default_hostname`].
pub fn hostname_of_id(id: &str) -> String {
    let short: String = id.chars().take(SHORT).collect::<String>().trim_end_matches(['-', '.']).to_string();
    if short.is_empty() || all_digits(&short) {
        default_hostname(id)
    } else {
        short
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// SHA-256 of `text` as 64 lower-case hex digits.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The first `n` (at most 64) hex digits of SHA-256(`text`).
pub fn short_hash(text: &str, n: usize) -> String {
    let mut h = sha256_hex(text);
    h.truncate(n);
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_hostnames_are_never_all_digits() {
        // Names whose SHA-256 starts with 12 decimal digits exist (about 1 in 280): the
        // v2 guest's pids made one ("541444741713") and `hostname -i` failed in it.
        let numeric = (0..20_000)
            .map(|i| format!("c-{i}"))
            .find(|n| super::short_hash(n, 12).bytes().all(|b| b.is_ascii_digit()));
        let name = numeric.expect("some name hashes to 12 digits");
        let h = super::default_hostname(&name);
        assert_eq!(h.len(), 12);
        assert!(!h.bytes().all(|b| b.is_ascii_digit()), "{name} -> {h}");
        assert_eq!(h, super::default_hostname(&name), "stable");
        assert_eq!(super::default_hostname("web"), super::short_hash("web", 12), "others keep their hash");
        assert_eq!(super::hostname_of_id("abc-web-1-xyz"), "abc-web-1-xy");
        assert_eq!(super::hostname_of_id("a-b-"), "a-b");
        assert!(!super::hostname_of_id("123456789012345").bytes().all(|b| b.is_ascii_digit()));
        for _ in 0..200 {
            let id = super::container_id(16).unwrap();
            assert!(!id[..12].bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn ids_have_the_asked_length_and_differ() {
        let a = super::hex_id(32).unwrap();
        let b = super::hex_id(32).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_are_sha256_prefixes() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(super::sha256_hex(""), empty);
        assert_eq!(super::short_hash("", 12), &empty[..12]);
    }
}
