//! The receipt of a confirmed authorisation, checked offline before any money moves:
//! a compact JWS (EdDSA) that fundpass signs with a key published at
//! `/internal/v1/jwks.json`. Checked here with `jsonwebtoken`: the header's `typ` and
//! `kid`, the signature under that key, `iss`, `aud` (our client id) and `exp`; then
//! every fact against the payment we are about to make.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The receipt's JWS `typ`.
pub const RECEIPT_TYP: &str = "payment-authorization+jwt";
/// The receipt's issuer.
pub const RECEIPT_ISSUER: &str = "fundpass";

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptClaims {
    pub iss: String,
    /// The client the receipt was made for.
    pub aud: String,
    pub jti: String,
    pub iat: i64,
    /// The end of the capture window.
    pub exp: i64,
    pub authorization_id: String,
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: String,
    /// See [`payee_hash`].
    pub payee_hash: String,
    pub purpose: String,
    pub business_ref: String,
    /// Unix seconds.
    pub confirmed_at: i64,
    /// Where the member approved: `web`, `app` or `terminal`.
    pub channel: String,
    /// Holds in force that only mark payouts; empty when none.
    pub risk_flags: Vec<String>,
}

/// The payment the business system asked for and is about to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPayment {
    pub authorization_id: String,
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: String,
    pub payee_name: String,
    pub payee_account: String,
    pub purpose: String,
    pub business_ref: String,
}

/// base64url (no padding) of SHA-256 over the payee's name, a line feed and the
/// masked account, as sent (fundpass trims surrounding spaces from both).
pub fn payee_hash(payee_name: &str, payee_account: &str) -> String {
    let text = format!("{payee_name}\n{payee_account}");
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// Checks `token`'s header, signature, `iss`, `aud` = `client_id` and `exp` (by this
/// machine's clock, no leeway) with a key of `keys`, and returns its claims.
pub fn verify(token: &str, keys: &JwkSet, client_id: &str) -> anyhow::Result<ReceiptClaims> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| anyhow::anyhow!("the receipt is not a compact JWS: {e}"))?;
    if header.typ.as_deref() != Some(RECEIPT_TYP) {
        anyhow::bail!(
            "the receipt's typ is {:?}, not {RECEIPT_TYP:?}: it is some other token",
            header.typ
        );
    }
    let kid = header
        .kid
        .ok_or_else(|| anyhow::anyhow!("the receipt's header names no key (kid)"))?;
    let jwk = keys.find(&kid).ok_or_else(|| {
        anyhow::anyhow!("no key {kid:?} in fundpass's key set: fetch /internal/v1/jwks.json again")
    })?;
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {}
        _ => anyhow::bail!("key {kid:?} is not an Ed25519 key"),
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|e| anyhow::anyhow!("key {kid:?} cannot be read: {e}"))?;
    // Only EdDSA: the header's alg never chooses how a receipt is checked.
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[RECEIPT_ISSUER]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    validation.leeway = 0;
    jsonwebtoken::decode::<ReceiptClaims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| anyhow::anyhow!("the receipt does not verify: {e}"))
}

