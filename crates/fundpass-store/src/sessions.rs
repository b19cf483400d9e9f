//! [`SessionStore`] over the `sessions` table, and the session writes of a unit of work.
//! Only the SHA-256 of a session token is stored; the token stays with the client.

use async_trait::async_trait;
use fundpass_core::crypto::TokenDigest;
use fundpass_core::member::MemberId;
use fundpass_core::ports::{SessionStore, SessionWrite, StoreError};
use fundpass_core::session::{ClientKind, SessionRecord, SessionScope};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::Store;
use crate::errors::{bad_value, db_error};
use crate::members::column;

/// Sessions listed for one member: enough for "where am I logged in" without letting a
/// member with thousands of old app tokens make the page slow.
const MEMBER_SESSIONS_LIMIT: i64 = 20;

/// Sessions that may be live, read for one member ("where am I logged in", "end that
/// one"): far more than anyone uses at once, few enough to stay cheap.
const LIVE_SESSIONS_LIMIT: i64 = 100;

/// `SELECT <every session column> FROM sessions <tail>`, as a `&'static str`.
macro_rules! select_sessions {
    ($tail:literal) => {
        concat!(
            "SELECT token_digest, member_id, client, scope, csrf, created_at, last_seen_at, \
             ip, user_agent, revoked_at FROM sessions ",
            $tail
        )
    };
}

#[async_trait]
impl SessionStore for Store {
    async fn session(&self, token: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(select_sessions!("WHERE token_digest = $1"))
            .bind(&token.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Moves `last_seen_at` forward only, so a late, slower request cannot shorten the
    /// idle timeout; touching a session that is gone is not an error.
    async fn touch_session(
        &self,
        token: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 \
             WHERE token_digest = $2 AND last_seen_at < $1",
        )
        .bind(micros(at))
        .bind(&token.0[..])
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// The newest 20 sessions of the member, revoked ones included (the caller decides
    /// which are live: that needs the clock and the session policy).
    async fn member_sessions(&self, member: MemberId) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(select_sessions!(
            "WHERE member_id = $1 ORDER BY created_at DESC, token_digest DESC LIMIT $2"
        ))
        .bind(member.0)
        .bind(MEMBER_SESSIONS_LIMIT)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(session_from_row).collect()
    }

    /// At most 100, through the member index; a member holding more live sessions
    /// than that still sees the ones most recently used.
    async fn live_member_sessions(
        &self,
        member: MemberId,
        seen_after: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(select_sessions!(
            "WHERE member_id = $1 AND revoked_at IS NULL AND last_seen_at > $2 \
             ORDER BY last_seen_at DESC, token_digest DESC LIMIT $3"
        ))
        .bind(member.0)
        .bind(micros(seen_after))
        .bind(LIVE_SESSIONS_LIMIT)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(session_from_row).collect()
    }
}

/// Writes one session change inside a unit of work. Revoking is idempotent: a session
/// already revoked keeps its first revocation time.
pub(crate) async fn write_session(
    conn: &mut AnyConnection,
    write: &SessionWrite,
) -> Result<(), StoreError> {
    let query = match write {
        SessionWrite::Insert(s) => sqlx::query(
            "INSERT INTO sessions (token_digest, member_id, client, scope, csrf, created_at, \
             last_seen_at, ip, user_agent, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.token.0[..])
        .bind(s.member_id.0)
        .bind(s.client.code())
        .bind(s.scope.code())
        .bind(s.csrf.as_str())
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(s.ip.as_deref())
        .bind(s.user_agent.as_deref())
        .bind(opt_micros(s.revoked_at)),
        SessionWrite::Revoke { token, at } => sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE token_digest = $2 AND revoked_at IS NULL",
        )
        .bind(micros(*at))
        .bind(&token.0[..]),
        SessionWrite::RevokeAll { member, at } => sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE member_id = $2 AND revoked_at IS NULL",
        )
        .bind(micros(*at))
        .bind(member.0),
    };
    query.execute(&mut *conn).await.map_err(db_error)?;
    Ok(())
}

fn session_from_row(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    let client: String = column(row, "client")?;
    let scope: String = column(row, "scope")?;
    Ok(SessionRecord {
        token: TokenDigest(hash32(
            column(row, "token_digest")?,
            "session token digest",
        )?),
        member_id: MemberId(column(row, "member_id")?),
        client: ClientKind::from_code(&client).ok_or_else(|| bad_value("session client"))?,
        scope: SessionScope::from_code(&scope).ok_or_else(|| bad_value("session scope"))?,
        csrf: column(row, "csrf")?,
        created_at: from_micros(column(row, "created_at")?)?,
        last_seen_at: from_micros(column(row, "last_seen_at")?)?,
        ip: column(row, "ip")?,
        user_agent: column(row, "user_agent")?,
        revoked_at: from_opt_micros(column(row, "revoked_at")?)?,
    })
}
