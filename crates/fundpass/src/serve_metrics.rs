//! `fundpass serve`'s metrics: the Prometheus recorder and its listener
//! (`server.metrics_bind`), and a sampler that turns what only the database knows
//! (outbox backlogs) and the connection pool's state into gauges.

use std::time::Duration;

use anyhow::Context as _;
use fundpass_core::ports::Clock;
use fundpass_server::metrics::{DB_CONNECTIONS, OUTBOX_OLDEST, OUTBOX_PENDING};
use fundpass_store::{Backlog, Store};
use metrics::gauge;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

/// How often the sampler reads the backlogs and the pool, and the histograms are
/// drained.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// The metrics listener and its app, when `server.metrics_bind` names an address.
pub async fn listener(
    address: &str,
) -> anyhow::Result<Option<(tokio::net::TcpListener, axum::Router, PrometheusHandle)>> {
    let address = address.trim();
    if address.is_empty() {
        return Ok(None);
    }
    let handle = fundpass_server::metrics::install().context("cannot set up the metrics")?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (server.metrics_bind)"))?;
    let app = fundpass_server::metrics::router(handle.clone());
    Ok(Some((listener, app, handle)))
}

/// Samples every [`SAMPLE_EVERY`] until `shutdown`.
pub async fn sample(
    store: Store,
    clock: std::sync::Arc<dyn Clock>,
    handle: PrometheusHandle,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = clock.now();
        for (queue, backlog) in [
            ("sms", store.sms_backlog().await),
            ("webhook", store.webhook_backlog().await),
        ] {
            match backlog {
                Ok(backlog) => set_backlog(queue, backlog, now),
                Err(error) => tracing::debug!(%error, queue, "cannot read an outbox backlog"),
            }
        }
        let connections = store.connections();
        let in_use = connections.open.saturating_sub(connections.idle);
        gauge!(DB_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
        gauge!(DB_CONNECTIONS, "state" => "idle").set(f64::from(connections.idle));
        handle.run_upkeep();
    }
}

fn set_backlog(queue: &'static str, backlog: Backlog, now: time::OffsetDateTime) {
    gauge!(OUTBOX_PENDING, "queue" => queue).set(backlog.pending as f64);
    let age = backlog
        .oldest
        .map_or(0.0, |oldest| (now - oldest).as_seconds_f64().max(0.0));
    gauge!(OUTBOX_OLDEST, "queue" => queue).set(age);
}
