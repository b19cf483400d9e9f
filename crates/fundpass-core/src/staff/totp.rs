//! The staff second factor: TOTP (RFC 6238) as every authenticator app speaks it —
//! HMAC-SHA-1, 6 digits, 30-second steps, one step of clock drift either way — with
//! the replay rule RFC 6238 §5.2 asks for: a step, once used, is never accepted again.
//!
//! The shared secret comes from the [`SecretGenerator`] and is kept only sealed
//! ([`Field::TotpSecret`]); the `totp-rs` crate computes and compares the codes.

use secrecy::{ExposeSecret, SecretBox, SecretString};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::crypto::{Field, Keyring, SealError, Sealed};
use crate::ports::SecretGenerator;

/// Issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "fundpass";
/// Length of a new shared secret in bytes (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_LEN: usize = 20;
/// Seconds per step.
pub const TOTP_STEP_SECS: u64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: u8 = 6;
/// Steps of drift accepted before and after the current one.
const SKEW_STEPS: u64 = 1;

/// Why a TOTP secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// The stored secret did not open (wrong key, tampering).
    #[error("the stored TOTP secret cannot be opened")]
    Sealed(#[from] SealError),
    /// The stored secret is not base32 or has an unusable length.
    #[error("the stored TOTP secret is malformed")]
    Malformed,
    /// The account name cannot go into an otpauth URI.
    #[error("the enrolment URI cannot be built: {0}")]
    Uri(String),
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpRejection {
    /// Not the code of any step within the allowed drift.
    #[error("the code is wrong or expired")]
    Wrong,
    /// The code of a step already used (or older): a replay.
    #[error("the code was already used")]
    Replayed,
}

/// A staff member's shared TOTP secret, in memory only while enrolling or checking.
pub struct TotpSecret(SecretBox<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate(rng: &dyn SecretGenerator) -> Self {
        let mut bytes = vec![0u8; TOTP_SECRET_LEN];
        rng.fill(&mut bytes);
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// The secret encrypted for storage.
    pub fn seal(&self, keyring: &Keyring, rng: &dyn SecretGenerator) -> Sealed {
        let base32 = SecretString::from(self.base32());
        keyring.seal(Field::TotpSecret, base32.expose_secret(), rng)
    }

    /// The secret of a stored, sealed value.
    pub fn open(keyring: &Keyring, sealed: &Sealed) -> Result<Self, TotpError> {
        let base32 = SecretString::from(keyring.open(Field::TotpSecret, sealed)?);
        let secret =
            Secret::try_from_base32(base32.expose_secret()).map_err(|_| TotpError::Malformed)?;
        if secret.as_bytes().len() < 16 {
            return Err(TotpError::Malformed);
        }
        Ok(Self(SecretBox::new(Box::new(secret.as_bytes().to_vec()))))
    }

    /// The `otpauth://totp/fundpass:<account>?secret=…&issuer=fundpass` URI the
    /// enrolment QR code carries. It holds the secret: show it once, never log it.
    pub fn enrolment_uri(&self, account: &str) -> Result<SecretString, TotpError> {
        let totp = self.totp(Some(account))?;
        totp.to_url()
            .map(SecretString::from)
            .map_err(|e| TotpError::Uri(e.to_string()))
    }

    /// Checks `code` at `now` against the steps within the allowed drift that are
    /// newer than `last_step` (the step of the last accepted code, if any). On success
    /// returns the step to store as the new `last_step`.
    pub fn verify(
        &self,
        code: &str,
        now: OffsetDateTime,
        last_step: Option<i64>,
    ) -> Result<i64, TotpRejection> {
        let totp = self.totp(None).map_err(|_| TotpRejection::Wrong)?;
        let Ok(seconds) = u64::try_from(now.unix_timestamp()) else {
            return Err(TotpRejection::Wrong);
        };
        let current = seconds / TOTP_STEP_SECS;
        let code = code.trim();
        let mut replayed = false;
        for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
            // The crate compares in constant time; skew is 0, so `check` looks at
            // exactly this step.
            if totp.check(code, step * TOTP_STEP_SECS).is_none() {
                continue;
            }
            let step = i64::try_from(step).map_err(|_| TotpRejection::Wrong)?;
            if last_step.is_some_and(|last| step <= last) {
                replayed = true;
                continue;
            }
            return Ok(step);
        }
        Err(if replayed {
            TotpRejection::Replayed
        } else {
            TotpRejection::Wrong
        })
    }

    /// The code for `at`, for tests and for the enrolment page's self-check.
    pub fn code_at(&self, at: OffsetDateTime) -> Result<String, TotpError> {
        let seconds = u64::try_from(at.unix_timestamp()).map_err(|_| TotpError::Malformed)?;
        Ok(self.totp(None)?.generate(seconds).to_string())
    }

    fn base32(&self) -> String {
        Secret::new(self.0.expose_secret().clone().into_boxed_slice()).to_base32()
    }

    fn totp(&self, account: Option<&str>) -> Result<Totp, TotpError> {
        let mut builder = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(TOTP_DIGITS)
            .with_step_duration(TOTP_STEP_SECS)
            .with_skew(0)
            .with_secret(Secret::new(
                self.0.expose_secret().clone().into_boxed_slice(),
            ));
        if let Some(account) = account {
            builder = builder
                .with_account_name(account)
                .with_issuer(Some(TOTP_ISSUER));
        }
        builder.build().map_err(|e| TotpError::Uri(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;
    use crate::testing::CountingRng;

    fn fixed(secret: &[u8]) -> TotpSecret {
        TotpSecret(SecretBox::new(Box::new(secret.to_vec())))
    }

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    /// RFC 6238 Appendix B, SHA-1 column (the last six digits of its 8-digit codes).
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = fixed(b"12345678901234567890");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(secret.code_at(at(t)).unwrap(), code, "T = {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_early_or_late_but_not_two() {
        let secret = TotpSecret::generate(&CountingRng::default());
        let now = at(1_750_000_020);
        let step = 1_750_000_020 / 30;
        for (offset, ok) in [
            (-60, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let code = secret.code_at(at(1_750_000_020 + offset)).unwrap();
            let result = secret.verify(&code, now, None);
            if ok {
                assert_eq!(result, Ok(step + offset / 30), "offset {offset}");
            } else {
                assert_eq!(result, Err(TotpRejection::Wrong), "offset {offset}");
            }
        }
        assert_eq!(secret.verify("12345", now, None), Err(TotpRejection::Wrong));
        assert_eq!(
            secret.verify("abcdef", now, None),
            Err(TotpRejection::Wrong)
        );
    }

    #[test]
    fn a_used_step_or_an_older_one_is_a_replay() {
        let secret = TotpSecret::generate(&CountingRng::default());
        let now = at(1_750_000_020);
        let code = secret.code_at(now).unwrap();
        let step = secret.verify(&code, now, None).unwrap();
        assert_eq!(
            secret.verify(&code, now, Some(step)),
            Err(TotpRejection::Replayed)
        );
        let previous = secret.code_at(at(1_750_000_020 - 30)).unwrap();
        assert_eq!(
            secret.verify(&previous, now, Some(step)),
            Err(TotpRejection::Replayed)
        );
        let next = secret.code_at(at(1_750_000_020 + 30)).unwrap();
        assert_eq!(secret.verify(&next, now, Some(step)), Ok(step + 1));
    }

    #[test]
    fn the_sealed_secret_opens_again_and_hides_the_secret() {
        let rng = CountingRng::default();
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let secret = TotpSecret::generate(&rng);
        let sealed = secret.seal(&ring, &rng);
        let base32 = secret.base32();
        assert!(
            !sealed
                .as_bytes()
                .windows(base32.len())
                .any(|w| w == base32.as_bytes())
        );
        let back = TotpSecret::open(&ring, &sealed).unwrap();
        let now = at(1_750_000_000);
        assert_eq!(back.code_at(now).unwrap(), secret.code_at(now).unwrap());
        // Sealed as another field, it does not open as a TOTP secret.
        let phone = ring.seal(Field::Phone, &base32, &rng);
        assert!(matches!(
            TotpSecret::open(&ring, &phone),
            Err(TotpError::Sealed(SealError::Authentication))
        ));
        assert_eq!(format!("{back:?}"), "TotpSecret([redacted])");
    }

    #[test]
    fn the_enrolment_uri_names_the_issuer_and_account() {
        let secret = fixed(b"12345678901234567890");
        let uri = secret.enrolment_uri("wang.li").unwrap();
        let uri = uri.expose_secret();
        assert!(uri.starts_with("otpauth://totp/fundpass:wang.li?"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=fundpass"), "{uri}");
        assert!(!uri.contains("digits="), "6 digits is the default: {uri}");
        assert!(secret.enrolment_uri("bad:name").is_err());
    }
}
