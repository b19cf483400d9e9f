//! Ports: the traits adapters implement so that the domain never touches a database,
//! the clock, the SMS gateway or the operating system's random source directly.

mod assisted;
mod audit;
mod business;
mod face;
mod members;
mod portal;
mod qualification;
mod record;
mod sms;
mod sms_purpose;
mod staff;

pub use assisted::{CaseStore, PiiWrite, StaffSessionStore, StaffWrite};
pub use audit::AuditStore;
pub use business::{AuthorizationStore, ClientStore, WebhookStore};
pub use face::{
    FaceBegin, FaceConclusion, FaceHandle, FaceProvider, FaceProviderError, FaceSubject,
};
pub use members::{MemberImport, MemberStore, Repeat, Repeated};
pub use portal::{
    CaptchaRecord, CaptchaStore, ChangeSet, CpuPool, EndedHold, FlowStore, FlowWrite, Health,
    HoldAnnounced, HoldStore, MemberWrite, PoolBusy, PortalStore, RateDecision, RateLimiter,
    SecretHistoryEntry, SecurityQuestionStore, SessionStore, SessionWrite, ThrottleStore,
    ThrottleWrite, UnitOfWork, run_on_pool,
};
pub use qualification::{BenefitImport, QualificationStore};
pub use record::{MemberEventStore, MemberEventsQuery};
pub use sms::{
    DeliveryState, IncomingReceipt, OutboxMessage, OutboxStore, Receipt, ReceiptState, SmsAccepted,
    SmsError, SmsRequest, SmsSender,
};
pub use sms_purpose::{BadStoredParams, SmsContent, SmsPurpose};
pub use staff::StaffStore;

use time::OffsetDateTime;

/// The current time, injected so that expiry and lockout rules can be tested by moving
/// a fake clock instead of sleeping.
pub trait Clock: Send + Sync {
    /// The current instant in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Cryptographically secure random bytes, injected so the domain never reaches for a
/// global generator and tests can be deterministic where they need to be.
pub trait SecretGenerator: Send + Sync {
    /// Fills `buf` with bytes from a CSPRNG.
    fn fill(&self, buf: &mut [u8]);
}

/// Why a store operation failed, in terms the domain can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row changed since it was read (optimistic concurrency): reload and retry, or
    /// report that another request won.
    #[error("the record was changed by another request")]
    Conflict,
    /// The row does not exist.
    #[error("the record does not exist")]
    NotFound,
    /// A uniqueness rule was broken (named by the constraint).
    #[error("a record with the same {0} already exists")]
    Duplicate(String),
    /// The database failed; the message is for logs, never for members.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The database cannot be reached or is refusing work for now (stopped,
    /// restarting, connections cut, every connection busy): nothing was done, and the
    /// same request may succeed in a moment. Members are asked to come back, not
    /// shown an error.
    #[error("the database is unavailable")]
    Unavailable(#[source] DatabaseUnavailable),
}

/// Why the database is unavailable, for logs: the source of
/// [`StoreError::Unavailable`], a type of its own so that adapters find it in any
/// error's cause chain (use-case errors wrap the store's transparently, so their
/// chain skips the [`StoreError`] and shows its source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the database is unavailable: {0}")]
pub struct DatabaseUnavailable(pub String);

impl DatabaseUnavailable {
    /// Seconds a client is asked to wait (`Retry-After`) before trying again.
    pub const RETRY_AFTER_SECS: u64 = 2;

    /// Whether `error` or anything in its cause chain says the database is unavailable.
    pub fn in_chain(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(e) = next {
            if e.is::<DatabaseUnavailable>()
                || matches!(
                    e.downcast_ref::<StoreError>(),
                    Some(StoreError::Unavailable(_))
                )
            {
                return true;
            }
            next = e.source();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum UseCase {
        #[error(transparent)]
        Store(StoreError),
    }

    #[test]
    fn an_unavailable_database_is_found_however_the_store_error_is_wrapped() {
        let unavailable = || StoreError::Unavailable(DatabaseUnavailable("refused".into()));
        assert!(DatabaseUnavailable::in_chain(&unavailable()));
        assert!(DatabaseUnavailable::in_chain(
            &UseCase::Store(unavailable())
        ));
        let failed = StoreError::Backend("disk full".into());
        assert!(!DatabaseUnavailable::in_chain(&failed));
        assert!(!DatabaseUnavailable::in_chain(&UseCase::Store(failed)));
    }
}
