//! Target `api_json_body`: every request body of the app's API through [`ApiJson`], the
//! extractor the handlers use (input layout in [`crate::fuzzing`]).
//!
//! Checked: the extractor accepts exactly the bodies serde_json reads as the type when
//! the content type is JSON, and refuses every other content type with
//! `unsupported_media_type`; a refusal is a 4xx in the one error envelope, its message is
//! one of the fixed sentences, and its `details.field` names only fields and values of
//! the API's own schema, never something the client sent.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use axum::extract::FromRequest;
use axum::response::IntoResponse;
use fundpass_core::fuzz_ensure;
use fundpass_core::fuzzing::{Verdict, Violation};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::authorizations::Confirmation;
use super::data_copy::DataCopyRequest;
use super::face::{FaceComplete, FaceStart};
use super::login::LoginRequest;
use super::password::PasswordChange;
use super::phone::PhoneChange;
use super::recovery::login::{ForgotLoginComplete, ForgotLoginStart, ForgotLoginVerify};
use super::recovery::transaction::{
    ForgotTransactionCode, ForgotTransactionCodeRequest, ForgotTransactionComplete,
    ForgotTransactionResend, ForgotTransactionStart,
};
use super::registration::{
    RegistrationCode, RegistrationComplete, RegistrationResend, RegistrationStart,
};
use super::security::SecurityQuestionsUpdate;
use super::{ApiError, ApiJson, ErrorCode};
use crate::fuzzing::{ContentType, post, ready, split};

type Check = fn(ContentType, &[u8]) -> Verdict;

/// Every type a handler takes as `ApiJson<T>`; the input's first byte picks one.
const BODIES: [Check; 20] = [
    check_body::<LoginRequest>,
    check_body::<RegistrationStart>,
    check_body::<RegistrationCode>,
    check_body::<RegistrationResend>,
    check_body::<RegistrationComplete>,
    check_body::<ForgotLoginStart>,
    check_body::<ForgotLoginVerify>,
    check_body::<ForgotLoginComplete>,
    check_body::<ForgotTransactionStart>,
    check_body::<ForgotTransactionCodeRequest>,
    check_body::<ForgotTransactionResend>,
    check_body::<ForgotTransactionCode>,
    check_body::<ForgotTransactionComplete>,
    check_body::<FaceStart>,
    check_body::<FaceComplete>,
    check_body::<PasswordChange>,
    check_body::<PhoneChange>,
    check_body::<SecurityQuestionsUpdate>,
    check_body::<DataCopyRequest>,
    check_body::<Confirmation>,
];

/// Target `api_json_body`.
pub fn check_api_json_body(data: &[u8]) -> Verdict {
    let Some((kind, content_type, body)) = split(data) else {
        return Ok(());
    };
    BODIES[kind % BODIES.len()](content_type, body)
}

fn check_body<T: DeserializeOwned>(content_type: ContentType, body: &[u8]) -> Verdict {
    let outcome = ready(ApiJson::<T>::from_request(post(content_type, body)?, &()))?;
    let serde_reads = serde_json::from_slice::<T>(body).is_ok();
    let header = content_type.header;
    match outcome {
        Ok(_) => {
            fuzz_ensure!(
                content_type.json && serde_reads,
                "accepted a body with content type {header:?} that serde_json reads: {serde_reads}"
            );
            Ok(())
        }
        Err(error) => {
            fuzz_ensure!(
                !(content_type.json && serde_reads),
                "refused with {:?} a JSON body that serde_json reads",
                error.code()
            );
            let expected = if content_type.json {
                ErrorCode::BadJson
            } else {
                ErrorCode::UnsupportedMediaType
            };
            fuzz_ensure!(
                error.code() == expected,
                "refused a body with content type {header:?} as {:?}",
                error.code()
            );
            check_envelope(error)
        }
    }
}

