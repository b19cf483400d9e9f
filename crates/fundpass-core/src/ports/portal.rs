//! Ports of the member portal and app API: sessions, flows, captchas, throttles and
//! rate limits, and the unit of work that writes one change atomically.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::{OutboxMessage, StoreError};
use crate::audit::AuditEvent;
use crate::crypto::{BlindIndex, TokenDigest};
use crate::flow::FlowRecord;
use crate::member::{CredentialUpdate, Hold, LockState, MemberId, SecretKind, SecurityAnswer};
use crate::session::SessionRecord;

/// Sessions, looked up by the digest of their token.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// The session with this token digest, revoked or not.
    async fn session(&self, token: &TokenDigest) -> Result<Option<SessionRecord>, StoreError>;
    /// Records activity (idle timeout restarts).
    async fn touch_session(
        &self,
        token: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Live sessions of a member, newest first (for "where am I logged in").
    async fn member_sessions(&self, member: MemberId) -> Result<Vec<SessionRecord>, StoreError>;
    /// The member's sessions not revoked and used after `seen_after`, most recently
    /// used first: every session that may still be live, however many older ones the
    /// member has (the caller applies the session policy to each).
    async fn live_member_sessions(
        &self,
        member: MemberId,
        seen_after: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError>;
}

/// Flows, looked up by the digest of their id.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// The flow with this id digest.
    async fn flow(&self, id: &TokenDigest) -> Result<Option<FlowRecord>, StoreError>;
}

/// A captcha challenge as stored: only a keyed MAC of the answer, except in dev mode
/// where the answer itself is kept so automated tests can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptchaRecord {
    pub id: TokenDigest,
    pub answer_mac: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub dev_answer: Option<String>,
}

/// Single-use captcha challenges, kept in the database or in Redis (`[redis]`): a
/// store of its own so that hot, short-lived state can live apart from durable rows.
/// [`Health`] because a portal cannot serve logins while its captchas are unreachable.
#[async_trait]
pub trait CaptchaStore: Health {
    /// Stores a new challenge at `now` (a store that expires entries itself keeps it
    /// until `record.expires_at`, reckoned from `now`).
    async fn insert_captcha(
        &self,
        record: &CaptchaRecord,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Removes and returns the challenge: whatever the answer, it cannot be tried twice.
    async fn take_captcha(&self, id: &TokenDigest) -> Result<Option<CaptchaRecord>, StoreError>;
    /// The stored answer of a live challenge (dev mode only stores one).
    async fn dev_captcha_answer(&self, id: &TokenDigest) -> Result<Option<String>, StoreError>;
    /// Deletes challenges that expired before `now`; returns how many.
    async fn purge_captchas(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Failure counters for login identifiers that match no member, so that unknown
/// identifiers lock exactly like real ones and a lock message reveals nothing.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The counter for this identifier (empty if none).
    async fn throttle(&self, key: &BlindIndex) -> Result<LockState, StoreError>;
}

/// Holds placed on members after credential changes.
#[async_trait]
pub trait HoldStore: Send + Sync {
    /// The member's holds still in force at `now`, newest first.
    async fn active_holds(
        &self,
        member: MemberId,
        now: OffsetDateTime,
    ) -> Result<Vec<Hold>, StoreError>;
    /// Holds that ended by `now` and whose end business systems have not been told of
    /// yet, oldest end first, at most `limit`.
    async fn unannounced_ended_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<EndedHold>, StoreError>;
}

/// A hold that has ended, with what its `hold.ended` event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedHold {
    /// The hold's row id.
    pub id: i64,
    pub hold: Hold,
    pub account_no: String,
}

/// Marks a hold's end announced; lands only if nobody marked it first (another
/// instance announcing the same end makes the change a [`StoreError::Conflict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldAnnounced {
    pub id: i64,
    pub at: OffsetDateTime,
}

/// Members' security questions (keyed MACs of the answers only).
#[async_trait]
pub trait SecurityQuestionStore: Send + Sync {
    /// The member's questions in slot order.
    async fn security_answers(&self, member: MemberId) -> Result<Vec<SecurityAnswer>, StoreError>;
}

/// Whether a rate-limited action may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after: OffsetDateTime },
}

/// Fixed-window counters shared by every instance (kept in the database or Redis).
/// [`Health`] because a limit that cannot be checked refuses the request.
#[async_trait]
pub trait RateLimiter: Health {
    /// Counts one hit on `key` in the window containing `now` and says whether it is
    /// within `limit`. A refused hit is not counted.
    async fn hit(
        &self,
        key: &str,
        window: Duration,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<RateDecision, StoreError>;
}

/// An optimistic update of a member's credential state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberWrite {
    pub id: MemberId,
    pub expected_version: i64,
    pub update: CredentialUpdate,
}

/// One credential hash to remember for reuse checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHistoryEntry {
    pub member_id: MemberId,
    pub kind: SecretKind,
    pub hash: String,
    pub at: OffsetDateTime,
}

/// A flow write: a new flow, or an update that only lands if nobody else changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowWrite {
    Insert(FlowRecord),
    Update {
        record: FlowRecord,
        expected_version: i64,
    },
}

/// A failure counter write that lands only if the counter still holds `expected`
/// (compare and set), so parallel failures are each counted or refused with
/// [`StoreError::Conflict`], never silently lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleWrite {
    pub key: BlindIndex,
    pub expected: LockState,
    pub next: LockState,
}

