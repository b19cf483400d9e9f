//! JSON Web Signatures in compact form (RFC 7515): splitting a token, the public keys
//! other parties sign with (Ed25519 as JWS `EdDSA`, RFC 8037; ECDSA P-256 as `ES256`,
//! RFC 7518 §3.4 with the raw `r || s` signature), and fundpass's own Ed25519 signing
//! key for the receipts business systems verify offline.
//!
//! The signatures themselves are made and checked by `ed25519-dalek` (strict
//! verification) and `p256`; this module only splits, decodes and encodes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ports::SecretGenerator;

/// A signature algorithm, by its JWS `alg` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// Ed25519 (JWS `"EdDSA"`).
    Ed25519,
    /// ECDSA on P-256 with SHA-256 (JWS `"ES256"`).
    Es256,
}

impl JwsAlgorithm {
    /// The JWS `alg` name, as it appears in headers and configuration.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ed25519 => "EdDSA",
            Self::Es256 => "ES256",
        }
    }

    /// Parses a JWS `alg` name. Matching is exact (JWS names are case-sensitive), so
    /// `"none"`, `"HS256"` or `"eddsa"` are not algorithms here.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Ed25519, Self::Es256]
            .into_iter()
            .find(|a| a.code() == code)
    }
}

/// A compact JWS that has three base64url parts, not yet checked in any other way.
#[derive(Debug)]
pub struct Compact<'a> {
    /// `header.payload`, exactly as received: what the signature covers.
    pub signing_input: &'a str,
    /// The decoded protected header (JSON, unparsed).
    pub header: Vec<u8>,
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Splits `token` into its three parts, refusing anything longer than `max_bytes`,
/// with other than exactly three parts, or with a part that is not base64url.
pub fn split(token: &str, max_bytes: usize) -> Option<Compact<'_>> {
    if token.len() > max_bytes {
        return None;
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(Compact {
        signing_input: token.get(..header_b64.len() + 1 + payload_b64.len())?,
        header: URL_SAFE_NO_PAD.decode(header_b64).ok()?,
        payload: URL_SAFE_NO_PAD.decode(payload_b64).ok()?,
        signature: URL_SAFE_NO_PAD.decode(signature_b64).ok()?,
    })
}

/// Why a public key given by an administrator could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// Neither a JWK (JSON) nor a PEM `PUBLIC KEY` block.
    #[error("the key is neither a JWK nor a PEM public key")]
    UnknownFormat,
    /// A JWK of a type or curve fundpass does not verify.
    #[error("the key must be Ed25519 (kty OKP, crv Ed25519) or P-256 (kty EC, crv P-256)")]
    Unsupported,
    /// The key's numbers are not base64url, have the wrong size or are not on the curve.
    #[error("the key material is not a valid public key")]
    Invalid,
    /// An Ed25519 key of small order, under which forged signatures could verify.
    #[error("the Ed25519 key is a weak (small-order) key")]
    Weak,
}

/// A public key another party signs with; it verifies only under its own algorithm.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(p256::ecdsa::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({}, {})",
            self.algorithm().code(),
            self.thumbprint()
        )
    }
}

/// The members of a JWK fundpass reads.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    #[serde(default)]
    y: Option<String>,
    /// A JWK holding a private part is refused: nobody should hand fundpass theirs.
    #[serde(default)]
    d: Option<serde::de::IgnoredAny>,
}