/// The refusal as the client receives it.
fn check_envelope(error: ApiError) -> Verdict {
    let schema = schema()?;
    let response = error.into_response();
    let status = response.status().as_u16();
    fuzz_ensure!(
        matches!(status, 400 | 413 | 415),
        "a bad body was answered {status}"
    );
    let bytes = ready(axum::body::to_bytes(response.into_body(), 64 * 1024))?
        .map_err(|e| Violation(format!("cannot read the refusal: {e}")))?;
    let envelope: Value = serde_json::from_slice(&bytes)
        .map_err(|_| Violation(format!("the refusal is not JSON: {bytes:?}")))?;
    let error = &envelope["error"];
    let message = error["message"].as_str().unwrap_or_default();
    fuzz_ensure!(
        envelope.as_object().map(serde_json::Map::len) == Some(1) && error["code"].is_string(),
        "the refusal is not the error envelope: {envelope}"
    );
    fuzz_ensure!(
        schema.messages.contains(message),
        "the refusal's message is not one of the fixed sentences: {message:?}"
    );
    if let Some(details) = error.get("details") {
        let field = details["field"].as_str();
        fuzz_ensure!(
            details.as_object().map(serde_json::Map::len) == Some(1)
                && field.is_some_and(|path| schema.names_only(path)),
            "the refusal's details name more than the API's own fields: {details}"
        );
    }
    Ok(())
}

/// What a refusal may say: the API's field and value names, and the fixed messages.
struct Schema {
    names: BTreeSet<String>,
    messages: BTreeSet<String>,
}

impl Schema {
    /// Whether every segment of a field path (`questions[1].answer`) is a schema name.
    fn names_only(&self, path: &str) -> bool {
        let mut rest = path.to_owned();
        while let (Some(open), Some(close)) = (rest.find('['), rest.find(']')) {
            let index = rest.get(open + 1..close).unwrap_or("x");
            if close < open || !index.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest.replace_range(open..=close, ".");
        }
        rest.split('.')
            .all(|segment| segment.is_empty() || segment == "?" || self.names.contains(segment))
    }
}

fn schema() -> Result<&'static Schema, Violation> {
    static SCHEMA: OnceLock<Option<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(read_schema)
        .as_ref()
        .ok_or_else(|| Violation("the OpenAPI document or the probes cannot be read".to_owned()))
}

fn read_schema() -> Option<Schema> {
    let document = serde_json::to_value(super::openapi_document()).ok()?;
    let mut names = BTreeSet::new();
    collect_names(&document, &mut names);
    let mut messages: BTreeSet<String> = [
        ErrorCode::BadJson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
    ]
    .into_iter()
    .map(|code| code.default_message().to_owned())
    .collect();
    let json = crate::fuzzing::CONTENT_TYPES[0];
    let text = crate::fuzzing::CONTENT_TYPES[5];
    for (content_type, body) in [
        (json, &b"{"[..]),
        (json, b""),
        (json, b"[]"),
        (json, br#"{"password": 1}"#),
        (text, b"{}"),
    ] {
        let request = post(content_type, body).ok()?;
        if let Err(error) = ready(ApiJson::<LoginRequest>::from_request(request, &())).ok()? {
            let response = error.into_response();
            let bytes = ready(axum::body::to_bytes(response.into_body(), 64 * 1024))
                .ok()?
                .ok()?;
            let envelope: Value = serde_json::from_slice(&bytes).ok()?;
            messages.insert(envelope["error"]["message"].as_str()?.to_owned());
        }
    }
    Some(Schema { names, messages })
}

/// Property names and enumerated values anywhere in the document's schemas.
fn collect_names(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                names.extend(properties.keys().cloned());
            }
            if let Some(Value::Array(values)) = map.get("enum") {
                names.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            map.values().for_each(|v| collect_names(v, names));
        }
        Value::Array(values) => values.iter().for_each(|v| collect_names(v, names)),
        _ => {}
    }
}
