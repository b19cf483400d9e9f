//! The app's JSON API under `/api/v1`, with its OpenAPI document at
//! `/api/openapi.json`, generated from the handlers' annotations.
//!
//! Everything answers JSON with `Cache-Control: no-store`; every refusal, including an
//! unknown path or a body that is not JSON, uses the one envelope of [`error`].
//! Member endpoints take `Authorization: Bearer <token>` and nothing else; the
//! recovery-only token of a face login is taken by the forgotten-transaction-password
//! endpoints alone.

pub(crate) mod auth;
pub(crate) mod authorizations;
mod captcha;
pub(crate) mod data_copy;
mod error;
mod face;
pub(crate) mod fuzzing;
pub(crate) mod json;
mod login;
mod map;
mod me;
mod openapi;
mod password;
mod path;
mod phone;
pub(crate) mod qualification;
mod record;
pub(crate) mod record_actions;
mod recovery;
mod registration;
mod relatives;
mod security;
pub(crate) mod sessions;
mod types;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use time::OffsetDateTime;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorBody, ErrorCode, ErrorObject, rfc3339};
pub use json::ApiJson;
pub use openapi::{add_common_responses, add_property_keyword};
pub(crate) use path::ApiPath;

use crate::app::MAX_BODY_BYTES;
use crate::state::AppState;

/// Routes of the JSON API and its OpenAPI document.
pub fn router() -> Router<AppState> {
    let (routes, document) = documented();
    routes
        .route(
            "/api/openapi.json",
            get(openapi::document).with_state(Arc::new(document)),
        )
        .route("/api/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(refuse_oversized_bodies))
        .layer(map_response(envelope_for_bare_405))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The OpenAPI document of the API, as served at `/api/openapi.json` (for tooling
/// that wants it without starting a server).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The annotated endpoints and the document collected from them.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(captcha::create))
        .routes(routes!(registration::start))
        .routes(routes!(registration::code))
        .routes(routes!(registration::resend))
        .routes(routes!(registration::complete))
        .routes(routes!(login::login))
        .routes(routes!(login::logout))
        .routes(routes!(login::logout_all))
        .routes(routes!(me::me))
        .routes(routes!(record::security_record))
        .routes(routes!(record_actions::export))
        .routes(routes!(record_actions::not_me))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::end))
        .routes(routes!(recovery::login::start))
        .routes(routes!(recovery::login::verify))
        .routes(routes!(recovery::login::complete))
        .routes(routes!(recovery::transaction::start))
        .routes(routes!(recovery::transaction::code_request))
        .routes(routes!(recovery::transaction::resend))
        .routes(routes!(recovery::transaction::code))
        .routes(routes!(recovery::transaction::complete))
        .routes(routes!(face::start))
        .routes(routes!(face::complete))
        .routes(routes!(security::get_questions, security::put_questions))
        .routes(routes!(data_copy::download))
        .routes(routes!(phone::change))
        .routes(routes!(password::change_login))
        .routes(routes!(password::change_transaction))
        .routes(routes!(authorizations::pending))
        .routes(routes!(authorizations::confirm))
        .routes(routes!(authorizations::decline))
        .routes(routes!(qualification::status))
        .routes(routes!(qualification::start))
        .routes(routes!(qualification::complete))
        .routes(routes!(relatives::start, relatives::list))
        .routes(routes!(relatives::confirm))
        .split_for_parts();
    openapi::add_common_responses(&mut document, "ErrorBody");
    openapi::add_field_rules(&mut document);
    (routes, document)
}

/// The clock every expiry in a response is measured against.
fn now(state: &AppState) -> OffsetDateTime {
    state.portal.clock.now()
}

/// One use-case call with its refusal mapped to the envelope, measured against
/// [`now`] (for `Retry-After` and `locked` details): the step every handler shares.
async fn run<T, E>(
    state: &AppState,
    call: impl Future<Output = Result<T, E>>,
    map: fn(E, OffsetDateTime) -> ApiError,
) -> Result<T, ApiError> {
    call.await.map_err(|e| map(e, now(state)))
}

/// [`run`] behind a solved captcha: the call is not made unless the captcha is right.
async fn run_after_captcha<T, E>(
    state: &AppState,
    (captcha_id, captcha_answer): (&str, &str),
    call: impl Future<Output = Result<T, E>>,
    map: fn(E, OffsetDateTime) -> ApiError,
) -> Result<T, ApiError> {
    let answered = captcha::answer(state, captcha_id, captcha_answer).await?;
    let result = run(state, call, map).await;
    if let Err(refusal) = &result
        && refusal.code() == ErrorCode::Busy
    {
        // Nothing was tried: the member's retry may use the same captcha.
        state
            .portal
            .give_back_captcha(answered)
            .await
            .map_err(map::store)?;
    }
    result
}

/// Any other path under `/api/`.
async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

/// A body declared larger than the limit is refused before it is read (bodies sent
/// without a length are cut off by [`DefaultBodyLimit`] and refused by the extractor).
async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    if declared_too_large(&request) {
        return ApiError::new(ErrorCode::PayloadTooLarge).into_response();
    }
    next.run(request).await
}

/// Whether the request declares a body over [`MAX_BODY_BYTES`].
pub(crate) fn declared_too_large(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
}

/// axum answers a known path with the wrong method by an empty 405; give it the
/// envelope too (axum adds the `Allow` header afterwards).
async fn envelope_for_bare_405(response: Response) -> Response {
    replace_bare_405(response, || {
        ApiError::new(ErrorCode::MethodNotAllowed).into_response()
    })
}

/// `envelope()` in place of an empty 405, keeping its `Allow` header.
pub(crate) fn replace_bare_405(
    response: Response,
    envelope: impl FnOnce() -> Response,
) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut envelope = envelope();
    if let Some(allow) = allow {
        envelope.headers_mut().insert(header::ALLOW, allow);
    }
    envelope
}
