//! Redis for the hot, short-lived state (`[redis] url`): captcha challenges and
//! rate-limit windows, so that a login writes no database row for them. Durable state
//! (members, sessions, flows, throttles of unknown identifiers, the audit trail) stays
//! in the database.
//!
//! Fail closed: every Redis error or timeout is [`StoreError::Unavailable`], so the
//! request is answered 503 with `Retry-After` and no limit is ever skipped.

mod captchas;
mod limiter;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::ports::{DatabaseUnavailable, Health, StoreError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The prefix of every key fundpass writes in production.
pub const KEY_PREFIX: &str = "fundpass";

/// How long fundpass waits for Redis: to connect, and for each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisTimeouts {
    pub connect: Duration,
    pub response: Duration,
}

impl Default for RedisTimeouts {
    /// Short, so that a request fails with 503 well before a client gives up.
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(500),
            response: Duration::from_millis(500),
        }
    }
}

/// One auto-reconnecting, multiplexed connection to Redis, shared by every request;
/// implements [`fundpass_core::ports::CaptchaStore`] and
/// [`fundpass_core::ports::RateLimiter`].
#[derive(Clone)]
pub struct RedisState {
    conn: ConnectionManager,
    prefix: String,
    timeouts: RedisTimeouts,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// Connects to `url` and checks that Redis answers (start-up refuses to go on
    /// otherwise).
    pub async fn connect(url: &str, timeouts: RedisTimeouts) -> Result<Self, StoreError> {
        let state = Self::open(url, KEY_PREFIX, timeouts)?;
        state.ping_redis().await?;
        Ok(state)
    }

    /// A handle on `url` that connects on first use, with keys under `prefix` (tests
    /// give each run a prefix of its own). Fails only if the URL is malformed.
    pub fn open(url: &str, prefix: &str, timeouts: RedisTimeouts) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeouts.connect))
            .set_response_timeout(Some(timeouts.response))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            timeouts,
        })
    }

    /// `<prefix>:<kind>:<name>`.
    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.prefix)
    }

    /// Runs one Redis call with a deadline (connecting included), mapping every
    /// failure to [`StoreError::Unavailable`].
    async fn call<T, F>(&self, op: impl FnOnce(ConnectionManager) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let deadline = self.timeouts.connect + self.timeouts.response;
        match tokio::time::timeout(deadline, op(self.conn.clone())).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(StoreError::Unavailable(DatabaseUnavailable(format!(
                "redis: no answer within {} ms",
                deadline.as_millis()
            )))),
        }
    }

    async fn ping_redis(&self) -> Result<(), StoreError> {
        self.call(
            |mut conn| async move { redis::cmd("PING").query_async::<String>(&mut conn).await },
        )
        .await
        .map(drop)
    }
}

#[async_trait]
impl Health for RedisState {
    async fn ping(&self) -> Result<(), StoreError> {
        self.ping_redis().await
    }
}

/// Any Redis failure: the request is refused as "busy", never let through.
fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(DatabaseUnavailable(format!("redis: {err}")))
}

/// Milliseconds from `now` to `until`, at least 1 (Redis refuses a zero expiry).
fn ttl_millis(now: time::OffsetDateTime, until: time::OffsetDateTime) -> i64 {
    i64::try_from((until - now).whole_milliseconds())
        .unwrap_or(i64::MAX)
        .max(1)
}
