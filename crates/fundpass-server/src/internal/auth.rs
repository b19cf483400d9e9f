//! How business systems authenticate: OAuth 2.0 client credentials (RFC 6749 §4.4) at
//! the token endpoint with a signed client assertion (RFC 7523, `private_key_jwt`),
//! or `client_secret_basic` in dev mode; then `Authorization: Bearer <access token>`
//! on every other call ([`Caller`]).

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fundpass_core::audit::Channel;
use fundpass_core::clients::{ClientAuth, ClientCaller, ClientError, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{self, InternalError};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The business system behind a valid access token.
#[derive(Debug, Clone)]
pub struct Caller(pub ClientCaller);

impl FromRequestParts<AppState> for Caller {
    type Rejection = InternalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::api::auth::bearer(&parts.headers)
            .ok_or_else(|| InternalError::new(super::error::InternalCode::InvalidToken))?;
        let now = state.portal.clock.now();
        state
            .portal
            .client_caller(token)
            .await
            .map(Self)
            .map_err(|e| error::client(e, now))
    }
}

/// A token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials` (anything else is `unsupported_grant_type`).
    pub grant_type: String,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`. (In dev mode only,
    /// a client with a secret may leave out both assertion fields and send
    /// `Authorization: Basic` instead.)
    #[serde(default)]
    #[schema(required = true)]
    pub client_assertion_type: Option<String>,
    /// The signed assertion: `iss` = `sub` = the client id, `aud` = this endpoint's URL,
    /// `exp` at most 5 minutes ahead, a `jti` never used before.
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    pub client_assertion: Option<String>,
    /// Scopes asked for, separated by spaces; all the client holds when left out.
    #[serde(default)]
    pub scope: Option<String>,
    /// The client id (optional with an assertion; must match it when given).
    #[serde(default)]
    pub client_id: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Opaque, 256 bits.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires (300).
    pub expires_in: i64,
    /// The scopes it carries, separated by spaces.
    pub scope: String,
}

/// An OAuth error (RFC 6749 §5.2): the token endpoint answers in the form OAuth
/// client libraries read.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`,
    /// `temporarily_unavailable` or `server_error`.
    pub error: &'static str,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(OAuthError {
            error,
            error_description: description.to_owned(),
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"fundpass\""),
        );
    }
    response
}

/// Issue an access token (client credentials grant).
#[utoipa::path(
    post,
    path = "/internal/oauth/token",
    operation_id = "token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope (RFC 6749 §5.2)", body = OAuthError),
        (status = 401, description = "invalid_client: the assertion or the secret was refused", body = OAuthError),
        (status = 500, description = "server_error", body = OAuthError),
        (status = 503, description = "temporarily_unavailable: too many token requests", body = OAuthError),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let request = match form {
        Ok(Form(request)) => request,
        // Streamed past the limit: the same answer as a body declared too large.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return InternalError::new(super::error::InternalCode::PayloadTooLarge).into_response();
        }
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send an application/x-www-form-urlencoded body with grant_type",
            );
        }
    };
    if request.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let auth = match (
        &request.client_assertion_type,
        &request.client_assertion,
        basic(&headers),
    ) {
        (Some(kind), Some(assertion), None) if kind == JWT_BEARER => {
            ClientAuth::Assertion(assertion.clone())
        }
        (None, None, Some((client_id, secret))) => ClientAuth::Secret { client_id, secret },
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "authenticate with exactly one of client_assertion (private_key_jwt) or HTTP Basic",
            );
        }
    };
    if let (Some(given), ClientAuth::Assertion(a)) = (&request.client_id, &auth) {
        let claimed = fundpass_core::clients::claimed_client(a);
        if claimed.as_deref() != Some(given.as_str()) {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client_id does not match the assertion",
            );
        }
    }
    let ctx = client.context(Channel::Internal);
    match state
        .portal
        .client_token(&auth, request.scope.as_deref(), &ctx)
        .await
    {
        Ok(issued) => {
            let body = TokenResponse {
                access_token: issued.token.expose().to_owned(),
                token_type: "Bearer",
                expires_in: (issued.record.expires_at - issued.record.issued_at).whole_seconds(),
                scope: Scope::join(&issued.record.scopes),
            };
            let mut response = axum::Json(body).into_response();
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(ClientError::InvalidClient(_) | ClientError::UnsupportedAuthentication) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        // Only a scope of the fixed list is named: what a client typed is not echoed.
        Err(ClientError::InvalidScope(scope)) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &match Scope::from_code(&scope) {
                Some(known) => format!("the client may not have the scope {}", known.code()),
                None => "a scope asked for is not one of this server's".to_owned(),
            },
        ),
        Err(ClientError::RateLimited { .. }) => oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many requests",
        ),
        Err(
            e @ (ClientError::InvalidToken | ClientError::MissingScope(_) | ClientError::Store(_)),
        ) => {
            tracing::error!(error = %e, "token endpoint failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again later",
            )
        }
    }
}

/// `Authorization: Basic base64(client_id:secret)` (RFC 6749 §2.3.1: both parts
/// form-urlencoded first; ids and secrets here never need escaping).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}
