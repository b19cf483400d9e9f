//! [`AuthorizationStore`] over `payment_authorizations`, and the unit-of-work write
//! of one authorisation (inserted, or moved on under its version).

use async_trait::async_trait;
use fundpass_core::member::MemberId;
use fundpass_core::payout::{
    Authorization, AuthorizationWrite, ConfirmChannel, Mode, Payment, Purpose, State,
};
use fundpass_core::ports::{AuthorizationStore, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

const COLUMNS: &str = "id, client_id, member_id, account_no, amount_fen, currency, payee_name, \
                       payee_account, purpose, business_ref, mode, state, risk_flags, \
                       idempotency_key, request_digest, created_at, expires_at, decided_at, \
                       channel, captured_at, receipt, version";

#[async_trait]
impl AuthorizationStore for Store {
    async fn authorization(&self, id: &str) -> Result<Option<Authorization>, StoreError> {
        // PostgreSQL text cannot hold a NUL, so no id has one; asking would fail the
        // query rather than find nothing.
        if id.contains('\0') {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM payment_authorizations WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn authorization_by_key(
        &self,
        client_id: &str,
        key: &str,
    ) -> Result<Option<Authorization>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payment_authorizations \
             WHERE client_id = $1 AND idempotency_key = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(client_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn member_authorizations(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<Authorization>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM payment_authorizations WHERE member_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(member.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(from_row).collect()
    }
}

/// Inserts an authorisation, or moves one on if its version is still the expected
/// one (`Conflict` otherwise: another request decided or captured it first).
pub(crate) async fn write_authorization(
    conn: &mut AnyConnection,
    write: &AuthorizationWrite,
) -> Result<(), StoreError> {
    match write {
        AuthorizationWrite::Insert(a) => {
            let p = &a.payment;
            sqlx::query(
                "INSERT INTO payment_authorizations (id, client_id, member_id, account_no, \
                 amount_fen, currency, payee_name, payee_account, purpose, business_ref, mode, \
                 state, risk_flags, idempotency_key, request_digest, created_at, expires_at, \
                 decided_at, channel, captured_at, receipt, version) VALUES ($1, $2, $3, $4, \
                 $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                 $21, $22)",
            )
            .bind(a.id.as_str())
            .bind(a.client_id.as_str())
            .bind(a.member_id.0)
            .bind(a.account_no.as_str())
            .bind(p.amount_fen)
            .bind(p.currency.as_str())
            .bind(p.payee_name.as_str())
            .bind(p.payee_account.as_str())
            .bind(p.purpose.code())
            .bind(p.business_ref.as_str())
            .bind(a.mode.code())
            .bind(a.state.code())
            .bind(a.risk_flags.join(" "))
            .bind(a.idempotency_key.as_deref())
            .bind(a.request_digest.as_slice())
            .bind(micros(a.created_at))
            .bind(micros(a.expires_at))
            .bind(opt_micros(a.decided_at))
            .bind(a.channel.map(|c| c.code()))
            .bind(opt_micros(a.captured_at))
            .bind(a.receipt.as_deref())
            .bind(a.version)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(())
        }
        AuthorizationWrite::Update {
            record: a,
            expected_version,
        } => {
            let done = sqlx::query(
                "UPDATE payment_authorizations SET state = $1, risk_flags = $2, \
                 expires_at = $3, decided_at = $4, channel = $5, captured_at = $6, \
                 receipt = $7, version = version + 1 WHERE id = $8 AND version = $9",
            )
            .bind(a.state.code())
            .bind(a.risk_flags.join(" "))
            .bind(micros(a.expires_at))
            .bind(opt_micros(a.decided_at))
            .bind(a.channel.map(|c| c.code()))
            .bind(opt_micros(a.captured_at))
            .bind(a.receipt.as_deref())
            .bind(a.id.as_str())
            .bind(*expected_version)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        }
    }
}

fn from_row(row: &AnyRow) -> Result<Authorization, StoreError> {
    let purpose: String = column(row, "purpose")?;
    let mode: String = column(row, "mode")?;
    let state: String = column(row, "state")?;
    let channel: Option<String> = column(row, "channel")?;
    let flags: String = column(row, "risk_flags")?;
    Ok(Authorization {
        id: column(row, "id")?,
        client_id: column(row, "client_id")?,
        member_id: MemberId(column(row, "member_id")?),
        account_no: column(row, "account_no")?,
        payment: Payment {
            amount_fen: column(row, "amount_fen")?,
            currency: column(row, "currency")?,
            payee_name: column(row, "payee_name")?,
            payee_account: column(row, "payee_account")?,
            purpose: Purpose::from_code(&purpose).ok_or_else(|| bad_value("purpose"))?,
            business_ref: column(row, "business_ref")?,
        },
        mode: Mode::from_code(&mode).ok_or_else(|| bad_value("authorization mode"))?,
        state: State::from_code(&state).ok_or_else(|| bad_value("authorization state"))?,
        risk_flags: flags.split_whitespace().map(str::to_owned).collect(),
        idempotency_key: column(row, "idempotency_key")?,
        request_digest: hash32(column(row, "request_digest")?, "request digest")?,
        created_at: from_micros(column(row, "created_at")?)?,
        expires_at: from_micros(column(row, "expires_at")?)?,
        decided_at: from_opt_micros(column(row, "decided_at")?)?,
        channel: channel
            .map(|c| ConfirmChannel::from_code(&c).ok_or_else(|| bad_value("channel")))
            .transpose()?,
        captured_at: from_opt_micros(column(row, "captured_at")?)?,
        receipt: column(row, "receipt")?,
        version: column(row, "version")?,
    })
}
