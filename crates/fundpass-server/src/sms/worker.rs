//! The outbox worker: delivers durable outbox messages through an [`SmsSender`], with
//! retries and exponential backoff.

use std::sync::Arc;

use fundpass_core::crypto::{Field, Keyring};
use fundpass_core::identity::Phone;
use fundpass_core::ports::{
    Clock, OutboxMessage, OutboxStore, SmsAccepted, SmsContent, SmsError, SmsRequest, SmsSender,
    StoreError,
};
use time::Duration;
use tokio_util::sync::CancellationToken;

use super::scrub::scrub_content;

/// Longest wait between two tries of one message.
const MAX_BACKOFF: Duration = Duration::hours(1);

/// How the worker paces itself; defaults suit one gateway and a small office, and every
/// value is configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Messages claimed per pass.
    pub batch: u32,
    /// How long claimed messages are hidden from other workers. Should exceed `batch`
    /// times the sender's timeout; a pass stops early when its lease runs out, and the
    /// rest of the batch is claimed again later.
    pub lease: Duration,
    /// Pause between passes when a pass delivered nothing and claimed less than a
    /// full batch.
    pub poll_interval: std::time::Duration,
    /// Tries before a message is given up (temporary failures only).
    pub max_attempts: i32,
    /// Wait after the first failed try; doubled per further try, capped at one hour.
    pub base_backoff: Duration,
    /// Least wait after a try whose outcome is unknown (the provider may have sent
    /// it): long enough for its delivery report to arrive and settle the message, so
    /// that it is not sent twice.
    pub uncertain_pause: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 20,
            lease: Duration::seconds(60),
            poll_interval: std::time::Duration::from_secs(1),
            max_attempts: 8,
            base_backoff: Duration::seconds(10),
            uncertain_pause: Duration::seconds(120),
        }
    }
}

/// The wait before the next try of a message that has failed `attempts` times before
/// the one that just failed: `base_backoff × 2^attempts`, capped at one hour, so a
/// gateway outage is ridden out without hammering it.
pub fn backoff(attempts: i32, cfg: &WorkerConfig) -> Duration {
    let doublings = u32::try_from(attempts.max(0)).unwrap_or(0).min(30);
    let factor = 1i32 << doublings;
    cfg.base_backoff
        .checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .clamp(Duration::ZERO, MAX_BACKOFF)
}

/// What one pass did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Accepted by the gateway.
    pub delivered: u32,
    /// Failed for now; scheduled again.
    pub retried: u32,
    /// Given up: refused, undecryptable, or out of attempts.
    pub failed: u32,
    /// Refused because the provider's sending limit was reached (never retried).
    pub limited: u32,
    /// Claimed but not tried because the lease ran out; claimed again later.
    pub deferred: u32,
}

impl DeliveryReport {
    /// Messages this pass took from the outbox.
    pub fn claimed(&self) -> u32 {
        self.delivered + self.retried + self.failed + self.limited + self.deferred
    }
}

/// Drains the durable outbox so that a message written with a change is delivered even
/// if the gateway is down at that moment or the process restarts.
///
/// The store's `attempts` counts the tries that have already failed; `mark_failed`
/// counts one more.
pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    sender: Arc<dyn SmsSender>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
}

impl std::fmt::Debug for OutboxWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxWorker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How one message ended in this pass.
enum Outcome {
    Delivered,
    Retried,
    Failed,
    Limited,
}