/// A session write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionWrite {
    Insert(SessionRecord),
    Revoke {
        token: TokenDigest,
        at: OffsetDateTime,
    },
    /// Ends every session and app token of the member.
    RevokeAll {
        member: MemberId,
        at: OffsetDateTime,
    },
}

/// Everything one step changes, written in one database transaction: either all of
/// it lands or none of it does. An optimistic check that fails (member or flow
/// version) aborts the whole change with [`StoreError::Conflict`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub members: Vec<MemberWrite>,
    pub history: Vec<SecretHistoryEntry>,
    pub flows: Vec<FlowWrite>,
    pub sessions: Vec<SessionWrite>,
    pub throttles: Vec<ThrottleWrite>,
    pub outbox: Vec<OutboxMessage>,
    pub holds: Vec<Hold>,
    /// Replaces all of a member's security questions with these (same member in
    /// every entry; an empty list is not a way to delete: use `clear_questions`).
    pub security_answers: Vec<SecurityAnswer>,
    /// Members whose security questions are removed before `security_answers` land.
    pub clear_questions: Vec<MemberId>,
    /// Staff accounts (failure counters, TOTP enrolment, password changes).
    pub staff: Vec<super::StaffWrite>,
    pub staff_sessions: Vec<crate::staff::StaffSessionWrite>,
    /// Assisted cases (counter and hotline tickets).
    pub cases: Vec<crate::assisted::CaseWrite>,
    /// Hotline checklists.
    pub checks: Vec<crate::assisted::CheckWrite>,
    /// New personal data of members (phone on file), written after `members`.
    pub pii: Vec<super::PiiWrite>,
    /// Business systems registered or changed.
    pub clients: Vec<crate::clients::ClientWrite>,
    /// Access tokens issued to business systems.
    pub client_tokens: Vec<crate::clients::AccessTokenRecord>,
    /// Client assertion ids now used: a second insert of one fails the whole change
    /// with [`StoreError::Duplicate`].
    pub used_assertions: Vec<crate::clients::UsedAssertion>,
    /// Payment authorisations (an idempotency key used twice by one client fails the
    /// change with [`StoreError::Duplicate`]).
    pub authorizations: Vec<crate::payout::AuthorizationWrite>,
    /// Holds whose end is announced in this change.
    pub announced_holds: Vec<HoldAnnounced>,
    /// Events for business systems, fanned out to each subscribed client (or the one
    /// an event names) in the same transaction.
    pub events: Vec<crate::clients::BusinessEvent>,
    /// Benefits, qualification checks, attempts and reminders.
    pub qualification: Vec<crate::qualification::QualificationWrite>,
    pub audit: Vec<AuditEvent>,
}

/// Applies a [`ChangeSet`] atomically.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes the whole change in one transaction.
    async fn apply(&self, change: ChangeSet) -> Result<(), StoreError>;
}

/// The pool CPU-heavy work (Argon2) runs on: bounded, refusing work at once when full
/// so a flood of logins is answered "busy" instead of queueing without bound.
#[async_trait]
pub trait CpuPool: Send + Sync {
    /// Runs `job` on the pool, or refuses it at once when the pool is full.
    async fn run_boxed(&self, job: Box<dyn FnOnce() + Send + 'static>) -> Result<(), PoolBusy>;
}

/// The CPU pool is full: try again after the given number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the service is busy; retry after {retry_after_secs} s")]
pub struct PoolBusy {
    pub retry_after_secs: u64,
}

/// Runs a job that returns a value on a [`CpuPool`].
pub async fn run_on_pool<T: Send + 'static>(
    pool: &dyn CpuPool,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PoolBusy> {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = slot.clone();
    pool.run_boxed(Box::new(move || {
        let value = job();
        if let Ok(mut guard) = out.lock() {
            *guard = Some(value);
        }
    }))
    .await?;
    let value = slot.lock().ok().and_then(|mut g| g.take());
    // A job that panicked leaves the slot empty: report it as busy rather than
    // inventing a value.
    value.ok_or(PoolBusy {
        retry_after_secs: 1,
    })
}

/// Whether the database answers, for readiness checks.
#[async_trait]
pub trait Health: Send + Sync {
    /// A cheap round trip to the database.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Every store the portal reads and writes, implemented by one database adapter.
pub trait PortalStore:
    Health
    + super::MemberStore
    + super::AuditStore
    + super::OutboxStore
    + SessionStore
    + FlowStore
    + ThrottleStore
    + HoldStore
    + SecurityQuestionStore
    + super::StaffStore
    + super::StaffSessionStore
    + super::CaseStore
    + super::ClientStore
    + super::AuthorizationStore
    + super::WebhookStore
    + super::MemberEventStore
    + super::QualificationStore
    + UnitOfWork
{
}

impl<T> PortalStore for T where
    T: Health
        + super::MemberStore
        + super::AuditStore
        + super::OutboxStore
        + SessionStore
        + FlowStore
        + ThrottleStore
        + HoldStore
        + SecurityQuestionStore
        + super::StaffStore
        + super::StaffSessionStore
        + super::CaseStore
        + super::ClientStore
        + super::AuthorizationStore
        + super::WebhookStore
        + super::MemberEventStore
        + super::QualificationStore
        + UnitOfWork
{
}
