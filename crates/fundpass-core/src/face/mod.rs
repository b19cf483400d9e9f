//! Face verification: checking the signed result a certified face-verification provider
//! hands to the member's app, so that fundpass can trust "this person, alive, in front of
//! the camera, just now, for this flow" without talking to the provider itself.
//!
//! # Protocol
//!
//! 1. The app asks fundpass for a nonce bound to the flow it is in (recovery, password
//!    change, …). fundpass stores the nonce with the flow.
//! 2. The app runs the provider's SDK with that nonce. The provider returns a result as a
//!    JWS compact serialization, `header.payload.signature`, each part base64url without
//!    padding (RFC 7515), signed with one of:
//!    - Ed25519, JWS `alg` `"EdDSA"` (RFC 8037);
//!    - ECDSA P-256 with SHA-256, JWS `alg` `"ES256"`, the signature being the raw
//!      `r || s` (64 bytes), not DER (RFC 7518 §3.4).
//! 3. The app posts the result to fundpass, which calls [`FacePolicy::verify`] with the
//!    nonce of the flow, the [`subject_hash`] of the member's document and the time.
//!
//! The header is `{"alg": …, "kid": …, "typ": "face-result+jwt"}`; `typ` may be left out
//! but, if present, must be exactly that value, so that another kind of token signed by
//! the same provider key cannot pass as a face result (RFC 8725 §3.11). A header with
//! `crit` is refused: fundpass understands no JWS extensions.
//!
//! The payload is
//! `{"nonce": string, "sub": string, "liveness": bool, "score": number, "iat": integer, "jti": string?}`:
//! `sub` is the [`subject_hash`] of the document the face was compared with, `score` the
//! match score in `[0, 1]`, `iat` the time of the check in Unix seconds and `jti` an
//! optional identifier of the result for the provider's own records. Unknown fields in
//! either part are ignored; a field given twice makes the result malformed.
//!
//! # Trust
//!
//! Only keys pinned in the [`FacePolicy`] ([`TrustedFaceKey`], chosen by `kid`) are
//! trusted, and each key only for the algorithm it was pinned with: the `alg` in the
//! header never picks how a signature is checked. The development simulator signs with
//! its own key ([`FaceSigner`]); such a key is marked `dev_simulator` and refused unless
//! the policy says `accept_dev_keys`, which production configuration never does.
//!
//! Signatures are checked by `ed25519-dalek` (strict verification) and `p256`; this
//! module only splits, decodes and parses.

mod keys;
mod signer;
mod verify;

#[cfg(test)]
mod tests;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::identity::IdType;

pub use keys::{FaceKeyError, TrustedFaceKey};
pub use signer::FaceSigner;
pub use verify::{FaceClaims, FacePolicy};

/// The JWS value of the `typ` header a face result may carry.
pub const FACE_RESULT_TYP: &str = "face-result+jwt";

/// The longest face result accepted, in bytes: a real one is well under 1 KiB, and a cap
/// keeps an attacker from making fundpass decode and parse megabytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A signature algorithm a provider key is pinned to.
pub use crate::crypto::JwsAlgorithm as FaceAlgorithm;

/// Why a face result was not accepted. Each variant is one check of
/// [`FacePolicy::verify`]; the [`code`](Self::code) goes into audit rows and API errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FaceRejection {
    /// Too long, not three base64url parts, not JSON, or a claim missing or of the
    /// wrong type or range.
    #[error("the face verification result is malformed")]
    Malformed,
    /// Signed under a key id fundpass does not trust.
    #[error("the face verification result was signed by an unknown key")]
    UnknownKey,
    /// The header names an algorithm other than the one the key is pinned to.
    #[error("the face verification result names the wrong signature algorithm")]
    AlgorithmMismatch,
    /// The signature does not verify under the pinned key.
    #[error("the face verification result's signature is not valid")]
    BadSignature,
    /// Signed by the development simulator, which this deployment does not accept.
    #[error("the face verification result comes from the development simulator")]
    DevKeyRefused,
    /// Made for another flow or attempt.
    #[error("the face verification result was made for another request")]
    NonceMismatch,
    /// Dated further in the future than clock skew explains.
    #[error("the face verification result is dated in the future")]
    IssuedInFuture,
    /// Too old to be used.
    #[error("the face verification result has expired")]
    Stale,
    /// The face was compared with another person's document.
    #[error("the face verification result is for another person")]
    WrongSubject,
    /// The provider did not see a live person.
    #[error("the liveness check failed")]
    LivenessFailed,
    /// The face did not match the document closely enough.
    #[error("the face did not match closely enough")]
    LowScore,
    /// The provider has no reference photo for the document to compare the face with
    /// (a query-by-token provider's answer; the member needs another channel).
    #[error("the provider has no reference photo for this document")]
    NoReference,
    /// The provider did not pass the check for a reason of its own that none of the
    /// above names (its code is in the audit trail).
    #[error("the face verification provider did not pass the check")]
    Declined,
}

impl FaceRejection {
    /// Whether the rejection counts against the document the flow was started for:
    /// only when the provider compared a live check against that very document for
    /// this flow, just now, and the face did not pass (not live, a low score, or a
    /// query-by-token provider's refusal of the check it made for the flow).
    /// Unsigned or foreign results, another flow's nonce, stale results and results
    /// for another person count against the flow and the client address only, so
    /// that nobody can lock a member out of face login with results of their own.
    pub fn counts_against_document(self) -> bool {
        matches!(self, Self::LivenessFailed | Self::LowScore | Self::Declined)
    }

    /// A stable snake_case code for audit rows and API error envelopes.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::AlgorithmMismatch => "algorithm_mismatch",
            Self::BadSignature => "bad_signature",
            Self::DevKeyRefused => "dev_key_refused",
            Self::NonceMismatch => "nonce_mismatch",
            Self::IssuedInFuture => "issued_in_future",
            Self::Stale => "stale",
            Self::WrongSubject => "wrong_subject",
            Self::LivenessFailed => "liveness_failed",
            Self::LowScore => "low_score",
            Self::NoReference => "no_reference",
            Self::Declined => "declined",
        }
    }
}

/// base64url (no padding) of SHA-256 over `"{id_type_code}:{normalised id number}"`:
/// what the provider puts in `sub`, so that the document number itself never travels in
/// the result while fundpass can still tell whose face was checked.
pub fn subject_hash(id_type: IdType, normalised_id_number: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(id_type.code().as_bytes());
    hasher.update(b":");
    hasher.update(normalised_id_number.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}
