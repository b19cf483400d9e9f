//! The internal API's refusals, in the app API's envelope:
//! `{"error": {"code", "message", "details"}}`. Every refusal of the use cases is
//! mapped here by name ([`client`], [`payout`]), so a new variant is a compile error
//! rather than a silent 500.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fundpass_core::clients::ClientError;
use fundpass_core::payout::PayoutError;
use fundpass_core::ports::{DatabaseUnavailable, StoreError};
use fundpass_core::qualification::QualificationError;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::api::rfc3339;

/// What went wrong, for the business system to branch on. Codes are added, never
/// renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InternalCode {
    /// 401: no valid access token (`WWW-Authenticate: Bearer`).
    InvalidToken,
    /// 403: the token lacks the scope this call needs; `details.scope` names it.
    InsufficientScope,
    /// 429: too many calls by this client, or authorisations for this member; see
    /// `Retry-After`.
    RateLimited,
    /// 400: a payment field is not valid; `details.field` names it.
    BadPayment,
    /// 400: `Idempotency-Key` is missing or malformed.
    BadIdempotencyKey,
    /// 422: the `Idempotency-Key` was used for a different request.
    IdempotencyKeyReused,
    /// 404: no member has this account number.
    UnknownMember,
    /// 409: the member has not registered for online services.
    MemberNotRegistered,
    /// 409: the member's account is frozen.
    MemberFrozen,
    /// 409: a hold refuses payouts; `details.reason` and `details.until`.
    MemberOnHold,
    /// 403: the amount is above the direct-verification threshold; create an
    /// authorisation for the member to confirm instead. `details.threshold_fen`.
    ConfirmationRequired,
    /// 401: the transaction password is wrong; `details.remaining` tries before it
    /// locks until midnight (China time).
    WrongTransactionPassword,
    /// 423: the transaction password is locked; `details.until`.
    TransactionLocked,
    /// 423: the transaction password is disabled until the member recovers it.
    TransactionDisabled,
    /// 404: no such authorisation.
    NotFound,
    /// 403: the authorisation belongs to another business system.
    ForeignAuthorization,
    /// 409: the authorisation has expired.
    AuthorizationExpired,
    /// 409: the member declined the authorisation.
    AuthorizationDeclined,
    /// 409: the authorisation was already captured.
    AlreadyCaptured,
    /// 409: the member has not confirmed the authorisation yet.
    NotConfirmed,
    /// 409: a parallel request changed it first; read it again.
    Conflict,
    /// 415: the body must be `application/json` (or a form where documented).
    UnsupportedMediaType,
    /// 400: the body is not JSON of the expected shape; `details.field` when known.
    BadJson,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 404: the member has no benefit entitlement on file.
    NotEntitled,
    /// 503: the server is saturated; see `Retry-After`.
    Busy,
    /// 500: something failed on the server.
    Internal,
}

impl InternalCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidToken | Self::WrongTransactionPassword => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope | Self::ConfirmationRequired | Self::ForeignAuthorization => {
                StatusCode::FORBIDDEN
            }
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::BadPayment | Self::BadIdempotencyKey | Self::BadJson => StatusCode::BAD_REQUEST,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnknownMember | Self::NotFound | Self::NotEntitled => StatusCode::NOT_FOUND,
            Self::MemberNotRegistered
            | Self::MemberFrozen
            | Self::MemberOnHold
            | Self::AuthorizationExpired
            | Self::AuthorizationDeclined
            | Self::AlreadyCaptured
            | Self::NotConfirmed
            | Self::Conflict => StatusCode::CONFLICT,
            Self::TransactionLocked | Self::TransactionDisabled => StatusCode::LOCKED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message when nothing more specific is said.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::InvalidToken => "The access token is missing, expired or not valid.",
            Self::InsufficientScope => "The access token does not carry the scope this call needs.",
            Self::RateLimited => "Too many requests. Try again after the time given.",
            Self::BadPayment => "A payment field is not valid.",
            Self::BadIdempotencyKey => {
                "Send an Idempotency-Key of 1 to 128 printable ASCII characters."
            }
            Self::IdempotencyKeyReused => "This Idempotency-Key was used for a different request.",
            Self::UnknownMember => "No member has this account number.",
            Self::NotEntitled => "The member has no benefit entitlement on file.",
            Self::MemberNotRegistered => "The member has not registered for online services.",
            Self::MemberFrozen => "The member's account is frozen.",
            Self::MemberOnHold => "A hold on the member refuses payouts until the time given.",
            Self::ConfirmationRequired => {
                "This amount needs the member's confirmation in fundpass."
            }
            Self::WrongTransactionPassword => "The transaction password is wrong.",
            Self::TransactionLocked => "The transaction password is locked until the time given.",
            Self::TransactionDisabled => {
                "The transaction password is disabled until the member recovers it."
            }
            Self::NotFound => "There is no such authorisation.",
            Self::ForeignAuthorization => "The authorisation belongs to another business system.",
            Self::AuthorizationExpired => "The authorisation has expired.",
            Self::AuthorizationDeclined => "The member declined the authorisation.",
            Self::AlreadyCaptured => "The authorisation was already captured.",
            Self::NotConfirmed => "The member has not confirmed the authorisation yet.",
            Self::Conflict => "Another request changed it first. Read it again.",
            Self::UnsupportedMediaType => "Send the request body as application/json.",
            Self::BadJson => "The request body is not valid JSON of the expected shape.",
            Self::PayloadTooLarge => "The request body is too large.",
            Self::MethodNotAllowed => "This endpoint does not accept this method.",
            Self::Busy => "The service is busy. Try again in a moment.",
            Self::Internal => "Something went wrong on our side. Try again later.",
        }
    }
}

