//! Ports: the traits adapters implement so that the domain never touches a database,
//! the clock or the operating system's random source directly.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditRecord};
use crate::crypto::BlindIndex;
use crate::identity::IdType;
use crate::member::{
    AccountNumber, CredentialUpdate, ImportOutcome, MemberId, MemberRecord, NewMember, PiiUpdate,
    SecretKind,
};

/// The current time, injected so that expiry and lockout rules can be tested by moving
/// a fake clock instead of sleeping.
pub trait Clock: Send + Sync {
    /// The current instant in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Cryptographically secure random bytes, injected so the domain never reaches for a
/// global generator and tests can be deterministic where they need to be.
pub trait SecretGenerator: Send + Sync {
    /// Fills `buf` with bytes from a CSPRNG.
    fn fill(&self, buf: &mut [u8]);
}

/// Why a store operation failed, in terms the domain can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row changed since it was read (optimistic concurrency): reload and retry, or
    /// report that another request won.
    #[error("the record was changed by another request")]
    Conflict,
    /// The row does not exist.
    #[error("the record does not exist")]
    NotFound,
    /// A uniqueness rule was broken (named by the constraint).
    #[error("a record with the same {0} already exists")]
    Duplicate(String),
    /// The database failed; the message is for logs, never for members.
    #[error("storage failure: {0}")]
    Backend(String),
}

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

/// The append-only, hash-chained audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one event, chaining it to the current head; concurrent appends are
    /// serialised by the store.
    async fn append(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError>;
    /// Stored records with `seq > after`, in order, for verification and reports.
    async fn records_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
    /// The sequence number and hash of the newest record, as the store's head row says.
    async fn head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError>;
}
