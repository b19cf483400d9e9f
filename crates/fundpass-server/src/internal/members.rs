//! What a business system may read before paying: a member's standing and holds, a
//! member's app token (RFC 7662 introspection), and fundpass's receipt keys.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::clients::Introspection;
use fundpass_core::session::SessionScope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{self, InternalError, InternalErrorBody};
use super::payments::PathParam;
use crate::api::rfc3339;
use crate::request::ClientInfo;
use crate::state::AppState;

/// A member's standing; never the document number or the phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub account_no: String,
    /// `ordinary` (not registered online), `registered` or `frozen`.
    pub status: &'static str,
    /// Whether wrong tries have locked the transaction password.
    pub transaction_password_locked: bool,
    /// Until when (the next midnight, China time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_password_locked_until: Option<String>,
    /// Disabled after 10 wrong tries, until the member recovers it.
    pub transaction_password_disabled: bool,
}

/// Read a member's status and transaction-password lock.
#[utoipa::path(
    get,
    path = "/internal/v1/members/{account_no}",
    operation_id = "get_member",
    tag = "members",
    security(("bearer" = ["members:read"])),
    params(("account_no" = String, Path, pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$",
        description = "The member's account number: 6 to 24 letters and digits (anything else names no member)")),
    responses(
        (status = 200, description = "The member's standing", body = MemberView),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope", body = InternalErrorBody),
        (status = 404, description = "unknown_member", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    PathParam(account_no): PathParam<String>,
) -> Result<axum::Json<MemberView>, InternalError> {
    let now = state.portal.clock.now();
    let m = state
        .portal
        .client_member_standing(&caller, &account_no)
        .await
        .map_err(|e| error::payout(e, now))?;
    Ok(axum::Json(MemberView {
        account_no: m.account_no,
        status: m.status.code(),
        transaction_password_locked: m.transaction_locked_until.is_some(),
        transaction_password_locked_until: m.transaction_locked_until.map(rfc3339),
        transaction_password_disabled: m.transaction_disabled,
    }))
}

/// One hold in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldView {
    /// `login_reset`, `transaction_reset` or `phone_change`.
    pub kind: &'static str,
    /// The channel of the change that placed it: `web`, `app`, `counter`, `hotline`.
    pub channel: &'static str,
    pub since: String,
    pub until: String,
    /// Whether this hold refuses payouts (otherwise it only flags them).
    pub blocks_payouts: bool,
}

/// A member's holds in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldsView {
    pub account_no: String,
    pub holds: Vec<HoldView>,
    /// Whether any hold refuses payouts now.
    pub blocks_payouts: bool,
}

