//! [`RateLimiter`] in Redis: the database limiter's fixed windows, counted by one Lua
//! script per hit so that concurrent hits never overshoot.

use async_trait::async_trait;
use fundpass_core::ports::{RateDecision, RateLimiter, StoreError};
use std::sync::LazyLock;
use time::{Duration, OffsetDateTime};

use super::{RedisState, ttl_millis};
use crate::codec::from_micros;
use crate::rate_limits::fixed_window;

/// Counts the hit only while the window's count is below the limit (a refused hit
/// leaves the count alone); the key expires when its window ends. Returns 1 when
/// counted, 0 when refused.
static HIT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
if hits == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
",
    )
});

#[async_trait]
impl RateLimiter for RedisState {
    /// The key is `<prefix>:rl:<key>:<window start>`. The keys fundpass builds carry
    /// client IP addresses, client and member ids and a phone's blind index, never a
    /// phone number or document in clear.
    async fn hit(
        &self,
        key: &str,
        window: Duration,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<RateDecision, StoreError> {
        let (start, end) = fixed_window(window, now)?;
        let refused = RateDecision::Limited {
            retry_after: from_micros(end)?,
        };
        if limit == 0 {
            return Ok(refused);
        }
        let redis_key = self.key("rl", &format!("{key}:{start}"));
        let ttl = ttl_millis(now, from_micros(end)?);
        let counted: i64 = self
            .call(|mut conn| async move {
                HIT.key(redis_key)
                    .arg(limit)
                    .arg(ttl)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(if counted == 1 {
            RateDecision::Allowed
        } else {
            refused
        })
    }
}
