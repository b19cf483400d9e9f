//! The keyed MAC behind blind indexes and the pepper: HMAC-SHA-256, or HMAC-SM3 when
//! the national-algorithm suite is selected.

use hmac::{Hmac, KeyInit, Mac};

use super::CipherSuite;

/// HMAC over the concatenation of length-prefixed `parts` (so that ("ab","c") and
/// ("a","bc") never collide).
pub(crate) fn mac(suite: CipherSuite, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    match suite {
        CipherSuite::Aes256Gcm => run::<Hmac<sha2::Sha256>>(key, parts),
        CipherSuite::Sm4Gcm => run::<Hmac<sm3::Sm3>>(key, parts),
    }
}

fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; an empty key (which the
    // keyring never holds) still yields a MAC rather than a panic.
    let mut m = match <M as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => <M as KeyInit>::new(&Default::default()),
    };
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    let out = m.finalize().into_bytes();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&out[..32]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_suites_give_different_macs_and_parts_are_framed() {
        let k = [7u8; 32];
        let a = mac(CipherSuite::Aes256Gcm, &k, &[b"ab", b"c"]);
        let b = mac(CipherSuite::Aes256Gcm, &k, &[b"a", b"bc"]);
        let c = mac(CipherSuite::Sm4Gcm, &k, &[b"ab", b"c"]);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
