//! The OpenAPI 3.1 document: paths and schemas come from the handlers' annotations
//! (collected by the router), the frame (title, tags, security scheme, error schema)
//! from here.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fundpass_core::member::QUESTION_CODES;
use serde_json::{Value, json};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, Responses};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, OpenApi as Document, Ref, RefOr};
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
        (name = "qualification", description = "The yearly benefit qualification check (待遇资格认证) by face"),
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

/// What an operation takes as its body, as far as the refusals of a body go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    None,
    /// `application/json`: a wrong content type is refused with 415.
    Json,
    /// A form: each handler lists its own answer to a wrong content type (the token
    /// endpoint's is OAuth's 400 `invalid_request`).
    Form,
}

fn body_kind(operation: &Operation) -> BodyKind {
    match &operation.request_body {
        None => BodyKind::None,
        Some(RefOr::T(body)) if body.content.contains_key("application/json") => BodyKind::Json,
        Some(_) => BodyKind::Form,
    }
}

/// Adds the refusals every operation can meet to each one that does not list them
/// already: `internal` (500) and `busy` (503) everywhere, the body refusals (400 and
/// 413, and 415 for a JSON body) where a body is taken, `unauthorized` (401) where a
/// token is asked for. Every 429 and 503 then names its `Retry-After` header. Runs on
/// the assembled document, after the handlers' paths are in.
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
            let body = body_kind(operation);
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut operation.responses;
            if body != BodyKind::None {
                let bad = "bad_json: the body is not of the expected shape (details.field names the field)";
                ensure(responses, "400", bad, error_schema);
                ensure(responses, "413", "payload_too_large", error_schema);
            }
            if body == BodyKind::Json {
                let media = "unsupported_media_type: send application/json";
                ensure(responses, "415", media, error_schema);
            }
            if secured {
                let missing = "unauthorized: no valid bearer token (WWW-Authenticate: Bearer)";
                ensure(responses, "401", missing, error_schema);
            }
            ensure(responses, "500", "internal", error_schema);
            let busy = "busy: the server is saturated or its database is unavailable for \
                        now (Retry-After); a request that ran out of time (30 seconds) \
                        gets 503 with an empty body";
            ensure(responses, "503", busy, error_schema);
            for status in ["429", "503"] {
                if let Some(RefOr::T(response)) = responses.responses.get_mut(status) {
                    response
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| retry_after().into());
                }
            }
        }
    }
}

/// The `Retry-After` header of a 429 or 503: whole seconds (absent only for
/// `too_many_sends`, which no wait cures).
fn retry_after() -> Header {
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        ))
        .description(Some("Seconds to wait before trying again"))
        .build()
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

/// Writes into the schema named `name` a JSON Schema keyword that utoipa's derive
/// cannot express (a `oneOf` across fields). utoipa serialises an object schema's
/// extensions as keys of the object itself.
fn add_keyword(doc: &mut Document, name: &str, keyword: &str, value: Value) {
    let schema = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name));
    if let Some(RefOr::T(Schema::Object(object))) = schema {
        object
            .extensions
            .get_or_insert_with(Extensions::default)
            .insert(keyword.to_owned(), value);
    }
}

/// Writes a JSON Schema keyword into the property `property` of the schema `name`:
/// values the core keeps in its own lists (question codes, purposes), written from
/// those lists so the document cannot drift from them.
pub fn add_property_keyword(
    doc: &mut Document,
    (name, property): (&str, &str),
    keyword: &str,
    value: Value,
) {
    let schema = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name));
    let Some(RefOr::T(Schema::Object(object))) = schema else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(property) {
        field
            .extensions
            .get_or_insert_with(Extensions::default)
            .insert(keyword.to_owned(), value);
    }
}

/// The one rule of the login body a generic client cannot guess from its fields: a
/// document type with its number, or an account number, never both.
fn login_identifier_rule(doc: &mut Document) {
    let number = json!({ "type": "string", "minLength": 1, "pattern": NOT_BLANK });
    let account = json!({ "type": "string", "pattern": ACCOUNT_NUMBER });
    let rule = json!([
        {
            "title": "By document",
            "required": ["id_type", "id_number"],
            "properties": {
                "id_type": { "$ref": "#/components/schemas/DocumentType" },
                "id_number": number,
                "account_no": { "type": "null" }
            }
        },
        {
            "title": "By account number",
            "required": ["account_no"],
            "properties": {
                "account_no": account,
                "id_type": { "type": "null" },
                "id_number": { "type": "null" }
            }
        }
    ]);
    add_keyword(doc, "LoginRequest", "oneOf", rule);
}

/// A personal account number as `AccountNumber::parse` takes it.
const ACCOUNT_NUMBER: &str = r"^\s*[A-Za-z0-9]{6,24}\s*$";

/// A pattern a field matches when it holds something other than spaces (the server
/// trims what is typed, so a blank field is an empty one).
const NOT_BLANK: &str = r"\S";

/// The constraints between fields of the app's bodies, added once the document is
/// assembled.
pub fn add_field_rules(doc: &mut Document) {
    login_identifier_rule(doc);
    add_property_keyword(
        doc,
        ("QuestionAnswer", "question"),
        "enum",
        json!(QUESTION_CODES),
    );
}

/// Serves the document the router assembled.
pub async fn document(State(doc): State<Arc<Document>>) -> Response {
    match serde_json::to_vec(doc.as_ref()) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
