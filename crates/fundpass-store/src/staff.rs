//! [`StaffStore`] over the `staff` table, and the staff account writes of a unit of
//! work.

use async_trait::async_trait;
use fundpass_core::crypto::{BlindIndex, Sealed};
use fundpass_core::member::LockState;
use fundpass_core::ports::{StaffStore, StoreError};
use fundpass_core::staff::{
    Branch, NewStaff, StaffId, StaffRecord, StaffRole, StaffStatus, Username,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::codec::{from_micros, from_opt_micros, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

/// `SELECT <every staff column> FROM staff <tail>`, as a `&'static str`.
macro_rules! select_staff {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, display_name, role, branch_id, branch_name, password_hash, \
             password_changed_at, totp_secret_enc, totp_last_step, status, login_failures, \
             login_lock_count, login_locked_until, member_index, created_at, updated_at, \
             version FROM staff ",
            $tail
        )
    };
}

#[async_trait]
impl StaffStore for Store {
    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffRecord, StoreError> {
        let at = micros(new.created_at);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff (username, display_name, role, branch_id, branch_name, \
             password_hash, password_changed_at, status, member_index, created_at, \
             updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $7, $7, 1) RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(new.display_name.as_str())
        .bind(new.role.code())
        .bind(new.branch.id.as_str())
        .bind(new.branch.name.as_str())
        .bind(new.password_hash.as_str())
        .bind(at)
        .bind(new.member_index.as_ref().map(BlindIndex::as_bytes))
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        self.staff_by_id(StaffId(id))
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn staff_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<StaffRecord>, StoreError> {
        let row = sqlx::query(select_staff!("WHERE username = $1"))
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(staff_from_row).transpose()
    }

    async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRecord>, StoreError> {
        let row = sqlx::query(select_staff!("WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(staff_from_row).transpose()
    }

    async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        let rows = sqlx::query(select_staff!("ORDER BY username"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(staff_from_row).collect()
    }

    async fn update_staff(
        &self,
        expected_version: i64,
        record: &StaffRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        write_staff(&mut conn, expected_version, record).await
    }
}

/// The optimistic update of every mutable field of a staff account, for
/// [`StaffStore::update_staff`] on a pooled connection and for a unit of work inside its
/// transaction: `Conflict` when the version moved on, `NotFound` when there is no such
/// account. The user name and creation time never change.
pub(crate) async fn write_staff(
    conn: &mut AnyConnection,
    expected_version: i64,
    record: &StaffRecord,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE staff SET display_name = $3, role = $4, branch_id = $5, branch_name = $6, \
         password_hash = $7, password_changed_at = $8, totp_secret_enc = $9, \
         totp_last_step = $10, status = $11, login_failures = $12, \
         login_lock_count = $13, login_locked_until = $14, member_index = $15, \
         updated_at = $16, version = version + 1 \
         WHERE id = $1 AND version = $2",
    )
    .bind(record.id.0)
    .bind(expected_version)
    .bind(record.display_name.as_str())
    .bind(record.role.code())
    .bind(record.branch.id.as_str())
    .bind(record.branch.name.as_str())
    .bind(record.password_hash.as_str())
    .bind(micros(record.password_changed_at))
    .bind(record.totp_secret.as_ref().map(Sealed::as_bytes))
    .bind(record.totp_last_step)
    .bind(record.status.code())
    .bind(record.lock.failures)
    .bind(record.lock.lock_count)
    .bind(opt_micros(record.lock.locked_until))
    .bind(record.member_index.as_ref().map(BlindIndex::as_bytes))
    .bind(micros(record.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM staff WHERE id = $1")
        .bind(record.id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    Err(match exists {
        Some(_) => StoreError::Conflict,
        None => StoreError::NotFound,
    })
}

fn staff_from_row(row: &AnyRow) -> Result<StaffRecord, StoreError> {
    let username: String = column(row, "username")?;
    let role: String = column(row, "role")?;
    let status: String = column(row, "status")?;
    let totp: Option<Vec<u8>> = column(row, "totp_secret_enc")?;
    let member_index: Option<Vec<u8>> = column(row, "member_index")?;
    Ok(StaffRecord {
        id: StaffId(column(row, "id")?),
        username: Username::parse(&username).map_err(|_| bad_value("staff user name"))?,
        display_name: column(row, "display_name")?,
        role: StaffRole::from_code(&role).ok_or_else(|| bad_value("staff role"))?,
        branch: Branch {
            id: column(row, "branch_id")?,
            name: column(row, "branch_name")?,
        },
        password_hash: column(row, "password_hash")?,
        password_changed_at: from_micros(column(row, "password_changed_at")?)?,
        totp_secret: totp.map(Sealed::from_bytes),
        totp_last_step: column(row, "totp_last_step")?,
        status: StaffStatus::from_code(&status).ok_or_else(|| bad_value("staff status"))?,
        lock: LockState {
            failures: column(row, "login_failures")?,
            lock_count: column(row, "login_lock_count")?,
            locked_until: from_opt_micros(column(row, "login_locked_until")?)?,
        },
        member_index: member_index.map(BlindIndex::from_bytes),
        created_at: from_micros(column(row, "created_at")?)?,
        updated_at: from_micros(column(row, "updated_at")?)?,
        version: column(row, "version")?,
    })
}
