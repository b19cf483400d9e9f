//! The internal API that the fund's business systems call before money moves, under
//! `/internal/`, with its own OpenAPI document at `/internal/openapi.json`.
//!
//! Callers are OAuth 2.0 clients registered by an administrator
//! (`fundpass clients add`); they get a 5-minute access token at
//! `/internal/oauth/token` with a signed client assertion and send it as a bearer
//! token; every call checks the token's scope. The routes can be served on their own
//! listener (`server.internal_bind`), in which case the public one does not have them.

mod auth;
mod error;
mod members;
mod payments;
mod qualification;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use fundpass_core::clients::Scope;
use fundpass_core::payout::Purpose;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi as Document};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::JWT_BEARER;
pub use error::{InternalCode, InternalError};
pub use payments::view as authorization_view;

use crate::app::MAX_BODY_BYTES;
use crate::state::AppState;

/// Frame of the internal API's document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fundpass internal API",
        description = "For the fund's business systems (withdrawals, loans, benefit payments): payment \
            authorisations bound to amount and payee and approved with the member's transaction password, \
            members' holds and standing, benefit qualification status, app-token introspection. Authenticate with OAuth 2.0 client \
            credentials and a signed client assertion (RFC 7523 private_key_jwt) at /internal/oauth/token; \
            send the access token as `Authorization: Bearer`. Every error but the token endpoint's has the \
            body `{\"error\": {\"code\", \"message\", \"details\"}}` (schema `InternalErrorBody`); the token \
            endpoint answers as RFC 6749 §5.2 says. Receipts are compact JWS (EdDSA) verifiable with the \
            keys at /internal/v1/jwks.json. Events arrive by webhook, signed \
            `Fundpass-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`."
    ),
    components(schemas(error::InternalErrorBody, error::InternalErrorObject, error::InternalCode)),
    modifiers(&ClientCredentialsScheme),
    tags(
        (name = "oauth", description = "Access tokens"),
        (name = "payments", description = "Payment authorisations and receipts"),
        (name = "members", description = "Members' standing and holds"),
        (name = "tokens", description = "Introspection of members' app tokens"),
    )
)]
struct InternalDoc;

/// The OAuth 2.0 client-credentials scheme, named `bearer` in each operation.
struct ClientCredentialsScheme;

impl Modify for ClientCredentialsScheme {
    fn modify(&self, openapi: &mut Document) {
        let scopes = Scopes::from_iter(Scope::ALL.iter().map(|s| {
            let what = match s {
                Scope::PaymentsAuthorize => {
                    "create, verify, read and capture payment authorisations"
                }
                Scope::HoldsRead => "read members' holds",
                Scope::MembersRead => "read members' standing",
                Scope::TokensIntrospect => "introspect members' app tokens",
                Scope::QualificationRead => "read members' benefit qualification status",
            };
            (s.code(), what)
        }));
        let flow = Flow::ClientCredentials(ClientCredentials::new("/internal/oauth/token", scopes));
        let scheme = SecurityScheme::OAuth2(OAuth2::with_description(
            [flow],
            "Client credentials with a private_key_jwt client assertion (RFC 7523).",
        ));
        openapi
            .components
            .get_or_insert_with(|| ComponentsBuilder::new().build())
            .add_security_scheme("bearer", scheme);
    }
}

/// The internal routes and their document.
pub fn router() -> Router<AppState> {
    let (routes, document) = documented();
    routes
        .route(
            "/internal/openapi.json",
            get(openapi_json).with_state(Arc::new(document)),
        )
        .route("/internal/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(refuse_oversized_bodies))
        .layer(map_response(envelope_for_bare_405))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The internal API's OpenAPI document.
pub fn openapi_document() -> Document {
    documented().1
}

fn documented() -> (Router<AppState>, Document) {
    let (routes, mut document) = OpenApiRouter::with_openapi(InternalDoc::openapi())
        .routes(routes!(auth::token))
        .routes(routes!(payments::create))
        .routes(routes!(payments::get))
        .routes(routes!(payments::capture))
        .routes(routes!(payments::verify))
        .routes(routes!(members::member))
        .routes(routes!(members::holds))
        .routes(routes!(qualification::qualification))
        .routes(routes!(members::introspect))
        .routes(routes!(members::jwks))
        .split_for_parts();
    crate::api::add_common_responses(&mut document, "InternalErrorBody");
    add_field_rules(&mut document);
    (routes, document)
}

/// The values and field dependencies of the bodies that the core's own lists decide.
fn add_field_rules(doc: &mut Document) {
    use crate::api::add_property_keyword;
    let purposes: Vec<&str> = Purpose::ALL.iter().map(|p| p.code()).collect();
    add_property_keyword(doc, ("PaymentRequest", "purpose"), "enum", json!(purposes));
    add_property_keyword(doc, ("PaymentRequest", "currency"), "enum", json!(["CNY"]));
    let grant = json!(["client_credentials"]);
    add_property_keyword(doc, ("TokenRequest", "grant_type"), "enum", grant);
    let assertion = json!([JWT_BEARER]);
    add_property_keyword(
        doc,
        ("TokenRequest", "client_assertion_type"),
        "enum",
        assertion,
    );
}

async fn openapi_json(State(doc): State<Arc<Document>>) -> Response {
    match serde_json::to_vec(doc.as_ref()) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => InternalError::internal(&e).into_response(),
    }
}

async fn not_found() -> InternalError {
    InternalError::with_details(InternalCode::NotFound, None)
}

async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    if crate::api::declared_too_large(&request) {
        return InternalError::new(InternalCode::PayloadTooLarge).into_response();
    }
    next.run(request).await
}

async fn envelope_for_bare_405(response: Response) -> Response {
    crate::api::replace_bare_405(response, || {
        InternalError::new(InternalCode::MethodNotAllowed).into_response()
    })
}
