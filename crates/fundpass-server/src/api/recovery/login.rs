//! Forgotten login password (seed scenario 1, and step two of scenario 3): identify
//! with a captcha → the transaction password → a new login password twice.
//!
//! The identify step answers the same bytes whether or not the details matched a
//! registered member (only the random flow id differs); a wrong transaction password
//! and details that match nobody both get `not_verified`, and both lock the same way.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::portal::RecoveryIdentify;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{DONE, RecoveryDone, RecoveryNext, new_secret};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::ApiJson;
use crate::api::types::DocumentType;
use crate::api::{map, run, run_after_captcha};
use crate::request::ClientInfo;
use crate::state::AppState;

/// Who the member says they are, with a solved captcha.
#[derive(Deserialize, ToSchema)]
pub struct ForgotLoginStart {
    /// Name as on the document (1 to 64 characters; surrounding spaces are dropped).
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
    /// Type of the document the member is registered under.
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven. It
    /// must then be a valid number of `id_type`.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
    /// From `POST /api/v1/captcha`.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub captcha_id: String,
    /// The characters in the picture.
    #[schema(min_length = 1, pattern = r"\S")]
    pub captcha_answer: String,
}

/// A started recovery: the same shape whether or not anyone matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryStartedBody {
    /// Keep it for the next steps; it is the only handle on this recovery.
    pub flow: String,
    /// When the recovery must be finished by.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Start recovering the login password.
///
/// Checks the captcha, then the format of name and document. The answer does not say
/// whether the details matched a registered member: the next step tells no more.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/login",
    operation_id = "start_forgot_login",
    tag = "recovery",
    request_body = ForgotLoginStart,
    responses(
        (status = 201, description = "Started; the same answer whether or not anyone matched", body = RecoveryStartedBody),
        (status = 400, description = "captcha_wrong, captcha_expired, bad_name, bad_id_number or bad_json", body = ErrorBody),
        (status = 429, description = "rate_limited (details.retry_after)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<ForgotLoginStart>,
) -> Result<(StatusCode, Json<RecoveryStartedBody>), ApiError> {
    let input = RecoveryIdentify {
        name: body.name,
        id_type: body.id_type.into(),
        id_number: body.id_number,
    };
    let ctx = client.context(Channel::App);
    let captcha = (body.captcha_id.as_str(), body.captcha_answer.as_str());
    let call = crate::evenly::evenly(&state, state.portal.start_forgot_login(&input, &ctx));
    let started = run_after_captcha(&state, captcha, call, map::recovery).await?;
    let body = RecoveryStartedBody {
        flow: started.flow.expose().to_owned(),
        expires_at: started.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// The proof: the member's transaction password.
#[derive(Deserialize, ToSchema)]
pub struct ForgotLoginVerify {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// The six-digit transaction password.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password: SecretString,
}

/// Prove the account with the transaction password.
///
/// A wrong password, or details at the start that matched nobody, get `not_verified`.
/// Five failures in a row lock the transaction password until the next midnight
/// (China time), whichever flow they came through; ten disable it.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/login/verify",
    operation_id = "verify_forgot_login",
    tag = "recovery",
    request_body = ForgotLoginVerify,
    responses(
        (status = 200, description = "Verified; set the new password", body = RecoveryNext),
        (status = 400, description = "not_verified (details.remaining) or bad_json", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
        (status = 423, description = "transaction_locked (details.until) or transaction_disabled", body = ErrorBody),
        (status = 429, description = "rate_limited (details.retry_after)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<ForgotLoginVerify>,
) -> Result<Json<RecoveryNext>, ApiError> {
    let ctx = client.context(Channel::App);
    let password = body.transaction_password.expose_secret();
    let call = state.portal.verify_forgot_login(&body.flow, password, &ctx);
    run(&state, call, map::recovery).await?;
    Ok(Json(RecoveryNext {
        next: "new_password",
    }))
}

/// The new login password, typed twice.
#[derive(Deserialize, ToSchema)]
pub struct ForgotLoginComplete {
    /// From the start, after the verify step.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// 8 to 32 letters and digits, not one of the last few.
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
    /// The new password again.
    #[schema(value_type = String, format = Password)]
    pub new_password_again: SecretString,
}

/// Set the new login password.
///
/// Every token of the member ends, a hold is placed and the phone on file is told;
/// log in again with the new password. On `password_policy`, `details.reasons` lists
/// every reason at once and `details.mismatch` says whether the two differ.
#[utoipa::path(
    post,
    path = "/api/v1/recovery/login/complete",
    operation_id = "complete_forgot_login",
    tag = "recovery",
    request_body = ForgotLoginComplete,
    responses(
        (status = 200, description = "Reset; log in again", body = RecoveryDone),
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
    ApiJson(body): ApiJson<ForgotLoginComplete>,
) -> Result<Json<RecoveryDone>, ApiError> {
    let ctx = client.context(Channel::App);
    let secret = new_secret(&body.new_password, &body.new_password_again);
    let call = state
        .portal
        .complete_forgot_login(&body.flow, &secret, &ctx);
    run(&state, call, map::recovery).await?;
    Ok(Json(DONE))
}
