//! The primitives both cloud providers' request signatures are built from:
//! SHA-256 in lower-case hex and HMAC-SHA256, from the `sha2` and `hmac` crates, and
//! the RFC 3986 percent-encoding Alibaba Cloud canonicalises query strings with.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Lower-case hex of the SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// HMAC-SHA256 of `message` under `key` (any length: HMAC hashes long keys and pads
/// short ones).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// `value` percent-encoded as RFC 3986 says for a query component: letters, digits
/// and `-_.~` as they are, every other UTF-8 byte as `%XX` in upper case (so a space
/// is `%20` and `*` is `%2A`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The inverse of [`percent_encode`] (and of any other percent-encoding): `None`
/// when a `%` is not followed by two hex digits or the bytes are not UTF-8. A `+` is
/// taken as a space, as form encoding writes it.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_standard_vectors() {
        // FIPS 180-2 "abc" and RFC 4231 test case 2.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn percent_encoding_follows_rfc_3986_and_reads_back() {
        let raw = "a b*c~d-e_f.g/h+i{\"code\":\"1\"}验";
        let encoded = percent_encode(raw);
        assert_eq!(
            encoded,
            "a%20b%2Ac~d-e_f.g%2Fh%2Bi%7B%22code%22%3A%221%22%7D%E9%AA%8C"
        );
        assert_eq!(percent_decode(&encoded).as_deref(), Some(raw));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%G1"), None);
        assert_eq!(percent_decode("%4"), None);
    }
}
