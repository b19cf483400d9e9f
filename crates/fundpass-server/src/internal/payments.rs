//! Payment authorisations: create one for the member to confirm, verify a
//! transaction password typed on a PIN pad, read one, capture it.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use fundpass_core::audit::Channel;
use fundpass_core::payout::{Authorization, PaymentInput};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{self, InternalCode, InternalError, InternalErrorBody};
use crate::api::{ApiJson, ApiPath, ErrorCode, rfc3339};
use crate::request::ClientInfo;
use crate::state::AppState;

/// A JSON body, refused in the internal API's envelope.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = InternalError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match ApiJson::<T>::from_request(req, state).await {
            Ok(ApiJson(value)) => Ok(Self(value)),
            Err(refused) => {
                let code = match refused.code() {
                    ErrorCode::UnsupportedMediaType => InternalCode::UnsupportedMediaType,
                    ErrorCode::PayloadTooLarge => InternalCode::PayloadTooLarge,
                    _ => InternalCode::BadJson,
                };
                Err(InternalError::with_details(
                    code,
                    refused.details_ref().cloned(),
                ))
            }
        }
    }
}

/// A path parameter, refused in the internal API's envelope when it does not parse.
#[derive(Debug)]
pub struct PathParam<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for PathParam<T> {
    type Rejection = InternalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match ApiPath::<T>::from_request_parts(parts, state).await {
            Ok(ApiPath(value)) => Ok(Self(value)),
            Err(_) => Err(InternalError::new(InternalCode::NotFound)),
        }
    }
}

/// Who is paid, as the business system will pay them.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Payee {
    /// The payee's name (1 to 100 characters, no control characters; surrounding spaces
    /// are dropped).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// The payee's account, masked: 4 to 40 letters, digits, spaces and `*`, at least
    /// one `*` and at most 8 digits shown, e.g. `6222********1234`.
    #[schema(
        min_length = 4,
        max_length = 40,
        pattern = r"^[A-Za-z0-9 ]*\*[A-Za-z0-9* ]*$"
    )]
    pub account: String,
}

/// One payment to authorise.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentRequest {
    /// The member's account number (个人账号): 6 to 24 letters and digits.
    #[schema(pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$")]
    pub account_no: String,
    /// The amount in fen (1 yuan = 100 fen), above zero and at most
    /// `payouts.max_amount_fen` of the server's configuration.
    #[schema(minimum = 1)]
    pub amount_fen: i64,
    /// `CNY`.
    pub currency: String,
    pub payee: Payee,
    /// A purpose code: `withdrawal.retirement`, `withdrawal.purchase`, `withdrawal.rent`,
    /// `withdrawal.medical`, `withdrawal.emigration`, `withdrawal.loan_repayment`,
    /// `loan.disbursement`, `benefit.pension`, `benefit.unemployment`.
    pub purpose: String,
    /// The business system's own reference (1 to 64 printable ASCII characters, no
    /// spaces).
    #[schema(min_length = 1, max_length = 64, pattern = r"^[!-~]+$")]
    pub business_ref: String,
}

impl PaymentRequest {
    fn input(&self) -> PaymentInput {
        PaymentInput {
            account_no: self.account_no.clone(),
            amount_fen: self.amount_fen,
            currency: self.currency.clone(),
            payee_name: self.payee.name.clone(),
            payee_account: self.payee.account.clone(),
            purpose: self.purpose.clone(),
            business_ref: self.business_ref.clone(),
        }
    }
}

/// A payment and the transaction password the member typed on the PIN pad.
#[derive(Deserialize, ToSchema)]
pub struct DirectVerification {
    #[serde(flatten)]
    pub payment: PaymentRequest,
    /// Six digits, never logged or stored.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password: SecretString,
}

/// An authorisation as the business system sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationView {
    /// `pa_…`.
    pub id: String,
    /// `pending`, `confirmed`, `declined`, `captured` or `expired`.
    pub state: &'static str,
    /// `confirm` (the member confirms in fundpass) or `direct` (PIN pad).
    pub mode: &'static str,
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: String,
    pub payee: Payee,
    pub purpose: String,
    pub business_ref: String,
    /// Holds in force that only mark payouts (`recent_phone_change`…).
    pub risk_flags: Vec<String>,
    pub created_at: String,
    /// Pending: until the member may confirm. Confirmed: until it may be captured.
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// Where the member decided: `web`, `app` or `terminal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// The page where the member confirms (pending, confirm mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    /// The signed receipt (compact JWS, EdDSA; keys at `/internal/v1/jwks.json`), once
    /// confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// The view of `a` at the server's clock.
pub fn view(state: &AppState, a: &Authorization) -> AuthorizationView {
    let now = state.portal.clock.now();
    let current = a.state_at(now);
    let pending = current == fundpass_core::payout::State::Pending;
    AuthorizationView {
        id: a.id.clone(),
        state: current.code(),
        mode: a.mode.code(),
        account_no: a.account_no.clone(),
        amount_fen: a.payment.amount_fen,
        currency: a.payment.currency.clone(),
        payee: Payee {
            name: a.payment.payee_name.clone(),
            account: a.payment.payee_account.clone(),
        },
        purpose: a.payment.purpose.code().to_owned(),
        business_ref: a.payment.business_ref.clone(),
        risk_flags: a.risk_flags.clone(),
        created_at: rfc3339(a.created_at),
        expires_at: rfc3339(a.expires_at),
        decided_at: a.decided_at.map(rfc3339),
        channel: a.channel.map(|c| c.code()),
        captured_at: a.captured_at.map(rfc3339),
        confirm_url: pending.then(|| format!("{}/confirm/{}", state.settings.public_origin, a.id)),
        receipt: a.receipt.clone(),
    }
}

