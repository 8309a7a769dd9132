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
