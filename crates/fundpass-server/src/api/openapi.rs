//! The OpenAPI 3.1 document: paths and schemas come from the handlers' annotations
//! (collected by the router), the frame (title, tags, security scheme, error schema)
//! from here.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::response::{ResponseBuilder, Responses};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi};

use super::error::{ApiError, ErrorBody, ErrorCode, ErrorObject};

/// Title, description, tags and shared components of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fundpass app API",
        description = "Registration, login, sessions and password recovery for the housing provident fund's mobile app. \
            Every error has the body `{\"error\": {\"code\", \"message\", \"details\"}}` (schema `ErrorBody`); \
            branch on `code`. Every response carries `Cache-Control: no-store`."
    ),
    components(schemas(ErrorBody, ErrorObject, ErrorCode)),
    modifiers(&BearerScheme),
    tags(
        (name = "captcha", description = "Image captchas needed by registration and login"),
        (name = "registration", description = "Ordinary member to registered user"),
        (name = "session", description = "Login, logout and the member's profile"),
        (name = "recovery", description = "Forgotten login and transaction passwords"),
        (name = "face", description = "Face verification login: a recovery-only token"),
        (name = "security", description = "The member's security questions"),
        (name = "payments", description = "Payments the fund's business systems ask the member to approve"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme the member endpoints name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("opaque")
                .description(Some(
                    "The token from POST /api/v1/login, or the recovery-only token from \
                     POST /api/v1/face/complete (forgotten-transaction-password endpoints only).",
                ))
                .build(),
        );
        let components = openapi
            .components
            .get_or_insert_with(|| ComponentsBuilder::new().build());
        components.add_security_scheme("bearer", scheme);
    }
}

/// Adds the refusals every operation can meet to each one that does not list them
/// already: `internal` everywhere, and the body refusals where a JSON body is taken.
/// Runs on the assembled document, after the handlers' paths are in.
pub fn add_common_responses(doc: &mut Document, error_schema: &str) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses;
            if operation.request_body.is_some() {
                ensure(
                    responses,
                    "400",
                    "bad_json: the body is not JSON of the expected shape",
                    error_schema,
                );
                ensure(responses, "413", "payload_too_large", error_schema);
                ensure(
                    responses,
                    "415",
                    "unsupported_media_type: send application/json",
                    error_schema,
                );
            }
            ensure(responses, "500", "internal", error_schema);
        }
    }
}

fn ensure(responses: &mut Responses, status: &str, description: &str, schema: &str) {
    responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build();
            ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build()
                .into()
        });
}

/// Serves the document the router assembled.
pub async fn document(State(doc): State<Arc<Document>>) -> Response {
    match serde_json::to_vec(doc.as_ref()) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