/// `201 Created` with the authorisation, or the refusal.
fn created(
    state: &AppState,
    made: Result<Authorization, fundpass_core::payout::PayoutError>,
) -> Result<(StatusCode, axum::Json<AuthorizationView>), InternalError> {
    let now = state.portal.clock.now();
    let auth = made.map_err(|e| error::payout(e, now))?;
    Ok((StatusCode::CREATED, axum::Json(view(state, &auth))))
}

fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// Ask the member to confirm a payment.
#[utoipa::path(
    post,
    path = "/internal/v1/authorizations",
    operation_id = "create_authorization",
    tag = "payments",
    security(("bearer" = ["payments:authorize"])),
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 128, pattern = r"^[!-~]+$",
        description = "Required: 1 to 128 printable ASCII characters, no spaces; a retry with the same key and body returns the same authorisation")),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "Pending: the member confirms at `confirm_url` or in the app", body = AuthorizationView),
        (status = 400, description = "bad_payment, bad_idempotency_key, bad_json", body = InternalErrorBody),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope", body = InternalErrorBody),
        (status = 404, description = "unknown_member", body = InternalErrorBody),
        (status = 409, description = "member_not_registered, member_frozen, member_on_hold", body = InternalErrorBody),
        (status = 422, description = "idempotency_key_reused", body = InternalErrorBody),
        (status = 423, description = "transaction_locked, transaction_disabled", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    client: ClientInfo,
    Caller(caller): Caller,
    headers: HeaderMap,
    Body(body): Body<PaymentRequest>,
) -> Result<(StatusCode, axum::Json<AuthorizationView>), InternalError> {
    let ctx = client.context(Channel::Internal);
    let made = state
        .portal
        .create_authorization(&caller, &body.input(), idempotency_key(&headers), &ctx)
        .await;
    created(&state, made)
}

/// Verify the transaction password typed on the business system's PIN pad.
#[utoipa::path(
    post,
    path = "/internal/v1/transaction-password/verify",
    operation_id = "verify_transaction_password",
    tag = "payments",
    security(("bearer" = ["payments:authorize"])),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = r"^[!-~]+$",
        description = "Optional: 1 to 128 printable ASCII characters, no spaces; a retry with the same key and body returns the same authorisation")),
    request_body = DirectVerification,
    responses(
        (status = 201, description = "Confirmed, with its receipt", body = AuthorizationView),
        (status = 400, description = "bad_payment, bad_idempotency_key, bad_json", body = InternalErrorBody),
        (status = 401, description = "invalid_token; wrong_transaction_password (also for an account number nobody holds)", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope; confirmation_required above the direct threshold", body = InternalErrorBody),
        (status = 409, description = "member_frozen, member_on_hold", body = InternalErrorBody),
        (status = 422, description = "idempotency_key_reused", body = InternalErrorBody),
        (status = 423, description = "transaction_locked (details.until), transaction_disabled", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
        (status = 503, description = "busy", body = InternalErrorBody),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    client: ClientInfo,
    Caller(caller): Caller,
    headers: HeaderMap,
    Body(body): Body<DirectVerification>,
) -> Result<(StatusCode, axum::Json<AuthorizationView>), InternalError> {
    let ctx = client.context(Channel::Internal);
    let made = state
        .portal
        .verify_payment_directly(
            &caller,
            &body.payment.input(),
            body.transaction_password.expose_secret(),
            idempotency_key(&headers),
            &ctx,
        )
        .await;
    created(&state, made)
}

/// Read one of the caller's authorisations.
#[utoipa::path(
    get,
    path = "/internal/v1/authorizations/{id}",
    operation_id = "get_authorization",
    tag = "payments",
    security(("bearer" = ["payments:authorize"])),
    params(("id" = String, Path, min_length = 1, description = "The authorisation id")),
    responses(
        (status = 200, description = "The authorisation", body = AuthorizationView),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope, foreign_authorization", body = InternalErrorBody),
        (status = 404, description = "not_found", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    PathParam(id): PathParam<String>,
) -> Result<axum::Json<AuthorizationView>, InternalError> {
    let now = state.portal.clock.now();
    let auth = state
        .portal
        .client_authorization(&caller, &id)
        .await
        .map_err(|e| error::payout(e, now))?;
    Ok(axum::Json(view(&state, &auth)))
}

/// Mark a confirmed authorisation used, exactly once, before paying.
#[utoipa::path(
    post,
    path = "/internal/v1/authorizations/{id}/capture",
    operation_id = "capture_authorization",
    tag = "payments",
    security(("bearer" = ["payments:authorize"])),
    params(("id" = String, Path, min_length = 1, description = "The authorisation id")),
    responses(
        (status = 200, description = "Captured: pay now", body = AuthorizationView),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope, foreign_authorization", body = InternalErrorBody),
        (status = 404, description = "not_found", body = InternalErrorBody),
        (status = 409, description = "not_confirmed, authorization_declined, authorization_expired, already_captured", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn capture(
    State(state): State<AppState>,
    client: ClientInfo,
    Caller(caller): Caller,
    PathParam(id): PathParam<String>,
) -> Result<axum::Json<AuthorizationView>, InternalError> {
    let ctx = client.context(Channel::Internal);
    let now = state.portal.clock.now();
    let auth = state
        .portal
        .capture_authorization(&caller, &id, &ctx)
        .await
        .map_err(|e| error::payout(e, now))?;
    Ok(axum::Json(view(&state, &auth)))
}