impl OutboxWorker {
    /// Wires a worker; the binary builds one per process.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        sender: Arc<dyn SmsSender>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
    ) -> Self {
        crate::metrics::initialise_deliveries("sms", sender.provider());
        Self {
            store,
            sender,
            keyring,
            clock,
            config,
        }
    }

    /// Claims the due messages and tries each once. A store error stops the pass: the
    /// remaining claimed messages become due again when their lease ends, and the
    /// idempotency key keeps a repeated send from reaching the phone twice.
    pub async fn run_once(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let lease_until = now + self.config.lease;
        let batch = self
            .store
            .claim_due(now, lease_until, self.config.batch)
            .await?;
        let mut report = DeliveryReport::default();
        for msg in &batch {
            if self.clock.now() >= lease_until {
                report.deferred += 1;
                continue;
            }
            let outcome = self.deliver(msg).await?;
            let (count, label) = match outcome {
                Outcome::Delivered => (&mut report.delivered, "delivered"),
                Outcome::Retried => (&mut report.retried, "retried"),
                Outcome::Failed => (&mut report.failed, "given_up"),
                Outcome::Limited => (&mut report.limited, "limited"),
            };
            *count += 1;
            crate::metrics::delivery("sms", self.sender.provider(), label);
        }
        Ok(report)
    }

    async fn deliver(&self, msg: &OutboxMessage) -> Result<Outcome, StoreError> {
        let (phone, content) = match self.open(msg) {
            Ok(opened) => opened,
            Err(reason) => {
                tracing::error!(
                    id = %msg.id, purpose = %msg.purpose,
                    "outbox message unusable: {reason}"
                );
                return self.give_up(msg, reason).await;
            }
        };
        let request = SmsRequest {
            idempotency_key: &msg.id,
            purpose: &msg.purpose,
            to: &phone,
            content: &content,
        };
        let sent = self.sender.send(&request).await;
        self.settle(msg, &phone, &content, sent).await
    }

    /// Records what the gateway answered.
    async fn settle(
        &self,
        msg: &OutboxMessage,
        phone: &Phone,
        content: &SmsContent,
        sent: Result<SmsAccepted, SmsError>,
    ) -> Result<Outcome, StoreError> {
        let masked = phone.masked();
        let clean = |error: &str| scrub_content(error, phone, content);
        match sent {
            Ok(accepted) => {
                let at = self.clock.now();
                let reference = accepted.provider_ref.as_deref();
                self.store.mark_delivered(&msg.id, at, reference).await?;
                tracing::debug!(
                    id = %msg.id, purpose = %msg.purpose,
                    "SMS to {masked} delivered"
                );
                Ok(Outcome::Delivered)
            }
            Err(SmsError::Permanent(error)) => {
                let error = clean(&error);
                tracing::warn!(
                    id = %msg.id, purpose = %msg.purpose, %error,
                    "SMS to {masked} refused"
                );
                self.give_up(msg, &error).await
            }
            Err(SmsError::Limited(error)) => {
                let error = clean(&error);
                tracing::warn!(
                    id = %msg.id, purpose = %msg.purpose, %error, limit_hit = true,
                    "SMS to {masked} refused: the provider's sending limit was reached"
                );
                self.store.mark_limited(&msg.id, &error).await?;
                Ok(Outcome::Limited)
            }
            Err(SmsError::Temporary(error)) => {
                self.retry(msg, &masked, &clean(&error), Duration::ZERO)
                    .await
            }
            Err(SmsError::Uncertain(error)) => {
                let pause = self.config.uncertain_pause;
                self.retry(msg, &masked, &clean(&error), pause).await
            }
        }
    }

    /// Schedules the next try after the backoff (and at least `pause`), or gives up
    /// when the attempts are spent.
    async fn retry(
        &self,
        msg: &OutboxMessage,
        masked: &str,
        error: &str,
        pause: Duration,
    ) -> Result<Outcome, StoreError> {
        if msg.attempts.saturating_add(1) >= self.config.max_attempts {
            tracing::warn!(
                id = %msg.id, purpose = %msg.purpose, %error, attempts = msg.attempts + 1,
                "SMS to {masked} given up after repeated failures"
            );
            return self.give_up(msg, error).await;
        }
        let wait = backoff(msg.attempts, &self.config).max(pause);
        let retry_at = self.clock.now() + wait;
        tracing::info!(
            id = %msg.id, purpose = %msg.purpose, %error, %retry_at,
            "SMS to {masked} failed; will retry"
        );
        self.store
            .mark_failed(&msg.id, error, Some(retry_at))
            .await?;
        Ok(Outcome::Retried)
    }

    async fn give_up(&self, msg: &OutboxMessage, error: &str) -> Result<Outcome, StoreError> {
        self.store.mark_failed(&msg.id, error, None).await?;
        Ok(Outcome::Failed)
    }

    /// The recipient, the text and the values filled into it, or why the message can
    /// never be sent (retrying cannot fix either reason). A message written before the
    /// values were kept has none; a template sender refuses it.
    fn open(&self, msg: &OutboxMessage) -> Result<(Phone, SmsContent), &'static str> {
        const UNREADABLE: &str = "cannot decrypt";
        let phone = self
            .keyring
            .open(Field::Phone, &msg.to)
            .map_err(|_| UNREADABLE)?;
        let phone = Phone::parse(&phone).map_err(|_| "stored phone is not a mobile number")?;
        let text = self
            .keyring
            .open(Field::Message, &msg.body)
            .map_err(|_| UNREADABLE)?;
        let params = match &msg.params {
            Some(sealed) => {
                let json = self
                    .keyring
                    .open(Field::Message, sealed)
                    .map_err(|_| UNREADABLE)?;
                SmsContent::parse_params(&json).map_err(|_| "stored template values unreadable")?
            }
            None => Vec::new(),
        };
        Ok((phone, SmsContent { text, params }))
    }

    /// Runs passes until `shutdown` is cancelled. A full batch, or a pass that delivered
    /// something, is followed at once by another pass; otherwise the worker waits
    /// `poll_interval`. Cancelling mid-pass
    /// leaves the claimed messages to be retried after their lease.
    pub async fn run(self, shutdown: CancellationToken) {
        run_passes("SMS outbox", &self.config, &shutdown, || self.run_once()).await;
    }
}

/// Runs `pass` until `shutdown` is cancelled: a full batch, or a pass that delivered
/// something, is followed at once by another pass; otherwise the worker waits
/// `poll_interval`. Cancelling mid-pass
/// leaves the claimed rows to be retried after their lease. Shared by the SMS and
/// webhook workers.
pub(crate) async fn run_passes<F, Fut>(
    name: &'static str,
    config: &WorkerConfig,
    shutdown: &CancellationToken,
    pass: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<DeliveryReport, StoreError>>,
{
    tracing::info!(config = ?config, "{name} worker started");
    loop {
        let done = tokio::select! {
            () = shutdown.cancelled() => break,
            done = pass() => done,
        };
        let again_at_once = match done {
            Ok(report) => {
                if report.claimed() > 0 {
                    tracing::debug!(?report, "{name} pass");
                }
                // A full batch may have more due behind it, and a delivery may have let
                // the same member's next message go (a member's messages are claimed
                // one at a time, in order).
                (report.claimed() >= config.batch && config.batch > 0) || report.delivered > 0
            }
            Err(error) => {
                tracing::error!(%error, "{name} pass failed");
                false
            }
        };
        if again_at_once {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
    tracing::info!("{name} worker stopped");
}

#[cfg(test)]
mod tests;
