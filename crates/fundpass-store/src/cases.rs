//! [`CaseStore`] over the `assisted_cases` table (hotline checklists: `hotline_checks.rs`;
//! the last reset: `holds.rs`), and the case writes of a unit of work. A ticket is
//! stored as its keyed MAC, a redemption id as its SHA-256, a new phone sealed.

use async_trait::async_trait;
use fundpass_core::assisted::{
    AssistedCase, CaseStatus, CaseWrite, HotlineCheck, ResetScope, Risk,
};
use fundpass_core::audit::Channel;
use fundpass_core::crypto::{BlindIndex, Sealed, TokenDigest};
use fundpass_core::member::MemberId;
use fundpass_core::ports::{CaseStore, StoreError};
use fundpass_core::staff::StaffId;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};
use time::OffsetDateTime;

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::holds::last_reset_at;
use crate::hotline_checks::check_by_id;
use crate::members::column;

/// `SELECT <every case column> FROM assisted_cases <tail>`, as a `&'static str`.
macro_rules! select_cases {
    ($tail:literal) => {
        concat!(
            "SELECT id, member_id, channel, scope, new_phone_enc, new_phone_index, staff_id, \
             branch_id, reference, check_json, risks_json, status, approved_by, approved_at, \
             ticket_mac, ticket_expires_at, issued_at, redeem_digest, redeem_expires_at, \
             wrong_tries, redeemed_at, created_at, updated_at, version FROM assisted_cases ",
            $tail
        )
    };
}

