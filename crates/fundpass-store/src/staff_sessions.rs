//! [`StaffSessionStore`] over the `staff_sessions` table, and the staff session writes
//! of a unit of work. As for member sessions, only the SHA-256 of the console cookie is
//! stored, and a TOTP secret being enrolled is kept sealed.

use async_trait::async_trait;
use fundpass_core::crypto::{Sealed, TokenDigest};
use fundpass_core::ports::{StaffSessionStore, StoreError};
use fundpass_core::staff::{StaffId, StaffLevel, StaffSessionRecord, StaffSessionWrite};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

#[async_trait]
impl StaffSessionStore for Store {
    async fn staff_session(
        &self,
        token: &TokenDigest,
    ) -> Result<Option<StaffSessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT token_digest, staff_id, level, pending_totp_enc, csrf, created_at, \
             last_seen_at, ip, user_agent, revoked_at FROM staff_sessions \
             WHERE token_digest = $1",
        )
        .bind(&token.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(staff_session_from_row).transpose()
    }

    /// Moves `last_seen_at` forward only, so a late, slower request cannot shorten the
    /// idle timeout; touching a session that is gone is not an error.
    async fn touch_staff_session(
        &self,
        token: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = $1 \
             WHERE token_digest = $2 AND last_seen_at < $1",
        )
        .bind(micros(at))
        .bind(&token.0[..])
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// Writes one staff session change inside a unit of work. Revoking is idempotent: a
/// session already revoked keeps its first revocation time.
pub(crate) async fn write_staff_session(
    conn: &mut AnyConnection,
    write: &StaffSessionWrite,
) -> Result<(), StoreError> {
    let query = match write {
        StaffSessionWrite::Insert(s) => sqlx::query(
            "INSERT INTO staff_sessions (token_digest, staff_id, level, pending_totp_enc, \
             csrf, created_at, last_seen_at, ip, user_agent, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.token.0[..])
        .bind(s.staff_id.0)
        .bind(s.level.code())
        .bind(s.pending_totp.as_ref().map(Sealed::as_bytes))
        .bind(s.csrf.as_str())
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(s.ip.as_deref())
        .bind(s.user_agent.as_deref())
        .bind(opt_micros(s.revoked_at)),
        StaffSessionWrite::Revoke { token, at } => sqlx::query(
            "UPDATE staff_sessions SET revoked_at = $1 \
             WHERE token_digest = $2 AND revoked_at IS NULL",
        )
        .bind(micros(*at))
        .bind(&token.0[..]),
        StaffSessionWrite::RevokeAll { staff, at } => sqlx::query(
            "UPDATE staff_sessions SET revoked_at = $1 \
             WHERE staff_id = $2 AND revoked_at IS NULL",
        )
        .bind(micros(*at))
        .bind(staff.0),
    };
    query.execute(&mut *conn).await.map_err(db_error)?;
    Ok(())
}

fn staff_session_from_row(row: &AnyRow) -> Result<StaffSessionRecord, StoreError> {
    let level: String = column(row, "level")?;
    let pending: Option<Vec<u8>> = column(row, "pending_totp_enc")?;
    Ok(StaffSessionRecord {
        token: TokenDigest(hash32(
            column(row, "token_digest")?,
            "staff session token digest",
        )?),
        staff_id: StaffId(column(row, "staff_id")?),
        level: StaffLevel::from_code(&level).ok_or_else(|| bad_value("staff session level"))?,
        pending_totp: pending.map(Sealed::from_bytes),
        csrf: column(row, "csrf")?,
        created_at: from_micros(column(row, "created_at")?)?,
        last_seen_at: from_micros(column(row, "last_seen_at")?)?,
        ip: column(row, "ip")?,
        user_agent: column(row, "user_agent")?,
        revoked_at: from_opt_micros(column(row, "revoked_at")?)?,
    })
}
