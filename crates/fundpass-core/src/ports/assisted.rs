//! Ports of the staff console: staff sessions, assisted cases and hotline checks.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::assisted::{AssistedCase, HotlineCheck};
use crate::crypto::TokenDigest;
use crate::member::{MemberId, PiiUpdate};
use crate::staff::{StaffRecord, StaffSessionRecord};

/// Staff sessions, looked up by the digest of their token.
#[async_trait]
pub trait StaffSessionStore: Send + Sync {
    /// The session with this token digest, revoked or not.
    async fn staff_session(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<StaffSessionRecord>, StoreError>;
    /// Records activity (the idle timeout restarts).
    async fn touch_staff_session(
        &self,
        token: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// Assisted cases (counter and hotline) and hotline checklists.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// The case with this id.
    async fn case_by_id(&self, id: &str) -> Result<Option<AssistedCase>, StoreError>;
    /// The case whose ticket has this keyed MAC.
    async fn case_by_ticket(&self, mac: &[u8]) -> Result<Option<AssistedCase>, StoreError>;
    /// The case whose redemption under way has this bearer digest.
    async fn case_by_redeem_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<AssistedCase>, StoreError>;
    /// Cases waiting for a supervisor, oldest first.
    async fn cases_awaiting_approval(&self, limit: u32) -> Result<Vec<AssistedCase>, StoreError>;
    /// The member's cases whose ticket is out (status issued, expired or not),
    /// oldest first: a new ticket closes them, so one ticket at most is live.
    async fn issued_cases_of(&self, member: MemberId) -> Result<Vec<AssistedCase>, StoreError>;
    /// When the member's login or transaction password was last reset (the newest
    /// reset hold, expired or not), for the high-risk rule.
    async fn last_reset_at(&self, member: MemberId) -> Result<Option<OffsetDateTime>, StoreError>;
    /// The hotline checklist with this id.
    async fn hotline_check(&self, id: &str) -> Result<Option<HotlineCheck>, StoreError>;
}

/// An optimistic update of a staff account inside a [`super::ChangeSet`]: every
/// mutable field of `record`, if the row still has `expected_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffWrite {
    pub record: StaffRecord,
    pub expected_version: i64,
}

/// An optimistic update of a member's personal data (a new phone on file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiWrite {
    pub id: MemberId,
    pub expected_version: i64,
    pub update: PiiUpdate,
}
