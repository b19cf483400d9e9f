//! Reading members and importing them.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::crypto::BlindIndex;
use crate::identity::IdType;
use crate::member::{
    AccountNumber, CredentialUpdate, ImportOutcome, MemberId, MemberRecord, NewMember, PiiUpdate,
    SecretKind,
};

/// Members as imported from the fund's core system, with their credentials.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Looks a member up by the internal id.
    async fn member_by_id(&self, id: MemberId) -> Result<Option<MemberRecord>, StoreError>;
    /// Looks a member up by account number (个人账号).
    async fn member_by_account(
        &self,
        account: &AccountNumber,
    ) -> Result<Option<MemberRecord>, StoreError>;
    /// Looks a member up by document type and the blind index of the document number.
    async fn member_by_id_number(
        &self,
        id_type: IdType,
        index: &BlindIndex,
    ) -> Result<Option<MemberRecord>, StoreError>;
    /// Members whose phone on file has this blind index.
    async fn members_by_phone(&self, index: &BlindIndex) -> Result<Vec<MemberRecord>, StoreError>;
    /// Number of members.
    async fn member_count(&self) -> Result<u64, StoreError>;
    /// Writes status, credential hashes and lock counters if the row still has
    /// `expected_version`; fails with [`StoreError::Conflict`] otherwise.
    async fn update_credentials(
        &self,
        id: MemberId,
        expected_version: i64,
        update: &CredentialUpdate,
    ) -> Result<(), StoreError>;
    /// The most recent credential hashes of one kind, newest first, for reuse checks.
    async fn recent_secret_hashes(
        &self,
        id: MemberId,
        kind: SecretKind,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
    /// When the member's current secret of `kind` was set: the newest entry of the
    /// history (registration, resets and changes write one), `None` without any.
    async fn secret_set_at(
        &self,
        id: MemberId,
        kind: SecretKind,
    ) -> Result<Option<OffsetDateTime>, StoreError>;
    /// Records a credential hash in the member's history.
    async fn push_secret_history(
        &self,
        id: MemberId,
        kind: SecretKind,
        hash: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Opens one all-or-nothing import: nothing is visible until `commit`.
    async fn begin_import(&self) -> Result<Box<dyn MemberImport>, StoreError>;
    /// Members with `id > after`, in id order, for batch jobs such as key rotation.
    async fn members_after(
        &self,
        after: MemberId,
        limit: u32,
    ) -> Result<Vec<MemberRecord>, StoreError>;
    /// Replaces the encrypted personal data of one member if the row still has
    /// `expected_version`.
    async fn update_pii(
        &self,
        id: MemberId,
        expected_version: i64,
        update: &PiiUpdate,
    ) -> Result<(), StoreError>;
}

/// What a row of an import repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeated {
    /// Its account number is on an earlier line.
    Account,
    /// Its document is on an earlier line.
    Document,
}

/// A row that repeats an account or a document of an earlier line of the same import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// The repeating row's line.
    pub line: u64,
    pub what: Repeated,
    /// The line it first appeared on.
    pub first_line: u64,
}

/// One import in progress (a database transaction).
#[async_trait]
pub trait MemberImport: Send {
    /// Account numbers (among `accounts`) that already exist, with the owner's
    /// document blind index, so the importer can tell inserts from updates and find
    /// one document claimed by two accounts before writing anything.
    async fn existing_by_index(
        &mut self,
        indexes: &[(IdType, BlindIndex)],
    ) -> Result<Vec<(IdType, BlindIndex, AccountNumber)>, StoreError>;
    /// Notes, for the rest of this import, the line on which each account number and
    /// each document first appeared, and answers which of `rows` (in line order)
    /// repeat one noted on an earlier line. The account is looked at first: a row
    /// whose account repeats is not noted further. The notes live in the import's
    /// transaction, so the importer's memory does not grow with the file.
    async fn claim(&mut self, rows: &[(u64, &NewMember)]) -> Result<Vec<Repeat>, StoreError>;
    /// Inserts new members and updates existing ones (matched by account number):
    /// name, document and phone change; status and credentials are kept.
    async fn upsert(
        &mut self,
        rows: &[NewMember],
        at: OffsetDateTime,
    ) -> Result<ImportOutcome, StoreError>;
    /// Makes everything written visible at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
