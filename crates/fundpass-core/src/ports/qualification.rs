//! Reads of the qualification tables, and the benefit import's transaction.

use async_trait::async_trait;
use time::Date;

use super::StoreError;
use crate::crypto::TokenDigest;
use crate::member::{AccountNumber, MemberId};
use crate::qualification::{Attempt, Benefit, CheckRecord, QualificationStatus};

/// The qualification check's reads.
#[async_trait]
pub trait QualificationStore: Send + Sync {
    /// A member's benefit, if they have one.
    async fn benefit(&self, member: MemberId) -> Result<Option<Benefit>, StoreError>;

    /// A face check attempt by the digest of its id.
    async fn qualification_attempt(&self, id: &TokenDigest) -> Result<Option<Attempt>, StoreError>;

    /// A member's passed checks, newest first.
    async fn recent_checks(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<CheckRecord>, StoreError>;

    /// Up to `limit` qualified benefits due before `today` (their check was missed).
    async fn lapsed_benefits(&self, today: Date, limit: u32) -> Result<Vec<Benefit>, StoreError>;

    /// Up to `limit` benefits of `status` due after `due_after` and on or before
    /// `due_until` that have no reminder at `offset_days` for their due date yet.
    async fn unreminded_benefits(
        &self,
        status: QualificationStatus,
        due_after: Date,
        due_until: Date,
        offset_days: i32,
        limit: u32,
    ) -> Result<Vec<Benefit>, StoreError>;

    /// The confirmed relatives of `member` (whose checks they may run).
    async fn relatives_of(
        &self,
        member: MemberId,
    ) -> Result<Vec<crate::qualification::RelativeLink>, StoreError>;

    /// Up to `limit` passed checks of members reported deceased, on or after the
    /// date of death (China date), newest first.
    async fn checks_after_death(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::qualification::DeceasedCheck>, StoreError>;

    /// Starts a benefit import: one transaction, committed at the end or not at all.
    async fn begin_benefit_import(&self) -> Result<Box<dyn BenefitImport>, StoreError>;
}

/// One benefit import in progress (a database transaction).
#[async_trait]
pub trait BenefitImport: Send {
    /// The members among `accounts` that exist.
    async fn members_by_account(
        &mut self,
        accounts: &[AccountNumber],
    ) -> Result<Vec<(AccountNumber, MemberId)>, StoreError>;
    /// The benefits on file of `members`.
    async fn benefits_of(&mut self, members: &[MemberId]) -> Result<Vec<Benefit>, StoreError>;
    /// Inserts new benefits and replaces existing ones (matched by member).
    async fn upsert(&mut self, benefits: &[Benefit]) -> Result<(), StoreError>;
    /// Makes everything written visible at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
