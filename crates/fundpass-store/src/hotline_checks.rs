//! The `hotline_checks` table: caller-verification checklists, read for
//! [`fundpass_core::ports::CaseStore::hotline_check`] and written by a unit of work.
//! Only item names and whether each passed are stored, never the values compared.

use fundpass_core::assisted::{CheckWrite, HotlineCheck};
use fundpass_core::member::MemberId;
use fundpass_core::ports::StoreError;
use fundpass_core::staff::StaffId;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};

use crate::cases::missing_or_moved;
use crate::codec::{flag, from_flag, from_micros, from_opt_micros, micros, opt_micros};
use crate::errors::{bad_value, db_error};
use crate::members::column;

/// The checklist with this id.
pub(crate) async fn check_by_id(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<HotlineCheck>, StoreError> {
    let row = sqlx::query(
        "SELECT id, staff_id, call_id, member_id, items_json, passed, created_at, \
         expires_at, used_at, version FROM hotline_checks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    row.as_ref().map(check_from_row).transpose()
}

/// Writes one checklist change inside a unit of work. An update lands only on the
/// version the caller read (`Conflict` otherwise, `NotFound` for a checklist that is
/// not there) and the stored version moves on by one whatever the record says. The
/// agent, the call and the creation time never change.
pub(crate) async fn write_check(
    conn: &mut AnyConnection,
    write: &CheckWrite,
) -> Result<(), StoreError> {
    match write {
        CheckWrite::Insert(c) => {
            let query = sqlx::query(
                "INSERT INTO hotline_checks (id, staff_id, call_id, created_at, version, \
                 member_id, items_json, passed, expires_at, used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(c.id.as_str())
            .bind(c.staff_id.0)
            .bind(c.call_id.as_str())
            .bind(micros(c.created_at))
            .bind(c.version);
            bind_mutable(query, c)?
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            Ok(())
        }
        CheckWrite::Update {
            record: c,
            expected_version,
        } => {
            let query = sqlx::query(
                "UPDATE hotline_checks SET member_id = $3, items_json = $4, passed = $5, \
                 expires_at = $6, used_at = $7, version = version + 1 \
                 WHERE id = $1 AND version = $2",
            )
            .bind(c.id.as_str())
            .bind(*expected_version);
            let done = bind_mutable(query, c)?
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let exists = "SELECT id FROM hotline_checks WHERE id = $1";
            Err(missing_or_moved(conn, exists, &c.id).await?)
        }
    }
}

/// Binds the 5 columns an update may change, in the order both statements list them.
fn bind_mutable(
    query: Query<'static, Any, AnyArguments>,
    c: &HotlineCheck,
) -> Result<Query<'static, Any, AnyArguments>, StoreError> {
    let items = serde_json::to_string(&c.items)
        .map_err(|e| StoreError::Backend(format!("check items are not JSON: {e}")))?;
    Ok(query
        .bind(c.member_id.map(|m| m.0))
        .bind(items)
        .bind(flag(c.passed))
        .bind(micros(c.expires_at))
        .bind(opt_micros(c.used_at)))
}

fn check_from_row(row: &AnyRow) -> Result<HotlineCheck, StoreError> {
    let member_id: Option<i64> = column(row, "member_id")?;
    let items: String = column(row, "items_json")?;
    Ok(HotlineCheck {
        id: column(row, "id")?,
        staff_id: StaffId(column(row, "staff_id")?),
        call_id: column(row, "call_id")?,
        member_id: member_id.map(MemberId),
        // `[["document", true], …]`: serde reads each pair as a tuple.
        items: serde_json::from_str(&items).map_err(|_| bad_value("check items"))?,
        passed: from_flag(column(row, "passed")?)?,
        created_at: from_micros(column(row, "created_at")?)?,
        expires_at: from_micros(column(row, "expires_at")?)?,
        used_at: from_opt_micros(column(row, "used_at")?)?,
        version: column(row, "version")?,
    })
}
