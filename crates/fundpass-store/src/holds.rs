//! [`HoldStore`] over `member_holds`, the hold writes of a unit of work, and the last
//! reset an assisted case's risk rule asks for. Holds are only ever appended: one ends
//! when its `until` passes, so the table is also the record of every hold placed.

use async_trait::async_trait;
use fundpass_core::audit::Channel;
use fundpass_core::member::{Hold, HoldReason, MemberId};
use fundpass_core::ports::{EndedHold, HoldAnnounced, HoldStore, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use time::OffsetDateTime;

use crate::codec::{from_micros, from_opt_micros, micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

#[async_trait]
impl HoldStore for Store {
    /// Holds whose `until` is after `now`; the newest placed first (ties: the later
    /// insert first).
    async fn active_holds(
        &self,
        member: MemberId,
        now: OffsetDateTime,
    ) -> Result<Vec<Hold>, StoreError> {
        let rows = sqlx::query(
            "SELECT member_id, reason, channel, created_at, until FROM member_holds \
             WHERE member_id = $1 AND until > $2 ORDER BY created_at DESC, id DESC",
        )
        .bind(member.0)
        .bind(micros(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(hold_from_row).collect()
    }

    async fn unannounced_ended_holds(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<EndedHold>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.id, h.member_id, h.reason, h.channel, h.created_at, h.until, \
             m.account_no FROM member_holds h JOIN members m ON m.id = h.member_id \
             WHERE h.end_announced_at IS NULL AND h.until <= $1 \
             ORDER BY h.until, h.id LIMIT $2",
        )
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(EndedHold {
                    id: column(row, "id")?,
                    hold: hold_from_row(row)?,
                    account_no: column(row, "account_no")?,
                })
            })
            .collect()
    }
}

/// Marks a hold's end announced inside a unit of work, only if nobody did first.
pub(crate) async fn mark_announced(
    conn: &mut AnyConnection,
    mark: &HoldAnnounced,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE member_holds SET end_announced_at = $1 \
         WHERE id = $2 AND end_announced_at IS NULL",
    )
    .bind(micros(mark.at))
    .bind(mark.id)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// When the member's login or transaction password was last reset: the newest reset
/// hold, ended or not (holds are never removed, so this is the whole record). Phone
/// changes are not resets.
pub(crate) async fn last_reset_at(
    pool: &AnyPool,
    member: MemberId,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let newest: Option<i64> = sqlx::query_scalar(
        "SELECT created_at FROM member_holds \
         WHERE member_id = $1 AND reason IN ($2, $3) \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(member.0)
    .bind(HoldReason::LoginReset.code())
    .bind(HoldReason::TransactionReset.code())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    from_opt_micros(newest)
}

/// Places a hold inside a unit of work, guarded by the member's existence as secret
/// history is, so an unknown member is `NotFound` on both backends.
pub(crate) async fn insert_hold(conn: &mut AnyConnection, hold: &Hold) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO member_holds (member_id, reason, channel, created_at, until) \
         SELECT id, $2, $3, $4, $5 FROM members WHERE id = $1",
    )
    .bind(hold.member_id.0)
    .bind(hold.reason.code())
    .bind(hold.channel.code())
    .bind(micros(hold.created_at))
    .bind(micros(hold.until))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn hold_from_row(row: &AnyRow) -> Result<Hold, StoreError> {
    let reason: String = column(row, "reason")?;
    let channel: String = column(row, "channel")?;
    Ok(Hold {
        member_id: MemberId(column(row, "member_id")?),
        reason: HoldReason::from_code(&reason).ok_or_else(|| bad_value("hold reason"))?,
        channel: Channel::from_code(&channel).ok_or_else(|| bad_value("hold channel"))?,
        created_at: from_micros(column(row, "created_at")?)?,
        until: from_micros(column(row, "until")?)?,
    })
}
