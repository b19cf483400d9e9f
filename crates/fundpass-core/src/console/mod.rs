//! The staff console's use cases: staff login with a second factor, member look-up,
//! the counter's in-person check and reset tickets, four-eyes approval, the
//! hotline's caller-verification checklist, the reveal of a full identity, and the
//! auditor's reading of the audit trail and its anomaly reports.
//!
//! Every operation names one [`StaffAction`] and is checked against the role table
//! ([`crate::staff::allowed`]) before anything is read; a refusal is audited like any
//! other staff action. A staff member is refused on their own member account.

mod anomalies;
mod audit;
mod cases;
mod hotline;
mod issue;
mod lockout;
mod login;
mod members;

pub use anomalies::{AnomalyReport, AnomalyRules, NotMeRow, analyse as analyse_anomalies};
pub use audit::{AUDIT_PAGE, AuditPage};
pub use cases::{CaseView, CounterCaseInput, IssuedTicket};
pub use hotline::HotlineInput;
pub use login::{PasswordStep, StaffLoginError};
pub(crate) use members::mask_numbers;
pub use members::{MemberSummary, MessageSummary, Revealed};

use crate::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use crate::identity::{IdNumberError, PhoneError};
use crate::member::{MemberId, MemberRecord};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, PoolBusy, StoreError};
use crate::staff::{StaffAction, StaffRecord, StaffRole, StaffSessionRecord, allowed};

/// A request's verified staff session (password and TOTP) and its account.
#[derive(Debug, Clone)]
pub struct StaffAuth {
    pub session: StaffSessionRecord,
    pub staff: StaffRecord,
}

impl StaffAuth {
    /// The channel staff of this role act through, for audit events.
    pub fn channel(&self) -> Channel {
        match self.staff.role {
            StaffRole::Hotline => Channel::Hotline,
            StaffRole::Counter | StaffRole::Supervisor => Channel::Counter,
            StaffRole::Auditor | StaffRole::Admin => Channel::Internal,
        }
    }
}

/// Why a console operation was refused. Messages are for logs; pages map each
/// variant to a sentence staff understand.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the role {role} may not {}", action.code())]
    NotAllowed {
        role: StaffRole,
        action: StaffAction,
    },
    #[error("staff may not act on their own member account")]
    OwnAccount,
    #[error("no member holds this document")]
    MemberNotFound,
    #[error("the member has not registered for online services")]
    NotRegistered,
    #[error("document number: {0}")]
    BadIdNumber(IdNumberError),
    #[error("phone: {0}")]
    BadPhone(PhoneError),
    /// A field is missing, too long or malformed.
    #[error("the field {0} is missing or malformed")]
    BadField(&'static str),
    #[error("the two new phone numbers differ")]
    PhoneMismatch,
    #[error("the new phone number is the one on file")]
    SamePhone,
    #[error("choose what to reset or a new phone number")]
    NothingChosen,
    #[error("the document on the card is not the one on record")]
    CardMismatch,
    #[error("the card has expired")]
    CardExpired,
    #[error("no such case")]
    UnknownCase,
    /// The same counter form was posted again: the case it opened.
    #[error("this form already opened case {case}")]
    AlreadyOpened { case: String },
    #[error("the case is not at this step")]
    WrongStep,
    #[error("another staff member opened this case")]
    NotYourCase,
    #[error("a case is approved by someone other than who opened it")]
    SelfApproval,
    #[error("hotline resets for this member are locked until {until}")]
    HotlineLocked { until: time::OffsetDateTime },
    #[error("too many failed checklists; checklists are locked until {until}")]
    AgentLocked { until: time::OffsetDateTime },
    #[error("the checklist did not pass")]
    CheckNotPassed,
    /// A hotline reset for a member with a recent reset or a hold: counter only.
    #[error("this member's reset needs a counter visit")]
    CounterOnly { risks: Vec<crate::assisted::Risk> },
    #[error("the checklist was already used or has expired")]
    CheckUsed,
    #[error("another request changed this first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

impl ConsoleError {
    /// The reason code written into the audit event of a refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "not_allowed",
            Self::OwnAccount => "own_account",
            Self::MemberNotFound => "member_not_found",
            Self::NotRegistered => "not_registered",
            Self::BadIdNumber(_) => "bad_id_number",
            Self::BadPhone(_) => "bad_phone",
            Self::BadField(_) => "bad_field",
            Self::PhoneMismatch => "phone_mismatch",
            Self::SamePhone => "same_phone",
            Self::NothingChosen => "nothing_chosen",
            Self::CardMismatch => "card_mismatch",
            Self::CardExpired => "card_expired",
            Self::UnknownCase => "unknown_case",
            Self::AlreadyOpened { .. } => "already_opened",
            Self::WrongStep => "wrong_step",
            Self::NotYourCase => "not_your_case",
            Self::SelfApproval => "self_approval",
            Self::HotlineLocked { .. } => "hotline_locked",
            Self::AgentLocked { .. } => "agent_locked",
            Self::CheckNotPassed => "check_not_passed",
            Self::CounterOnly { .. } => "counter_only",
            Self::CheckUsed => "check_used",
            Self::Conflict => "conflict",
            Self::Busy(_) => "busy",
            Self::Store(_) => "store",
        }
    }
}

