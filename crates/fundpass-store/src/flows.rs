//! [`FlowStore`] over the `flows` table, and the flow writes of a unit of work. Only the
//! SHA-256 of a flow id, the MAC of its current code and the MAC of its subject are
//! stored.

use async_trait::async_trait;
use fundpass_core::crypto::TokenDigest;
use fundpass_core::flow::{FlowKind, FlowRecord, FlowState};
use fundpass_core::member::MemberId;
use fundpass_core::ports::{FlowStore, FlowWrite, StoreError};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::codec::{from_micros, hash32, micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

#[async_trait]
impl FlowStore for Store {
    async fn flow(&self, id: &TokenDigest) -> Result<Option<FlowRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id_digest, kind, state, member_id, code_mac, code_expires_at, \
             code_sent_at, wrong_codes, sends, created_at, expires_at, subject_key, nonce, \
             version FROM flows WHERE id_digest = $1",
        )
        .bind(&id.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(flow_from_row).transpose()
    }
}

/// Writes one flow change inside a unit of work. An update lands only on the version
/// the caller read (`Conflict` otherwise, `NotFound` for a flow that is gone); kind and
/// creation time never change, and the stored version moves on by one whatever the
/// record says.
pub(crate) async fn write_flow(
    conn: &mut AnyConnection,
    write: &FlowWrite,
) -> Result<(), StoreError> {
    match write {
        FlowWrite::Insert(f) => {
            sqlx::query(
                "INSERT INTO flows (id_digest, kind, state, member_id, code_mac, \
                 code_expires_at, code_sent_at, wrong_codes, sends, created_at, expires_at, \
                 subject_key, nonce, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&f.id.0[..])
            .bind(f.kind.code())
            .bind(f.state.code())
            .bind(f.member_id.map(|m| m.0))
            .bind(f.code_mac.as_slice())
            .bind(micros(f.code_expires_at))
            .bind(micros(f.code_sent_at))
            .bind(f.wrong_codes)
            .bind(f.sends)
            .bind(micros(f.created_at))
            .bind(micros(f.expires_at))
            .bind(f.subject_key.as_deref())
            .bind(f.nonce.as_deref())
            .bind(f.version)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(())
        }
        FlowWrite::Update {
            record: f,
            expected_version,
        } => {
            let done = sqlx::query(
                "UPDATE flows SET state = $1, member_id = $2, code_mac = $3, \
                 code_expires_at = $4, code_sent_at = $5, wrong_codes = $6, sends = $7, \
                 expires_at = $8, subject_key = $9, nonce = $10, version = version + 1 \
                 WHERE id_digest = $11 AND version = $12",
            )
            .bind(f.state.code())
            .bind(f.member_id.map(|m| m.0))
            .bind(f.code_mac.as_slice())
            .bind(micros(f.code_expires_at))
            .bind(micros(f.code_sent_at))
            .bind(f.wrong_codes)
            .bind(f.sends)
            .bind(micros(f.expires_at))
            .bind(f.subject_key.as_deref())
            .bind(f.nonce.as_deref())
            .bind(&f.id.0[..])
            .bind(*expected_version)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM flows WHERE id_digest = $1")
                    .bind(&f.id.0[..])
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error)?;
            Err(match exists {
                Some(_) => StoreError::Conflict,
                None => StoreError::NotFound,
            })
        }
    }
}

fn flow_from_row(row: &AnyRow) -> Result<FlowRecord, StoreError> {
    let kind: String = column(row, "kind")?;
    let state: String = column(row, "state")?;
    let member_id: Option<i64> = column(row, "member_id")?;
    Ok(FlowRecord {
        id: TokenDigest(hash32(column(row, "id_digest")?, "flow id digest")?),
        kind: FlowKind::from_code(&kind).ok_or_else(|| bad_value("flow kind"))?,
        state: FlowState::from_code(&state).ok_or_else(|| bad_value("flow state"))?,
        member_id: member_id.map(MemberId),
        code_mac: column(row, "code_mac")?,
        code_expires_at: from_micros(column(row, "code_expires_at")?)?,
        code_sent_at: from_micros(column(row, "code_sent_at")?)?,
        wrong_codes: column(row, "wrong_codes")?,
        sends: column(row, "sends")?,
        created_at: from_micros(column(row, "created_at")?)?,
        expires_at: from_micros(column(row, "expires_at")?)?,
        subject_key: column(row, "subject_key")?,
        nonce: column(row, "nonce")?,
        version: column(row, "version")?,
    })
}
