//! [`OutboxStore`] over the `outbox` table: SMS written with the change that caused
//! them and delivered by a worker that leases what it claims. Recipient and text are
//! stored sealed.

use async_trait::async_trait;
use fundpass_core::crypto::Sealed;
use fundpass_core::member::MemberId;
use fundpass_core::ports::{
    IncomingReceipt, OutboxMessage, OutboxStore, Receipt, ReceiptState, StoreError,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::codec::{flag, from_flag, from_micros, from_opt_micros, micros, opt_micros};
use crate::connect::{Backend, Store};
use crate::errors::{bad_value, db_error};
use crate::members::column;

/// The `next_attempt_at` of a message given up on (`mark_failed` with no retry time):
/// the last representable microsecond, so it stays undelivered, is never due again, and
/// sits at the far end of the worker's index instead of in every scan.
pub const OUTBOX_GIVEN_UP: OffsetDateTime = datetime!(9999-12-31 23:59:59.999999 UTC);

/// Longest gateway error kept, in characters: enough to diagnose, too short to carry
/// a message body a careless gateway might echo back.
const LAST_ERROR_CHARS: usize = 200;

const OUTBOX_COLUMNS: &str = "id, member_id, purpose, to_enc, body_enc, params_enc, \
                              created_at, next_attempt_at, attempts, delivered_at, \
                              last_error, limit_hit, provider_ref, receipt_state, \
                              receipt_reason, receipt_at";

#[async_trait]
impl OutboxStore for Store {
    /// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several instances claim at once
    /// without waiting for or sharing rows; on SQLite the statement runs in a
    /// `BEGIN IMMEDIATE` transaction, which serialises claimers. Oldest due first.
    ///
    /// A member's messages go out in the order they were written: a message is not
    /// claimed while an older one to the same member is neither delivered nor given
    /// up (being retried after a failure, or claimed by a worker). Without this, after
    /// a gateway outage each message came back on its own retry schedule, and a newer
    /// notice could reach the phone before an older one.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let in_order = format!(
            " AND NOT EXISTS (SELECT 1 FROM outbox earlier \
             WHERE earlier.member_id = outbox.member_id AND earlier.delivered_at IS NULL \
             AND earlier.next_attempt_at < {} \
             AND (earlier.created_at < outbox.created_at \
             OR (earlier.created_at = outbox.created_at AND earlier.id < outbox.id)))",
            micros(OUTBOX_GIVEN_UP)
        );
        let rows = claim(
            self,
            Claim {
                table: "outbox",
                order: "id",
                columns: OUTBOX_COLUMNS,
                only: &in_order,
            },
            now,
            lease_until,
            limit,
        )
        .await?;
        let mut claimed = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING follows no ORDER BY: restore the oldest-first order.
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        id: &str,
        at: OffsetDateTime,
        provider_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, provider_ref = $2 \
             WHERE id = $3",
        )
        .bind(micros(at))
        .bind(provider_ref.map(|r| cut(r, LAST_ERROR_CHARS)))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        found(done.rows_affected())
    }

    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        mark_failed(self, "outbox", id, error, retry_at).await
    }

    async fn mark_limited(&self, id: &str, error: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
             next_attempt_at = $2, limit_hit = $3 WHERE id = $4",
        )
        .bind(cut(error, LAST_ERROR_CHARS))
        .bind(micros(OUTBOX_GIVEN_UP))
        .bind(flag(true))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        found(done.rows_affected())
    }

    /// Matched by the outbox id when the report carries one (Alibaba's `out_id`),
    /// else by the provider's id. A message not yet marked sent (its send timed out)
    /// becomes sent at the report's time, so the worker does not send it again.
    async fn record_receipt(&self, report: &IncomingReceipt) -> Result<bool, StoreError> {
        let (key_column, key) = match (&report.outbox_id, &report.provider_ref) {
            (Some(id), _) => ("id", id.as_str()),
            (None, Some(reference)) => ("provider_ref", reference.as_str()),
            (None, None) => return Ok(false),
        };
        let r = &report.receipt;
        let sql = format!(
            "UPDATE outbox SET receipt_state = $1, receipt_reason = $2, receipt_at = $3, \
             delivered_at = COALESCE(delivered_at, $3), \
             provider_ref = COALESCE(provider_ref, $4) WHERE {key_column} = $5"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(r.state.code())
            .bind(
                r.reason
                    .as_deref()
                    .map(|reason| cut(reason, LAST_ERROR_CHARS)),
            )
            .bind(micros(r.at))
            .bind(
                report
                    .provider_ref
                    .as_deref()
                    .map(|p| cut(p, LAST_ERROR_CHARS)),
            )
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn recent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(message_from_row).collect()
    }

    async fn member_messages(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE member_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(member.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(message_from_row).collect()
    }
}

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// What [`claim`] takes from: the table (the SMS outbox or the webhook outbox), the
/// column that breaks ties, the columns returned, and a further condition on the rows
/// (`""` for none; it may name the table's row as `{table}`).
pub(crate) struct Claim<'a> {
    pub table: &'a str,
    pub order: &'a str,
    pub columns: &'a str,
    pub only: &'a str,
}

