//! The one error envelope of the JSON API: `{"error": {"code", "message", "details"}}`.
//!
//! Every refusal the app can meet has a stable snake_case [`ErrorCode`] it can branch
//! on, a plain-English message it may show, and sometimes details (a lock's end, the
//! reasons a password was refused). Nothing a member typed is ever echoed back, and a
//! 500 says nothing about its cause: the cause chain goes to the log instead.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fundpass_core::ports::DatabaseUnavailable;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// What went wrong, as the app branches on it. The list is the contract: codes are
/// added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: the identifier or the password is wrong, or the account cannot log in.
    InvalidCredentials,
    /// 423: too many failed logins; `details.until` says when to try again.
    Locked,
    /// 429: too many requests from this address or for this phone; see `Retry-After`.
    RateLimited,
    /// 503: the server is saturated; see `Retry-After`.
    Busy,
    /// 400: the captcha answer is wrong; fetch a new captcha.
    CaptchaWrong,
    /// 400: the captcha is unknown, used or expired; fetch a new captcha.
    CaptchaExpired,
    /// 400: the document number is malformed; `details.reason` says how.
    BadIdNumber,
    /// 400: the phone number is malformed; `details.reason` says how.
    BadPhone,
    /// 400: the name is empty or too long.
    BadName,
    /// 400: login needs either `id_type` with `id_number`, or `account_no`.
    BadIdentifier,
    /// 404: no such flow.
    UnknownFlow,
    /// 410: the flow ran out of time; start again.
    FlowExpired,
    /// 409: the flow is not at this step.
    WrongStep,
    /// 400: the code ran out of time; ask for a new one.
    CodeExpired,
    /// 400: the code is wrong; `details.remaining` tries are left.
    WrongCode,
    /// 410: too many wrong codes closed the flow; start again.
    FlowDead,
    /// 429: a new code cannot be sent yet; see `Retry-After`.
    ResendTooSoon,
    /// 429: no more codes can be sent in this flow; start again.
    TooManySends,
    /// 422: the new passwords break the rules; `details` lists the reasons.
    PasswordPolicy,
    /// 409: a parallel request finished this step first.
    Conflict,
    /// 401: no valid bearer token.
    Unauthorized,
    /// 415: the body must be sent as `application/json`.
    UnsupportedMediaType,
    /// 400: the body is not JSON of the expected shape.
    BadJson,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 404: no such endpoint.
    NotFound,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 500: something failed on the server.
    Internal,
    /// 400: the details or the proof given could not be verified (which one is not
    /// said); `details.remaining` tries are left in this flow.
    NotVerified,
    /// 403: the name and document are not those of the logged-in member.
    NotYourAccount,
    /// 423: too many wrong transaction passwords; `details.until` says when (the next
    /// midnight, China time) the transaction password can be tried again.
    TransactionLocked,
    /// 423: the transaction password is disabled until it is recovered.
    TransactionDisabled,
    /// 423: too many wrong recovery codes for this member, in this flow and earlier
    /// ones; `details.until` says when to try again.
    CodesLocked,
    /// 403: a face-login token may only be used to recover the transaction password.
    RecoverySessionOnly,
    /// 400: the face verification result was refused; `details.reason` says why
    /// (`bad_signature`, `stale`, `low_score`, …).
    FaceRejected,
    /// 409: this face verification result was already used.
    FaceReplayed,
    /// 423: too many refused face results for this document; send the member to
    /// manual review or a counter. `details.until`, when given, says when face login
    /// opens again.
    FaceAttemptsExhausted,
    /// 403: face login is not available for this person (not a registered user).
    FaceNotEligible,
    /// 422: the security questions chosen are not acceptable; `details.reason` says how.
    BadQuestions,
    /// 403: changing the phone on file needs a face-verification login token.
    FaceLoginRequired,
    /// 400: the two new phone numbers differ.
    PhoneMismatch,
    /// 400: the new phone number is already the one on file.
    SamePhone,
    /// 400: the transaction password is wrong; `details.remaining` tries before it
    /// locks until midnight.
    WrongTransactionPassword,
    /// 400: the current login password given to change it is wrong;
    /// `details.remaining` tries before the account locks.
    WrongLoginPassword,
    /// 404: no such payment authorisation for this member.
    AuthorizationNotFound,
    /// 410: the payment authorisation ran out of time; the business system must ask
    /// again.
    AuthorizationExpired,
    /// 409: the payment authorisation was already confirmed or declined.
    AuthorizationDecided,
    /// 409: a hold after a recent reset or phone change refuses payouts;
    /// `details.until` says until when.
    MemberOnHold,
    /// 404: no live session or app token of this member has that id.
    SessionNotFound,
    /// 404: no event with that number is on the member's own security record.
    EventNotFound,
    /// 409: the event is not one that can be reported as "not me" (only a successful
    /// login, password change or reset, phone change or security-question change).
    NotReportable,
    /// 503: the face verification provider could not be reached or refused the
    /// service's request; nothing was recorded. See `Retry-After`.
    FaceProviderUnavailable,
    /// 409: the provider has no result yet: finish the check in the provider's SDK,
    /// then post again. The flow is unchanged.
    FaceUnfinished,
    /// 400: the face verification provider checks resident identity cards only; use
    /// a counter for other documents.
    FaceDocumentUnsupported,
    /// 400: the provider needs `meta_info` from its SDK on the phone (or it is longer
    /// than 4 KiB).
    FaceMetaInfoRequired,
    /// 404: no benefit entitlement is on file for the member; the benefit
    /// qualification check does not apply.
    NotEntitled,
    /// 409: the benefit has ended (the member was reported deceased).
    BenefitEnded,
    /// 409: the qualification check is not due yet; `details.opens_on` says when it
    /// opens.
    CheckNotDue,
    /// 404: no such qualification check was started by this member.
    UnknownCheck,
    /// 410: the qualification check ran out of time; start another.
    CheckExpired,
    /// 404: the account named is not a relative the member has added and the relative
    /// confirmed.
    NotRelative,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidCredentials | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Locked => StatusCode::LOCKED,
            Self::RateLimited | Self::ResendTooSoon | Self::TooManySends => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Busy | Self::FaceProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::FaceUnfinished => StatusCode::CONFLICT,
            Self::FaceDocumentUnsupported | Self::FaceMetaInfoRequired => StatusCode::BAD_REQUEST,
            Self::CaptchaWrong
            | Self::CaptchaExpired
            | Self::BadIdNumber
            | Self::BadPhone
            | Self::BadName
            | Self::BadIdentifier
            | Self::CodeExpired
            | Self::WrongCode
            | Self::BadJson
            | Self::NotVerified
            | Self::FaceRejected => StatusCode::BAD_REQUEST,
            Self::NotYourAccount
            | Self::RecoverySessionOnly
            | Self::FaceNotEligible
            | Self::FaceLoginRequired => StatusCode::FORBIDDEN,
            Self::PhoneMismatch
            | Self::SamePhone
            | Self::WrongTransactionPassword
            | Self::WrongLoginPassword => StatusCode::BAD_REQUEST,
            Self::AuthorizationNotFound
            | Self::SessionNotFound
            | Self::EventNotFound
            | Self::NotEntitled
            | Self::UnknownCheck
            | Self::NotRelative => StatusCode::NOT_FOUND,
            Self::BenefitEnded | Self::CheckNotDue => StatusCode::CONFLICT,
            Self::CheckExpired => StatusCode::GONE,
            Self::AuthorizationExpired => StatusCode::GONE,
            Self::AuthorizationDecided | Self::MemberOnHold | Self::NotReportable => {
                StatusCode::CONFLICT
            }
            Self::TransactionLocked
            | Self::TransactionDisabled
            | Self::CodesLocked
            | Self::FaceAttemptsExhausted => StatusCode::LOCKED,
            Self::UnknownFlow | Self::NotFound => StatusCode::NOT_FOUND,
            Self::FlowExpired | Self::FlowDead => StatusCode::GONE,
            Self::WrongStep | Self::Conflict | Self::FaceReplayed => StatusCode::CONFLICT,
            Self::PasswordPolicy | Self::BadQuestions => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown when the caller has nothing more specific to say.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "The identifier or the password is wrong.",
            Self::Locked => "Too many failed attempts. Try again after the time given.",
            Self::RateLimited => "Too many requests. Try again later.",
            Self::Busy => "The service is busy. Try again in a moment.",
            Self::CaptchaWrong => {
                "The characters in the picture were not typed correctly. Try a new picture."
            }
            Self::CaptchaExpired => {
                "The picture has expired or was already used. Try a new picture."
            }
            Self::BadIdNumber => "The document number is not valid.",
            Self::BadPhone => "The mobile number is not valid.",
            Self::BadName => "Enter the name as it appears on the document.",
            Self::BadIdentifier => "Send either id_type with id_number, or account_no.",
            Self::UnknownFlow => "This registration does not exist. Start again.",
            Self::FlowExpired => "This registration has expired. Start again.",
            Self::WrongStep => "This step cannot be taken now.",
            Self::CodeExpired => "The code has expired. Ask for a new code.",
            Self::WrongCode => "The code is wrong.",
            Self::FlowDead => "Too many wrong codes. Start again.",
            Self::ResendTooSoon => "A new code cannot be sent yet. Try again after the time given.",
            Self::TooManySends => "No more codes can be sent for this registration. Start again.",
            Self::PasswordPolicy => "The new passwords do not meet the rules.",
            Self::Conflict => "Another request completed this step first.",
            Self::Unauthorized => "Log in to continue.",
            Self::UnsupportedMediaType => "Send the request body as application/json.",
            Self::BadJson => "The request body is not valid JSON of the expected shape.",
            Self::PayloadTooLarge => "The request body is too large.",
            Self::NotFound => "There is no such endpoint.",
            Self::MethodNotAllowed => "This endpoint does not accept this method.",
            Self::Internal => "Something went wrong on our side. Try again later.",
            Self::NotVerified => "The details given could not be verified.",
            Self::NotYourAccount => {
                "The name and document given are not those of the member logged in."
            }
            Self::TransactionLocked => {
                "Too many wrong transaction passwords. Try again after the time given."
            }
            Self::TransactionDisabled => {
                "The transaction password is disabled. Recover it, or visit a counter."
            }
            Self::CodesLocked => "Too many wrong codes. Try again after the time given.",
            Self::RecoverySessionOnly => {
                "This login can only be used to recover the transaction password. \
                 Log in with the login password for anything else."
            }
            Self::FaceRejected => "The face verification was not accepted. Try again.",
            Self::FaceReplayed => "This face verification was already used. Start again.",
            Self::FaceAttemptsExhausted => {
                "Face verification failed too many times. Ask for a manual review, \
                 or visit a counter with your identity document."
            }
            Self::FaceNotEligible => {
                "Face login is not available for this person. Register first, \
                 or visit a counter with your identity document."
            }
            Self::BadQuestions => "The security questions chosen are not acceptable.",
            Self::FaceLoginRequired => {
                "Changing the mobile number needs a face verification login first."
            }
            Self::PhoneMismatch => "The two new mobile numbers differ.",
            Self::SamePhone => "This is already the mobile number on file.",
            Self::WrongTransactionPassword => "The transaction password is wrong.",
            Self::WrongLoginPassword => "The current login password is wrong.",
            Self::AuthorizationNotFound => "There is no such payment to confirm.",
            Self::AuthorizationExpired => {
                "This payment can no longer be confirmed. The office or system that asked must ask again."
            }
            Self::AuthorizationDecided => "This payment was already confirmed or declined.",
            Self::MemberOnHold => {
                "Payments are paused after a recent password reset or phone change. Try again after the time given."
            }
            Self::SessionNotFound => {
                "There is no such session among yours, or it has already ended."
            }
            Self::EventNotFound => "There is no event with this number on your security record.",
            Self::NotReportable => {
                "Only a successful login, password change or reset, phone change or security-question change can be reported."
            }
            Self::FaceProviderUnavailable => {
                "Face verification is unavailable at the moment. Try again later."
            }
            Self::FaceUnfinished => {
                "The face verification has not been finished. Finish it in the app, then try again."
            }
            Self::FaceDocumentUnsupported => {
                "Face verification works with a resident identity card only. \
                 Visit a counter with your document."
            }
            Self::FaceMetaInfoRequired => {
                "The app must send the face verification SDK's meta_info."
            }
            Self::NotEntitled => {
                "No benefit entitlement is on file for you, so there is no qualification check to pass."
            }
            Self::BenefitEnded => "This benefit has ended. Contact the benefit office.",
            Self::CheckNotDue => {
                "The qualification check is not due yet. Try again on the date given."
            }
            Self::UnknownCheck => "There is no such qualification check. Start again.",
            Self::CheckExpired => "This qualification check has expired. Start again.",
            Self::NotRelative => {
                "This person is not among your confirmed relatives. Add them first; they confirm with the code sent to their phone."
            }
        }
    }
}

