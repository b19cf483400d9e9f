//! Prometheus metrics: what fundpass records, the text exposition served on a listener
//! of its own (`server.metrics_bind`, never the public one), and the request
//! middleware.
//!
//! The code records through the `metrics` facade (the core too, where a use case
//! decides what happened); `metrics-exporter-prometheus` keeps the values and renders
//! them. No label ever carries a member's identifier, an address or a document: labels
//! are route templates, status codes, outcomes and kinds from fixed lists.
//!
//! Every series with a known label set is set to zero at start-up
//! ([`initialise`]), so a dashboard shows 0 rather than "no data" and a test can
//! check that every metric the dashboard names is exported.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fundpass_core::flow::FlowKind;
use fundpass_core::metrics as core_metrics;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by method, route template and status.
pub const HTTP_REQUESTS: &str = "fundpass_http_requests_total";
/// Time to answer a request, by method, route template and status.
pub const HTTP_DURATION: &str = "fundpass_http_request_duration_seconds";
/// Password hashing workers running a job.
pub const HASH_BUSY: &str = "fundpass_hash_pool_busy_workers";
/// Hashing jobs admitted and waiting for a worker.
pub const HASH_QUEUE: &str = "fundpass_hash_pool_queue_length";
/// Hashing jobs refused because the pool and its queue were full (answered 503).
pub const HASH_REFUSALS: &str = "fundpass_hash_pool_refusals_total";
/// Messages waiting in an outbox (`queue`: `sms`, `webhook`).
pub const OUTBOX_PENDING: &str = "fundpass_outbox_pending";
/// Age of the oldest message waiting in an outbox.
pub const OUTBOX_OLDEST: &str = "fundpass_outbox_oldest_pending_seconds";
/// Delivery attempts by queue, provider and outcome.
pub const DELIVERIES: &str = "fundpass_outbox_deliveries_total";
/// Database connections by state (`in_use`, `idle`).
pub const DB_CONNECTIONS: &str = "fundpass_db_connections";

/// Buckets of request durations, in seconds: a page in a millisecond to a request
/// that ran into the 30-second timeout.
const HTTP_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Buckets of database connection waits, in seconds.
const ACQUIRE_BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 2.5,
];

/// Outcomes of a delivery attempt, as [`DELIVERIES`] labels them.
pub const DELIVERY_OUTCOMES: [&str; 4] = ["delivered", "retried", "given_up", "limited"];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's metrics recorder (once; later
/// calls return the same handle), describes every metric and sets the known series
/// to zero.
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &HTTP_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(core_metrics::DB_ACQUIRE.into()),
            &ACQUIRE_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    // Another recorder may have been installed first (a test harness): then this
    // handle renders nothing, which the exposition test would show.
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed");
    }
    let handle = HANDLE.get_or_init(|| handle).clone();
    describe();
    initialise();
    Ok(handle)
}

/// Help texts and units.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer a request, by method, route template and status"
    );
    describe_counter!(core_metrics::LOGINS, "Member logins by outcome");
    describe_counter!(core_metrics::LOCKS, "Locks placed, by the secret locked");
    describe_gauge!(HASH_BUSY, "Password hashing workers running a job");
    describe_gauge!(HASH_QUEUE, "Password hashing jobs waiting for a worker");
    describe_counter!(
        HASH_REFUSALS,
        "Password hashing jobs refused: pool and queue full"
    );
    describe_counter!(core_metrics::FLOWS_STARTED, "Flows started, by kind");
    describe_counter!(core_metrics::FLOWS_COMPLETED, "Flows completed, by kind");
    describe_counter!(
        core_metrics::FLOWS_EXPIRED,
        "Flow steps refused because the flow expired, by kind"
    );
    describe_gauge!(OUTBOX_PENDING, "Messages waiting in an outbox");
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age of the oldest message waiting in an outbox"
    );
    describe_counter!(
        DELIVERIES,
        "Delivery attempts by queue, provider and outcome"
    );
    describe_counter!(core_metrics::CAPTCHAS_ISSUED, "Captchas issued");
    describe_counter!(
        core_metrics::CAPTCHAS_FAILED,
        "Captcha answers refused, by reason"
    );
    describe_gauge!(DB_CONNECTIONS, "Database connections by state");
    describe_histogram!(
        core_metrics::DB_ACQUIRE,
        Unit::Seconds,
        "Time waited for a database connection"
    );
}

/// Sets every series with a known label set to zero.
fn initialise() {
    for outcome in core_metrics::LOGIN_OUTCOMES {
        counter!(core_metrics::LOGINS, "outcome" => outcome).increment(0);
    }
    for secret in core_metrics::LOCK_SECRETS {
        counter!(core_metrics::LOCKS, "secret" => secret).increment(0);
    }
    for kind in FlowKind::ALL {
        for name in [
            core_metrics::FLOWS_STARTED,
            core_metrics::FLOWS_COMPLETED,
            core_metrics::FLOWS_EXPIRED,
        ] {
            counter!(name, "kind" => kind.code()).increment(0);
        }
    }
    counter!(core_metrics::CAPTCHAS_ISSUED).increment(0);
    for reason in core_metrics::CAPTCHA_FAILURES {
        counter!(core_metrics::CAPTCHAS_FAILED, "reason" => reason).increment(0);
    }
    gauge!(HASH_BUSY).set(0.0);
    gauge!(HASH_QUEUE).set(0.0);
    counter!(HASH_REFUSALS).increment(0);
    for queue in ["sms", "webhook"] {
        gauge!(OUTBOX_PENDING, "queue" => queue).set(0.0);
        gauge!(OUTBOX_OLDEST, "queue" => queue).set(0.0);
    }
    for state in ["in_use", "idle"] {
        gauge!(DB_CONNECTIONS, "state" => state).set(0.0);
    }
}

/// Counts a delivery attempt (`outcome` one of [`DELIVERY_OUTCOMES`]).
pub fn delivery(queue: &'static str, provider: &'static str, outcome: &'static str) {
    counter!(DELIVERIES, "queue" => queue, "provider" => provider, "outcome" => outcome)
        .increment(1);
}

/// Shows the delivery counters of one queue and provider at zero (a worker's own, when
/// it starts), so that no attempt yet reads as 0 rather than "no data".
pub fn initialise_deliveries(queue: &'static str, provider: &'static str) {
    for outcome in DELIVERY_OUTCOMES {
        counter!(DELIVERIES, "queue" => queue, "provider" => provider, "outcome" => outcome)
            .increment(0);
    }
}

/// The metrics listener's routes: `GET /metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                let mut response = handle.render().into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                response
            }
        }),
    )
}

/// Drains the histograms' buffers now and then, as the exporter asks of a recorder
/// whose exposition is served by someone else.
pub async fn upkeep(handle: PrometheusHandle, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// Counts and times each request by its route template (never the path itself, which
/// may hold an account number), and writes one access line per request: method,
/// route, status and latency, inside the request's span (which carries its id).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(latency.as_secs_f64());
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
