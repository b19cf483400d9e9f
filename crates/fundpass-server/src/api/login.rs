//! Logging in and out with app bearer tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::portal::LoginIdentifier;
use fundpass_core::ports::StoreError;
use fundpass_core::session::ClientKind;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json::ApiJson;
use super::types::DocumentType;
use super::{map, run_after_captcha};
use crate::request::ClientInfo;
use crate::state::AppState;

/// A login: either `id_type` with `id_number`, or `account_no`; never both.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Type of document, with `id_number`.
    pub id_type: Option<DocumentType>,
    /// Document number, with `id_type`.
    #[schema(min_length = 1, pattern = r"\S")]
    pub id_number: Option<String>,
    /// Personal account number (个人账号): 6 to 24 letters and digits.
    #[schema(pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$")]
    pub account_no: Option<String>,
    /// The login password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// From `POST /api/v1/captcha`.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub captcha_id: String,
    /// The characters in the picture.
    #[schema(min_length = 1, pattern = r"\S")]
    pub captcha_answer: String,
}

/// A new app session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Ends after 15 minutes unused.
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// The latest the token can live, however much it is used.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Log in.
///
/// Unknown members, wrong passwords and accounts that cannot log in all get
/// `invalid_credentials`. Five failures in a row lock for 15 minutes, doubling with
/// each further lock; attempts during a lock get the same `locked` answer and do not
/// extend it.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    operation_id = "login",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "bad_identifier, captcha_wrong, captcha_expired or bad_json", body = ErrorBody),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 409, description = "conflict: parallel logins of the account kept colliding; try again", body = ErrorBody),
        (status = 423, description = "locked (details.until)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let identifier = identifier(&body)?;
    let ctx = client.context(Channel::App);
    let captcha = (body.captcha_id.as_str(), body.captcha_answer.as_str());
    let password = body.password.expose_secret();
    let call = state
        .portal
        .login(&identifier, password, ClientKind::App, &ctx);
    let success = run_after_captcha(&state, captcha, call, map::login).await?;
    Ok(Json(LoginResponse {
        token: success.token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: success.expires_at,
    }))
}

/// The one identifier a login names, or why the request does not name exactly one.
fn identifier(body: &LoginRequest) -> Result<LoginIdentifier, ApiError> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let refuse = |reason: &str, message: &'static str| {
        ApiError::new(ErrorCode::BadIdentifier)
            .message(message)
            .details(json!({ "reason": reason }))
    };
    match (
        body.id_type,
        given(&body.id_number),
        given(&body.account_no),
    ) {
        (Some(id_type), Some(number), None) => Ok(LoginIdentifier::Document {
            id_type: id_type.into(),
            number,
        }),
        (None, None, Some(account)) => Ok(LoginIdentifier::Account(account)),
        (None, None, None) => Err(refuse(
            "missing",
            "Send either id_type with id_number, or account_no.",
        )),
        (_, _, Some(_)) => Err(refuse(
            "both",
            "Send either a document or an account number, not both.",
        )),
        (Some(_), None, None) => Err(refuse(
            "id_number_missing",
            "id_type was sent without id_number.",
        )),
        (None, Some(_), None) => Err(refuse(
            "id_type_missing",
            "id_number was sent without id_type.",
        )),
    }
}

/// End this token.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    operation_id = "logout",
    tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token no longer works"),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
) -> Result<StatusCode, ApiError> {
    let ctx = client.context(Channel::App);
    ended(state.portal.logout(&auth, &ctx)).await
}

/// End every session and token of the member, this one included.
#[utoipa::path(
    post,
    path = "/api/v1/logout-all",
    operation_id = "logout_all",
    tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No session or token of the member works any more"),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn logout_all(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
) -> Result<StatusCode, ApiError> {
    let ctx = client.context(Channel::App);
    ended(state.portal.logout_everywhere(&auth, &ctx)).await
}

/// What both logouts answer once the sessions are ended.
async fn ended(call: impl Future<Output = Result<(), StoreError>>) -> Result<StatusCode, ApiError> {
    call.await.map_err(map::store)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        id_type: Option<DocumentType>,
        id_number: Option<&str>,
        account_no: Option<&str>,
    ) -> LoginRequest {
        LoginRequest {
            id_type,
            id_number: id_number.map(str::to_owned),
            account_no: account_no.map(str::to_owned),
            password: SecretString::from("x"),
            captcha_id: String::new(),
            captcha_answer: String::new(),
        }
    }

    #[test]
    fn a_login_names_exactly_one_identifier() {
        let doc = Some(DocumentType::ResidentId);
        assert!(matches!(
            identifier(&request(doc, Some("x"), None)),
            Ok(LoginIdentifier::Document { .. })
        ));
        assert!(matches!(
            identifier(&request(None, None, Some("1"))),
            Ok(LoginIdentifier::Account(_))
        ));
        assert!(matches!(
            identifier(&request(None, Some(" "), Some("1"))),
            Ok(LoginIdentifier::Account(_))
        ));
        for bad in [
            request(None, None, None),
            request(doc, Some("x"), Some("1")),
            request(doc, None, None),
            request(None, Some("x"), None),
            request(doc, None, Some("1")),
        ] {
            assert_eq!(
                identifier(&bad).unwrap_err().code(),
                ErrorCode::BadIdentifier
            );
        }
    }
}
