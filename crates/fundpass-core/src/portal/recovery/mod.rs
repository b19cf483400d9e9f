//! Getting a forgotten secret back, as in the source documents: the login password
//! online with the transaction password, the transaction password while logged in
//! with an SMS code to the phone on file, and both in the app after a face
//! verification login.
//!
//! Nothing on the account changes until a flow completes (failure counters aside),
//! and every completion ends all the member's sessions, clears the reset secret's
//! lock, places a hold, queues an SMS notice in the same transaction, and is audited.

mod face;
mod face_query;
mod forgot_login;
mod forgot_transaction;
mod reset;
mod ticket;

use time::OffsetDateTime;

pub use face::{FaceChallenge, FaceStartInput};
pub(crate) use face_query::{BadMetaInfo, clean_meta_info};
pub use forgot_transaction::TransactionRecoveryStarted;
pub use reset::MemberFacts;
pub(crate) use reset::check_new_secret;
pub use ticket::{TicketChecked, TicketError};

use super::{Portal, RequestContext};
use crate::audit::{Actor, ActorKind, AuditEvent, Outcome};
use crate::credentials::PolicyViolation;
use crate::crypto::OpaqueToken;
use crate::face::FaceRejection;
use crate::flow::{FlowError, FlowKind, FlowRecord};
use crate::identity::{IdNumber, IdNumberError, IdType, PhoneError};
use crate::member::MemberId;
use crate::ports::{PoolBusy, StoreError};

/// What the member types to say who they are.
#[derive(Debug, Clone)]
pub struct RecoveryIdentify {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
}

/// A new secret, typed twice.
#[derive(Clone)]
pub struct NewSecret {
    pub value: String,
    pub again: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecret([redacted])")
    }
}

/// A started recovery flow: the bearer id the client keeps for the next steps.
#[derive(Debug, Clone)]
pub struct RecoveryStarted {
    pub flow: OpaqueToken,
    pub expires_at: OffsetDateTime,
}

/// Why a recovery step was refused. Members see neutral wording where a specific
/// answer would reveal whether an account exists (`NotVerified`).
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("name is empty, too long or has a control character")]
    BadName,
    #[error("document number: {0}")]
    BadIdNumber(IdNumberError),
    #[error("phone: {0}")]
    BadPhone(PhoneError),
    #[error("too many requests; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    #[error("the flow is unknown")]
    UnknownFlow,
    #[error(transparent)]
    Flow(FlowError),
    /// The details or the proof given do not match (which one is not said).
    #[error("the details given could not be verified; {remaining} tries left")]
    NotVerified { remaining: i32 },
    /// The name and document typed are not those of the logged-in member.
    #[error("the details given are not those of the logged-in member")]
    NotYourAccount,
    #[error("the transaction password is locked until {until}")]
    TransactionLocked { until: OffsetDateTime },
    #[error("the transaction password is disabled until it is recovered")]
    TransactionDisabled,
    #[error("too many wrong codes for this member; locked until {until}")]
    CodesLocked { until: OffsetDateTime },
    #[error("the new secret does not meet the rules")]
    Secret {
        violations: Vec<PolicyViolation>,
        mismatch: bool,
    },
    #[error("face result rejected: {0}")]
    Face(FaceRejection),
    #[error("this face result was already used")]
    FaceReplayed,
    /// Too many rejected face results: manual review or the counter instead.
    #[error("too many face attempts; use manual review or a counter")]
    FaceAttemptsExhausted { until: Option<OffsetDateTime> },
    /// A valid face result for someone who cannot use face login (not registered).
    #[error("face login is not available for this person")]
    FaceNotEligible,
    /// The face verification provider could not be reached or refused fundpass's
    /// request; nothing was recorded and the same request may work later.
    #[error("the face verification provider is unavailable: {0}")]
    FaceProviderUnavailable(String),
    /// The provider has no result for the flow yet: the check was not finished in
    /// the app. The flow is unchanged.
    #[error("the face verification has not been finished in the app")]
    FaceUnfinished,
    /// The configured provider verifies resident identity cards only.
    #[error("face verification is available for resident identity cards only")]
    FaceDocumentUnsupported,
    /// The provider needs what its SDK on the phone produces (`meta_info`).
    #[error("the app must send the provider SDK's meta_info")]
    FaceMetaInfoRequired,
    #[error("another request finished this step first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RecoveryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

