//! Registration through the app: identify → SMS code → two new passwords.
//!
//! The start answers the same bytes whether or not the details matched a member (only
//! the random flow id differs), so the API cannot be used to find out who is a member.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::portal::{IdentifyInput, NewPasswords, StartedFlow};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::types::DocumentType;
use super::{map, run, run_after_captcha};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The one sentence every registration start answers with.
pub const NEUTRAL_MESSAGE: &str =
    "If these details match our records, a code has been sent to the phone on file.";

/// Who the member says they are, with a solved captcha.
#[derive(Deserialize, ToSchema)]
pub struct RegistrationStart {
    /// Name as on the document (1 to 64 characters; surrounding spaces are dropped).
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
    /// Type of the document the member is registered under.
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven. It
    /// must then be a valid number of `id_type` (check character, date of birth).
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
    /// The mobile number the member believes the fund has on file: 11 digits from 13
    /// to 19, with an optional +86, 0086 or 86; spaces, hyphens and full-width
    /// characters are forgiven.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[\s\-－]*(?:[+＋][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[0０][\s\-－]*[0０][\s\-－]*[8８][\s\-－]*[6６][\s\-－]*|[8８][\s\-－]*[6６][\s\-－]*)?[1１][\s\-－]*[3-9３-９][\s\-－]*(?:[0-9０-９][\s\-－]*){9}$"
    )]
    pub phone: String,
    /// From `POST /api/v1/captcha`.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub captcha_id: String,
    /// The characters in the picture.
    #[schema(min_length = 1, pattern = r"\S")]
    pub captcha_answer: String,
}

/// The neutral answer to a registration start.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationStarted {
    /// Keep it for the next steps; it is the only handle on this registration.
    pub flow_id: String,
    /// The neutral sentence to show the member.
    pub message: &'static str,
    /// When the code (if one was sent) stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
    /// When a new code may be asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
}

/// Start registering.
///
/// Checks the captcha, then the format of name, document and phone. If and only if
/// all of them match an ordinary member, a code goes to the phone on file; the answer
/// is the same either way.
#[utoipa::path(
    post,
    path = "/api/v1/registration",
    operation_id = "start_registration",
    tag = "registration",
    request_body = RegistrationStart,
    responses(
        (status = 202, description = "Accepted; a code was sent if the details matched", body = RegistrationStarted),
        (status = 400, description = "captcha_wrong, captcha_expired, bad_name, bad_id_number, bad_phone or bad_json", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RegistrationStart>,
) -> Result<(StatusCode, Json<RegistrationStarted>), ApiError> {
    let input = IdentifyInput {
        name: body.name,
        id_type: body.id_type.into(),
        id_number: body.id_number,
        phone: body.phone,
    };
    let ctx = client.context(Channel::App);
    let captcha = (body.captcha_id.as_str(), body.captcha_answer.as_str());
    let call = crate::evenly::evenly(&state, state.portal.start_registration(&input, &ctx));
    let started = run_after_captcha(&state, captcha, call, map::registration).await?;
    Ok((StatusCode::ACCEPTED, Json(neutral(started))))
}

fn neutral(started: StartedFlow) -> RegistrationStarted {
    RegistrationStarted {
        flow_id: started.flow.expose().to_owned(),
        message: NEUTRAL_MESSAGE,
        code_expires_at: started.code_expires_at,
        resend_after: started.resend_after,
    }
}

/// The code the member received by SMS.
#[derive(Deserialize, ToSchema)]
pub struct RegistrationCode {
    /// From the registration start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow_id: String,
    /// Six digits (spaces are ignored).
    #[schema(value_type = String, format = Password, pattern = r"^\s*(?:[0-9]\s*){6}$")]
    pub code: SecretString,
}

/// What to do next.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationNext {
    /// Always `set_passwords`.
    #[schema(example = "set_passwords")]
    pub next: &'static str,
}

/// Enter the SMS code.
///
/// Valid five minutes and once; five wrong codes close the flow.
#[utoipa::path(
    post,
    path = "/api/v1/registration/code",
    operation_id = "submit_registration_code",
    tag = "registration",
    request_body = RegistrationCode,
    responses(
        (status = 200, description = "The code is right", body = RegistrationNext),
        (status = 400, description = "wrong_code, code_expired or bad_json", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
    )
)]
pub async fn code(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RegistrationCode>,
) -> Result<Json<RegistrationNext>, ApiError> {
    let ctx = client.context(Channel::App);
    let call =
        state
            .portal
            .submit_registration_code(&body.flow_id, body.code.expose_secret(), &ctx);
    run(&state, call, map::registration).await?;
    Ok(Json(RegistrationNext {
        next: "set_passwords",
    }))
}

/// A flow to send a new code in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationResend {
    /// From the registration start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow_id: String,
}

/// A new code is on its way (if the flow found a member).
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeResent {
    /// When the new code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
    /// When another code may be asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
}

/// Send a new code.
///
/// The previous code stops working; wrong codes already entered still count.
#[utoipa::path(
    post,
    path = "/api/v1/registration/resend",
    operation_id = "resend_registration_code",
    tag = "registration",
    request_body = RegistrationResend,
    responses(
        (status = 202, description = "A new code was sent if the flow found a member", body = CodeResent),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
        (status = 429, description = "resend_too_soon, too_many_sends or rate_limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (not for too_many_sends)"))),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RegistrationResend>,
) -> Result<(StatusCode, Json<CodeResent>), ApiError> {
    let ctx = client.context(Channel::App);
    let call = state.portal.resend_registration_code(&body.flow_id, &ctx);
    let started = run(&state, call, map::registration).await?;
    let body = CodeResent {
        code_expires_at: started.code_expires_at,
        resend_after: started.resend_after,
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

/// The two new passwords, each typed twice.
#[derive(Deserialize, ToSchema)]
pub struct RegistrationComplete {
    /// From the registration start, after the code step.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow_id: String,
    /// The login-password rules in force (`password_policy` lists what is broken).
    #[schema(value_type = String, format = Password)]
    pub login_password: SecretString,
    /// The login password again.
    #[schema(value_type = String, format = Password)]
    pub login_password_confirm: SecretString,
    /// Exactly 6 digits (full-width digits are accepted), not a run, a repeat, a
    /// birth date or the tail of the document or phone number.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password: SecretString,
    /// The transaction password again.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password_confirm: SecretString,
}

/// The member is registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationDone {
    /// Always `registered`.
    #[schema(example = "registered")]
    pub status: &'static str,
}

/// Set both passwords and finish.
///
/// On `password_policy`, `details` lists every reason for each password at once.
#[utoipa::path(
    post,
    path = "/api/v1/registration/complete",
    operation_id = "complete_registration",
    tag = "registration",
    request_body = RegistrationComplete,
    responses(
        (status = 200, description = "Registered", body = RegistrationDone),
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
    ApiJson(body): ApiJson<RegistrationComplete>,
) -> Result<Json<RegistrationDone>, ApiError> {
    let passwords = NewPasswords {
        login: body.login_password.expose_secret().to_owned(),
        login_again: body.login_password_confirm.expose_secret().to_owned(),
        transaction: body.transaction_password.expose_secret().to_owned(),
        transaction_again: body.transaction_password_confirm.expose_secret().to_owned(),
    };
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .complete_registration(&body.flow_id, passwords, &ctx);
    run(&state, call, map::registration).await?;
    Ok(Json(RegistrationDone {
        status: "registered",
    }))
}