/// Body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorObject,
}

/// The error itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// Stable code to branch on.
    pub code: ErrorCode,
    /// Plain-English sentence that may be shown to the member.
    pub message: String,
    /// Facts about this error, by code: `locked` → `until` (and `signed_out` when a
    /// password change locked the account and ended every session); `rate_limited` →
    /// `retry_after`; `bad_id_number`, `bad_phone`, `bad_identifier` → `reason`;
    /// `wrong_code`, `not_verified`, `wrong_login_password`,
    /// `wrong_transaction_password` → `remaining`; `bad_json` → `field`;
    /// `password_policy` → `login`, `login_mismatch`, `transaction`,
    /// `transaction_mismatch` (registration) or `reasons`, `mismatch` (recovery and
    /// password changes);
    /// `transaction_locked`, `codes_locked`, `face_attempts_exhausted` → `until`;
    /// `face_rejected` → `reason`; `bad_questions` → `reason`, `slot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A refused request, turned into the envelope by [`IntoResponse`].
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    details: Option<serde_json::Value>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: None,
            retry_after_secs: None,
        }
    }

    /// Replaces the message.
    pub fn message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Adds details.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds a `Retry-After` header of at least one second.
    pub fn retry_after_secs(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// Adds a `Retry-After` header counting from `now` to `at`, and `details.retry_after`.
    pub fn retry_at(self, at: OffsetDateTime, now: OffsetDateTime) -> Self {
        let secs = (at - now).whole_seconds() + i64::from((at - now).subsec_nanoseconds() > 0);
        self.retry_after_secs(u64::try_from(secs).unwrap_or(1))
            .details(serde_json::json!({ "retry_after": rfc3339(at) }))
    }

    /// A failure on the server: the cause chain is logged, the client learns nothing.
    /// When the cause is a database that cannot be reached or is busy, the answer is
    /// [`Self::unavailable`] instead: nothing was done and a retry may work.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        if DatabaseUnavailable::in_chain(cause) {
            return Self::unavailable(cause);
        }
        tracing::error!(error = %chain(cause), "API request failed");
        Self::new(ErrorCode::Internal)
    }

    /// The database is unavailable for now: `busy` with `Retry-After`, the cause
    /// logged as a warning.
    pub fn unavailable(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::warn!(error = %chain(cause), "API request refused: database unavailable");
        Self::new(ErrorCode::Busy).retry_after_secs(DatabaseUnavailable::RETRY_AFTER_SECS)
    }

    /// The code, for tests and logs.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The details, for adapters that re-wrap a refusal in their own envelope.
    pub fn details_ref(&self) -> Option<&serde_json::Value> {
        self.details.as_ref()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code,
                message: self.message.into_owned(),
                details: self.details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.code == ErrorCode::Unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// An error and its causes, `: `-separated, for the log.
fn chain(cause: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = cause.to_string();
    let mut source = cause.source();
    while let Some(next) = source {
        chain.push_str(": ");
        chain.push_str(&next.to_string());
        source = next.source();
    }
    chain
}

/// An instant as RFC 3339 text, the form every time in the API takes.
pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting only fails for years beyond 9999, which no expiry reaches.
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let now = datetime!(2026-11-23 02:00:00 UTC);
        let error = ApiError::new(ErrorCode::RateLimited)
            .retry_at(now + time::Duration::milliseconds(1500), now);
        assert_eq!(error.retry_after_secs, Some(2));
        let past =
            ApiError::new(ErrorCode::RateLimited).retry_at(now - time::Duration::seconds(5), now);
        assert_eq!(past.retry_after_secs, Some(1));
    }

    #[tokio::test]
    async fn internal_errors_show_nothing_of_their_cause() {
        let cause = std::io::Error::other("database password is hunter2");
        let response = ApiError::internal(&cause).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains(r#""code":"internal""#), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("database"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_unavailable_database_is_busy_with_retry_after_not_a_failure() {
        use fundpass_core::ports::StoreError;
        let cause = StoreError::Unavailable(DatabaseUnavailable("connection refused".into()));
        let response = ApiError::internal(&cause).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains(r#""code":"busy""#), "{text}");
        assert!(!text.contains("refused"), "{text}");
    }

    #[tokio::test]
    async fn unauthorized_asks_for_a_bearer_token() {
        let response = ApiError::new(ErrorCode::Unauthorized).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
