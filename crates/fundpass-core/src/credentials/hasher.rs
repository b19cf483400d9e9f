//! Password storage: Argon2id over a keyed MAC of the secret (the pepper), written as
//! a PHC string that names the pepper it was made with.
//!
//! Format: `$argon2id$v=19$m=19456,t=2,p=1,keyid=<B64 of the pepper key id>$<salt>$<hash>`.
//! `keyid` is the parameter the PHC string format defines for Argon2 to name the key a
//! hash depends on; the `argon2` crate parses and writes it but does not feed it into
//! the hash, so the string stays readable by any PHC parser. The Argon2 input is
//! [`Keyring::pepper_mac`] of the secret, never the secret itself, so a stolen database
//! without the keyring cannot be brute-forced; this matters most for the 6-digit
//! transaction password, whose 10^6 values no hash cost can protect on its own.

use argon2::PasswordHasher as _;
use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Params, ParamsBuilder, PasswordHash, PasswordVerifier,
    Version,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{KeyId, Keyring, KeyringError};
use crate::ports::SecretGenerator;

/// Longest secret, in bytes, that is hashed or verified at all: a cheap refusal of
/// megabyte "passwords" sent to burn CPU. Far above the longest allowed password.
pub const MAX_SECRET_BYTES: usize = 1024;

/// Salt length in bytes (NIST asks for at least 32 bits; 16 bytes is the norm).
pub const SALT_LEN: usize = 16;

/// Length of the Argon2 output in bytes.
const OUTPUT_LEN: usize = 32;

/// Fixed salt for [`PasswordHasher::dummy_verify`], which only has to cost the same.
const DUMMY_SALT: [u8; SALT_LEN] = *b"fundpass-dummy!!";

/// Argon2id cost parameters, set in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// OWASP's first recommendation and the `argon2` crate default: 19 MiB, 2 passes, 1 lane.
impl Default for HashParams {
    fn default() -> Self {
        Self {
            m_kib: 19_456,
            t: 2,
            p: 1,
        }
    }
}

impl HashParams {
    /// Whether these costs reach one of OWASP's equivalent Argon2id settings
    /// (46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5), so start-up can
    /// warn about a configuration weaker than the security requirements allow.
    pub fn meets_owasp_minimum(&self) -> bool {
        const EQUIVALENTS: [(u32, u32); 5] = [
            (47_104, 1),
            (19_456, 2),
            (12_288, 3),
            (9_216, 4),
            (7_168, 5),
        ];
        self.p >= 1
            && EQUIVALENTS
                .iter()
                .any(|(m, t)| self.m_kib >= *m && self.t >= *t)
    }
}