/// Body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternalErrorBody {
    pub error: InternalErrorObject,
}

/// The error itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternalErrorObject {
    /// Stable code to branch on.
    pub code: InternalCode,
    /// Plain-English sentence for logs and operators.
    pub message: String,
    /// Facts about this error, by code: `insufficient_scope` → `scope`;
    /// `rate_limited` → `retry_after`; `bad_payment`, `bad_json` → `field`;
    /// `member_on_hold` → `reason`, `until`; `confirmation_required` →
    /// `threshold_fen`; `wrong_transaction_password` → `remaining`;
    /// `transaction_locked` → `until`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A refused internal call.
#[derive(Debug)]
pub struct InternalError {
    code: InternalCode,
    message: Cow<'static, str>,
    details: Option<serde_json::Value>,
    retry_after_secs: Option<u64>,
}

impl InternalError {
    /// An error with the code's default message.
    pub fn new(code: InternalCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: None,
            retry_after_secs: None,
        }
    }

    /// An error with the code's default message and `details`.
    pub fn with_details(code: InternalCode, details: Option<serde_json::Value>) -> Self {
        Self {
            details,
            ..Self::new(code)
        }
    }

    fn message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    fn retry_at(mut self, at: OffsetDateTime, now: OffsetDateTime) -> Self {
        let secs = (at - now).whole_seconds() + i64::from((at - now).subsec_nanoseconds() > 0);
        self.retry_after_secs = Some(u64::try_from(secs).unwrap_or(1).max(1));
        self.details(json!({ "retry_after": rfc3339(at) }))
    }

    /// A failure on the server: the cause is logged, the caller learns nothing. A
    /// database that cannot be reached or is busy is `busy` with `Retry-After`
    /// instead: nothing was done and a retry may work.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        if DatabaseUnavailable::in_chain(cause) {
            tracing::warn!(error = %cause, "internal API request refused: database unavailable");
            let mut busy = Self::new(InternalCode::Busy);
            busy.retry_after_secs = Some(DatabaseUnavailable::RETRY_AFTER_SECS);
            return busy;
        }
        tracing::error!(error = %cause, "internal API request failed");
        Self::new(InternalCode::Internal)
    }

    /// The code, for tests and logs.
    pub fn code(&self) -> InternalCode {
        self.code
    }
}

impl IntoResponse for InternalError {
    fn into_response(self) -> Response {
        let body = InternalErrorBody {
            error: InternalErrorObject {
                code: self.code,
                message: self.message.into_owned(),
                details: self.details,
            },
        };
        let mut response = (self.code.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        match self.code {
            InternalCode::InvalidToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            InternalCode::InsufficientScope => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
                );
            }
            _ => {}
        }
        response
    }
}

/// A refusal of the client checks.
pub fn client(error: ClientError, now: OffsetDateTime) -> InternalError {
    match error {
        ClientError::InvalidToken
        | ClientError::InvalidClient(_)
        | ClientError::UnsupportedAuthentication => InternalError::new(InternalCode::InvalidToken),
        ClientError::InvalidScope(_) => InternalError::new(InternalCode::InsufficientScope),
        ClientError::MissingScope(scope) => InternalError::new(InternalCode::InsufficientScope)
            .message(format!("This call needs the scope {}.", scope.code()))
            .details(json!({ "scope": scope.code() })),
        ClientError::RateLimited { retry_after } => {
            InternalError::new(InternalCode::RateLimited).retry_at(retry_after, now)
        }
        ClientError::Store(e) => store(&e),
    }
}

