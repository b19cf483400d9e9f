//! How each refusal of the portal's use cases becomes an [`ApiError`]. Every variant
//! is named, so a new one is a compile error here rather than a silent 500.

use fundpass_core::credentials::{Lang, PolicyViolation};
use fundpass_core::face::FaceRejection;
use fundpass_core::flow::FlowError;
use fundpass_core::member::QuestionError;
use fundpass_core::payout::PayoutError;
use fundpass_core::portal::{
    CaptchaError, LoginError, PasswordChangeError, PhoneChangeError, QuestionsError, RecoveryError,
    RegistrationError, SessionError,
};
use fundpass_core::ports::{PoolBusy, StoreError};
use fundpass_core::qualification::{QualificationError, RelativeError};
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
        FlowError::WrongProof { remaining } => not_verified(remaining),
        FlowError::Dead => ApiError::new(ErrorCode::FlowDead),
        FlowError::ResendTooSoon { retry_after } => {
            ApiError::new(ErrorCode::ResendTooSoon).retry_at(retry_after, now)
        }
        FlowError::TooManySends => ApiError::new(ErrorCode::TooManySends),
    }
}

/// A refused recovery or face-login step. Whether a member exists is never told:
/// details that match nobody and a wrong proof both arrive as `NotVerified`.
pub fn recovery(error: RecoveryError, now: OffsetDateTime) -> ApiError {
    match error {
        RecoveryError::BadName => ApiError::new(ErrorCode::BadName),
        RecoveryError::BadIdNumber(e) => ApiError::new(ErrorCode::BadIdNumber)
            .message(format!("The document number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        RecoveryError::BadPhone(e) => ApiError::new(ErrorCode::BadPhone)
            .message(format!("The mobile number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        RecoveryError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        RecoveryError::UnknownFlow => ApiError::new(ErrorCode::UnknownFlow)
            .message("This recovery does not exist. Start again."),
        RecoveryError::Flow(e) => recovery_flow(e, now),
        RecoveryError::NotVerified { remaining } => not_verified(remaining),
        RecoveryError::NotYourAccount => ApiError::new(ErrorCode::NotYourAccount),
        RecoveryError::TransactionLocked { until } => ApiError::new(ErrorCode::TransactionLocked)
            .message(format!(
                "Too many wrong transaction passwords. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until) })),
        RecoveryError::TransactionDisabled => ApiError::new(ErrorCode::TransactionDisabled),
        RecoveryError::CodesLocked { until } => ApiError::new(ErrorCode::CodesLocked)
            .message(format!(
                "Too many wrong codes. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until) })),
        RecoveryError::Secret {
            violations,
            mismatch,
        } => ApiError::new(ErrorCode::PasswordPolicy).details(json!({
            "reasons": reasons(&violations),
            "mismatch": mismatch,
        })),
        RecoveryError::Face(rejection) => face(rejection),
        RecoveryError::FaceReplayed => ApiError::new(ErrorCode::FaceReplayed),
        RecoveryError::FaceAttemptsExhausted { until } => {
            let error = ApiError::new(ErrorCode::FaceAttemptsExhausted);
            match until {
                Some(until) => error.details(json!({ "until": rfc3339(until) })),
                None => error,
            }
        }
        RecoveryError::FaceNotEligible => ApiError::new(ErrorCode::FaceNotEligible),
        RecoveryError::FaceProviderUnavailable(reason) => {
            tracing::warn!(%reason, "face login refused: provider unavailable");
            ApiError::new(ErrorCode::FaceProviderUnavailable)
                .retry_after_secs(FACE_PROVIDER_RETRY_AFTER_SECS)
        }
        RecoveryError::FaceUnfinished => ApiError::new(ErrorCode::FaceUnfinished),
        RecoveryError::FaceDocumentUnsupported => ApiError::new(ErrorCode::FaceDocumentUnsupported),
        RecoveryError::FaceMetaInfoRequired => ApiError::new(ErrorCode::FaceMetaInfoRequired),
        RecoveryError::Conflict => ApiError::new(ErrorCode::Conflict),
        RecoveryError::Busy(e) => busy(e),
        RecoveryError::Store(e) => store(e),
    }
}

/// Seconds the app is told to wait when the face verification provider is unavailable.
pub const FACE_PROVIDER_RETRY_AFTER_SECS: u64 = 30;

/// A flow refusal in a recovery: as in registration, worded for a recovery.
fn recovery_flow(error: FlowError, now: OffsetDateTime) -> ApiError {
    match error {
        FlowError::Expired => {
            ApiError::new(ErrorCode::FlowExpired).message("This recovery has expired. Start again.")
        }
        FlowError::TooManySends => ApiError::new(ErrorCode::TooManySends)
            .message("No more codes can be sent for this recovery. Start again."),
        FlowError::WrongStep
        | FlowError::CodeExpired
        | FlowError::WrongCode { .. }
        | FlowError::Dead
        | FlowError::ResendTooSoon { .. }
        | FlowError::WrongProof { .. } => flow(error, now),
    }
}

/// The neutral refusal of details or a proof, with the tries left in the flow.
fn not_verified(remaining: i32) -> ApiError {
    ApiError::new(ErrorCode::NotVerified)
        .message(format!(
            "The details given could not be verified. {remaining} tries left."
        ))
        .details(json!({ "remaining": remaining }))
}

/// A refused face result: one code, the check that failed in `details.reason`.
fn face(rejection: FaceRejection) -> ApiError {
    ApiError::new(ErrorCode::FaceRejected)
        .message(sentence(&rejection.to_string()))
        .details(json!({ "reason": rejection.code() }))
}

/// A refused qualification check step.
pub fn qualification(error: QualificationError, now: OffsetDateTime) -> ApiError {
    match error {
        QualificationError::NotEntitled => ApiError::new(ErrorCode::NotEntitled),
        QualificationError::Ended => ApiError::new(ErrorCode::BenefitEnded),
        QualificationError::NotDue { opens_on } => ApiError::new(ErrorCode::CheckNotDue)
            .message(format!(
                "The qualification check is not due yet. It opens on {opens_on}."
            ))
            .details(json!({ "opens_on": opens_on.to_string() })),
        QualificationError::FaceClosed => ApiError::new(ErrorCode::FaceAttemptsExhausted),
        QualificationError::UnknownAttempt => ApiError::new(ErrorCode::UnknownCheck),
        QualificationError::NotRelative => ApiError::new(ErrorCode::NotRelative),
        QualificationError::AttemptExpired => ApiError::new(ErrorCode::CheckExpired),
        QualificationError::Replayed => ApiError::new(ErrorCode::FaceReplayed),
        QualificationError::Unfinished => ApiError::new(ErrorCode::FaceUnfinished),
        QualificationError::Refused(rejection) => face(rejection),
        QualificationError::MetaInfoRequired => ApiError::new(ErrorCode::FaceMetaInfoRequired),
        QualificationError::DocumentUnsupported => {
            ApiError::new(ErrorCode::FaceDocumentUnsupported)
        }
        QualificationError::ProviderUnavailable(reason) => {
            tracing::warn!(%reason, "qualification check refused: provider unavailable");
            ApiError::new(ErrorCode::FaceProviderUnavailable)
                .retry_after_secs(FACE_PROVIDER_RETRY_AFTER_SECS)
        }
        QualificationError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        QualificationError::Conflict => ApiError::new(ErrorCode::Conflict),
        QualificationError::Internal(e) => store(e.0),
        e @ QualificationError::Client(_) => ApiError::internal(&e),
    }
}

/// A refused step of adding a relative.
pub fn relative(error: RelativeError, now: OffsetDateTime) -> ApiError {
    match error {
        RelativeError::BadName => ApiError::new(ErrorCode::BadName),
        RelativeError::BadIdNumber(e) => ApiError::new(ErrorCode::BadIdNumber)
            .message(format!("The document number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        RelativeError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        RelativeError::UnknownFlow => ApiError::new(ErrorCode::UnknownFlow)
            .message("There is no such request to add a relative. Start again."),
        RelativeError::Flow(e) => flow(e, now),
        RelativeError::Qualification(e) => qualification(e, now),
    }
}

/// A refused phone change.
pub fn phone_change(error: PhoneChangeError, _now: OffsetDateTime) -> ApiError {
    match error {
        PhoneChangeError::FaceLoginRequired => ApiError::new(ErrorCode::FaceLoginRequired),
        PhoneChangeError::BadPhone(e) => ApiError::new(ErrorCode::BadPhone)
            .message(format!("The mobile number is not valid: {e}."))
            .details(json!({ "reason": e.code() })),
        PhoneChangeError::Mismatch => ApiError::new(ErrorCode::PhoneMismatch),
        PhoneChangeError::SamePhone => ApiError::new(ErrorCode::SamePhone),
        PhoneChangeError::WrongTransactionPassword { remaining } => {
            ApiError::new(ErrorCode::WrongTransactionPassword)
                .message(format!(
                    "The transaction password is wrong. {remaining} tries left."
                ))
                .details(json!({ "remaining": remaining }))
        }
        PhoneChangeError::TransactionLocked { until } => {
            ApiError::new(ErrorCode::TransactionLocked)
                .message(format!(
                    "Too many wrong transaction passwords. Try again after {}.",
                    rfc3339(until)
                ))
                .details(json!({ "until": rfc3339(until) }))
        }
        PhoneChangeError::TransactionDisabled => ApiError::new(ErrorCode::TransactionDisabled),
        PhoneChangeError::Conflict => ApiError::new(ErrorCode::Conflict),
        PhoneChangeError::Busy(e) => busy(e),
        PhoneChangeError::Store(e) => store(e),
    }
}

/// A refused password change. A wrong current login password is not
/// `invalid_credentials` (401): the token is still good, unless the failure locked
/// the account, which ends every session (`locked` with `signed_out`).
pub fn password_change(error: PasswordChangeError, _now: OffsetDateTime) -> ApiError {
    let locked = |until: OffsetDateTime, signed_out: bool| {
        ApiError::new(ErrorCode::Locked)
            .message(format!(
                "Too many wrong login passwords. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until), "signed_out": signed_out }))
    };
    match error {
        PasswordChangeError::RecoverySession => ApiError::new(ErrorCode::RecoverySessionOnly),
        PasswordChangeError::WrongLoginPassword { remaining } => {
            ApiError::new(ErrorCode::WrongLoginPassword)
                .message(format!(
                    "The current login password is wrong. {remaining} tries left."
                ))
                .details(json!({ "remaining": remaining }))
        }
        PasswordChangeError::Locked { until } => locked(until, false),
        PasswordChangeError::LockedOut { until } => locked(until, true),
        PasswordChangeError::WrongTransactionPassword { remaining } => {
            ApiError::new(ErrorCode::WrongTransactionPassword)
                .message(format!(
                    "The transaction password is wrong. {remaining} tries left."
                ))
                .details(json!({ "remaining": remaining }))
        }
        PasswordChangeError::TransactionLocked { until } => {
            ApiError::new(ErrorCode::TransactionLocked)
                .message(format!(
                    "Too many wrong transaction passwords. Try again after {}.",
                    rfc3339(until)
                ))
                .details(json!({ "until": rfc3339(until) }))
        }
        PasswordChangeError::TransactionDisabled => ApiError::new(ErrorCode::TransactionDisabled),
        PasswordChangeError::NewSecret {
            violations,
            mismatch,
        } => ApiError::new(ErrorCode::PasswordPolicy).details(json!({
            "reasons": reasons(&violations),
            "mismatch": mismatch,
        })),
        PasswordChangeError::Conflict => ApiError::new(ErrorCode::Conflict),
        PasswordChangeError::Busy(e) => busy(e),
        PasswordChangeError::Store(e) => store(e),
    }
}

/// A refused payment confirmation or decline. Refusals the member's side cannot
/// meet (they concern the business system's request) are server errors here.
pub fn payout(error: PayoutError, now: OffsetDateTime) -> ApiError {
    match error {
        PayoutError::NotFound | PayoutError::Foreign => {
            ApiError::new(ErrorCode::AuthorizationNotFound)
        }
        PayoutError::Expired => ApiError::new(ErrorCode::AuthorizationExpired),
        PayoutError::AlreadyDecided
        | PayoutError::Declined
        | PayoutError::AlreadyCaptured
        | PayoutError::NotConfirmed => ApiError::new(ErrorCode::AuthorizationDecided),
        PayoutError::OnHold { until, .. } => {
            ApiError::new(ErrorCode::MemberOnHold).details(json!({ "until": rfc3339(until) }))
        }
        PayoutError::WrongTransactionPassword { remaining } => {
            ApiError::new(ErrorCode::WrongTransactionPassword)
                .message(format!(
                    "The transaction password is wrong. {remaining} tries left."
                ))
                .details(json!({ "remaining": remaining }))
        }
        PayoutError::TransactionLocked { until } => ApiError::new(ErrorCode::TransactionLocked)
            .message(format!(
                "Too many wrong transaction passwords. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until) })),
        PayoutError::TransactionDisabled => ApiError::new(ErrorCode::TransactionDisabled),
        PayoutError::RateLimited { retry_after } => {
            ApiError::new(ErrorCode::RateLimited).retry_at(retry_after, now)
        }
        PayoutError::Conflict => ApiError::new(ErrorCode::Conflict),
        PayoutError::Busy(e) => busy(e),
        PayoutError::Store(e) => store(e),
        e @ (PayoutError::BadPayment(_)
        | PayoutError::UnknownMember
        | PayoutError::NotRegistered
        | PayoutError::MemberFrozen
        | PayoutError::ConfirmationRequired { .. }
        | PayoutError::BadIdempotencyKey
        | PayoutError::IdempotencyKeyReused
        | PayoutError::NoSigningKey
        | PayoutError::Client(_)) => ApiError::internal(&e),
    }
}

/// A refused set of security questions.
pub fn questions(error: QuestionsError) -> ApiError {
    let invalid = |reason: &str, slot: Option<usize>, message: String| {
        let details = match slot {
            Some(slot) => json!({ "reason": reason, "slot": slot }),
            None => json!({ "reason": reason }),
        };
        ApiError::new(ErrorCode::BadQuestions)
            .message(message)
            .details(details)
    };
    match error {
        QuestionsError::Invalid(e) => match e {
            QuestionError::Count => invalid("count", None, sentence(&e.to_string())),
            // The message would quote what was sent: say only that it is unknown.
            QuestionError::UnknownQuestion(_) => invalid(
                "unknown_question",
                None,
                "A question chosen is not on the list.".into(),
            ),
            QuestionError::Repeated => invalid("repeated", None, sentence(&e.to_string())),
            QuestionError::EmptyAnswer { slot } => {
                invalid("empty_answer", Some(slot), sentence(&e.to_string()))
            }
            QuestionError::LongAnswer { slot } => {
                invalid("long_answer", Some(slot), sentence(&e.to_string()))
            }
        },
        QuestionsError::Store(e) => store(e),
    }
}

/// A core message (`"the liveness check failed"`) as a sentence to show.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    out.push('.');
    out
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
/// cannot tell an unknown token from an ended one. A face-login token used beyond
/// recovery is told so, for the app to ask for a real login.
pub fn session(error: SessionError) -> ApiError {
    match error {
        SessionError::Unknown | SessionError::Ended(_) => ApiError::new(ErrorCode::Unauthorized),
        SessionError::RecoveryOnly => ApiError::new(ErrorCode::RecoverySessionOnly),
        SessionError::Store(e) => store(e),
    }
}

/// The CPU pool for password hashing is full.
pub fn busy(error: PoolBusy) -> ApiError {
    ApiError::new(ErrorCode::Busy).retry_after_secs(error.retry_after_secs)
}

/// A storage failure. A lost optimistic-concurrency race and a database unavailable
/// for now (busy, retry after) mean something to the client; the rest are logged and
/// hidden.
pub fn store(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict => ApiError::new(ErrorCode::Conflict),
        StoreError::Unavailable(_) => ApiError::unavailable(&error),
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
mod tests;