/// Why a secret could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The secret is longer than [`MAX_SECRET_BYTES`]; refused before any work.
    #[error("the secret is longer than {max} bytes")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The configured Argon2 parameters are outside what Argon2 accepts.
    #[error("invalid Argon2 parameters")]
    Params(#[source] argon2::Error),
    /// The active pepper's id does not fit the 8 bytes of a PHC `keyid`.
    #[error("pepper key id {0:?} is longer than the 8 bytes a PHC keyid can hold")]
    PepperIdTooLong(String),
    /// The stored string is not an Argon2id PHC string with a pepper key id.
    #[error("the stored password hash is malformed: {0}")]
    Malformed(&'static str),
    /// The pepper the hash names is not in the keyring (retired too early).
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// Argon2 itself failed (out of memory, for instance).
    #[error("Argon2 failed")]
    Argon2(#[source] argon2::password_hash::Error),
}

/// Hashes and verifies login and transaction passwords with one configuration.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    config: HashParams,
    params: Params,
}

impl PasswordHasher {
    /// A hasher with these costs; fails if Argon2 refuses them.
    pub fn new(config: HashParams) -> Result<Self, HashError> {
        let params = build_params(config, None)?;
        Ok(Self { config, params })
    }

    /// The configured costs.
    pub fn params(&self) -> HashParams {
        self.config
    }

    /// A new PHC string for `secret` with the active pepper and a fresh 16-byte salt
    /// from `rng`.
    pub fn hash(
        &self,
        keyring: &Keyring,
        secret: &str,
        rng: &dyn SecretGenerator,
    ) -> Result<String, HashError> {
        check_len(secret)?;
        let (pepper_id, mac) = keyring.pepper_mac(None, secret.as_bytes())?;
        let mac = Zeroizing::new(mac);
        let keyid = argon2::KeyId::new(pepper_id.as_str().as_bytes())
            .map_err(|_| HashError::PepperIdTooLong(pepper_id.to_string()))?;
        let params = build_params(self.config, Some(keyid))?;
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt);
        let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(mac.as_slice(), &salt)
            .map_err(HashError::Argon2)?;
        Ok(phc.to_string())
    }

    /// Whether `secret` matches `phc`, using the pepper the string names and the
    /// parameters it records. The output comparison is constant-time (inside the
    /// `phc` crate's `Output` equality).
    pub fn verify(&self, keyring: &Keyring, secret: &str, phc: &str) -> Result<bool, HashError> {
        check_len(secret)?;
        let parsed =
            PasswordHash::new(phc).map_err(|_| HashError::Malformed("not a PHC string"))?;
        if parsed.algorithm != ARGON2ID_IDENT {
            return Err(HashError::Malformed("not argon2id"));
        }
        let stored =
            Params::try_from(&parsed).map_err(|_| HashError::Malformed("bad argon2 parameters"))?;
        let pepper_id = pepper_id_of(&stored)?;
        let (_, mac) = keyring.pepper_mac(Some(&pepper_id), secret.as_bytes())?;
        let mac = Zeroizing::new(mac);
        match Argon2::default().verify_password(mac.as_slice(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(HashError::Argon2(e)),
        }
    }

    /// Whether a hash that just verified should be replaced: its costs differ from the
    /// configured ones, it was made with a pepper other than the active one, or it is
    /// not in the form this hasher writes. Unreadable strings say `true`.
    pub fn needs_rehash(&self, keyring: &Keyring, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return true;
        };
        let current_form = parsed.algorithm == ARGON2ID_IDENT
            && parsed.version == Some(Version::V0x13.into())
            && stored.m_cost() == self.config.m_kib
            && stored.t_cost() == self.config.t
            && stored.p_cost() == self.config.p
            && parsed.salt.as_ref().is_some_and(|s| s.len() >= SALT_LEN)
            && parsed.hash.as_ref().is_some_and(|h| h.len() == OUTPUT_LEN);
        let current_pepper = pepper_id_of(&stored).is_ok_and(|id| id == *keyring.active_pepper());
        !(current_form && current_pepper)
    }

    /// Spends what a real [`verify`](Self::verify) spends, for a login naming an
    /// unknown member, so response time does not tell members from non-members.
    pub fn dummy_verify(&self, keyring: &Keyring, secret: &str) {
        if check_len(secret).is_err() {
            return; // verify refuses these just as fast
        }
        let mac = keyring
            .pepper_mac(None, secret.as_bytes())
            .map(|(_, mac)| Zeroizing::new(mac))
            .unwrap_or_else(|_| Zeroizing::new([0u8; 32]));
        let mut out = Zeroizing::new([0u8; OUTPUT_LEN]);
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let done = argon.hash_password_into(mac.as_slice(), &DUMMY_SALT, out.as_mut_slice());
        std::hint::black_box((done.is_ok(), &out));
    }
}

/// Whether `candidate` matches any of the member's previous hashes (newest first,
/// as many as the policy's history), for the "no reuse of the last N" rule.
///
/// A stored hash that cannot be checked (a pepper already retired, a malformed row)
/// counts as not matching: it cannot be the password the member is choosing now.
pub fn reused(
    hasher: &PasswordHasher,
    keyring: &Keyring,
    candidate: &str,
    previous_hashes: &[String],
) -> bool {
    previous_hashes
        .iter()
        .any(|phc| matches!(hasher.verify(keyring, candidate, phc), Ok(true)))
}

fn check_len(secret: &str) -> Result<(), HashError> {
    if secret.len() > MAX_SECRET_BYTES {
        Err(HashError::TooLong {
            max: MAX_SECRET_BYTES,
        })
    } else {
        Ok(())
    }
}

fn build_params(config: HashParams, keyid: Option<argon2::KeyId>) -> Result<Params, HashError> {
    let mut builder = ParamsBuilder::new();
    builder
        .m_cost(config.m_kib)
        .t_cost(config.t)
        .p_cost(config.p)
        .output_len(OUTPUT_LEN);
    if let Some(keyid) = keyid {
        builder.keyid(keyid);
    }
    builder.build().map_err(HashError::Params)
}

/// The pepper key id recorded in the `keyid` parameter.
fn pepper_id_of(params: &Params) -> Result<KeyId, HashError> {
    let raw = std::str::from_utf8(params.keyid())
        .map_err(|_| HashError::Malformed("keyid is not text"))?;
    if raw.is_empty() {
        return Err(HashError::Malformed("no pepper keyid"));
    }
    KeyId::parse(raw).map_err(|_| HashError::Malformed("keyid is not a key id"))
}

#[cfg(test)]
#[path = "hasher_tests.rs"]
mod tests;
