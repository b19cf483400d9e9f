//! Checking a face result against the pinned keys and the flow it claims to belong to.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{FACE_RESULT_TYP, FaceAlgorithm, FaceRejection, MAX_TOKEN_BYTES, TrustedFaceKey};

/// What a face result must satisfy to be accepted: whose keys to trust, how fresh it
/// must be and how close the match.
#[derive(Debug, Clone)]
pub struct FacePolicy {
    /// The provider keys trusted, looked up by `kid`.
    pub keys: Vec<TrustedFaceKey>,
    /// How old a result may be when it reaches fundpass (default 5 minutes).
    pub max_age: Duration,
    /// How far in the future a result may be dated, for clock skew (default 30 s).
    pub max_skew: Duration,
    /// The lowest match score accepted, in `[0, 1]` (default 0.80).
    pub min_score: f64,
    /// Whether keys marked `dev_simulator` are trusted (default `false`; only ever
    /// `true` in development).
    pub accept_dev_keys: bool,
}

impl Default for FacePolicy {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            max_age: Duration::minutes(5),
            max_skew: Duration::seconds(30),
            min_score: 0.80,
            accept_dev_keys: false,
        }
    }
}

/// The claims of an accepted face result, for the flow to act on and the audit trail to
/// record.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceClaims {
    /// The provider key the result was signed with.
    pub kid: String,
    /// The nonce fundpass issued for the flow.
    pub nonce: String,
    /// The [`subject_hash`](super::subject_hash) of the document the face was compared with.
    pub subject: String,
    /// Whether the provider saw a live person.
    pub liveness: bool,
    /// The match score, in `[0, 1]`.
    pub score: f64,
    /// When the provider made the check.
    pub issued_at: OffsetDateTime,
    /// The provider's identifier for the result, if it gave one.
    pub jti: Option<String>,
}

impl FacePolicy {
    /// Accepts `token` only if it is a well-formed face result, signed by a trusted key
    /// with the algorithm that key is pinned to, made for `expected_nonce` and the member
    /// whose [`subject_hash`](super::subject_hash) is `expected_subject`, fresh at `now`,
    /// showing a live person and a score of at least `min_score`.
    ///
    /// The checks run in this order and the first failure is returned: size and
    /// structure ([`Malformed`](FaceRejection::Malformed)), key id, algorithm, dev key,
    /// signature, nonce, issued in the future, stale, subject, liveness, score. Nonce and
    /// subject are compared in constant time.
    pub fn verify(
        &self,
        token: &str,
        expected_nonce: &str,
        expected_subject: &str,
        now: OffsetDateTime,
    ) -> Result<FaceClaims, FaceRejection> {
        self.verify_with(token, expected_nonce, now, |subject| {
            bool::from(subject.as_bytes().ct_eq(expected_subject.as_bytes()))
        })
    }

    /// [`Self::verify`] with the subject check left to `subject_matches`, for callers
    /// that keep only a keyed digest of the expected subject, never the subject itself.
    pub fn verify_with(
        &self,
        token: &str,
        expected_nonce: &str,
        now: OffsetDateTime,
        subject_matches: impl FnOnce(&str) -> bool,
    ) -> Result<FaceClaims, FaceRejection> {
        let parsed = Parsed::from_token(token).ok_or(FaceRejection::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|key| key.kid == parsed.header.kid)
            .ok_or(FaceRejection::UnknownKey)?;
        let alg = FaceAlgorithm::from_code(&parsed.header.alg);
        if alg != Some(key.algorithm) || alg != Some(key.key_algorithm()) {
            return Err(FaceRejection::AlgorithmMismatch);
        }
        if key.dev_simulator && !self.accept_dev_keys {
            return Err(FaceRejection::DevKeyRefused);
        }
        if !key.verifies(parsed.signing_input.as_bytes(), &parsed.signature) {
            return Err(FaceRejection::BadSignature);
        }
        let claims = parsed.payload;
        if !bool::from(claims.nonce.as_bytes().ct_eq(expected_nonce.as_bytes())) {
            return Err(FaceRejection::NonceMismatch);
        }
        if parsed.issued_at - now > self.max_skew {
            return Err(FaceRejection::IssuedInFuture);
        }
        if now - parsed.issued_at > self.max_age {
            return Err(FaceRejection::Stale);
        }
        if !subject_matches(&claims.sub) {
            return Err(FaceRejection::WrongSubject);
        }
        if !claims.liveness {
            return Err(FaceRejection::LivenessFailed);
        }
        // A policy with a NaN threshold refuses everything rather than nothing.
        if matches!(
            claims.score.partial_cmp(&self.min_score),
            Some(Ordering::Less) | None
        ) {
            return Err(FaceRejection::LowScore);
        }
        Ok(FaceClaims {
            kid: parsed.header.kid,
            nonce: claims.nonce,
            subject: claims.sub,
            liveness: claims.liveness,
            score: claims.score,
            issued_at: parsed.issued_at,
            jti: claims.jti,
        })
    }
}

/// A JWS protected header, as far as fundpass reads it.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// The claims of a face result as they arrive. serde refuses a field given twice.
#[derive(Deserialize)]
struct Payload {
    nonce: String,
    sub: String,
    liveness: bool,
    score: f64,
    iat: i64,
    #[serde(default)]
    jti: Option<String>,
}

/// `true` whenever the field is there, whatever its value (even `null`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A token that has passed every structural check, not yet any cryptographic one.
struct Parsed<'a> {
    /// `header.payload`, exactly as received: what the signature covers.
    signing_input: &'a str,
    header: Header,
    payload: Payload,
    signature: Vec<u8>,
    issued_at: OffsetDateTime,
}

impl<'a> Parsed<'a> {
    fn from_token(token: &'a str) -> Option<Self> {
        let compact = crate::crypto::jws::split(token, MAX_TOKEN_BYTES)?;
        let header: Header = serde_json::from_slice(&compact.header).ok()?;
        if header.crit
            || header
                .typ
                .as_deref()
                .is_some_and(|typ| typ != FACE_RESULT_TYP)
        {
            return None;
        }
        let payload: Payload = serde_json::from_slice(&compact.payload).ok()?;
        if payload.nonce.is_empty()
            || payload.sub.is_empty()
            || !(0.0..=1.0).contains(&payload.score)
        {
            return None;
        }
        let issued_at = OffsetDateTime::from_unix_timestamp(payload.iat).ok()?;
        Some(Self {
            signing_input: compact.signing_input,
            header,
            payload,
            signature: compact.signature,
            issued_at,
        })
    }
}
