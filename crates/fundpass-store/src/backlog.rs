//! What the metrics sampler reads: how many messages each outbox holds undelivered
//! (neither sent nor given up) and since when, and the connection pool's state.

use fundpass_core::ports::StoreError;
use sqlx::{AssertSqlSafe, Row as _};
use time::OffsetDateTime;

use crate::codec::{from_opt_micros, micros};
use crate::connect::Store;
use crate::errors::db_error;
use crate::outbox::OUTBOX_GIVEN_UP;

/// The messages an outbox still has to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub pending: i64,
    /// When the oldest of them was written.
    pub oldest: Option<OffsetDateTime>,
}

/// The connection pool: connections open, and those of them idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    pub open: u32,
    pub idle: u32,
}

impl Store {
    /// The SMS outbox's backlog.
    pub async fn sms_backlog(&self) -> Result<Backlog, StoreError> {
        self.backlog("outbox").await
    }

    /// The webhook outbox's backlog (business events to the business systems).
    pub async fn webhook_backlog(&self) -> Result<Backlog, StoreError> {
        self.backlog("webhook_outbox").await
    }

    async fn backlog(&self, table: &'static str) -> Result<Backlog, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM {table} \
             WHERE delivered_at IS NULL AND next_attempt_at < $1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(micros(OUTBOX_GIVEN_UP))
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let pending: i64 = row.try_get("pending").map_err(db_error)?;
        let oldest: Option<i64> = row.try_get("oldest").map_err(db_error)?;
        Ok(Backlog {
            pending,
            oldest: from_opt_micros(oldest)?,
        })
    }

    /// The connection pool's state now.
    pub fn connections(&self) -> Connections {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        Connections {
            open: self.pool.size(),
            idle,
        }
    }
}