impl Portal {
    /// An audit event of a staff action: staff id, branch and role in the details
    /// with `details` (already masked) merged in.
    pub(crate) fn staff_event(
        &self,
        auth: &StaffAuth,
        action: &str,
        outcome: Outcome,
        member: Option<MemberId>,
        details: serde_json::Value,
        ctx: &RequestContext,
    ) -> AuditEvent {
        staff_event_for(
            self.clock.now(),
            &auth.staff,
            auth.channel(),
            action,
            outcome,
            member,
            details,
            ctx,
        )
    }

    /// Writes one audit event on its own.
    pub(crate) async fn audit_only(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
    }

    /// Refuses (and audits) an action the staff member's role may not take.
    pub(crate) async fn require(
        &self,
        auth: &StaffAuth,
        action: StaffAction,
        ctx: &RequestContext,
    ) -> Result<(), ConsoleError> {
        if allowed(auth.staff.role, action) {
            return Ok(());
        }
        let event = self.staff_event(
            auth,
            &format!("staff.{}", action.code()),
            Outcome::Denied,
            None,
            serde_json::json!({"reason": "not_allowed"}),
            ctx,
        );
        self.audit_only(event).await?;
        Err(ConsoleError::NotAllowed {
            role: auth.staff.role,
            action,
        })
    }

    /// Loads a member for a staff action: refused (and audited) when it is the
    /// staff member's own account.
    pub(crate) async fn member_for_staff(
        &self,
        auth: &StaffAuth,
        member: MemberId,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<MemberRecord, ConsoleError> {
        let record = self
            .store
            .member_by_id(member)
            .await?
            .ok_or(ConsoleError::MemberNotFound)?;
        self.refuse_own_account(auth, &record, action, ctx).await?;
        Ok(record)
    }

    /// Refuses (and audits) a staff action on the staff member's own member account.
    pub(crate) async fn refuse_own_account(
        &self,
        auth: &StaffAuth,
        member: &MemberRecord,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<(), ConsoleError> {
        if !auth.staff.is_own_member_account(&member.id_number_index) {
            return Ok(());
        }
        let event = self.staff_event(
            auth,
            action,
            Outcome::Denied,
            Some(member.id),
            serde_json::json!({"reason": "own_account"}),
            ctx,
        );
        self.audit_only(event).await?;
        Err(ConsoleError::OwnAccount)
    }

    /// Audits a refused staff step with its reason code and passes the error on.
    pub(crate) async fn staff_refused<T>(
        &self,
        auth: &StaffAuth,
        action: &str,
        member: Option<MemberId>,
        err: ConsoleError,
        ctx: &RequestContext,
    ) -> Result<T, ConsoleError> {
        let outcome = match err {
            ConsoleError::Store(_) | ConsoleError::Busy(_) | ConsoleError::Conflict => {
                return Err(err);
            }
            ConsoleError::NotAllowed { .. }
            | ConsoleError::OwnAccount
            | ConsoleError::HotlineLocked { .. }
            | ConsoleError::AgentLocked { .. } => Outcome::Denied,
            _ => Outcome::Failure,
        };
        let event = self.staff_event(
            auth,
            action,
            outcome,
            member,
            serde_json::json!({"reason": err.code()}),
            ctx,
        );
        self.audit_only(event).await?;
        Err(err)
    }

    /// A random hex id for a case or checklist (not a secret).
    pub(crate) fn random_id(&self) -> String {
        let mut id = [0u8; 16];
        self.rng.fill(&mut id);
        hex::encode(id)
    }
}

/// The audit event of something a staff account did (or tried).
#[allow(clippy::too_many_arguments)]
pub(crate) fn staff_event_for(
    at: time::OffsetDateTime,
    staff: &StaffRecord,
    channel: Channel,
    action: &str,
    outcome: Outcome,
    member: Option<MemberId>,
    details: serde_json::Value,
    ctx: &RequestContext,
) -> AuditEvent {
    let mut all = serde_json::json!({
        "staff_id": staff.id.0,
        "branch_id": staff.branch.id,
        "role": staff.role.code(),
    });
    if let (Some(all), serde_json::Value::Object(extra)) = (all.as_object_mut(), details) {
        all.extend(extra);
    }
    let mut event = AuditEvent::new(
        at,
        Actor {
            kind: ActorKind::Staff,
            id: Some(staff.username.as_str().to_owned()),
        },
        action,
        channel,
        outcome,
    )
    .details(all);
    event.member_id = member;
    event.ip = ctx.ip.clone();
    event
}
