//! The whole HTTP application: portal pages, JSON API, health checks, and the layers
//! every response passes through.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest request body accepted anywhere (forms and JSON are small).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Builds the public router with all layers: portal pages, the app API, the dev
/// tools and, unless `server.internal_bind` gives them a listener of their own, the
/// business systems' internal API.
pub fn build(state: AppState) -> Router {
    build_with(state, Router::new())
}

/// [`build`] with routes the binary adds: the SMS providers' delivery-report
/// endpoints ([`crate::sms::receipts`]) when they are configured.
pub fn build_with(state: AppState, extra: Router<AppState>) -> Router {
    let internal_here = !state.settings.internal_listener;
    let mut router = Router::new()
        .merge(extra)
        // The API enforces the same limit itself so that it can answer in its JSON
        // error envelope.
        .merge(crate::web::router().layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES)))
        .merge(crate::api::router())
        .merge(crate::dev_face::router());
    if internal_here {
        router = router.merge(crate::internal::router());
    }
    with_layers(router, state)
}

/// The internal API alone, for its own listener (`server.internal_bind`).
pub fn build_internal(state: AppState) -> Router {
    with_layers(crate::internal::router(), state)
}

/// Health checks and the layers every response passes through.
fn with_layers(router: Router<AppState>, state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Path only: query strings never carry secrets here, but log the least.
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers, and so do the captcha and rate-limit stores (Redis, when
/// they live there).
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let portal = &state.portal;
    // Each backend once: without Redis the three ports are one store (one allocation
    // behind three handles), with Redis the captchas and limits are one Redis. The
    // distinct ones at once, so that a backend that does not answer costs one wait.
    let store_at = Arc::as_ptr(&portal.store).cast::<()>();
    let captchas_at = Arc::as_ptr(&portal.captchas).cast::<()>();
    let limiter_at = Arc::as_ptr(&portal.limiter).cast::<()>();
    let captchas_apart = captchas_at != store_at;
    let limiter_apart = limiter_at != store_at && limiter_at != captchas_at;
    let (store, captchas, limiter) = tokio::join!(
        portal.store.ping(),
        async {
            if captchas_apart {
                portal.captchas.ping().await
            } else {
                Ok(())
            }
        },
        async {
            if limiter_apart {
                portal.limiter.ping().await
            } else {
                Ok(())
            }
        }
    );
    for (check, what) in [
        (store, "database unavailable"),
        (captchas, "captcha store unavailable"),
        (limiter, "rate limiter unavailable"),
    ] {
        if let Err(err) = check {
            tracing::warn!(error = %err, "readiness check failed");
            return (StatusCode::SERVICE_UNAVAILABLE, what);
        }
    }
    (StatusCode::OK, "ready")
}