impl RecoveryError {
    /// The error for a flow step that was refused.
    fn from_flow(e: FlowError) -> Self {
        match e {
            FlowError::WrongProof { remaining } => Self::NotVerified { remaining },
            other => Self::Flow(other),
        }
    }
}

pub(crate) use super::notify::china_today;

impl Portal {
    /// An audit event of a step taken by a member (or by someone claiming to be one,
    /// when `member` is `None`).
    pub(crate) fn recovery_event(
        &self,
        action: &str,
        outcome: Outcome,
        member: Option<MemberId>,
        ctx: &RequestContext,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(
            self.clock.now(),
            Actor {
                kind: ActorKind::Member,
                id: member.map(|m| m.0.to_string()),
            },
            action,
            ctx.channel,
            outcome,
        );
        if let Some(m) = member {
            e = e.member(m);
        }
        e.ip = ctx.ip.clone();
        e
    }

    /// Checks the name and document format of an identify step.
    pub(crate) fn parse_identify(
        &self,
        input: &RecoveryIdentify,
    ) -> Result<(String, IdNumber), RecoveryError> {
        let name = crate::member::typed_name(&input.name).ok_or(RecoveryError::BadName)?;
        let id = IdNumber::parse(
            input.id_type,
            &input.id_number,
            china_today(self.clock.now()),
        )
        .map_err(RecoveryError::BadIdNumber)?;
        Ok((name.to_owned(), id))
    }

    /// A keyed MAC of a document, under a purpose, to count failures of identifiers
    /// that match nobody like a member's.
    pub(crate) fn subject_key(&self, purpose: &str, id: &IdNumber) -> Vec<u8> {
        let text = format!("{}:{}", id.id_type().code(), id.normalised());
        self.keyring.answer_mac(purpose, &text).to_vec()
    }

    /// The registered member holding this document, if any.
    pub(crate) async fn registered_holder(
        &self,
        id: &IdNumber,
    ) -> Result<Option<crate::member::MemberRecord>, StoreError> {
        let index = self
            .keyring
            .blind_index(crate::crypto::Field::IdNumber, id.normalised());
        Ok(self
            .store
            .member_by_id_number(id.id_type(), &index)
            .await?
            .filter(|m| m.status == crate::member::MemberStatus::Registered))
    }

    /// Stores a new flow with the audit event of its first step; `matched` says in
    /// the event (for operators only) whether the details matched a member.
    pub(crate) async fn insert_flow(
        &self,
        record: FlowRecord,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let matched = record.member_id;
        let event = self
            .recovery_event(action, Outcome::Success, matched, ctx)
            .details(serde_json::json!({"matched": matched.is_some()}));
        self.store
            .apply(crate::ports::ChangeSet {
                flows: vec![crate::ports::FlowWrite::Insert(record)],
                audit: vec![event],
                ..Default::default()
            })
            .await
    }

    /// Loads a flow of `kind` by its bearer id.
    pub(crate) async fn load_flow_of(
        &self,
        flow: &str,
        kind: FlowKind,
    ) -> Result<(OpaqueToken, FlowRecord), RecoveryError> {
        let token = OpaqueToken::parse(flow.trim()).ok_or(RecoveryError::UnknownFlow)?;
        match self.store.flow(&token.digest()).await? {
            Some(f) if f.kind == kind => Ok((token, f)),
            _ => Err(RecoveryError::UnknownFlow),
        }
    }
}