impl PublicKey {
    /// Reads a JWK (`{"kty": "OKP", "crv": "Ed25519", "x": …}` or
    /// `{"kty": "EC", "crv": "P-256", "x": …, "y": …}`) or a PEM `PUBLIC KEY` block
    /// (SubjectPublicKeyInfo) of either kind.
    pub fn parse(text: &str) -> Result<Self, PublicKeyError> {
        let text = text.trim();
        if text.starts_with('{') {
            Self::from_jwk(text)
        } else if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            Self::from_pem(text)
        } else {
            Err(PublicKeyError::UnknownFormat)
        }
    }

    /// Reads a JWK (see [`Self::parse`]).
    pub fn from_jwk(json: &str) -> Result<Self, PublicKeyError> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|_| PublicKeyError::UnknownFormat)?;
        if jwk.d.is_some() {
            return Err(PublicKeyError::Unsupported);
        }
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| PublicKeyError::Invalid)
        };
        match (jwk.kty.as_str(), jwk.crv.as_str(), jwk.y.as_deref()) {
            ("OKP", "Ed25519", None) => ed25519(&decode(&jwk.x)?),
            ("EC", "P-256", Some(y)) => {
                let (x, y) = (decode(&jwk.x)?, decode(y)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(PublicKeyError::Invalid);
                }
                let mut point = vec![0x04];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map(Self::Es256)
                    .map_err(|_| PublicKeyError::Invalid)
            }
            _ => Err(PublicKeyError::Unsupported),
        }
    }

    /// Reads a PEM `PUBLIC KEY` block of an Ed25519 or P-256 key.
    pub fn from_pem(pem: &str) -> Result<Self, PublicKeyError> {
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return ed25519(key.as_bytes());
        }
        p256::ecdsa::VerifyingKey::from_public_key_pem(pem)
            .map(Self::Es256)
            .map_err(|_| PublicKeyError::Invalid)
    }

    /// The only algorithm signatures under this key may use.
    pub fn algorithm(&self) -> JwsAlgorithm {
        match self {
            Self::Ed25519(_) => JwsAlgorithm::Ed25519,
            Self::Es256(_) => JwsAlgorithm::Es256,
        }
    }

    /// Whether `signature` is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok()),
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
        }
    }

    /// The key as a JWK with only its required members, in the order RFC 7638 hashes.
    pub fn to_jwk(&self) -> serde_json::Value {
        match self {
            Self::Ed25519(key) => serde_json::json!({
                "crv": "Ed25519",
                "kty": "OKP",
                "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
            }),
            Self::Es256(key) => {
                let point = key.to_sec1_point(false);
                let bytes = point.as_bytes();
                let (x, y) = bytes.get(1..33).zip(bytes.get(33..65)).unwrap_or_default();
                serde_json::json!({
                    "crv": "P-256",
                    "kty": "EC",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                })
            }
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): a short name for the key
    /// that anyone holding it can compute.
    pub fn thumbprint(&self) -> String {
        // serde_json keeps object members sorted, and the required members have no
        // whitespace in them: this is the canonical form RFC 7638 hashes.
        let canonical = self.to_jwk().to_string();
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

fn ed25519(bytes: &[u8]) -> Result<PublicKey, PublicKeyError> {
    let raw: &[u8; 32] = bytes.try_into().map_err(|_| PublicKeyError::Invalid)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(raw).map_err(|_| PublicKeyError::Invalid)?;
    if key.is_weak() {
        return Err(PublicKeyError::Weak);
    }
    Ok(PublicKey::Ed25519(key))
}

/// fundpass's own Ed25519 key, signing compact JWS (`alg` `EdDSA`) under a key id that
/// the published key set names.
#[derive(Clone)]
pub struct JwsSigner {
    kid: String,
    key: ed25519_dalek::SigningKey,
}

impl fmt::Debug for JwsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwsSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwsSigner {
    /// The key whose secret seed is `seed`.
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// A new key drawn from `rng`.
    pub fn generate(kid: &str, rng: &dyn SecretGenerator) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(seed.as_mut_slice());
        Self::from_seed(kid, &seed)
    }

    /// The key id put in every header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key.verifying_key())
    }

    /// A compact JWS of `payload` with the header `{"alg":"EdDSA","kid":…,"typ":typ}`.
    pub fn sign(&self, typ: &str, payload: &serde_json::Value) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "kid": self.kid, "typ": typ});
        self.sign_parts(&header.to_string(), &payload.to_string())
    }

    /// Signs raw header and payload JSON.
    pub fn sign_parts(&self, header_json: &str, payload_json: &str) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json),
            URL_SAFE_NO_PAD.encode(payload_json)
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CountingRng;

    #[test]
    fn a_signed_token_splits_and_verifies_under_the_public_key_only() {
        let signer = JwsSigner::generate("s1", &CountingRng::default());
        let token = signer.sign("test+jwt", &serde_json::json!({"a": 1}));
        let parts = split(&token, 4096).unwrap();
        let key = signer.public_key();
        assert!(key.verifies(parts.signing_input.as_bytes(), &parts.signature));
        assert!(!key.verifies(b"other", &parts.signature));
        let header: serde_json::Value = serde_json::from_slice(&parts.header).unwrap();
        assert_eq!(header["kid"], "s1");
        assert!(split(&token, 10).is_none(), "over the size cap");
        assert!(split("a.b", 4096).is_none());
        assert!(split("a.b.c.d", 4096).is_none());
        assert!(split("a.b.c!", 4096).is_none());
    }

    #[test]
    fn keys_round_trip_through_their_jwk_and_have_a_stable_thumbprint() {
        let signer = JwsSigner::generate("s1", &CountingRng::default());
        let key = signer.public_key();
        let back = PublicKey::parse(&key.to_jwk().to_string()).unwrap();
        assert_eq!(back, key);
        assert_eq!(back.thumbprint(), key.thumbprint());
        assert_eq!(key.thumbprint().len(), 43);
    }

    #[test]
    fn rfc_8037_example_key_has_the_published_thumbprint() {
        // RFC 8037 Appendix A.3.
        let jwk =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let key = PublicKey::parse(jwk).unwrap();
        assert_eq!(
            key.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn private_keys_unknown_curves_and_junk_are_refused() {
        let with_d = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;
        assert_eq!(PublicKey::parse(with_d), Err(PublicKeyError::Unsupported));
        let rsa = r#"{"kty":"RSA","crv":"","x":"AQAB"}"#;
        assert_eq!(PublicKey::parse(rsa), Err(PublicKeyError::Unsupported));
        assert_eq!(
            PublicKey::parse("hello"),
            Err(PublicKeyError::UnknownFormat)
        );
        let short = r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#;
        assert_eq!(PublicKey::parse(short), Err(PublicKeyError::Invalid));
        let zero = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode([0u8; 32])
        );
        assert!(PublicKey::parse(&zero).is_err(), "small-order point");
    }

    #[test]
    fn a_pem_public_key_is_read() {
        // RFC 8410 §10.1.
        let pem = "-----BEGIN PUBLIC KEY-----\n\
                   MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
                   -----END PUBLIC KEY-----\n";
        let key = PublicKey::parse(pem).unwrap();
        assert_eq!(key.algorithm(), JwsAlgorithm::Ed25519);
    }
}
