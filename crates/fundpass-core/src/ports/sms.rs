//! Outgoing SMS: a durable outbox written with the change that caused the message,
//! and the gateway port a worker delivers through.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use super::sms_purpose::SmsContent;
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
    /// The named values filled into the text ([`SmsContent::params_json`]), sealed
    /// like the text because they hold the code; `None` for messages written before
    /// they were kept.
    pub params: Option<Sealed>,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub attempts: i32,
    pub delivered_at: Option<OffsetDateTime>,
    /// Gateway's last refusal, without the message text.
    pub last_error: Option<String>,
    /// No further try will be made (refused, limit hit, or out of attempts).
    pub given_up: bool,
    /// The provider refused it because a sending limit was reached.
    pub limit_hit: bool,
    /// The provider's id of the accepted message (Tencent `SerialNo`, Alibaba
    /// `BizId`), which its delivery reports name.
    pub provider_ref: Option<String>,
    /// What the carrier reported about delivery to the handset.
    pub receipt: Option<Receipt>,
}

/// Whether the carrier got the text to the handset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptState {
    Delivered,
    Failed,
}

impl ReceiptState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state a stored code names.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A carrier's delivery report as recorded on the outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub state: ReceiptState,
    /// The carrier's status code and description (`DELIVRD`, `MK:0001 …`), never the
    /// text; cut to 200 characters by the store.
    pub reason: Option<String>,
    /// When the handset got it (or the report's time when it did not).
    pub at: OffsetDateTime,
}

/// A delivery report as a provider's callback brings it: which message, by the
/// provider's id or by the outbox id the provider echoes back, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingReceipt {
    /// Tencent `sid` (the `SerialNo`), Alibaba `biz_id`.
    pub provider_ref: Option<String>,
    /// Alibaba `out_id`: the outbox id sent as `OutId`.
    pub outbox_id: Option<String>,
    pub receipt: Receipt,
}

/// Where a message stands, derived from its row for the staff console and
/// `fundpass outbox`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its first try.
    Queued,
    /// Failed for now; tried again later.
    Retrying { attempts: i32, error: String },
    /// Refused or given up after repeated failures.
    GivenUp { error: String },
    /// Refused because the provider's sending limit was reached.
    LimitHit { error: String },
    /// Accepted by the gateway; no delivery report yet.
    Sent { at: OffsetDateTime },
    /// The carrier reported it on the handset.
    Delivered { at: OffsetDateTime },
    /// The carrier reported that it did not reach the handset.
    Undelivered {
        at: OffsetDateTime,
        reason: Option<String>,
    },
}

impl OutboxMessage {
    /// Where the message stands: a delivery report wins over the sending state.
    pub fn delivery_state(&self) -> DeliveryState {
        let error = || self.last_error.clone().unwrap_or_default();
        match (&self.receipt, self.delivered_at) {
            (Some(r), _) => match r.state {
                ReceiptState::Delivered => DeliveryState::Delivered { at: r.at },
                ReceiptState::Failed => DeliveryState::Undelivered {
                    at: r.at,
                    reason: r.reason.clone(),
                },
            },
            (None, Some(at)) => DeliveryState::Sent { at },
            (None, None) if self.limit_hit => DeliveryState::LimitHit { error: error() },
            (None, None) if self.given_up => DeliveryState::GivenUp { error: error() },
            (None, None) if self.attempts > 0 => DeliveryState::Retrying {
                attempts: self.attempts,
                error: error(),
            },
            (None, None) => DeliveryState::Queued,
        }
    }
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
    /// Records that the gateway accepted the message, with the provider's id for it
    /// when there is one.
    async fn mark_delivered(
        &self,
        id: &str,
        at: OffsetDateTime,
        provider_ref: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Records a failed try and when to try again (`None`: give up).
    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// Records a refusal because the provider's sending limit was reached: given up
    /// (a retry would hit the limit again) and counted as a limit hit.
    async fn mark_limited(&self, id: &str, error: &str) -> Result<(), StoreError>;
    /// Records a delivery report on the message it names (by outbox id when the
    /// report carries one, else by the provider's id). A report proves the provider
    /// took the message, so an unconfirmed message counts as sent from then on.
    /// `false` when no message matches: nothing is changed.
    async fn record_receipt(&self, report: &IncomingReceipt) -> Result<bool, StoreError>;
    /// The newest messages, for the dev outbox viewer and the operator command.
    async fn recent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
    /// A member's newest messages, for the staff console's member page.
    async fn member_messages(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
}

/// Why a gateway did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Worth retrying later: nothing was sent (no connection, 5xx, the provider's
    /// own transient failure).
    #[error("temporary SMS gateway failure: {0}")]
    Temporary(String),
    /// The request may have reached the provider, which then may have sent it (it
    /// timed out or the connection broke after the request went out). Retried, but
    /// only after a pause long enough for the provider's delivery report to settle
    /// it, so that a message the provider did take is not sent twice.
    #[error("SMS gateway outcome unknown: {0}")]
    Uncertain(String),
    /// Retrying will not help (rejected number, bad credentials, unapproved
    /// template); the reason is for the operator.
    #[error("SMS gateway refused the message: {0}")]
    Permanent(String),
    /// The provider's sending limit for the number or the account was reached:
    /// never retried (it would only hit the limit again) and counted as a limit hit.
    #[error("SMS provider sending limit reached: {0}")]
    Limited(String),
}

/// One message as a gateway gets it.
#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    /// The outbox id: the gateway must treat a repeated key as the same message
    /// (sent as `Idempotency-Key` by the webhook, as `OutId` to Alibaba).
    pub idempotency_key: &'a str,
    /// The purpose's code ([`super::SmsPurpose::code`]): template senders choose
    /// the template by it.
    pub purpose: &'a str,
    pub to: &'a Phone,
    /// The text and the values filled into it.
    pub content: &'a SmsContent,
}

/// What a gateway says when it takes a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsAccepted {
    /// The provider's id for the message, which its delivery reports name.
    pub provider_ref: Option<String>,
}

/// An SMS gateway.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one message.
    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError>;

    /// A short name of the gateway for metrics (`dev`, `webhook`, `tencent`,
    /// `alibaba`).
    fn provider(&self) -> &'static str {
        "other"
    }
}
