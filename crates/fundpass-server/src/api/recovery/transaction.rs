//! Forgotten transaction password (seed scenario 2, and step one of scenario 3 with
//! the token of a face login): confirm name and document → type the phone on file in
//! full → the SMS code → a new six-digit transaction password twice.
//!
//! Every endpoint takes a bearer token, full or recovery-only; a flow belongs to the
//! member who started it and is unknown to everyone else. Wrong codes count in the
//! flow (five close it) and per member across flows, so a new flow buys no new tries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::portal::{RecoveryIdentify, StartedFlow};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{DONE, RecoveryDone, RecoveryNext, new_secret};
use crate::api::auth::SignedInForRecovery;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::ApiJson;
use crate::api::types::DocumentType;
use crate::api::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The logged-in member's own name and document.
#[derive(Deserialize, ToSchema)]
pub struct ForgotTransactionStart {
    /// Name as on the document (1 to 64 characters; surrounding spaces are dropped).
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
    /// Type of the document.
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven. It
    /// must then be a valid number of `id_type`.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
}

/// The recovery is open: the phone on file, masked, for the member to type in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgotTransactionStarted {
    /// Keep it for the next steps.
    pub flow: String,
    /// Like `138****5678`.
    pub masked_phone: String,
    /// When the recovery must be finished by.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Start recovering the transaction password.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/transaction",
    operation_id = "start_forgot_transaction",
    tag = "recovery",
    security(("bearer" = [])),
    request_body = ForgotTransactionStart,
    responses(
        (status = 201, description = "Started", body = ForgotTransactionStarted),
        (status = 400, description = "bad_name, bad_id_number or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "not_your_account: not the logged-in member's details", body = ErrorBody),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<ForgotTransactionStart>,
) -> Result<(StatusCode, Json<ForgotTransactionStarted>), ApiError> {
    let input = RecoveryIdentify {
        name: body.name,
        id_type: body.id_type.into(),
        id_number: body.id_number,
    };
    let ctx = client.context(Channel::App);
    let call = state.portal.start_forgot_transaction(&auth, &input, &ctx);
    let started = run(&state, call, map::recovery).await?;
    let body = ForgotTransactionStarted {
        flow: started.flow.expose().to_owned(),
        masked_phone: started.masked_phone,
        expires_at: started.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// The phone on file, typed in full.
#[derive(Deserialize, ToSchema)]
pub struct ForgotTransactionCodeRequest {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// The mobile number the fund has on file (中心留存手机号): 11 digits, with an
    /// optional +86, 0086 or 86; spaces, hyphens and full-width characters are forgiven.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[\s\-－]*(?:[+＋][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[0０][\s\-－]*[0０][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[8８][\s\-－]*[6６][\s\-－]*)?[1１][\s\-－]*[3-9３-９][\s\-－]*(?:[0-9０-９][\s\-－]*){9}$"
    )]
    pub phone: String,
}

/// A code is on its way to the phone on file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodeSent {
    /// When the code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
    /// When a new code may be asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
}

impl From<StartedFlow> for RecoveryCodeSent {
    fn from(started: StartedFlow) -> Self {
        Self {
            code_expires_at: started.code_expires_at,
            resend_after: started.resend_after,
        }
    }
}

/// Confirm the phone on file and get a code.
///
/// A number other than the one on file gets `not_verified` and nothing is sent.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/transaction/code-request",
    operation_id = "request_forgot_transaction_code",
    tag = "recovery",
    security(("bearer" = [])),
    request_body = ForgotTransactionCodeRequest,
    responses(
        (status = 202, description = "A code was sent to the phone on file", body = RecoveryCodeSent),
        (status = 400, description = "not_verified (details.remaining), bad_phone or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
        (status = 423, description = "codes_locked (details.until)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn code_request(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<ForgotTransactionCodeRequest>,
) -> Result<(StatusCode, Json<RecoveryCodeSent>), ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .send_forgot_transaction_code(&auth, &body.flow, &body.phone, &ctx);
    let started = run(&state, call, map::recovery).await?;
    Ok((StatusCode::ACCEPTED, Json(started.into())))
}

/// A recovery to send a new code in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotTransactionResend {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
}

/// Send a new code; the previous one stops working, wrong codes still count.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/transaction/resend",
    operation_id = "resend_forgot_transaction_code",
    tag = "recovery",
    security(("bearer" = [])),
    request_body = ForgotTransactionResend,
    responses(
        (status = 202, description = "A new code was sent", body = RecoveryCodeSent),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
        (status = 429, description = "resend_too_soon, too_many_sends or rate_limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (not for too_many_sends)"))),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<ForgotTransactionResend>,
) -> Result<(StatusCode, Json<RecoveryCodeSent>), ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .resend_forgot_transaction_code(&auth, &body.flow, &ctx);
    let started = run(&state, call, map::recovery).await?;
    Ok((StatusCode::ACCEPTED, Json(started.into())))
}

/// The code the member received by SMS.
#[derive(Deserialize, ToSchema)]
pub struct ForgotTransactionCode {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// Six digits (spaces are ignored).
    #[schema(value_type = String, format = Password, pattern = r"^\s*(?:[0-9]\s*){6}$")]
    pub code: SecretString,
}

/// Enter the SMS code.
///
/// Valid five minutes and once. Five wrong codes close the flow; five wrong codes
/// for the member, in any flows, lock recovery by code (`codes_locked`).
#[utoipa::path(
    post,
    path = "/api/v1/recovery/transaction/code",
    operation_id = "submit_forgot_transaction_code",
    tag = "recovery",
    security(("bearer" = [])),
    request_body = ForgotTransactionCode,
    responses(
        (status = 200, description = "The code is right; set the new password", body = RecoveryNext),
        (status = 400, description = "wrong_code (details.remaining), code_expired or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
        (status = 423, description = "codes_locked (details.until)", body = ErrorBody),
    )
)]
pub async fn code(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<ForgotTransactionCode>,
) -> Result<Json<RecoveryNext>, ApiError> {
    let ctx = client.context(Channel::App);
    let code = body.code.expose_secret();
    let call = state
        .portal
        .submit_forgot_transaction_code(&auth, &body.flow, code, &ctx);
    run(&state, call, map::recovery).await?;
    Ok(Json(RecoveryNext {
        next: "new_transaction_password",
    }))
}

/// The new transaction password, typed twice.
#[derive(Deserialize, ToSchema)]
pub struct ForgotTransactionComplete {
    /// From the start, after the code step.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// Exactly 6 digits (full-width digits are accepted), not one of the last few.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub new_transaction_password: SecretString,
    /// The new transaction password again.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub new_transaction_password_again: SecretString,
}

/// Set the new transaction password.
///
/// Every token of the member ends, this one included; a hold is placed and the phone
/// on file is told. On `password_policy`, `details.reasons` lists every reason.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/transaction/complete",
    operation_id = "complete_forgot_transaction",
    tag = "recovery",
    security(("bearer" = [])),
    request_body = ForgotTransactionComplete,
    responses(
        (status = 200, description = "Reset; every token has ended", body = RecoveryDone),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired", body = ErrorBody),
        (status = 422, description = "password_policy", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<ForgotTransactionComplete>,
) -> Result<Json<RecoveryDone>, ApiError> {
    let ctx = client.context(Channel::App);
    let secret = new_secret(
        &body.new_transaction_password,
        &body.new_transaction_password_again,
    );
    let call = state
        .portal
        .complete_forgot_transaction(&auth, &body.flow, &secret, &ctx);
    run(&state, call, map::recovery).await?;
    Ok(Json(DONE))
}
