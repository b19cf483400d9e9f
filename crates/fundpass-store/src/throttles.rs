//! [`ThrottleStore`] over `login_throttles`: failure counters keyed by a MAC (login
//! identifiers that match no member, so unknown identifiers lock exactly like real
//! ones; documents in the recovery flows; a member's wrong recovery codes).
//!
//! Rows are never purged: a real member's lock count lives as long as the member, and
//! an unknown identifier whose count vanished after a while would tell the two apart.

use async_trait::async_trait;
use fundpass_core::crypto::BlindIndex;
use fundpass_core::member::LockState;
use fundpass_core::ports::{StoreError, ThrottleStore, ThrottleWrite};
use sqlx::AnyConnection;

use crate::codec::{from_opt_micros, opt_micros};
use crate::connect::Store;
use crate::errors::db_error;
use crate::members::column;

#[async_trait]
impl ThrottleStore for Store {
    async fn throttle(&self, key: &BlindIndex) -> Result<LockState, StoreError> {
        let row = sqlx::query(
            "SELECT failures, lock_count, locked_until FROM login_throttles WHERE key = $1",
        )
        .bind(key.as_bytes())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(LockState::default());
        };
        Ok(LockState {
            failures: column(&row, "failures")?,
            lock_count: column(&row, "lock_count")?,
            locked_until: from_opt_micros(column(&row, "locked_until")?)?,
        })
    }
}

/// Moves the counter of `key` from `expected` to `next` inside a unit of work; a
/// counter that no longer holds `expected` (another request counted first) makes the
/// whole change fail with `Conflict`. A key with no row yet is created. `updated_at`
/// takes the database's clock, from the column default, because the change carries no
/// time of its own for throttles.
pub(crate) async fn write_throttle(
    conn: &mut AnyConnection,
    write: &ThrottleWrite,
) -> Result<(), StoreError> {
    let (expected, next) = (&write.expected, &write.next);
    let done = sqlx::query(
        "INSERT INTO login_throttles (key, failures, lock_count, locked_until) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         lock_count = excluded.lock_count, locked_until = excluded.locked_until, \
         updated_at = excluded.updated_at \
         WHERE login_throttles.failures = $5 AND login_throttles.lock_count = $6 \
         AND COALESCE(login_throttles.locked_until, -1) = CAST($7 AS BIGINT)",
    )
    .bind(write.key.as_bytes())
    .bind(next.failures)
    .bind(next.lock_count)
    .bind(opt_micros(next.locked_until))
    .bind(expected.failures)
    .bind(expected.lock_count)
    .bind(opt_micros(expected.locked_until).unwrap_or(-1))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}