/// Takes up to `limit` undelivered rows of `what.table` due at `now` that meet
/// `what.only` and pushes their next attempt to `lease_until`. On PostgreSQL,
/// `FOR UPDATE SKIP LOCKED` lets several instances claim at once without waiting for or
/// sharing rows; on SQLite the statement runs in a `BEGIN IMMEDIATE` transaction, which
/// serialises claimers. Oldest due first (ties broken by `what.order`).
pub(crate) async fn claim(
    store: &Store,
    what: Claim<'_>,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u32,
) -> Result<Vec<AnyRow>, StoreError> {
    let Claim {
        table,
        order,
        columns,
        only,
    } = what;
    let lock = match store.backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE {table} SET next_attempt_at = $1 WHERE id IN (SELECT id FROM {table} \
         WHERE delivered_at IS NULL AND next_attempt_at <= $2{only} \
         ORDER BY next_attempt_at, {order} LIMIT $3{lock}) RETURNING {columns}"
    );
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(rows)
}

/// Records a delivery of a row of `table`; a delivery counts as an attempt.
/// `NotFound` for an unknown id.
pub(crate) async fn mark_delivered(
    store: &Store,
    table: &str,
    id: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let sql =
        format!("UPDATE {table} SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2");
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(at))
        .bind(id)
        .execute(&store.pool)
        .await
        .map_err(db_error)?;
    found(done.rows_affected())
}

/// Records a failed try of a row of `table`. With no retry time the row is given up:
/// it stays undelivered with `next_attempt_at` = [`OUTBOX_GIVEN_UP`]. The error is
/// cut to 200 characters.
pub(crate) async fn mark_failed(
    store: &Store,
    table: &str,
    id: &str,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(LAST_ERROR_CHARS).collect();
    let next = retry_at.unwrap_or(OUTBOX_GIVEN_UP);
    let sql = format!(
        "UPDATE {table} SET attempts = attempts + 1, last_error = $1, \
         next_attempt_at = $2 WHERE id = $3"
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(error)
        .bind(micros(next))
        .bind(id)
        .execute(&store.pool)
        .await
        .map_err(db_error)?;
    found(done.rows_affected())
}

/// Queues a message inside a unit of work.
pub(crate) async fn insert_message(
    conn: &mut AnyConnection,
    m: &OutboxMessage,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, member_id, purpose, to_enc, body_enc, params_enc, created_at, \
         next_attempt_at, attempts, delivered_at, last_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(m.id.as_str())
    .bind(m.member_id.map(|id| id.0))
    .bind(m.purpose.as_str())
    .bind(m.to.as_bytes())
    .bind(m.body.as_bytes())
    .bind(m.params.as_ref().map(Sealed::as_bytes))
    .bind(micros(m.created_at))
    .bind(micros(m.next_attempt_at))
    .bind(m.attempts)
    .bind(opt_micros(m.delivered_at))
    .bind(m.last_error.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn message_from_row(row: &AnyRow) -> Result<OutboxMessage, StoreError> {
    let member_id: Option<i64> = column(row, "member_id")?;
    let params: Option<Vec<u8>> = column(row, "params_enc")?;
    let next_attempt_at = from_micros(column(row, "next_attempt_at")?)?;
    Ok(OutboxMessage {
        id: column(row, "id")?,
        member_id: member_id.map(MemberId),
        purpose: column(row, "purpose")?,
        to: Sealed::from_bytes(column(row, "to_enc")?),
        body: Sealed::from_bytes(column(row, "body_enc")?),
        params: params.map(Sealed::from_bytes),
        created_at: from_micros(column(row, "created_at")?)?,
        next_attempt_at,
        attempts: column(row, "attempts")?,
        delivered_at: from_opt_micros(column(row, "delivered_at")?)?,
        last_error: column(row, "last_error")?,
        given_up: next_attempt_at == OUTBOX_GIVEN_UP,
        limit_hit: from_flag(column(row, "limit_hit")?)?,
        provider_ref: column(row, "provider_ref")?,
        receipt: receipt_from_row(row)?,
    })
}

fn receipt_from_row(row: &AnyRow) -> Result<Option<Receipt>, StoreError> {
    let state: Option<String> = column(row, "receipt_state")?;
    let Some(state) = state else {
        return Ok(None);
    };
    let at: Option<i64> = column(row, "receipt_at")?;
    Ok(Some(Receipt {
        state: ReceiptState::from_code(&state).ok_or_else(|| bad_value("receipt_state"))?,
        reason: column(row, "receipt_reason")?,
        at: from_micros(at.ok_or_else(|| bad_value("receipt_at"))?)?,
    }))
}