/// A refusal of the payout use cases.
pub fn payout(error: PayoutError, now: OffsetDateTime) -> InternalError {
    use InternalCode as C;
    match error {
        PayoutError::BadPayment(p) => InternalError::new(C::BadPayment)
            .message(format!("The payment is not valid: {p}."))
            .details(json!({ "field": p.field() })),
        PayoutError::UnknownMember => InternalError::new(C::UnknownMember),
        PayoutError::NotRegistered => InternalError::new(C::MemberNotRegistered),
        PayoutError::MemberFrozen => InternalError::new(C::MemberFrozen),
        PayoutError::OnHold { reason, until } => InternalError::new(C::MemberOnHold)
            .details(json!({ "reason": reason.code(), "until": rfc3339(until) })),
        PayoutError::ConfirmationRequired { threshold_fen } => {
            InternalError::new(C::ConfirmationRequired)
                .details(json!({ "threshold_fen": threshold_fen }))
        }
        PayoutError::RateLimited { retry_after } => {
            InternalError::new(C::RateLimited).retry_at(retry_after, now)
        }
        PayoutError::WrongTransactionPassword { remaining } => {
            InternalError::new(C::WrongTransactionPassword)
                .details(json!({ "remaining": remaining }))
        }
        PayoutError::TransactionLocked { until } => {
            InternalError::new(C::TransactionLocked).details(json!({ "until": rfc3339(until) }))
        }
        PayoutError::TransactionDisabled => InternalError::new(C::TransactionDisabled),
        PayoutError::BadIdempotencyKey => InternalError::new(C::BadIdempotencyKey),
        PayoutError::IdempotencyKeyReused => InternalError::new(C::IdempotencyKeyReused),
        PayoutError::NotFound => InternalError::new(C::NotFound),
        PayoutError::Foreign => InternalError::new(C::ForeignAuthorization),
        PayoutError::Expired => InternalError::new(C::AuthorizationExpired),
        PayoutError::Declined => InternalError::new(C::AuthorizationDeclined),
        PayoutError::AlreadyCaptured => InternalError::new(C::AlreadyCaptured),
        PayoutError::NotConfirmed => InternalError::new(C::NotConfirmed),
        PayoutError::AlreadyDecided | PayoutError::Conflict => InternalError::new(C::Conflict),
        PayoutError::NoSigningKey => InternalError::internal(&PayoutError::NoSigningKey),
        PayoutError::Busy(b) => {
            let mut e = InternalError::new(C::Busy);
            e.retry_after_secs = Some(b.retry_after_secs.max(1));
            e
        }
        PayoutError::Client(e) => client(e, now),
        PayoutError::Store(e) => store(&e),
    }
}

/// A refused read of a member's qualification.
pub fn qualification(error: QualificationError, now: OffsetDateTime) -> InternalError {
    match error {
        QualificationError::NotEntitled => InternalError::new(InternalCode::NotEntitled),
        QualificationError::Client(e) => payout(e, now),
        QualificationError::Conflict => InternalError::new(InternalCode::Conflict),
        QualificationError::Internal(e) => store(&e.0),
        e @ (QualificationError::Ended
        | QualificationError::NotDue { .. }
        | QualificationError::FaceClosed
        | QualificationError::UnknownAttempt
        | QualificationError::NotRelative
        | QualificationError::AttemptExpired
        | QualificationError::Replayed
        | QualificationError::Unfinished
        | QualificationError::Refused(_)
        | QualificationError::MetaInfoRequired
        | QualificationError::DocumentUnsupported
        | QualificationError::ProviderUnavailable(_)
        | QualificationError::RateLimited { .. }) => InternalError::internal(&e),
    }
}

/// A storage failure: `busy` with `Retry-After` when the database is unavailable,
/// `internal` otherwise.
pub fn store(error: &StoreError) -> InternalError {
    InternalError::internal(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_database_is_busy_with_retry_after_not_a_failure() {
        let down = store(&StoreError::Unavailable(DatabaseUnavailable(
            "connection refused".into(),
        )));
        assert_eq!(down.code(), InternalCode::Busy);
        assert_eq!(down.retry_after_secs, Some(2));
        let failed = store(&StoreError::Backend("disk full".into()));
        assert_eq!(failed.code(), InternalCode::Internal);
    }
}
