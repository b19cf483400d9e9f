//! The receipt of a confirmed authorisation: a compact JWS that fundpass signs with
//! the active key of the keyring's signing set (EdDSA) and publishes the public keys
//! of at `/internal/v1/jwks.json`.
//!
//! Header: `{"alg": "EdDSA", "kid": <signing key id>, "typ": "payment-authorization+jwt"}`.
//! Claims: `iss` (`fundpass`), `aud` (the client id), `jti` (random), `iat`, `exp` (end
//! of the capture window), `authorization_id`, `account_no`, `amount_fen`, `currency`,
//! `payee_hash` (see [`Payment::payee_hash`]), `purpose`, `business_ref`,
//! `confirmed_at` (Unix seconds), `channel` (`web`, `app` or `terminal`) and
//! `risk_flags`. A business system checks the signature, `aud`, `exp` and that every
//! fact equals the payment it is about to make.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use super::{Authorization, ConfirmChannel, Payment};
use crate::crypto::JwsSigner;
use crate::ports::SecretGenerator;

/// The JWS `typ` of a receipt.
pub const RECEIPT_TYP: &str = "payment-authorization+jwt";

/// The receipt's issuer.
pub const RECEIPT_ISSUER: &str = "fundpass";

/// Signs the receipt of `auth`, confirmed at `at` through `channel`, good until
/// `expires_at`.
pub fn sign(
    signer: &JwsSigner,
    auth: &Authorization,
    payment: &Payment,
    channel: ConfirmChannel,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
    rng: &dyn SecretGenerator,
) -> String {
    let mut jti = [0u8; 16];
    rng.fill(&mut jti);
    let claims = serde_json::json!({
        "iss": RECEIPT_ISSUER,
        "aud": auth.client_id,
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "iat": at.unix_timestamp(),
        "exp": expires_at.unix_timestamp(),
        "authorization_id": auth.id,
        "account_no": auth.account_no,
        "amount_fen": payment.amount_fen,
        "currency": payment.currency,
        "payee_hash": payment.payee_hash(),
        "purpose": payment.purpose.code(),
        "business_ref": payment.business_ref,
        "confirmed_at": at.unix_timestamp(),
        "channel": channel.code(),
        "risk_flags": auth.risk_flags,
    });
    signer.sign(RECEIPT_TYP, &claims)
}
