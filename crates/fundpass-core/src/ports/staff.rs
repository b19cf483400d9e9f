//! Staff accounts.

use async_trait::async_trait;

use super::StoreError;
use crate::staff::{NewStaff, StaffId, StaffRecord, Username};

/// Staff accounts: created by an admin, never deleted (audit events name them).
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Creates an active account without a second factor (enrolled at first login).
    /// A user name already taken is [`StoreError::Duplicate`] (`staff_username_key`).
    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffRecord, StoreError>;
    /// Looks an account up by user name.
    async fn staff_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<StaffRecord>, StoreError>;
    /// Looks an account up by id.
    async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRecord>, StoreError>;
    /// Every account, disabled ones included, by user name.
    async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError>;
    /// Writes every mutable field of `record` if the row still has `expected_version`
    /// and bumps the version; [`StoreError::Conflict`] if it changed in between,
    /// [`StoreError::NotFound`] if there is no such account. The user name and
    /// creation time never change.
    async fn update_staff(
        &self,
        expected_version: i64,
        record: &StaffRecord,
    ) -> Result<(), StoreError>;
}
