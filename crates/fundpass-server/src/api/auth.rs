//! Bearer-token authentication of the app. Only the `Authorization` header counts: a
//! session cookie the same client happens to carry is never API authentication, so a
//! page another site makes the browser post cannot act through the API.
//!
//! [`SignedIn`] takes a full login only; [`SignedInForRecovery`] also takes the
//! recovery-only token of a face login, and guards nothing but the
//! forgotten-transaction-password endpoints.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use fundpass_core::portal::Authenticated;
use fundpass_core::session::ClientKind;

use super::error::{ApiError, ErrorCode};
use super::map;
use crate::state::AppState;

/// The member behind a valid app token.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Authenticated);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let authenticated = state
            .portal
            .authenticate(token, ClientKind::App)
            .await
            .map_err(map::session)?;
        Ok(Self(authenticated))
    }
}

/// The member behind a valid app token, full or from a face login.
#[derive(Debug, Clone)]
pub struct SignedInForRecovery(pub Authenticated);

impl FromRequestParts<AppState> for SignedInForRecovery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let authenticated = state
            .portal
            .authenticate_for_recovery(token, ClientKind::App)
            .await
            .map_err(map::session)?;
        Ok(Self(authenticated))
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any case).
fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer(&parts.headers)
}

/// The token of an `Authorization: Bearer <token>` header in `headers`.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut builder = Request::builder()
            .uri("/api/v1/me")
            .header(header::COOKIE, "fundpass_session=abc");
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_a_bearer_authorization_header_carries_the_token() {
        assert_eq!(bearer_token(&parts(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer_token(&parts(Some("bearer  abc "))), Some("abc"));
        assert_eq!(bearer_token(&parts(Some("Basic abc"))), None);
        assert_eq!(bearer_token(&parts(Some("Bearer "))), None);
        assert_eq!(bearer_token(&parts(None)), None, "cookies are ignored");
    }
}
