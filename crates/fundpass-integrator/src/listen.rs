//! `listen`: a reference webhook receiver on 127.0.0.1. It checks each delivery's
//! signature over the raw body, answers 2xx only for what it has accepted, and
//! de-duplicates on the event id (fundpass retries until it sees a 2xx, so the same
//! event may arrive more than once).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::webhook::{self, EVENT_ID_HEADER, SIGNATURE_HEADER};
use crate::{out, system};

/// Options of `listen`.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Port on 127.0.0.1; register http://127.0.0.1:PORT/hook as the webhook URL.
    #[arg(long)]
    pub port: u16,
    /// The client's webhook secret (better given as FUNDPASS_WEBHOOK_SECRET).
    #[arg(long, env = "FUNDPASS_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// Largest distance, in seconds, between a signature's timestamp and this clock.
    #[arg(long, default_value_t = 300)]
    pub timestamp_tolerance: i64,
    /// Answer 503 to the first N deliveries, to watch fundpass retry them.
    #[arg(long, default_value_t = 0)]
    pub fail_first: u32,
}

struct Receiver {
    secret: Vec<u8>,
    tolerance: i64,
    /// Event ids already handled. A real receiver keeps them in its database, in the
    /// same transaction as what the event changes.
    seen: Mutex<HashSet<String>>,
    /// Deliveries still to refuse on purpose (`--fail-first`).
    to_fail: Mutex<u32>,
}

/// Serves `POST /hook` until Ctrl-C.
pub async fn command(args: &ListenArgs) -> anyhow::Result<ExitCode> {
    let receiver = Arc::new(Receiver {
        secret: args.secret.as_bytes().to_vec(),
        tolerance: args.timestamp_tolerance,
        seen: Mutex::new(HashSet::new()),
        to_fail: Mutex::new(args.fail_first),
    });
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(receiver);
    let address = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    out::line(&format!(
        "receiving webhooks at http://{address}/hook (Ctrl-C to stop)"
    ));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the webhook receiver failed")?;
    Ok(ExitCode::SUCCESS)
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(signature) = header(SIGNATURE_HEADER) else {
        out::line("refused: no Fundpass-Signature header");
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(now) = system::now_unix() else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    if let Err(e) = webhook::verify(&receiver.secret, signature, &body, now, receiver.tolerance) {
        out::line(&format!("refused: {e}"));
        return StatusCode::UNAUTHORIZED;
    }
    if let Ok(mut left) = receiver.to_fail.lock()
        && *left > 0
    {
        *left -= 1;
        out::line(&format!(
            "valid, but answering 503 on purpose ({} more to fail): {}",
            *left,
            webhook::describe(&body)
        ));
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let event_id = header(EVENT_ID_HEADER).map(str::to_owned).or_else(|| {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|e| e["id"].as_str().map(str::to_owned))
    });
    let Some(event_id) = event_id else {
        out::line("refused: the event has no id");
        return StatusCode::BAD_REQUEST;
    };
    let first_time = receiver
        .seen
        .lock()
        .map(|mut seen| seen.insert(event_id))
        .unwrap_or(false);
    if first_time {
        out::line(&format!("event: {}", webhook::describe(&body)));
    } else {
        out::line(&format!(
            "duplicate, already handled: {}",
            webhook::describe(&body)
        ));
    }
    StatusCode::NO_CONTENT
}
