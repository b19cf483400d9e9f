//! Payment authorisation: what the transaction password is for.
//!
//! A business system (withdrawals, loans, benefit payments) asks fundpass to authorise
//! one payment: this amount, to this payee, for this purpose, under its own reference.
//! The member approves exactly that, either in fundpass (the confirm page or the app,
//! with the transaction password: the preferred mode) or on the business system's own
//! PIN pad (direct verification, for legacy terminals, refused above a threshold).
//! A confirmed authorisation carries a receipt signed by fundpass (a compact JWS over
//! the payment's facts, see [`receipt`]) that the business system can check offline,
//! and is captured exactly once before the money moves.
//!
//! Wrong transaction passwords count against the member's one counter, shared with
//! every recovery flow: 5 in a row lock it until midnight (China time), 10 disable it
//! until it is recovered. Holds placed after resets and phone changes refuse payouts
//! (or only flag them, per hold kind).

mod audit;
mod confirm;
mod create;
mod password;
mod payment;
pub mod receipt;
mod status;

pub use payment::{Payment, PaymentInput, PaymentProblem, Purpose};
pub use status::{MemberHolds, MemberStanding};

use time::{Duration, OffsetDateTime};

use crate::member::{HoldReason, MemberId};
use crate::ports::{PoolBusy, StoreError};

/// How the member approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On fundpass's confirm page or in the app.
    Confirm,
    /// On the business system's PIN pad, verified by fundpass at once.
    Direct,
}

impl Mode {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Direct => "direct",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Confirm, Self::Direct]
            .into_iter()
            .find(|m| m.code() == code)
    }
}

/// Where an authorisation stands, as stored. "Expired" is not stored: a pending or
/// confirmed authorisation past its `expires_at` is expired (see [`Authorization::state_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Confirmed,
    Declined,
    Captured,
    Expired,
}

impl State {
    /// Stored code (and the API's).
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Declined => "declined",
            Self::Captured => "captured",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Confirmed,
            Self::Declined,
            Self::Captured,
            Self::Expired,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Where the member approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmChannel {
    /// fundpass's confirm page in the browser.
    Web,
    /// The member's app.
    App,
    /// The business system's PIN pad (direct verification).
    Terminal,
}

impl ConfirmChannel {
    /// Stored code (and the receipt's `channel`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::App => "app",
            Self::Terminal => "terminal",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Web, Self::App, Self::Terminal]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

/// One payment authorisation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    /// `pa_` and 128 random bits: unguessable, so it may appear in a URL.
    pub id: String,
    /// The business system that asked; only it may read or capture it.
    pub client_id: String,
    pub member_id: MemberId,
    pub account_no: String,
    pub payment: Payment,
    pub mode: Mode,
    pub state: State,
    /// Holds in force that only mark payouts (`recent_login_reset`…).
    pub risk_flags: Vec<String>,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to tell a retry from a different request under the
    /// same idempotency key.
    pub request_digest: [u8; 32],
    pub created_at: OffsetDateTime,
    /// Pending: until the member may confirm. Confirmed: until it may be captured.
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub channel: Option<ConfirmChannel>,
    pub captured_at: Option<OffsetDateTime>,
    /// The signed receipt of a confirmed authorisation.
    pub receipt: Option<String>,
    pub version: i64,
}

impl Authorization {
    /// The state at `now`, counting a pending or confirmed authorisation past its
    /// `expires_at` as expired.
    pub fn state_at(&self, now: OffsetDateTime) -> State {
        match self.state {
            State::Pending | State::Confirmed if now >= self.expires_at => State::Expired,
            other => other,
        }
    }
}

/// An authorisation write inside a unit of work.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizationWrite {
    Insert(Authorization),
    /// Lands only if the stored version is still `expected_version`.
    Update {
        record: Authorization,
        expected_version: i64,
    },
}

/// The rules of payouts, defaults as the issue asks; all configurable.
#[derive(Debug, Clone)]
pub struct PayoutPolicy {
    /// The largest amount fundpass authorises, in fen.
    pub max_amount_fen: i64,
    /// Amounts above this (in fen) need the member's confirmation in fundpass; direct
    /// verification is refused with `confirmation_required`.
    pub direct_max_fen: i64,
    /// How long the member has to confirm.
    pub pending_lifetime: Duration,
    /// How long a confirmed authorisation may be captured.
    pub capture_window: Duration,
    /// Authorisations created per member per hour.
    pub per_member_per_hour: u32,
    /// Hold kinds that refuse payouts; the others only add a risk flag.
    pub blocking_holds: Vec<HoldReason>,
}

impl Default for PayoutPolicy {
    fn default() -> Self {
        Self {
            max_amount_fen: 100_000_000,
            direct_max_fen: 5_000_000,
            pending_lifetime: Duration::minutes(10),
            capture_window: Duration::minutes(10),
            per_member_per_hour: 10,
            blocking_holds: vec![
                HoldReason::LoginReset,
                HoldReason::TransactionReset,
                HoldReason::PhoneChange,
            ],
        }
    }
}

impl PayoutPolicy {
    /// Whether a hold of this kind refuses payouts: the configured kinds, and always a
    /// member's own "this was not me" report.
    pub fn blocks(&self, reason: HoldReason) -> bool {
        reason == HoldReason::ReportedByMember || self.blocking_holds.contains(&reason)
    }
}

/// Why a payout request was refused. Each variant has its own code in the API.
#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("the payment is not valid: {0}")]
    BadPayment(PaymentProblem),
    #[error("no member has this account number")]
    UnknownMember,
    #[error("the member has not registered for online services")]
    NotRegistered,
    #[error("the member's account is frozen")]
    MemberFrozen,
    #[error("the member is on hold until {until}")]
    OnHold {
        reason: HoldReason,
        until: OffsetDateTime,
    },
    #[error("this amount needs the member's confirmation in fundpass")]
    ConfirmationRequired { threshold_fen: i64 },
    #[error("too many authorisations; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    #[error("wrong transaction password; {remaining} tries before it locks")]
    WrongTransactionPassword { remaining: i32 },
    #[error("the transaction password is locked until {until}")]
    TransactionLocked { until: OffsetDateTime },
    #[error("the transaction password is disabled until it is recovered")]
    TransactionDisabled,
    #[error("Idempotency-Key must be 1 to 128 printable ASCII characters")]
    BadIdempotencyKey,
    #[error("the idempotency key was used for a different request")]
    IdempotencyKeyReused,
    #[error("no such authorisation")]
    NotFound,
    #[error("the authorisation belongs to another business system")]
    Foreign,
    #[error("the authorisation has expired")]
    Expired,
    #[error("the member declined the authorisation")]
    Declined,
    #[error("the authorisation was already captured")]
    AlreadyCaptured,
    #[error("the member has not confirmed the authorisation yet")]
    NotConfirmed,
    #[error("the authorisation was already decided")]
    AlreadyDecided,
    #[error("the receipt signing key is missing")]
    NoSigningKey,
    #[error("another request changed it first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Client(#[from] crate::clients::ClientError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PayoutError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}