#[async_trait]
impl CaseStore for Store {
    async fn case_by_id(&self, id: &str) -> Result<Option<AssistedCase>, StoreError> {
        let row = sqlx::query(select_cases!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(case_from_row).transpose()
    }

    async fn case_by_ticket(&self, mac: &[u8]) -> Result<Option<AssistedCase>, StoreError> {
        let row = sqlx::query(select_cases!("WHERE ticket_mac = $1"))
            .bind(mac)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(case_from_row).transpose()
    }

    async fn case_by_redeem_token(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<AssistedCase>, StoreError> {
        let row = sqlx::query(select_cases!("WHERE redeem_digest = $1"))
            .bind(&token.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// Oldest first, ties by id, so the supervisors' queue has one stable order.
    async fn cases_awaiting_approval(&self, limit: u32) -> Result<Vec<AssistedCase>, StoreError> {
        let rows = sqlx::query(select_cases!(
            "WHERE status = $1 ORDER BY created_at, id LIMIT $2"
        ))
        .bind(CaseStatus::AwaitingApproval.code())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(case_from_row).collect()
    }

    async fn issued_cases_of(&self, member: MemberId) -> Result<Vec<AssistedCase>, StoreError> {
        let rows = sqlx::query(select_cases!(
            "WHERE member_id = $1 AND status = 'issued' ORDER BY created_at, id"
        ))
        .bind(member.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(case_from_row).collect()
    }

    async fn last_reset_at(&self, member: MemberId) -> Result<Option<OffsetDateTime>, StoreError> {
        last_reset_at(&self.pool, member).await
    }

    async fn hotline_check(&self, id: &str) -> Result<Option<HotlineCheck>, StoreError> {
        check_by_id(&self.pool, id).await
    }
}

/// Writes one case change inside a unit of work. An update lands only on the version
/// the caller read (`Conflict` otherwise, `NotFound` for a case that is not there) and
/// the stored version moves on by one whatever the record says. Who the case is for,
/// its channel, who opened it where, and when, never change.
pub(crate) async fn write_case(
    conn: &mut AnyConnection,
    write: &CaseWrite,
) -> Result<(), StoreError> {
    match write {
        CaseWrite::Insert(c) => {
            let query = sqlx::query(
                "INSERT INTO assisted_cases (id, member_id, channel, staff_id, branch_id, \
                 created_at, version, scope, new_phone_enc, new_phone_index, reference, \
                 check_json, risks_json, status, approved_by, approved_at, ticket_mac, \
                 ticket_expires_at, issued_at, redeem_digest, redeem_expires_at, \
                 wrong_tries, redeemed_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 $16, $17, $18, $19, $20, $21, $22, $23, $24)",
            )
            .bind(c.id.as_str())
            .bind(c.member_id.0)
            .bind(c.channel.code())
            .bind(c.staff_id.0)
            .bind(c.branch_id.as_str())
            .bind(micros(c.created_at))
            .bind(c.version);
            bind_mutable(query, c)?
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            Ok(())
        }
        CaseWrite::Update {
            record: c,
            expected_version,
        } => {
            let query = sqlx::query(
                "UPDATE assisted_cases SET scope = $3, new_phone_enc = $4, \
                 new_phone_index = $5, reference = $6, check_json = $7, risks_json = $8, \
                 status = $9, approved_by = $10, approved_at = $11, ticket_mac = $12, \
                 ticket_expires_at = $13, issued_at = $14, redeem_digest = $15, \
                 redeem_expires_at = $16, wrong_tries = $17, redeemed_at = $18, \
                 updated_at = $19, version = version + 1 \
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
            let exists = "SELECT id FROM assisted_cases WHERE id = $1";
            Err(missing_or_moved(conn, exists, &c.id).await?)
        }
    }
}

/// Why an optimistic update keyed by a text id changed nothing: `Conflict` when
/// `exists_sql` (selecting the id) still finds the row, so its version moved on;
/// `NotFound` when it is gone.
pub(crate) async fn missing_or_moved(
    conn: &mut AnyConnection,
    exists_sql: &'static str,
    id: &str,
) -> Result<StoreError, StoreError> {
    let found: Option<String> = sqlx::query_scalar(exists_sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(match found {
        Some(_) => StoreError::Conflict,
        None => StoreError::NotFound,
    })
}

/// Binds the 17 columns an update may change, in the order both statements list them.
fn bind_mutable(
    query: Query<'static, Any, AnyArguments>,
    c: &AssistedCase,
) -> Result<Query<'static, Any, AnyArguments>, StoreError> {
    let check = serde_json::to_string(&c.check)
        .map_err(|e| StoreError::Backend(format!("case check is not JSON: {e}")))?;
    let codes: Vec<&str> = c.risks.iter().map(|r| r.code()).collect();
    let risks = serde_json::to_string(&codes)
        .map_err(|e| StoreError::Backend(format!("case risks are not JSON: {e}")))?;
    Ok(query
        .bind(c.scope.map(ResetScope::code))
        .bind(c.new_phone.as_ref().map(Sealed::as_bytes))
        .bind(c.new_phone_index.as_ref().map(BlindIndex::as_bytes))
        .bind(c.reference.as_str())
        .bind(check)
        .bind(risks)
        .bind(c.status.code())
        .bind(c.approved_by.map(|s| s.0))
        .bind(opt_micros(c.approved_at))
        .bind(c.ticket_mac.as_deref())
        .bind(opt_micros(c.ticket_expires_at))
        .bind(opt_micros(c.issued_at))
        .bind(c.redeem_token.as_ref().map(|t| &t.0[..]))
        .bind(opt_micros(c.redeem_expires_at))
        .bind(c.wrong_tries)
        .bind(opt_micros(c.redeemed_at))
        .bind(micros(c.updated_at)))
}

/// The stored risk codes (a JSON array of strings).
fn risks_from_json(stored: &str) -> Result<Vec<Risk>, StoreError> {
    let codes: Vec<String> = serde_json::from_str(stored).map_err(|_| bad_value("case risks"))?;
    codes
        .iter()
        .map(|code| Risk::from_code(code).ok_or_else(|| bad_value("case risk")))
        .collect()
}

fn case_from_row(row: &AnyRow) -> Result<AssistedCase, StoreError> {
    let channel: String = column(row, "channel")?;
    let scope: Option<String> = column(row, "scope")?;
    let status: String = column(row, "status")?;
    let check: String = column(row, "check_json")?;
    let risks: String = column(row, "risks_json")?;
    let new_phone: Option<Vec<u8>> = column(row, "new_phone_enc")?;
    let new_phone_index: Option<Vec<u8>> = column(row, "new_phone_index")?;
    let approved_by: Option<i64> = column(row, "approved_by")?;
    let redeem: Option<Vec<u8>> = column(row, "redeem_digest")?;
    Ok(AssistedCase {
        id: column(row, "id")?,
        member_id: MemberId(column(row, "member_id")?),
        channel: Channel::from_code(&channel).ok_or_else(|| bad_value("case channel"))?,
        scope: scope
            .map(|s| ResetScope::from_code(&s).ok_or_else(|| bad_value("case scope")))
            .transpose()?,
        new_phone: new_phone.map(Sealed::from_bytes),
        new_phone_index: new_phone_index.map(BlindIndex::from_bytes),
        staff_id: StaffId(column(row, "staff_id")?),
        branch_id: column(row, "branch_id")?,
        reference: column(row, "reference")?,
        check: serde_json::from_str(&check).map_err(|_| bad_value("case check"))?,
        risks: risks_from_json(&risks)?,
        status: CaseStatus::from_code(&status).ok_or_else(|| bad_value("case status"))?,
        approved_by: approved_by.map(StaffId),
        approved_at: from_opt_micros(column(row, "approved_at")?)?,
        ticket_mac: column(row, "ticket_mac")?,
        ticket_expires_at: from_opt_micros(column(row, "ticket_expires_at")?)?,
        issued_at: from_opt_micros(column(row, "issued_at")?)?,
        redeem_token: redeem
            .map(|d| hash32(d, "case redemption digest").map(TokenDigest))
            .transpose()?,
        redeem_expires_at: from_opt_micros(column(row, "redeem_expires_at")?)?,
        wrong_tries: column(row, "wrong_tries")?,
        redeemed_at: from_opt_micros(column(row, "redeemed_at")?)?,
        created_at: from_micros(column(row, "created_at")?)?,
        updated_at: from_micros(column(row, "updated_at")?)?,
        version: column(row, "version")?,
    })
}
