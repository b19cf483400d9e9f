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
    let row = StoredAuditRow::encode(&record)?;

    let inserted = sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_kind, actor_id, action, member_id, \
         channel, ip, outcome, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(row.seq)
    .bind(row.at)
    .bind(row.actor_kind)
    .bind(row.actor_id)
    .bind(row.action)
    .bind(row.member_id)
    .bind(row.channel)
    .bind(row.ip)
    .bind(row.outcome)
    .bind(row.details)
    .bind(row.prev_hash)
    .bind(row.hash)
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
    StoredAuditRow::read(row)?.decode()
}

/// One row of `audit_events`, column by column: what an append writes and what
/// `fundpass audit verify` reads back. The fuzz target `audit_chain` feeds rows of its
/// own through the same encoding and decoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredAuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub member_id: Option<i64>,
    pub channel: String,
    pub ip: Option<String>,
    pub outcome: String,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredAuditRow {
    /// The columns of `record`. Details are stored exactly as hashed: `record_hash`
    /// uses the same serialisation.
    pub fn encode(record: &AuditRecord) -> Result<Self, StoreError> {
        let event = &record.event;
        let details = serde_json::to_string(&event.details)
            .map_err(|e| StoreError::Backend(format!("audit details are not JSON: {e}")))?;
        Ok(Self {
            seq: record.seq,
            at: event.at_micros(),
            actor_kind: event.actor.kind.code().to_owned(),
            actor_id: event.actor.id.clone(),
            action: event.action.clone(),
            member_id: event.member_id.map(|m| m.0),
            channel: event.channel.code().to_owned(),
            ip: event.ip.clone(),
            outcome: event.outcome.code().to_owned(),
            details,
            prev_hash: record.prev_hash.to_vec(),
            hash: record.hash.to_vec(),
        })
    }

    fn read(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Self {
            seq: column(row, "seq")?,
            at: column(row, "at")?,
            actor_kind: column(row, "actor_kind")?,
            actor_id: column(row, "actor_id")?,
            action: column(row, "action")?,
            member_id: column(row, "member_id")?,
            channel: column(row, "channel")?,
            ip: column(row, "ip")?,
            outcome: column(row, "outcome")?,
            details: column(row, "details")?,
            prev_hash: column(row, "prev_hash")?,
            hash: column(row, "hash")?,
        })
    }

    /// The record the columns hold, refusing codes, times, details and hashes that
    /// no append writes. An empty actor id or client address reads as none: the chain
    /// hashes the two alike, so the reader must not tell them apart either, or an edit
    /// from one to the other would pass verification and still change what is shown.
    pub fn decode(self) -> Result<AuditRecord, StoreError> {
        let event = AuditEvent {
            at: from_micros(self.at)?,
            actor: Actor {
                kind: ActorKind::from_code(&self.actor_kind)
                    .ok_or_else(|| bad_value("audit actor kind"))?,
                id: self.actor_id.filter(|id| !id.is_empty()),
            },
            action: self.action,
            member_id: self.member_id.map(MemberId),
            channel: Channel::from_code(&self.channel).ok_or_else(|| bad_value("audit channel"))?,
            ip: self.ip.filter(|ip| !ip.is_empty()),
            outcome: Outcome::from_code(&self.outcome).ok_or_else(|| bad_value("audit outcome"))?,
            details: serde_json::from_str(&self.details).map_err(|_| bad_value("audit details"))?,
        };
        Ok(AuditRecord {
            seq: self.seq,
            event,
            prev_hash: hash32(self.prev_hash, "audit prev_hash")?,
            hash: hash32(self.hash, "audit hash")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use fundpass_core::audit::GENESIS_HASH;
    use time::OffsetDateTime;

    use super::*;

    fn stored(actor_id: Option<&str>, ip: Option<&str>) -> StoredAuditRow {
        let mut event = AuditEvent::new(
            OffsetDateTime::UNIX_EPOCH,
            Actor {
                kind: ActorKind::Member,
                id: actor_id.map(str::to_owned),
            },
            "login.password",
            Channel::Web,
            Outcome::Success,
        );
        event.ip = ip.map(str::to_owned);
        StoredAuditRow::encode(&AuditRecord::chain(0, GENESIS_HASH, event)).unwrap()
    }

    #[test]
    fn a_record_with_any_number_in_its_details_reads_back_and_verifies() {
        let event = AuditEvent::new(
            OffsetDateTime::UNIX_EPOCH,
            Actor {
                kind: ActorKind::System,
                id: None,
            },
            "face.verify",
            Channel::App,
            Outcome::Success,
        )
        .details(serde_json::json!({ "score": 0.93, "ratio": 2.848553304220358e-304 }));
        let record = AuditRecord::chain(0, GENESIS_HASH, event);
        let read = StoredAuditRow::encode(&record).unwrap().decode().unwrap();
        assert_eq!(read, record);
        let mut verifier = fundpass_core::audit::ChainVerifier::new();
        assert_eq!(verifier.check(&read), Ok(()));
    }

    #[test]
    fn an_empty_actor_id_or_address_reads_as_none_like_the_hash_sees_it() {
        let none = stored(None, None).decode().unwrap();
        let mut edited = stored(None, None);
        edited.actor_id = Some(String::new());
        edited.ip = Some(String::new());
        assert_eq!(edited.decode().unwrap(), none);
        assert_eq!(stored(Some(""), Some("")).decode().unwrap(), none);
        let named = stored(Some("wang.li"), Some("10.0.0.1")).decode().unwrap();
        assert_eq!(named.event.actor.id.as_deref(), Some("wang.li"));
        assert_eq!(named.event.ip.as_deref(), Some("10.0.0.1"));
    }
}
