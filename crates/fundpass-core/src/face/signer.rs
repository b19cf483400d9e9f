//! The development simulator's signer: makes face results the way a provider would, so
//! that `/dev/face` and tests exercise the same verification as production.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::{FACE_RESULT_TYP, FaceAlgorithm, FaceClaims, TrustedFaceKey};
use crate::ports::SecretGenerator;

/// An Ed25519 key that signs face results as the development simulator.
///
/// The key id should follow the rule of [`TrustedFaceKey::parse`] (1 to 64 characters of
/// `[A-Za-z0-9._-]`) so that the key can also be configured from its public half.
#[derive(Clone)]
pub struct FaceSigner {
    kid: String,
    key: ed25519_dalek::SigningKey,
    jws: crate::crypto::JwsSigner,
}

impl FaceSigner {
    /// A new key drawn from `rng`.
    pub fn generate(kid: &str, rng: &dyn SecretGenerator) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(seed.as_mut_slice());
        Self::from_seed(kid, *seed)
    }

    /// The key whose secret seed is `seed` (as returned by [`seed`](Self::seed)).
    pub fn from_seed(kid: &str, seed: [u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            jws: crate::crypto::JwsSigner::from_seed(kid, &seed),
        }
    }

    /// The secret seed, for persisting the dev key between runs. Treat it as a secret.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key id put in every header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, base64url without padding, as [`TrustedFaceKey::parse`] accepts it.
    pub fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }

    /// The public half, to pin in a [`FacePolicy`](super::FacePolicy).
    pub fn trusted_key(&self, dev_simulator: bool) -> TrustedFaceKey {
        TrustedFaceKey::from_ed25519(&self.kid, self.key.verifying_key(), dev_simulator)
    }

    /// A face result (JWS compact, `alg` `"EdDSA"`) carrying `claims`. The header's `kid`
    /// is this signer's; `claims.kid` is ignored.
    pub fn sign(&self, claims: &FaceClaims) -> String {
        let header = serde_json::json!({
            "alg": FaceAlgorithm::Ed25519.code(),
            "kid": self.kid,
            "typ": FACE_RESULT_TYP,
        });
        let mut payload = serde_json::json!({
            "nonce": claims.nonce,
            "sub": claims.subject,
            "liveness": claims.liveness,
            "score": claims.score,
            "iat": claims.issued_at.unix_timestamp(),
        });
        if let (Some(jti), Some(fields)) = (&claims.jti, payload.as_object_mut()) {
            fields.insert("jti".to_owned(), jti.clone().into());
        }
        self.sign_parts(&header.to_string(), &payload.to_string())
    }

    /// Signs raw header and payload JSON: `sign` for well-formed claims, tests for
    /// anything else.
    pub(super) fn sign_parts(&self, header_json: &str, payload_json: &str) -> String {
        self.jws.sign_parts(header_json, payload_json)
    }
}

impl fmt::Debug for FaceSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaceSigner")
            .field("kid", &self.kid)
            .field("public_key", &self.public_key_b64())
            .finish_non_exhaustive()
    }
}
