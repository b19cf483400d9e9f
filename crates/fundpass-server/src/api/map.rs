//! How each refusal of the portal's use cases becomes an [`ApiError`]. Every variant
//! is named, so a new one is a compile error here rather than a silent 500.

use fundpass_core::credentials::{Lang, PolicyViolation};
use fundpass_core::flow::FlowError;
use fundpass_core::portal::{CaptchaError, LoginError, RegistrationError, SessionError};
use fundpass_core::ports::{PoolBusy, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use super::error::{ApiError, ErrorCode, rfc3339};

/// A refused captcha answer. Either way the app must show a new captcha.
pub fn captcha(error: CaptchaError) -> ApiError {
    match error {
        CaptchaError::Wrong => ApiError::new(ErrorCode::CaptchaWrong),
        CaptchaError::Expired => ApiError::new(ErrorCode::CaptchaExpired),
        CaptchaError::Store(e) => store(e),
    }
}

/// A refused registration step.
pub fn registration(error: RegistrationError, now: OffsetDateTime) -> ApiError {
    match error {
        RegistrationError::BadName => ApiError::new(ErrorCode::BadName),
        // The messages name a position or one character at most, never the number.
        RegistrationError::BadIdNumber(e) => ApiError::new(ErrorCode::BadIdNumber)
            .message(format!("The document number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        RegistrationError::BadPhone(e) => ApiError::new(ErrorCode::BadPhone)
            .message(format!("The mobile number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        RegistrationError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        RegistrationError::UnknownFlow => ApiError::new(ErrorCode::UnknownFlow),
        RegistrationError::Flow(e) => flow(e, now),
        RegistrationError::Passwords {
            login,
            login_mismatch,
            transaction,
            transaction_mismatch,
        } => ApiError::new(ErrorCode::PasswordPolicy).details(json!({
            "login": reasons(&login),
            "login_mismatch": login_mismatch,
            "transaction": reasons(&transaction),
            "transaction_mismatch": transaction_mismatch,
        })),
        RegistrationError::Conflict => ApiError::new(ErrorCode::Conflict),
        RegistrationError::Busy(e) => busy(e),
        RegistrationError::Store(e) => store(e),
    }
}

/// A step a flow's state does not allow.
pub fn flow(error: FlowError, now: OffsetDateTime) -> ApiError {
    match error {
        FlowError::Expired => ApiError::new(ErrorCode::FlowExpired),
        FlowError::WrongStep => ApiError::new(ErrorCode::WrongStep),
        FlowError::CodeExpired => ApiError::new(ErrorCode::CodeExpired),
        FlowError::WrongCode { remaining } => ApiError::new(ErrorCode::WrongCode)
            .message(format!("The code is wrong. {remaining} tries left."))
            .details(json!({ "remaining": remaining })),
        FlowError::Dead => ApiError::new(ErrorCode::FlowDead),
        FlowError::ResendTooSoon { retry_after } => {
            ApiError::new(ErrorCode::ResendTooSoon).retry_at(retry_after, now)
        }
        FlowError::TooManySends => ApiError::new(ErrorCode::TooManySends),
    }
}

/// A refused login. Unknown members, wrong passwords, unregistered and frozen
/// accounts all arrive here as `InvalidCredentials` or `Locked`.
pub fn login(error: LoginError, now: OffsetDateTime) -> ApiError {
    match error {
        LoginError::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials),
        LoginError::Locked { until } => ApiError::new(ErrorCode::Locked)
            .message(format!(
                "Too many failed attempts. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until) })),
        LoginError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        LoginError::Busy(e) => busy(e),
        LoginError::Store(e) => store(e),
    }
}

/// A token that does not authenticate: one answer whatever the reason, so a client
/// cannot tell an unknown token from an ended one.
pub fn session(error: SessionError) -> ApiError {
    match error {
        SessionError::Unknown | SessionError::Ended(_) => ApiError::new(ErrorCode::Unauthorized),
        SessionError::Store(e) => store(e),
    }
}

/// The CPU pool for password hashing is full.
pub fn busy(error: PoolBusy) -> ApiError {
    ApiError::new(ErrorCode::Busy).retry_after_secs(error.retry_after_secs)
}

/// A storage failure. Only a lost optimistic-concurrency race means something to the
/// client; the rest are logged and hidden.
pub fn store(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict => ApiError::new(ErrorCode::Conflict),
        StoreError::NotFound | StoreError::Duplicate(_) | StoreError::Backend(_) => {
            ApiError::internal(&error)
        }
    }
}

/// Password policy reasons as `[{code, message}]`.
fn reasons(violations: &[PolicyViolation]) -> serde_json::Value {
    violations
        .iter()
        .map(|v| json!({ "code": v.code(), "message": v.message(Lang::En) }))
        .collect()
}

#[cfg(test)]
mod tests {
    use fundpass_core::identity::IdNumberError;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn lock_and_rate_limit_say_when_to_retry() {
        let now = datetime!(2026-11-23 02:00 UTC);
        let locked = login(
            LoginError::Locked {
                until: now + time::Duration::minutes(15),
            },
            now,
        );
        assert_eq!(locked.code(), ErrorCode::Locked);
        let limited = registration(
            RegistrationError::RateLimited {
                retry_after: now + time::Duration::seconds(30),
            },
            now,
        );
        assert_eq!(limited.code(), ErrorCode::RateLimited);
    }

    #[test]
    fn flow_errors_have_their_own_codes() {
        let now = datetime!(2026-11-23 02:00 UTC);
        let codes: Vec<ErrorCode> = [
            FlowError::Expired,
            FlowError::WrongStep,
            FlowError::CodeExpired,
            FlowError::WrongCode { remaining: 2 },
            FlowError::Dead,
            FlowError::ResendTooSoon { retry_after: now },
            FlowError::TooManySends,
        ]
        .into_iter()
        .map(|e| flow(e, now).code())
        .collect();
        let unique: std::collections::BTreeSet<_> =
            codes.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn store_failures_are_internal_but_races_are_conflicts() {
        assert_eq!(
            store(StoreError::Backend("disk".into())).code(),
            ErrorCode::Internal
        );
        assert_eq!(store(StoreError::Conflict).code(), ErrorCode::Conflict);
        let bad = registration(
            RegistrationError::BadIdNumber(IdNumberError::Empty),
            datetime!(2026-11-23 02:00 UTC),
        );
        assert_eq!(bad.code(), ErrorCode::BadIdNumber);
    }
}
