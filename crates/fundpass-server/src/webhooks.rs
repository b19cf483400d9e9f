//! Delivering signed events to business systems: the webhook outbox worker.
//!
//! Each delivery is `POST <client's webhook_url>` with the event's JSON body
//! (`{"id", "type", "created_at", "data"}`) and the headers
//! `Fundpass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//! `Fundpass-Event-Id: <event id>` and `Idempotency-Key: <delivery id>`. The receiver
//! verifies the MAC over the raw body in constant time, refuses a `t` more than 5
//! minutes from its clock, and de-duplicates on the event id.
//!
//! 2xx is delivered; 408, 425, 429, 5xx, timeouts and connection failures are retried
//! with the SMS outbox's backoff (same lease, same give-up rule); any other status is a
//! permanent refusal. A gateway outage loses nothing: the rows stay in the database.

use std::sync::Arc;

use fundpass_core::clients::{ServiceClient, WebhookDelivery, webhook_signature};
use fundpass_core::crypto::{Field, Keyring};
use fundpass_core::ports::{ClientStore, Clock, StoreError, WebhookStore};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use tokio_util::sync::CancellationToken;

use crate::sms::{DeliveryReport, WorkerConfig, backoff};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Fundpass-Signature";
/// Header carrying the event id (the receiver's de-duplication key).
pub const EVENT_ID_HEADER: &str = "Fundpass-Event-Id";

/// The worker's pacing: the SMS outbox's, but with 48 tries (about 40 hours with the
/// backoff capped at an hour), since a business system's receiver may be down for
/// maintenance over a night. A delivery given up stays in `webhook_outbox`;
/// `fundpass clients redeliver` queues it again.
pub fn default_config() -> WorkerConfig {
    WorkerConfig {
        max_attempts: 48,
        ..WorkerConfig::default()
    }
}

/// The stores the worker reads and marks.
pub trait WebhookOutbox: WebhookStore + ClientStore {}
impl<T: WebhookStore + ClientStore> WebhookOutbox for T {}

/// Drains the webhook outbox.
pub struct WebhookWorker {
    store: Arc<dyn WebhookOutbox>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    config: WorkerConfig,
}

impl std::fmt::Debug for WebhookWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWorker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How one try ended.
enum Tried {
    Delivered,
    Retry(String),
    GiveUp(String),
}

impl WebhookWorker {
    /// Wires a worker; `timeout` bounds each POST.
    pub fn new(
        store: Arc<dyn WebhookOutbox>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
        timeout: std::time::Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        crate::metrics::initialise_deliveries("webhook", "webhook");
        Ok(Self {
            store,
            keyring,
            clock,
            client,
            config,
        })
    }

    /// Claims due deliveries and tries each once.
    pub async fn run_once(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let lease_until = now + self.config.lease;
        let batch = self
            .store
            .claim_webhooks(now, lease_until, self.config.batch)
            .await?;
        let mut report = DeliveryReport::default();
        for delivery in &batch {
            if self.clock.now() >= lease_until {
                report.deferred += 1;
                continue;
            }
            let tried = match self.store.client(&delivery.client_id).await? {
                Some(client) => self.post(&client, delivery).await,
                None => Tried::GiveUp("the client no longer exists".into()),
            };
            match tried {
                Tried::Delivered => {
                    self.store
                        .mark_webhook_delivered(&delivery.id, self.clock.now())
                        .await?;
                    report.delivered += 1;
                    crate::metrics::delivery("webhook", "webhook", "delivered");
                }
                Tried::Retry(error)
                    if delivery.attempts.saturating_add(1) < self.config.max_attempts =>
                {
                    let retry_at = self.clock.now() + backoff(delivery.attempts, &self.config);
                    tracing::info!(id = %delivery.id, %error, %retry_at, "webhook failed; will retry");
                    self.store
                        .mark_webhook_failed(&delivery.id, &error, Some(retry_at))
                        .await?;
                    report.retried += 1;
                    crate::metrics::delivery("webhook", "webhook", "retried");
                }
                Tried::Retry(error) | Tried::GiveUp(error) => {
                    tracing::warn!(id = %delivery.id, %error, "webhook given up");
                    self.store
                        .mark_webhook_failed(&delivery.id, &error, None)
                        .await?;
                    report.failed += 1;
                    crate::metrics::delivery("webhook", "webhook", "given_up");
                }
            }
        }
        Ok(report)
    }

    async fn post(&self, client: &ServiceClient, delivery: &WebhookDelivery) -> Tried {
        let (Some(url), Some(sealed), true) = (
            &client.webhook_url,
            &client.webhook_secret,
            client.enabled(),
        ) else {
            return Tried::GiveUp("the client has no webhook or is disabled".into());
        };
        let Ok(secret) = self.keyring.open(Field::WebhookSecret, sealed) else {
            return Tried::GiveUp("cannot decrypt the webhook secret".into());
        };
        let timestamp = self.clock.now().unix_timestamp();
        let signature = webhook_signature(secret.as_bytes(), timestamp, &delivery.body);
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_ID_HEADER, delivery.event_id.as_str())
            .header("Idempotency-Key", delivery.id.as_str())
            .body(delivery.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => status_outcome(response.status()),
            Err(e) if e.is_timeout() => Tried::Retry("the receiver timed out".into()),
            Err(e) if e.is_connect() => Tried::Retry("could not connect to the receiver".into()),
            Err(_) => Tried::Retry("transport failure".into()),
        }
    }

    /// Runs passes until `shutdown` is cancelled (a full batch, or a pass that
    /// delivered something, is followed at once by another pass; otherwise the worker
    /// waits `poll_interval`).
    pub async fn run(self, shutdown: CancellationToken) {
        crate::sms::run_passes("webhook", &self.config, &shutdown, || self.run_once()).await;
    }
}

fn status_outcome(status: StatusCode) -> Tried {
    if status.is_success() {
        return Tried::Delivered;
    }
    let message = format!("the receiver answered {}", status.as_u16());
    if matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error() {
        Tried::Retry(message)
    } else {
        Tried::GiveUp(message)
    }
}
