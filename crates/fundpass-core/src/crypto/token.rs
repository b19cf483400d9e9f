//! Opaque bearer tokens (session ids, app tokens, flow ids, reset tickets) and short
//! numeric codes (SMS codes).
//!
//! Tokens carry 256 bits from the CSPRNG and are stored only as their SHA-256: a
//! database reader cannot replay them. Codes are six digits drawn without modulo
//! bias and stored as a keyed MAC bound to what they were issued for.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::keyring::Keyring;
use super::mac::mac;
use crate::ports::SecretGenerator;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of a token's text form (base64url, no padding).
pub const TOKEN_CHARS: usize = 43;

/// A bearer token as the client holds it. Debug never shows it.
#[derive(Clone)]
pub struct OpaqueToken(SecretString);

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueToken([redacted])")
    }
}

/// The SHA-256 of a token: what the database stores and looks up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenDigest({}…)", hex::encode(&self.0[..4]))
    }
}

impl OpaqueToken {
    /// A fresh token.
    pub fn generate(rng: &dyn SecretGenerator) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts text only if it has the exact form of a token, so junk never reaches
    /// the database.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == TOKEN_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(SecretString::from(raw.to_owned())))
    }

    /// The text to hand to the client (cookie value, JSON field, hidden input).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// What is stored.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.expose_secret().as_bytes()).into())
    }
}

/// Digits in a one-time code.
pub const CODE_DIGITS: usize = 6;

/// A one-time numeric code (SMS). Debug never shows it.
#[derive(Clone)]
pub struct OneTimeCode(SecretString);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode([redacted])")
    }
}

impl OneTimeCode {
    /// Six uniformly distributed digits (rejection sampling: no modulo bias).
    pub fn generate(rng: &dyn SecretGenerator) -> Self {
        const LIMIT: u32 = u32::MAX - (u32::MAX % 1_000_000);
        loop {
            let mut b = [0u8; 4];
            rng.fill(&mut b);
            let n = u32::from_be_bytes(b);
            if n < LIMIT {
                return Self(SecretString::from(format!("{:06}", n % 1_000_000)));
            }
        }
    }

    /// What the member typed, if it looks like a code (spaces ignored).
    pub fn parse(raw: &str) -> Option<Self> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(SecretString::from(digits)))
    }

    /// The digits, for the SMS text only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Keyring {
    /// Keyed MAC of a code bound to its purpose and to the flow it was issued in:
    /// the stored form, useless for another flow or purpose and unguessable
    /// from the database alone.
    pub fn code_mac(&self, purpose: &str, binding: &[u8], code: &OneTimeCode) -> [u8; 32] {
        let (_, key) = self.index.active_key();
        mac(
            self.suite,
            key.expose(),
            &[
                b"one-time-code",
                purpose.as_bytes(),
                binding,
                code.expose().as_bytes(),
            ],
        )
    }

    /// Whether `code` matches a stored MAC (constant-time comparison).
    pub fn code_matches(
        &self,
        purpose: &str,
        binding: &[u8],
        code: &OneTimeCode,
        stored: &[u8],
    ) -> bool {
        self.code_mac(purpose, binding, code).ct_eq(stored).into()
    }

    /// Keyed MAC of a short answer (captcha text, security answer), normalised by the
    /// caller.
    pub fn answer_mac(&self, purpose: &str, answer: &str) -> [u8; 32] {
        let (_, key) = self.index.active_key();
        mac(
            self.suite,
            key.expose(),
            &[b"answer", purpose.as_bytes(), answer.as_bytes()],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;
    use crate::testing::CountingRng;

    /// A SHA-256 hash chain: well-mixed bytes for the distribution check (the core
    /// has no operating-system randomness of its own).
    #[derive(Debug)]
    struct HashChainRng;
    impl SecretGenerator for HashChainRng {
        fn fill(&self, buf: &mut [u8]) {
            static STATE: std::sync::Mutex<[u8; 32]> = std::sync::Mutex::new([7u8; 32]);
            let mut state = STATE.lock().unwrap();
            for chunk in buf.chunks_mut(32) {
                *state = Sha256::digest(*state).into();
                chunk.copy_from_slice(&state[..chunk.len()]);
            }
        }
    }

    #[test]
    fn tokens_have_256_bits_and_only_their_digest_is_compared() {
        let t = OpaqueToken::generate(&CountingRng::default());
        assert_eq!(t.expose().len(), TOKEN_CHARS);
        let again = OpaqueToken::parse(t.expose()).unwrap();
        assert_eq!(again.digest(), t.digest());
        assert!(!format!("{t:?}").contains(t.expose()));
        assert!(OpaqueToken::parse("short").is_none());
        assert!(OpaqueToken::parse(&"a".repeat(42).replace('a', "%")).is_none());
    }

    #[test]
    fn ten_thousand_codes_have_six_digits_and_look_uniform() {
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            let c = OneTimeCode::generate(&HashChainRng);
            assert_eq!(c.expose().len(), 6);
            for d in c.expose().bytes() {
                counts[usize::from(d - b'0')] += 1;
            }
        }
        // 60,000 digits, 6,000 expected per digit; chi-square with 9 degrees of
        // freedom stays under 27.9 (p = 0.001) for a uniform source.
        let chi: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - 6000.0).powi(2) / 6000.0)
            .sum();
        assert!(chi < 27.9, "chi-square {chi}, counts {counts:?}");
    }

    #[test]
    fn a_code_matches_only_its_purpose_and_binding() {
        let rng = CountingRng::default();
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let code = OneTimeCode::parse("123 456").unwrap();
        let stored = ring.code_mac("register", b"flow-1", &code);
        assert!(ring.code_matches("register", b"flow-1", &code, &stored));
        assert!(!ring.code_matches("login", b"flow-1", &code, &stored));
        assert!(!ring.code_matches("register", b"flow-2", &code, &stored));
        assert!(!ring.code_matches(
            "register",
            b"flow-1",
            &OneTimeCode::parse("123457").unwrap(),
            &stored
        ));
        assert!(OneTimeCode::parse("12345").is_none());
        assert!(OneTimeCode::parse("12345a").is_none());
    }
}
