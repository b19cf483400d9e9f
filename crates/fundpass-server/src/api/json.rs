//! The JSON body extractor of the API: axum's `Json`, with every rejection turned into
//! the error envelope. The body is never echoed: serde's messages quote the values they
//! choke on (an ID number, a password), so only the field's path is told.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::{ApiError, ErrorCode};

/// Longest field path reported back, in characters.
const MAX_PATH_CHARS: usize = 64;

/// A request body that must be `application/json` and deserialise into `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(refusal(&rejection)),
        }
    }
}

/// The envelope for a rejected body.
fn refusal(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(ErrorCode::UnsupportedMediaType),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(ErrorCode::BadJson).message("The request body is not valid JSON.")
        }
        JsonRejection::JsonDataError(e) => {
            let error = ApiError::new(ErrorCode::BadJson)
                .message("The request body is JSON, but a field is missing or has the wrong type.");
            match field_path(e) {
                Some(field) => error.details(json!({ "field": field })),
                None => error,
            }
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonRejection::BytesRejection(_) => {
            ApiError::new(ErrorCode::BadJson).message("The request body could not be read.")
        }
        // `JsonRejection` is non-exhaustive: a kind axum adds later is still a bad body.
        _ => ApiError::new(ErrorCode::BadJson),
    }
}

/// Where in the body deserialisation failed (`id_type`, `.`), from the error's source
/// chain. The path names fields of our own types, never the client's values.
fn field_path(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = error.source();
    while let Some(cause) = current {
        if let Some(e) = cause.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let path = e.path().to_string();
            return (path != ".").then(|| path.chars().take(MAX_PATH_CHARS).collect());
        }
        current = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        id_type: String,
        count: u8,
    }

    async fn extract(content_type: Option<&str>, body: &'static str) -> Result<Probe, ApiError> {
        let mut builder = Request::builder().method("POST").uri("/");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let request = builder.body(Body::from(body)).unwrap();
        ApiJson::<Probe>::from_request(request, &())
            .await
            .map(|j| j.0)
    }

    #[tokio::test]
    async fn each_kind_of_bad_body_has_its_code() {
        let json = Some("application/json");
        assert!(extract(json, r#"{"id_type":"a","count":1}"#).await.is_ok());
        let cases = [
            (Some("text/plain"), "{}", ErrorCode::UnsupportedMediaType),
            (None, "{}", ErrorCode::UnsupportedMediaType),
            (json, "{not json", ErrorCode::BadJson),
            (json, "", ErrorCode::BadJson),
            (
                json,
                r#"{"id_type":"a","count":"secret-value"}"#,
                ErrorCode::BadJson,
            ),
        ];
        for (ct, body, code) in cases {
            assert_eq!(extract(ct, body).await.unwrap_err().code(), code, "{body}");
        }
    }

    #[tokio::test]
    async fn a_wrong_type_names_the_field_but_not_the_value() {
        let error = extract(
            Some("application/json"),
            r#"{"id_type":"a","count":"secret-value"}"#,
        )
        .await
        .unwrap_err();
        let text = format!("{error:?}");
        assert!(text.contains("count"), "{text}");
        assert!(!text.contains("secret-value"), "{text}");
    }
}
