//! [`RateLimiter`] over `rate_limits`: fixed windows counted in the database, so every
//! instance shares one budget.

use async_trait::async_trait;
use fundpass_core::ports::{RateDecision, RateLimiter, StoreError};
use time::{Duration, OffsetDateTime};

use crate::codec::{from_micros, micros};
use crate::connect::Store;
use crate::errors::db_error;

#[async_trait]
impl RateLimiter for Store {
    /// One statement counts the hit only while the window's count is below `limit`
    /// (the conflict update's `WHERE`), so concurrent hits never overshoot and a
    /// refused hit leaves the count alone. Old windows are removed by
    /// [`Store::purge_expired`].
    async fn hit(
        &self,
        key: &str,
        window: Duration,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<RateDecision, StoreError> {
        let (start, end) = fixed_window(window, now)?;
        if limit == 0 {
            return Ok(RateDecision::Limited {
                retry_after: from_micros(end)?,
            });
        }
        let counted: Option<i32> = sqlx::query_scalar(
            "INSERT INTO rate_limits (key, window_start, hits, expires_at) \
             VALUES ($1, $2, 1, $3) \
             ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
             WHERE rate_limits.hits < $4 \
             RETURNING hits",
        )
        .bind(key)
        .bind(start)
        .bind(end)
        .bind(i64::from(limit))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(match counted {
            Some(_) => RateDecision::Allowed,
            None => RateDecision::Limited {
                retry_after: from_micros(end)?,
            },
        })
    }
}

/// The fixed window of width `window` containing `now`, as `[start, end)` in
/// microseconds since the Unix epoch: every limiter backend counts in the same windows
/// and refuses until the same instant.
pub(crate) fn fixed_window(
    window: Duration,
    now: OffsetDateTime,
) -> Result<(i64, i64), StoreError> {
    let width = i64::try_from(window.whole_microseconds())
        .ok()
        .filter(|w| *w > 0)
        .ok_or_else(|| StoreError::Backend("a rate-limit window must be positive".into()))?;
    let start = micros(now).div_euclid(width).saturating_mul(width);
    Ok((start, start.saturating_add(width)))
}
