//! fundpass storage: the core's ports implemented over sqlx, for SQLite (the embedded
//! default, zero setup) and PostgreSQL (production and every multi-instance deployment).
//!
//! One implementation serves both backends through sqlx's `Any` driver: the SQL sticks
//! to what both understand (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`),
//! times are stored as BIGINT microseconds since the Unix epoch and flags as 0/1
//! integers. Only migrations, transaction start and row locking differ per backend.

mod audit;
mod authorizations;
mod backlog;
mod captchas;
mod cases;
mod clients;
mod codec;
mod connect;
mod errors;
mod flows;
#[doc(hidden)]
pub mod fuzzing;
mod holds;
mod hotline_checks;
mod import;
mod import_claims;
mod members;
mod outbox;
mod qualification;
mod questions;
mod rate_limits;
mod record;
mod redis_store;
mod sessions;
mod staff;
mod staff_sessions;
mod throttles;
mod unit_of_work;
mod webhooks;

pub use backlog::{Backlog, Connections};
pub use connect::{Backend, Store};
pub use outbox::OUTBOX_GIVEN_UP;
pub use redis_store::{KEY_PREFIX as REDIS_KEY_PREFIX, RedisState, RedisTimeouts};

// `Store` serves every port the portal needs: this fails to compile if one is missing.
const _: fn(Store) -> std::sync::Arc<dyn fundpass_core::ports::PortalStore> =
    |store| std::sync::Arc::new(store);
const _: fn(Store) -> std::sync::Arc<dyn fundpass_core::ports::RateLimiter> =
    |store| std::sync::Arc::new(store);
const _: fn(Store) -> std::sync::Arc<dyn fundpass_core::ports::StaffStore> =
    |store| std::sync::Arc::new(store);
const _: fn(Store) -> std::sync::Arc<dyn fundpass_core::ports::StaffSessionStore> =
    |store| std::sync::Arc::new(store);
const _: fn(Store) -> std::sync::Arc<dyn fundpass_core::ports::CaseStore> =
    |store| std::sync::Arc::new(store);
const _: fn(RedisState) -> std::sync::Arc<dyn fundpass_core::ports::CaptchaStore> =
    |state| std::sync::Arc::new(state);
const _: fn(RedisState) -> std::sync::Arc<dyn fundpass_core::ports::RateLimiter> =
    |state| std::sync::Arc::new(state);
