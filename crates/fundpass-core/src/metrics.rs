//! What the use cases count, recorded through the `metrics` facade (a no-op until the
//! server installs a recorder). Labels come from fixed lists here: never a member's
//! identifier, address or document.

use std::time::Duration;

use metrics::{counter, histogram};

use crate::flow::FlowKind;
use crate::member::LockState;

/// Member logins, by `outcome` ([`LOGIN_OUTCOMES`]).
pub const LOGINS: &str = "fundpass_logins_total";
/// `ok`; `invalid` (wrong identifier or password); `locked`; `rate_limited` (too many
/// from the address); `busy` (the hashing pool was full); `error` (storage).
pub const LOGIN_OUTCOMES: [&str; 6] = ["ok", "invalid", "locked", "rate_limited", "busy", "error"];

/// Locks placed, by `secret` ([`LOCK_SECRETS`]).
pub const LOCKS: &str = "fundpass_locks_total";
/// The secrets that lock.
pub const LOCK_SECRETS: [&str; 5] = [
    "login_password",
    "transaction_password",
    "recovery_code",
    "face",
    "staff",
];

/// Flows started, by `kind`.
pub const FLOWS_STARTED: &str = "fundpass_flows_started_total";
/// Flows completed, by `kind`.
pub const FLOWS_COMPLETED: &str = "fundpass_flows_completed_total";
/// Steps refused because their flow had expired, by `kind`.
pub const FLOWS_EXPIRED: &str = "fundpass_flows_expired_total";

/// Captchas issued.
pub const CAPTCHAS_ISSUED: &str = "fundpass_captchas_issued_total";
/// Captcha answers refused, by `reason` ([`CAPTCHA_FAILURES`]).
pub const CAPTCHAS_FAILED: &str = "fundpass_captchas_failed_total";
/// `wrong` answer; `expired` (unknown, used or out of time).
pub const CAPTCHA_FAILURES: [&str; 2] = ["wrong", "expired"];

/// Time to get a database connection and begin a writing transaction.
pub const DB_ACQUIRE: &str = "fundpass_db_acquire_seconds";

/// A login's outcome (one of [`LOGIN_OUTCOMES`]).
pub fn login(outcome: &'static str) {
    counter!(LOGINS, "outcome" => outcome).increment(1);
}

/// Counts a lock of `secret` (one of [`LOCK_SECRETS`]) when `after` is locked and
/// `before` was not locked until the same instant: a failure that placed a lock.
pub fn lock_placed(secret: &'static str, before: &LockState, after: &LockState) {
    if after.locked_until.is_some() && after.locked_until != before.locked_until {
        counter!(LOCKS, "secret" => secret).increment(1);
    }
}

/// A flow was started (its record written).
pub fn flow_started(kind: FlowKind) {
    counter!(FLOWS_STARTED, "kind" => kind.code()).increment(1);
}

/// A flow was completed.
pub fn flow_completed(kind: FlowKind) {
    counter!(FLOWS_COMPLETED, "kind" => kind.code()).increment(1);
}

/// A step was refused because the flow had expired.
pub fn flow_expired(kind: FlowKind) {
    counter!(FLOWS_EXPIRED, "kind" => kind.code()).increment(1);
}

/// A captcha was issued.
pub fn captcha_issued() {
    counter!(CAPTCHAS_ISSUED).increment(1);
}

/// A captcha answer was refused (one of [`CAPTCHA_FAILURES`]).
pub fn captcha_failed(reason: &'static str) {
    counter!(CAPTCHAS_FAILED, "reason" => reason).increment(1);
}

/// The wait for a database connection (and write transaction).
pub fn database_waited(wait: Duration) {
    histogram!(DB_ACQUIRE).record(wait.as_secs_f64());
}
