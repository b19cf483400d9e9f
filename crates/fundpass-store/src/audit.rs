//! [`AuditStore`]: the append-only, hash-chained trail in `audit_events`, with its
//! newest record named by the one-row `audit_head`.

use async_trait::async_trait;
use fundpass_core::audit::{Actor, ActorKind, AuditEvent, AuditRecord, Channel, Outcome};
use fundpass_core::member::MemberId;
use fundpass_core::ports::{AuditStore, StoreError};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::codec::{from_micros, hash32};
use crate::connect::{Backend, Store};
use crate::errors::{bad_value, db_error, is_unique_violation};
use crate::members::column;

/// How often an append that lost a race for the head is retried. Appenders are
/// serialised by a lock (SQLite's write lock, PostgreSQL's `FOR UPDATE` on the head), so
/// a lost race means something outside this store wrote the trail.
const APPEND_ATTEMPTS: u32 = 5;

pub(crate) const AUDIT_COLUMNS: &str = "seq, at, actor_kind, actor_id, action, member_id, channel, ip, \
                             outcome, details, prev_hash, hash";

#[async_trait]
impl AuditStore for Store {
    async fn append(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError> {
        for attempt in 1..=APPEND_ATTEMPTS {
            let mut tx = self.begin_write().await?;
            match append_in(&mut tx, self.backend, event).await {
                Ok(record) => {
                    tx.commit().await.map_err(db_error)?;
                    return Ok(record);
                }
                // The transaction is rolled back on drop.
                Err(StoreError::Conflict) => tracing::warn!(
                    attempt,
                    "audit append lost a race for the chain head; retrying"
                ),
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn records_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(record_from_row).collect()
    }

    async fn head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            return Err(head_missing());
        };
        let seq: i64 = column(&row, "seq")?;
        if seq == 0 {
            return Ok(None);
        }
        Ok(Some((
            seq,
            hash32(column(&row, "hash")?, "audit head hash")?,
        )))
    }
}

/// Appends `event` to the chain inside the caller's writing transaction: lock the head,
/// chain, insert, move the head. Shared by [`AuditStore::append`] and the unit of work,
/// so an event commits or rolls back with the change it records.
///
/// On PostgreSQL the head row is locked (`FOR UPDATE`) until the transaction ends, so
/// concurrent appenders queue; on SQLite the transaction must have been started with
/// [`Store::begin_write`] (`BEGIN IMMEDIATE`), which holds the database's write lock.
/// `Conflict` when the head moved anyway (something outside this store wrote the
/// trail); the transaction must then be rolled back.
pub(crate) async fn append_in(
    conn: &mut AnyConnection,
    backend: Backend,
    event: &AuditEvent,
) -> Result<AuditRecord, StoreError> {
    // Stored exactly as hashed: `record_hash` uses the same canonical form.
    let details = serde_json::to_string(&event.details)
        .map_err(|e| StoreError::Backend(format!("audit details are not JSON: {e}")))?;
    let head_sql = match backend {
        // BEGIN IMMEDIATE already holds the database's single write lock.
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let head = sqlx::query(head_sql)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .ok_or_else(head_missing)?;
    let prev_seq: i64 = column(&head, "seq")?;
    let prev_hash = hash32(column(&head, "hash")?, "audit head hash")?;
    let record = AuditRecord::chain(prev_seq, prev_hash, event.clone());

    let inserted = sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_kind, actor_id, action, member_id, \
         channel, ip, outcome, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(record.seq)
    .bind(event.at_micros())
    .bind(event.actor.kind.code())
    .bind(event.actor.id.as_deref())
    .bind(event.action.as_str())
    .bind(event.member_id.map(|m| m.0))
    .bind(event.channel.code())
    .bind(event.ip.as_deref())
    .bind(event.outcome.code())
    .bind(details)
    .bind(&record.prev_hash[..])
    .bind(&record.hash[..])
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict),
        Err(e) => return Err(db_error(e)),
    }

    let moved = sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3")
        .bind(record.seq)
        .bind(&record.hash[..])
        .bind(prev_seq)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(record)
}

fn head_missing() -> StoreError {
    StoreError::Backend(
        "the audit_head row is missing: the schema was not migrated or was damaged".into(),
    )
}

pub(crate) fn record_from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    let actor_kind: String = column(row, "actor_kind")?;
    let channel: String = column(row, "channel")?;
    let outcome: String = column(row, "outcome")?;
    let details: String = column(row, "details")?;
    let member_id: Option<i64> = column(row, "member_id")?;
    let event = AuditEvent {
        at: from_micros(column(row, "at")?)?,
        actor: Actor {
            kind: ActorKind::from_code(&actor_kind).ok_or_else(|| bad_value("audit actor kind"))?,
            id: column(row, "actor_id")?,
        },
        action: column(row, "action")?,
        member_id: member_id.map(MemberId),
        channel: Channel::from_code(&channel).ok_or_else(|| bad_value("audit channel"))?,
        ip: column(row, "ip")?,
        outcome: Outcome::from_code(&outcome).ok_or_else(|| bad_value("audit outcome"))?,
        details: serde_json::from_str(&details).map_err(|_| bad_value("audit details"))?,
    };
    Ok(AuditRecord {
        seq: column(row, "seq")?,
        event,
        prev_hash: hash32(column(row, "prev_hash")?, "audit prev_hash")?,
        hash: hash32(column(row, "hash")?, "audit hash")?,
    })
}
