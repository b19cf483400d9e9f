//! Outgoing SMS: a durable outbox written with the change that caused the message,
//! and the gateway port a worker delivers through.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::crypto::Sealed;
use crate::identity::Phone;
use crate::member::MemberId;

/// A message waiting in (or delivered from) the outbox. Recipient and text are
/// sealed: codes in transit are secrets at rest too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Random id, also the idempotency key the gateway sees, so a retry after a lost
    /// acknowledgement is not delivered twice.
    pub id: String,
    pub member_id: Option<MemberId>,
    /// What the message is (`registration_code`, `registration_done`…), for reports.
    pub purpose: String,
    /// The phone, sealed as [`crate::crypto::Field::Phone`].
    pub to: Sealed,
    /// The text, sealed as [`crate::crypto::Field::Message`].
    pub body: Sealed,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub attempts: i32,
    pub delivered_at: Option<OffsetDateTime>,
    /// Gateway's last refusal, without the message text.
    pub last_error: Option<String>,
}

/// The outbox as the delivery worker and the dev viewer use it.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Takes up to `limit` undelivered messages due at `now` and pushes their next
    /// attempt to `lease_until`, so that other workers (other instances) skip them
    /// while this one tries.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records a delivery.
    async fn mark_delivered(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records a failed try and when to try again (`None`: give up).
    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// The newest messages, for the dev outbox viewer and the operator command.
    async fn recent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
}

/// Why a gateway did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Worth retrying later (timeout, 5xx, rate limit).
    #[error("temporary SMS gateway failure: {0}")]
    Temporary(String),
    /// Retrying will not help (rejected number, bad request).
    #[error("SMS gateway refused the message: {0}")]
    Permanent(String),
}

/// An SMS gateway.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `to`; the gateway must treat a repeated `idempotency_key` as
    /// the same message.
    async fn send(&self, idempotency_key: &str, to: &Phone, text: &str) -> Result<(), SmsError>;
}
