//! [`MemberStore`] over the `members` and `secret_history` tables.

use async_trait::async_trait;
use fundpass_core::crypto::{BlindIndex, Sealed};
use fundpass_core::identity::IdType;
use fundpass_core::member::{
    AccountNumber, CredentialUpdate, LockState, MemberId, MemberRecord, MemberStatus, PiiUpdate,
    SecretKind,
};
use fundpass_core::ports::{MemberImport, MemberStore, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use time::OffsetDateTime;

use crate::codec::{flag, from_flag, from_micros, from_opt_micros, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::import::Import;

/// `SELECT <every member column> FROM members <tail>`, as a `&'static str`.
macro_rules! select_members {
    ($tail:literal) => {
        concat!(
            "SELECT id, account_no, name, id_type, id_number_enc, id_number_index, phone_enc, \
             phone_index, status, login_hash, transaction_hash, login_failures, \
             login_lock_count, login_locked_until, transaction_failures, \
             transaction_lock_count, transaction_locked_until, transaction_disabled, \
             created_at, updated_at, version FROM members ",
            $tail
        )
    };
}

#[async_trait]
impl MemberStore for Store {
    async fn member_by_id(&self, id: MemberId) -> Result<Option<MemberRecord>, StoreError> {
        let row = sqlx::query(select_members!("WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn member_by_account(
        &self,
        account: &AccountNumber,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let row = sqlx::query(select_members!("WHERE account_no = $1"))
            .bind(account.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn member_by_id_number(
        &self,
        id_type: IdType,
        index: &BlindIndex,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let row = sqlx::query(select_members!(
            "WHERE id_type = $1 AND id_number_index = $2"
        ))
        .bind(id_type.code())
        .bind(index.as_bytes())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn members_by_phone(&self, index: &BlindIndex) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = sqlx::query(select_members!("WHERE phone_index = $1 ORDER BY id"))
            .bind(index.as_bytes())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(member_from_row).collect()
    }

    async fn member_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        u64::try_from(count).map_err(|_| bad_value("member count"))
    }

    async fn update_credentials(
        &self,
        id: MemberId,
        expected_version: i64,
        update: &CredentialUpdate,
    ) -> Result<(), StoreError> {
        let rows = write_credentials(&self.pool, id, expected_version, update).await?;
        self.one_row_changed(rows, id).await
    }

    async fn recent_secret_hashes(
        &self,
        id: MemberId,
        kind: SecretKind,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT hash FROM secret_history WHERE member_id = $1 AND kind = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(id.0)
        .bind(kind.code())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn secret_set_at(
        &self,
        id: MemberId,
        kind: SecretKind,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT created_at FROM secret_history WHERE member_id = $1 AND kind = $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(id.0)
        .bind(kind.code())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        from_opt_micros(newest)
    }

    async fn push_secret_history(
        &self,
        id: MemberId,
        kind: SecretKind,
        hash: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Guarded by the member's existence so that an unknown member is `NotFound` on
        // both backends rather than a foreign-key failure worded differently by each.
        let done = sqlx::query(
            "INSERT INTO secret_history (member_id, kind, hash, created_at) \
             SELECT id, $2, $3, $4 FROM members WHERE id = $1",
        )
        .bind(id.0)
        .bind(kind.code())
        .bind(hash)
        .bind(micros(at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn begin_import(&self) -> Result<Box<dyn MemberImport>, StoreError> {
        Ok(Box::new(Import::start(self).await?))
    }

    async fn members_after(
        &self,
        after: MemberId,
        limit: u32,
    ) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = sqlx::query(select_members!("WHERE id > $1 ORDER BY id LIMIT $2"))
            .bind(after.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(member_from_row).collect()
    }

    async fn update_pii(
        &self,
        id: MemberId,
        expected_version: i64,
        update: &PiiUpdate,
    ) -> Result<(), StoreError> {
        let rows = write_pii(&self.pool, id, expected_version, update).await?;
        self.one_row_changed(rows, id).await
    }
}

impl Store {
    /// After an optimistic update: one row means done; none means the version moved
    /// (`Conflict`) or the member is gone (`NotFound`).
    async fn one_row_changed(&self, rows: u64, id: MemberId) -> Result<(), StoreError> {
        if rows == 1 {
            Ok(())
        } else if self.member_exists(id).await? {
            Err(StoreError::Conflict)
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn member_exists(&self, id: MemberId) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(found.is_some())
    }
}

/// The optimistic credential update, on the pool or inside a unit of work's
/// transaction. Returns the rows changed: 0 when the version moved or the member is gone.
pub(crate) async fn write_credentials<'e, E>(
    executor: E,
    id: MemberId,
    expected_version: i64,
    update: &CredentialUpdate,
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let done = sqlx::query(
        "UPDATE members SET status = $1, login_hash = $2, transaction_hash = $3, \
         login_failures = $4, login_lock_count = $5, login_locked_until = $6, \
         transaction_failures = $7, transaction_lock_count = $8, \
         transaction_locked_until = $9, transaction_disabled = $10, updated_at = $11, \
         version = version + 1 \
         WHERE id = $12 AND version = $13",
    )
    .bind(update.status.code())
    .bind(update.login_hash.as_deref())
    .bind(update.transaction_hash.as_deref())
    .bind(update.login_lock.failures)
    .bind(update.login_lock.lock_count)
    .bind(opt_micros(update.login_lock.locked_until))
    .bind(update.transaction_lock.failures)
    .bind(update.transaction_lock.lock_count)
    .bind(opt_micros(update.transaction_lock.locked_until))
    .bind(flag(update.transaction_disabled))
    .bind(micros(update.at))
    .bind(id.0)
    .bind(expected_version)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(done.rows_affected())
}

/// The optimistic personal-data update (key rotation, a new phone on file), on the pool
/// or inside a unit of work's transaction. Returns the rows changed: 0 when the version
/// moved or the member is gone.
pub(crate) async fn write_pii<'e, E>(
    executor: E,
    id: MemberId,
    expected_version: i64,
    update: &PiiUpdate,
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let done = sqlx::query(
        "UPDATE members SET id_number_enc = $1, id_number_index = $2, phone_enc = $3, \
         phone_index = $4, updated_at = $5, version = version + 1 \
         WHERE id = $6 AND version = $7",
    )
    .bind(update.id_number.as_bytes())
    .bind(update.id_number_index.as_bytes())
    .bind(update.phone.as_bytes())
    .bind(update.phone_index.as_bytes())
    .bind(micros(update.at))
    .bind(id.0)
    .bind(expected_version)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(done.rows_affected())
}

/// Reads one column, mapping a decoding failure to [`StoreError::Backend`].
pub(crate) fn column<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(name).map_err(db_error)
}

fn member_from_row(row: &AnyRow) -> Result<MemberRecord, StoreError> {
    let account: String = column(row, "account_no")?;
    let id_type: String = column(row, "id_type")?;
    let status: String = column(row, "status")?;
    Ok(MemberRecord {
        id: MemberId(column(row, "id")?),
        account_no: AccountNumber::parse(&account).map_err(|_| bad_value("account number"))?,
        name: column(row, "name")?,
        id_type: IdType::from_code(&id_type).ok_or_else(|| bad_value("document type"))?,
        id_number: Sealed::from_bytes(column(row, "id_number_enc")?),
        id_number_index: BlindIndex::from_bytes(column(row, "id_number_index")?),
        phone: Sealed::from_bytes(column(row, "phone_enc")?),
        phone_index: BlindIndex::from_bytes(column(row, "phone_index")?),
        status: MemberStatus::from_code(&status).ok_or_else(|| bad_value("member status"))?,
        login_hash: column(row, "login_hash")?,
        transaction_hash: column(row, "transaction_hash")?,
        login_lock: LockState {
            failures: column(row, "login_failures")?,
            lock_count: column(row, "login_lock_count")?,
            locked_until: from_opt_micros(column(row, "login_locked_until")?)?,
        },
        transaction_lock: LockState {
            failures: column(row, "transaction_failures")?,
            lock_count: column(row, "transaction_lock_count")?,
            locked_until: from_opt_micros(column(row, "transaction_locked_until")?)?,
        },
        transaction_disabled: from_flag(column(row, "transaction_disabled")?)?,
        created_at: from_micros(column(row, "created_at")?)?,
        updated_at: from_micros(column(row, "updated_at")?)?,
        version: column(row, "version")?,
    })
}
