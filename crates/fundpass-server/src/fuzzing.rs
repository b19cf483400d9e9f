//! Entry points of the fuzz targets for request bodies (see `fuzz/README.md`), shared
//! with the tests that replay their saved corpus (`tests/fuzz_corpus.rs`).
//!
//! Both targets read their input the same way: the first byte picks the body type (the
//! API's request types, or the portal's and console's forms), the second the
//! `Content-Type` header from [`CONTENT_TYPES`], and the rest is the body. The real axum
//! extractor runs on a `POST` request built from them, exactly as the router hands it
//! over; nothing else of the server (state, database) is involved.
//!
//! Nothing here is used by the service itself.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use fundpass_core::fuzzing::Violation;

pub use crate::api::fuzzing::check_api_json_body;
pub use crate::web::fuzzing::check_web_form_body;

/// The `Content-Type` a fuzz input's second byte picks, with whether axum's `Json` and
/// `Form` extractors take it.
pub const CONTENT_TYPES: [ContentType; 8] = [
    ContentType::new(Some("application/json"), true, false),
    ContentType::new(Some("application/json; charset=utf-8"), true, false),
    ContentType::new(Some("application/vnd.fundpass+json"), true, false),
    ContentType::new(Some("application/x-www-form-urlencoded"), false, true),
    ContentType::new(
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        false,
        true,
    ),
    ContentType::new(Some("text/plain"), false, false),
    ContentType::new(Some("multipart/form-data; boundary=x"), false, false),
    ContentType::new(None, false, false),
];

/// One `Content-Type` header value (or none) and which extractors accept it.
#[derive(Debug, Clone, Copy)]
pub struct ContentType {
    /// The header value; `None` sends no header.
    pub header: Option<&'static str>,
    /// Whether axum's `Json` reads bodies of this type.
    pub json: bool,
    /// Whether axum's `Form` reads bodies of this type.
    pub form: bool,
}

impl ContentType {
    const fn new(header: Option<&'static str>, json: bool, form: bool) -> Self {
        Self { header, json, form }
    }
}

/// A fuzz input split into the body type's index, the content type and the body.
pub(crate) fn split(data: &[u8]) -> Option<(usize, ContentType, &[u8])> {
    let (&kind, rest) = data.split_first()?;
    let (&content_type, body) = rest.split_first()?;
    let content_type = CONTENT_TYPES[usize::from(content_type) % CONTENT_TYPES.len()];
    Some((usize::from(kind), content_type, body))
}

/// `POST /` with `content_type` and `body`, as the router hands a request to extractors.
pub(crate) fn post(content_type: ContentType, body: &[u8]) -> Result<Request, Violation> {
    let mut request = Request::builder().method("POST").uri("/");
    if let Some(value) = content_type.header {
        request = request.header(CONTENT_TYPE, value);
    }
    request
        .body(Body::from(body.to_vec()))
        .map_err(|e| Violation(format!("cannot build the request: {e}")))
}

/// Runs `future` to completion without a runtime. Extractors over a body that is already
/// in memory never wait; if one does, that is reported as a violation.
pub(crate) fn ready<F: Future>(future: F) -> Result<F::Output, Violation> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Ok(output);
        }
    }
    Err(Violation(
        "an extractor kept waiting on a body that is already in memory".to_owned(),
    ))
}
