//! [`ThrottleStore`] over `login_throttles`: failure counters of login identifiers that
//! match no member, keyed by a MAC of the identifier, so that unknown identifiers lock
//! exactly like real ones.
//!
//! Rows are never purged: a real member's lock count lives as long as the member, and
//! an unknown identifier whose count vanished after a while would tell the two apart.

use async_trait::async_trait;
use fundpass_core::crypto::BlindIndex;
use fundpass_core::member::LockState;
use fundpass_core::ports::{StoreError, ThrottleStore};
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

/// Sets the counter of `key` inside a unit of work (last writer wins, as for a member's
/// counters written without a version). `updated_at` takes the database's clock, from
/// the column default, because the change carries no time of its own for throttles.
pub(crate) async fn write_throttle(
    conn: &mut AnyConnection,
    key: &BlindIndex,
    state: &LockState,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_throttles (key, failures, lock_count, locked_until) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         lock_count = excluded.lock_count, locked_until = excluded.locked_until, \
         updated_at = excluded.updated_at",
    )
    .bind(key.as_bytes())
    .bind(state.failures)
    .bind(state.lock_count)
    .bind(opt_micros(state.locked_until))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}
