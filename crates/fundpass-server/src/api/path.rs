//! The path-parameter extractor of the API: axum's `Path`, with a parameter that does
//! not parse (a `seq` that is not a number, bytes that are not UTF-8) refused in the
//! error envelope as naming nothing (404), instead of axum's plain-text 400.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};

/// A path parameter that must deserialise into `T`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::new(ErrorCode::NotFound)
                .message("Nothing has this id: it is not of the form this endpoint takes.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn status_of(uri: &str) -> (StatusCode, String) {
        let router = Router::new().route(
            "/events/{seq}",
            get(|ApiPath(seq): ApiPath<i64>| async move { seq.to_string() }),
        );
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_parameter_that_does_not_parse_names_nothing_in_the_envelope() {
        assert_eq!(status_of("/events/42").await, (StatusCode::OK, "42".into()));
        for uri in [
            "/events/abc",
            "/events/1.5",
            "/events/99999999999999999999999",
        ] {
            let (status, body) = status_of(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert!(body.contains(r#""code":"not_found""#), "{uri}: {body}");
        }
    }
}
