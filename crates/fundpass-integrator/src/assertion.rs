//! The client assertion (RFC 7523 §2.2, `private_key_jwt`): a short JWT the business
//! system signs with its own key to prove who it is at the token endpoint. fundpass
//! checks `iss` = `sub` = the client id, `aud` = its token endpoint's exact URL, `exp`
//! at most 5 minutes ahead, and that the `jti` was never used before.

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::{keygen, out, system};

/// How long an assertion is good for: short, as it is used at once. fundpass refuses
/// one that expires more than 5 minutes ahead.
pub const LIFETIME_SECS: i64 = 60;

/// The claims of one assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The client id.
    pub iss: String,
    /// The client id again (RFC 7523 §3: the subject is the client itself).
    pub sub: String,
    /// The token endpoint's URL, exactly as fundpass is configured with it.
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// A fresh random id: fundpass refuses an assertion whose `jti` it has seen.
    pub jti: String,
}

impl AssertionClaims {
    /// The claims for `client_id` at `token_endpoint`, issued at `now` with `jti_bytes`
    /// of randomness.
    pub fn new(client_id: &str, token_endpoint: &str, now: i64, jti_bytes: &[u8]) -> Self {
        Self {
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            aud: token_endpoint.to_owned(),
            exp: now + LIFETIME_SECS,
            iat: now,
            jti: URL_SAFE_NO_PAD.encode(jti_bytes),
        }
    }
}

/// The client's private key, ready for `jsonwebtoken`.
pub struct ClientKey(EncodingKey);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(..)")
    }
}

impl ClientKey {
    /// Wraps an Ed25519 key (jsonwebtoken reads it as PKCS#8 DER).
    pub fn ed25519(key: &SigningKey) -> anyhow::Result<Self> {
        let der = crate::keygen::pkcs8_v1(key)
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("cannot encode the private key as PKCS#8: {e}"))?;
        Ok(Self(EncodingKey::from_ed_der(der.as_bytes())))
    }

    /// The compact JWS of `claims`: header `{"typ":"JWT","alg":"EdDSA"}`.
    pub fn sign(&self, claims: &AssertionClaims) -> anyhow::Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &self.0)
            .map_err(|e| anyhow::anyhow!("cannot sign the client assertion: {e}"))
    }
}

/// Options of `assertion`.
#[derive(Debug, clap::Args)]
pub struct AssertionArgs {
    /// The client id the administrator registered.
    #[arg(long, default_value = "withdrawals")]
    pub client_id: String,
    /// The client's private key (PKCS#8 PEM, from `keygen`).
    #[arg(long)]
    pub key: PathBuf,
    /// The token endpoint's exact URL (the assertion's `aud`).
    #[arg(long)]
    pub token_endpoint: String,
}

/// Prints one fresh signed assertion, for trying the token endpoint with curl.
pub fn command(args: &AssertionArgs) -> anyhow::Result<ExitCode> {
    let key = ClientKey::ed25519(&keygen::read_private_key(&args.key)?)?;
    let claims = AssertionClaims::new(
        &args.client_id,
        &args.token_endpoint,
        system::now_unix()?,
        &system::random_bytes::<16>()?,
    );
    out::line(&key.sign(&claims)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const NOW: i64 = 1_800_000_000;
    const ENDPOINT: &str = "http://127.0.0.1:8080/internal/oauth/token";

    #[test]
    fn the_claims_name_the_client_twice_the_endpoint_and_live_a_minute() {
        let c = AssertionClaims::new("withdrawals", ENDPOINT, NOW, &[1; 16]);
        assert_eq!(c.iss, "withdrawals");
        assert_eq!(c.sub, "withdrawals");
        assert_eq!(c.aud, ENDPOINT);
        assert_eq!(c.iat, NOW);
        assert_eq!(c.exp, NOW + 60);
        assert!(c.exp - c.iat <= 300, "fundpass refuses more than 5 minutes");
        assert_eq!(c.jti.len(), 22, "128 random bits, base64url");
        let other = AssertionClaims::new("withdrawals", ENDPOINT, NOW, &[2; 16]);
        assert_ne!(c.jti, other.jti);
    }

    #[test]
    fn a_signed_assertion_verifies_under_the_public_key_as_eddsa() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let claims = AssertionClaims::new("withdrawals", ENDPOINT, NOW, &[1; 16]);
        let token = ClientKey::ed25519(&key).unwrap().sign(&claims).unwrap();

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("JWT"));

        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let public = DecodingKey::from_ed_components(&x).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[ENDPOINT]);
        validation.validate_exp = false; // NOW is a fixed instant, not today.
        let read = jsonwebtoken::decode::<AssertionClaims>(&token, &public, &validation).unwrap();
        assert_eq!(read.claims, claims);

        let stranger = SigningKey::from_bytes(&[4; 32]);
        let x = URL_SAFE_NO_PAD.encode(stranger.verifying_key().as_bytes());
        let wrong = DecodingKey::from_ed_components(&x).unwrap();
        assert!(jsonwebtoken::decode::<AssertionClaims>(&token, &wrong, &validation).is_err());
    }
}
