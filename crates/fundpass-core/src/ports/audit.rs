//! The audit trail.

use async_trait::async_trait;

use super::StoreError;
use crate::audit::{AuditEvent, AuditRecord};

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