/// Every fact of `claims` that differs from `expected`, as `(field, receipt, asked)`.
/// Empty means the receipt is for exactly this payment.
pub fn mismatches(
    claims: &ReceiptClaims,
    expected: &ExpectedPayment,
) -> Vec<(&'static str, String, String)> {
    let asked_payee = payee_hash(&expected.payee_name, &expected.payee_account);
    let pairs = [
        (
            "authorization_id",
            claims.authorization_id.clone(),
            expected.authorization_id.clone(),
        ),
        (
            "account_no",
            claims.account_no.clone(),
            expected.account_no.clone(),
        ),
        (
            "amount_fen",
            claims.amount_fen.to_string(),
            expected.amount_fen.to_string(),
        ),
        (
            "currency",
            claims.currency.clone(),
            expected.currency.clone(),
        ),
        ("payee_hash", claims.payee_hash.clone(), asked_payee),
        ("purpose", claims.purpose.clone(), expected.purpose.clone()),
        (
            "business_ref",
            claims.business_ref.clone(),
            expected.business_ref.clone(),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, got, asked)| got != asked)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    use jsonwebtoken::{EncodingKey, Header};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn the_payee_hash_is_sha256_of_name_newline_account_in_base64url() {
        // printf '张三\n6222********1234' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d =
        assert_eq!(
            payee_hash("张三", "6222********1234"),
            "SrKVSH_H-gyGi-2IEa5p1hXcDemHYD-deUUqC_KxYeA"
        );
        assert_ne!(
            payee_hash("张三", "6222********1235"),
            payee_hash("张三", "6222********1234")
        );
    }

    fn expected() -> ExpectedPayment {
        ExpectedPayment {
            authorization_id: "pa_1".into(),
            account_no: "100000000001".into(),
            amount_fen: 1_234_567,
            currency: "CNY".into(),
            payee_name: "张三".into(),
            payee_account: "6222********1234".into(),
            purpose: "withdrawal.retirement".into(),
            business_ref: "WD-1".into(),
        }
    }

    fn claims(exp: i64) -> ReceiptClaims {
        let e = expected();
        ReceiptClaims {
            iss: RECEIPT_ISSUER.into(),
            aud: "withdrawals".into(),
            jti: "j".into(),
            iat: NOW,
            exp,
            authorization_id: e.authorization_id,
            account_no: e.account_no,
            amount_fen: e.amount_fen,
            currency: e.currency,
            payee_hash: payee_hash(&e.payee_name, &e.payee_account),
            purpose: e.purpose,
            business_ref: e.business_ref,
            confirmed_at: NOW,
            channel: "web".into(),
            risk_flags: vec![],
        }
    }

    #[test]
    fn a_receipt_for_exactly_this_payment_has_no_mismatch_and_each_change_is_named() {
        assert!(mismatches(&claims(NOW), &expected()).is_empty());
        let mut other = claims(NOW);
        other.amount_fen += 1;
        other.business_ref = "WD-2".into();
        let found: Vec<_> = mismatches(&other, &expected())
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(found, ["amount_fen", "business_ref"]);
        let mut elsewhere = expected();
        elsewhere.payee_account = "6222********9999".into();
        let found: Vec<_> = mismatches(&claims(NOW), &elsewhere)
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(found, ["payee_hash"]);
    }

    /// A key set of one key and a receipt signed with it, as fundpass would make them.
    fn signed(typ: &str, claims: &ReceiptClaims) -> (String, JwkSet) {
        let key = SigningKey::from_bytes(&[5; 32]);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let set = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "r1", "alg": "EdDSA", "use": "sig"}
        ]});
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.into());
        header.kid = Some("r1".into());
        let der = key.to_pkcs8_der().unwrap();
        let token =
            jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
                .unwrap();
        (token, serde_json::from_value(set).unwrap())
    }

    #[test]
    fn a_receipt_verifies_only_for_its_client_its_type_and_before_it_expires() {
        let far = 4_000_000_000;
        let (token, keys) = signed(RECEIPT_TYP, &claims(far));
        assert_eq!(verify(&token, &keys, "withdrawals").unwrap(), claims(far));
        assert!(
            verify(&token, &keys, "loans").is_err(),
            "another client's receipt"
        );
        let (expired, keys) = signed(RECEIPT_TYP, &claims(1_600_000_000));
        assert!(verify(&expired, &keys, "withdrawals").is_err());
        let (untyped, keys) = signed("JWT", &claims(far));
        let e = verify(&untyped, &keys, "withdrawals")
            .unwrap_err()
            .to_string();
        assert!(e.contains("typ"), "{e}");
        let empty: JwkSet = serde_json::from_str(r#"{"keys":[]}"#).unwrap();
        let e = verify(&token, &empty, "withdrawals")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no key"), "{e}");
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(
            verify(&forged, &keys, "withdrawals").is_err(),
            "a changed signature"
        );
    }
}
