//! Changing the phone on file from the app: with the token of a face verification
//! login and the transaction password. The old phone is told, a hold follows and
//! every session (this token too) ends.

use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::SignedInForRecovery;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The new phone on file, typed twice, and the transaction password.
#[derive(Deserialize, ToSchema)]
pub struct PhoneChange {
    /// The six-digit transaction password.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password: SecretString,
    /// 11 digits from 13 to 19, with an optional +86, 0086 or 86; spaces, hyphens and
    /// full-width characters are forgiven.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[\s\-－]*(?:[+＋][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[0０][\s\-－]*[0０][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[8８][\s\-－]*[6６][\s\-－]*)?[1１][\s\-－]*[3-9３-９][\s\-－]*(?:[0-9０-９][\s\-－]*){9}$"
    )]
    pub new_phone: String,
    /// The new number again.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[\s\-－]*(?:[+＋][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[0０][\s\-－]*[0０][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[8８][\s\-－]*[6６][\s\-－]*)?[1１][\s\-－]*[3-9３-９][\s\-－]*(?:[0-9０-９][\s\-－]*){9}$"
    )]
    pub new_phone_again: String,
}

/// Change the phone on file (face-login token only).
#[utoipa::path(
    post,
    path = "/api/v1/phone",
    operation_id = "change_phone",
    tag = "security",
    security(("bearer" = [])),
    request_body = PhoneChange,
    responses(
        (status = 204, description = "Changed; the old phone was told, a hold is in force and every session ended"),
        (status = 400, description = "bad_phone, phone_mismatch, same_phone, wrong_transaction_password", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "face_login_required: a password-login token", body = ErrorBody),
        (status = 409, description = "conflict: a parallel request changed the account first", body = ErrorBody),
        (status = 423, description = "transaction_locked, transaction_disabled", body = ErrorBody),
    )
)]
pub async fn change(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedInForRecovery(auth): SignedInForRecovery,
    ApiJson(body): ApiJson<PhoneChange>,
) -> Result<StatusCode, ApiError> {
    let ctx = client.context(Channel::App);
    run(
        &state,
        state.portal.change_phone_in_app(
            &auth,
            body.transaction_password.expose_secret(),
            &body.new_phone,
            &body.new_phone_again,
            &ctx,
        ),
        map::phone_change,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
