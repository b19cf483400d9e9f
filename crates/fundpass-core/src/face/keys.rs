//! Provider keys pinned in configuration.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::FaceAlgorithm;

/// The longest key id accepted.
const MAX_KID_CHARS: usize = 64;

/// base64 as people paste it: padding optional, but otherwise canonical.
const PADDING_OPTIONAL: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PADDING_OPTIONAL);
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, PADDING_OPTIONAL);

/// Why a configured provider key could not be used. Reported at start-up, so each says
/// what to fix in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaceKeyError {
    /// The key id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("face key id must be 1 to 64 characters of letters, digits, '.', '_' or '-'")]
    InvalidKid,
    /// The algorithm is not one fundpass verifies.
    #[error("face key algorithm {0:?} is not supported; use \"EdDSA\" or \"ES256\"")]
    UnsupportedAlgorithm(String),
    /// The public key is not base64 (standard or URL-safe, padding optional).
    #[error("face public key is not valid base64")]
    NotBase64,
    /// The decoded public key has the wrong size for its algorithm.
    #[error("{algorithm} public key must be {expected} bytes, got {actual}")]
    WrongLength {
        /// The JWS name of the algorithm.
        algorithm: &'static str,
        /// The sizes accepted, in words.
        expected: &'static str,
        /// The size given.
        actual: usize,
    },
    /// The bytes do not encode a point on the curve.
    #[error("face public key is not a valid {0} public key")]
    InvalidPoint(&'static str),
    /// An Ed25519 key of small order, under which forged signatures could verify.
    #[error("Ed25519 face public key is a weak (small-order) key")]
    WeakKey,
}

/// A provider key fundpass trusts, pinned to one algorithm.
///
/// `dev_simulator` marks the development simulator's key, which
/// [`FacePolicy::verify`](super::FacePolicy::verify) refuses unless the policy accepts
/// dev keys. [`TrustedFaceKey::parse`] leaves it `false`; set it after parsing.
#[derive(Clone)]
pub struct TrustedFaceKey {
    /// The key id the provider puts in the JWS header.
    pub kid: String,
    /// The only algorithm results under this key may use.
    pub algorithm: FaceAlgorithm,
    verifying: VerifyingKey,
    /// Whether this is the development simulator's key.
    pub dev_simulator: bool,
}

use crate::crypto::PublicKey as VerifyingKey;

impl TrustedFaceKey {
    /// Parses a key from configuration.
    ///
    /// `kid` is at most 64 characters of `[A-Za-z0-9._-]`; `algorithm` is `"EdDSA"` or
    /// `"ES256"`; the public key is base64 (standard or URL-safe, padding optional) of
    /// the 32 raw bytes for Ed25519, or of the SEC1 point (33 bytes compressed, 65
    /// uncompressed) for P-256.
    pub fn parse(kid: &str, algorithm: &str, public_key_b64: &str) -> Result<Self, FaceKeyError> {
        if !valid_kid(kid) {
            return Err(FaceKeyError::InvalidKid);
        }
        let algorithm = algorithm.trim();
        let algorithm = FaceAlgorithm::from_code(algorithm)
            .ok_or_else(|| FaceKeyError::UnsupportedAlgorithm(algorithm.to_owned()))?;
        let bytes = decode_key_base64(public_key_b64.trim())?;
        let verifying = match algorithm {
            FaceAlgorithm::Ed25519 => VerifyingKey::Ed25519(parse_ed25519(&bytes)?),
            FaceAlgorithm::Es256 => VerifyingKey::Es256(parse_p256(&bytes)?),
        };
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            verifying,
            dev_simulator: false,
        })
    }

    /// Wraps an Ed25519 key held in memory (the dev simulator's own).
    pub(super) fn from_ed25519(
        kid: &str,
        key: ed25519_dalek::VerifyingKey,
        dev_simulator: bool,
    ) -> Self {
        Self {
            kid: kid.to_owned(),
            algorithm: FaceAlgorithm::Ed25519,
            verifying: VerifyingKey::Ed25519(key),
            dev_simulator,
        }
    }

    /// The algorithm the parsed key material belongs to. The public `algorithm` field
    /// could be changed after parsing; this cannot.
    pub(super) fn key_algorithm(&self) -> FaceAlgorithm {
        self.verifying.algorithm()
    }

    /// Whether `signature` is this key's signature over `message`.
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying.verifies(message, signature)
    }
}

impl fmt::Debug for TrustedFaceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedFaceKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("dev_simulator", &self.dev_simulator)
            .finish_non_exhaustive()
    }
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_CHARS
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn decode_key_base64(text: &str) -> Result<Vec<u8>, FaceKeyError> {
    URL_SAFE_ANY_PAD
        .decode(text)
        .or_else(|_| STANDARD_ANY_PAD.decode(text))
        .map_err(|_| FaceKeyError::NotBase64)
}

fn parse_ed25519(bytes: &[u8]) -> Result<ed25519_dalek::VerifyingKey, FaceKeyError> {
    let raw: &[u8; 32] = bytes.try_into().map_err(|_| FaceKeyError::WrongLength {
        algorithm: FaceAlgorithm::Ed25519.code(),
        expected: "32",
        actual: bytes.len(),
    })?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(raw)
        .map_err(|_| FaceKeyError::InvalidPoint("Ed25519"))?;
    if key.is_weak() {
        return Err(FaceKeyError::WeakKey);
    }
    Ok(key)
}

fn parse_p256(bytes: &[u8]) -> Result<p256::ecdsa::VerifyingKey, FaceKeyError> {
    if !matches!(bytes.len(), 33 | 65) {
        return Err(FaceKeyError::WrongLength {
            algorithm: FaceAlgorithm::Es256.code(),
            expected: "33 (compressed) or 65 (uncompressed)",
            actual: bytes.len(),
        });
    }
    p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
        .map_err(|_| FaceKeyError::InvalidPoint("P-256"))
}