/// Read the holds in force on a member.
#[utoipa::path(
    get,
    path = "/internal/v1/members/{account_no}/holds",
    operation_id = "get_member_holds",
    tag = "members",
    security(("bearer" = ["holds:read"])),
    params(("account_no" = String, Path, pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$",
        description = "The member's account number: 6 to 24 letters and digits (anything else names no member)")),
    responses(
        (status = 200, description = "Holds in force, newest first", body = HoldsView),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope", body = InternalErrorBody),
        (status = 404, description = "unknown_member", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn holds(
    State(state): State<AppState>,
    Caller(caller): Caller,
    PathParam(account_no): PathParam<String>,
) -> Result<axum::Json<HoldsView>, InternalError> {
    let now = state.portal.clock.now();
    let found = state
        .portal
        .client_member_holds(&caller, &account_no)
        .await
        .map_err(|e| error::payout(e, now))?;
    let blocking = &state.portal.policy.payout.blocking_holds;
    Ok(axum::Json(HoldsView {
        account_no: found.account_no,
        blocks_payouts: found.blocks_payouts,
        holds: found
            .holds
            .iter()
            .map(|h| HoldView {
                kind: h.reason.code(),
                channel: h.channel.code(),
                since: rfc3339(h.created_at),
                until: rfc3339(h.until),
                blocks_payouts: blocking.contains(&h.reason),
            })
            .collect(),
    }))
}

/// An introspection request (`application/x-www-form-urlencoded`, RFC 7662 §2.1).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectionRequest {
    /// The member's app bearer token. (`token_type_hint` may be sent and is ignored:
    /// only members' app tokens are introspected.) Any text: one that is no live token
    /// is answered `{"active": false}`.
    pub token: String,
}

/// RFC 7662 §2.2. An unknown, expired or revoked token is `{"active": false}` alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The member's account number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `member_session` (a login with the password) or `face_login_recovery` (a
    /// face-verification login, good only to recover the transaction password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kind: Option<&'static str>,
    /// Issued at, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires (idle or absolute end, whichever is first), Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

/// Ask whether a member's app token is live and whose it is.
#[utoipa::path(
    post,
    path = "/internal/v1/introspect",
    operation_id = "introspect",
    tag = "tokens",
    security(("bearer" = ["tokens:introspect"])),
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token's state", body = IntrospectionResponse),
        (status = 400, description = "bad_json: the form has no token", body = InternalErrorBody),
        (status = 401, description = "invalid_token (the caller's own)", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope", body = InternalErrorBody),
        (status = 415, description = "unsupported_media_type: send application/x-www-form-urlencoded", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn introspect(
    State(state): State<AppState>,
    client: ClientInfo,
    Caller(caller): Caller,
    form: Result<Form<IntrospectionRequest>, axum::extract::rejection::FormRejection>,
) -> Result<axum::Json<IntrospectionResponse>, InternalError> {
    let request = match form {
        Ok(Form(request)) => request,
        Err(rejection) => {
            use super::error::InternalCode;
            return Err(match rejection.status() {
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    InternalError::new(InternalCode::UnsupportedMediaType)
                }
                StatusCode::PAYLOAD_TOO_LARGE => InternalError::new(InternalCode::PayloadTooLarge),
                _ => InternalError::with_details(
                    InternalCode::BadJson,
                    Some(serde_json::json!({"field": "token"})),
                ),
            });
        }
    };
    let ctx = client.context(Channel::Internal);
    let now = state.portal.clock.now();
    let answer = state
        .portal
        .introspect(&caller, &request.token, &ctx)
        .await
        .map_err(|e| error::client(e, now))?;
    Ok(axum::Json(match answer {
        Introspection::Inactive => IntrospectionResponse {
            active: false,
            sub: None,
            token_kind: None,
            iat: None,
            exp: None,
            token_type: None,
        },
        Introspection::Active {
            account_no,
            scope,
            issued_at,
            expires_at,
        } => IntrospectionResponse {
            active: true,
            sub: Some(account_no),
            token_kind: Some(match scope {
                SessionScope::Full => "member_session",
                SessionScope::Recovery => "face_login_recovery",
            }),
            iat: Some(issued_at.unix_timestamp()),
            exp: Some(expires_at.unix_timestamp()),
            token_type: Some("Bearer"),
        },
    }))
}

/// fundpass's receipt keys (RFC 7517 JWK Set).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeySet {
    /// `{"kty": "OKP", "crv": "Ed25519", "x", "kid", "alg": "EdDSA", "use": "sig"}` each.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// The public keys receipts are signed with (no authentication: they are public).
#[utoipa::path(
    get,
    path = "/internal/v1/jwks.json",
    operation_id = "jwks",
    tag = "payments",
    responses((status = 200, description = "The key set", body = KeySet))
)]
pub async fn jwks(State(state): State<AppState>) -> axum::Json<KeySet> {
    let keys = state
        .portal
        .keyring
        .receipt_keys()
        .into_iter()
        .map(|(kid, key)| {
            let mut jwk = key.to_jwk();
            if let Some(fields) = jwk.as_object_mut() {
                fields.insert("kid".into(), kid.as_str().into());
                fields.insert("alg".into(), "EdDSA".into());
                fields.insert("use".into(), "sig".into());
            }
            jwk
        })
        .collect();
    axum::Json(KeySet { keys })
}
