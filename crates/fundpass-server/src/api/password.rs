//! Changing a password the member knows, from the app: the current one and the new
//! one twice. Every other session and app token ends; this one goes on under the new
//! token returned (the token sent stops working).

use axum::Json;
use axum::extract::State;
use fundpass_core::audit::Channel;
use fundpass_core::portal::PasswordChanged;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The current password and the new one, typed twice.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_again: SecretString,
}

/// This session after the change, under a new token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChangeResponse {
    /// Send as `Authorization: Bearer <token>` from now on; the old token no longer
    /// works.
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// The latest the token can live (the session's start has not moved).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl From<PasswordChanged> for PasswordChangeResponse {
    fn from(changed: PasswordChanged) -> Self {
        Self {
            token: changed.token.expose().to_owned(),
            token_type: "Bearer",
            expires_at: changed.expires_at,
        }
    }
}

/// Change the login password.
///
/// A wrong current password counts against the login lock, as at login; the failure
/// that locks the account ends every session and token, this one too (`locked` with
/// `details.signed_out`). The new password must meet the login-password rules and
/// not be one of the last five.
#[utoipa::path(
    post,
    path = "/api/v1/password/login",
    operation_id = "change_login_password",
    tag = "security",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; every other session ended, a text went to the phone on file", body = PasswordChangeResponse),
        (status = 400, description = "wrong_login_password (details.remaining)", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 409, description = "conflict", body = ErrorBody),
        (status = 422, description = "password_policy (details.reasons, details.mismatch)", body = ErrorBody),
        (status = 423, description = "locked (details.until, details.signed_out)", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn change_login(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<PasswordChangeResponse>, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state.portal.change_login_password(
        &auth,
        body.current.expose_secret(),
        body.new.expose_secret(),
        body.new_again.expose_secret(),
        &ctx,
    );
    let changed = run(&state, call, map::password_change).await?;
    Ok(Json(changed.into()))
}

/// Change the transaction password.
///
/// A wrong current password counts against the counter shared with every channel:
/// five in a row lock it until midnight China time (a text tells the member), ten
/// disable it until it is recovered.
#[utoipa::path(
    post,
    path = "/api/v1/password/transaction",
    operation_id = "change_transaction_password",
    tag = "security",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; every other session ended, a text went to the phone on file", body = PasswordChangeResponse),
        (status = 400, description = "wrong_transaction_password (details.remaining)", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 409, description = "conflict", body = ErrorBody),
        (status = 422, description = "password_policy (details.reasons, details.mismatch)", body = ErrorBody),
        (status = 423, description = "transaction_locked (details.until), transaction_disabled", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn change_transaction(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<PasswordChangeResponse>, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state.portal.change_transaction_password(
        &auth,
        body.current.expose_secret(),
        body.new.expose_secret(),
        body.new_again.expose_secret(),
        &ctx,
    );
    let changed = run(&state, call, map::password_change).await?;
    Ok(Json(changed.into()))
}
