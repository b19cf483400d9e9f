//! The relatives' service (亲情服务): a registered member adds an elderly or disabled
//! relative who receives a benefit, by the relative's document and name, and the
//! relative confirms by reading back a code sent to their phone on file. The member
//! can then run the relative's qualification check on their own phone, with the
//! relative's face: the provider compares the face with the relative's document, so
//! the member's own face is refused.
//!
//! The start answers the same whether or not the details are an entitled member's
//! (a code goes out only when they are), so the service cannot be used to learn who
//! receives a benefit.

use time::{Duration, OffsetDateTime};

use super::{QualificationError, QualificationStatus, QualificationWrite};
use crate::audit::Outcome;
use crate::crypto::{Field, OneTimeCode, OpaqueToken};
use crate::flow::{FlowError, FlowKind, FlowRecord};
use crate::identity::{IdNumber, IdNumberError, IdType};
use crate::member::{MemberId, MemberRecord};
use crate::portal::{Authenticated, Portal, RequestContext, china_today};
use crate::ports::{ChangeSet, FlowWrite, RateDecision, SmsPurpose};

const KIND: FlowKind = FlowKind::RelativeLink;

/// Relatives one member may try to add per day.
pub const LINKS_PER_MEMBER_DAY: u32 = 5;

/// A confirmed link between a member and a relative whose check they may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativeLink {
    /// The member who runs the checks.
    pub member_id: MemberId,
    /// The relative who receives the benefit.
    pub relative_id: MemberId,
    pub confirmed_at: OffsetDateTime,
    /// `sms` (the relative read back a code) or `counter` (confirmed in person).
    pub confirmed_via: &'static str,
}

/// What a member types to add a relative.
#[derive(Debug, Clone, Copy)]
pub struct RelativeInput<'a> {
    pub id_type: IdType,
    pub id_number: &'a str,
    pub name: &'a str,
}

/// A started link: the flow to confirm with the code the relative receives.
#[derive(Debug, Clone)]
pub struct LinkStarted {
    pub flow: OpaqueToken,
    pub code_expires_at: OffsetDateTime,
}

/// Why a relative could not be added.
#[derive(Debug, thiserror::Error)]
pub enum RelativeError {
    #[error("enter the name as it appears on the document")]
    BadName,
    #[error("the document number is not valid: {0}")]
    BadIdNumber(IdNumberError),
    #[error("too many relatives added; try again after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    /// No such link flow, or another member's.
    #[error("no such request to add a relative")]
    UnknownFlow,
    #[error(transparent)]
    Flow(FlowError),
    #[error(transparent)]
    Qualification(#[from] QualificationError),
}

impl From<crate::ports::StoreError> for RelativeError {
    fn from(e: crate::ports::StoreError) -> Self {
        Self::Qualification(e.into())
    }
}

/// The flow's binding to the member who started it.
fn owner_key(member: MemberId) -> Vec<u8> {
    member.0.to_be_bytes().to_vec()
}

impl Portal {
    /// Starts adding a relative: when the document and name are an entitled member's
    /// (not the signed-in member), a code goes to that member's phone on file.
    pub async fn start_relative_link(
        &self,
        auth: &Authenticated,
        input: &RelativeInput<'_>,
        ctx: &RequestContext,
    ) -> Result<LinkStarted, RelativeError> {
        let now = self.clock.now();
        let name = crate::member::typed_name(input.name).ok_or(RelativeError::BadName)?;
        let id = IdNumber::parse(input.id_type, input.id_number, china_today(now))
            .map_err(RelativeError::BadIdNumber)?;
        let key = format!("relative-link:member:{}", auth.member.id.0);
        if let RateDecision::Limited { retry_after } = self
            .limiter
            .hit(&key, Duration::days(1), LINKS_PER_MEMBER_DAY, now)
            .await?
        {
            return Err(RelativeError::RateLimited { retry_after });
        }
        let relative = self.entitled_relative(auth, &id, name).await?;
        let flow = OpaqueToken::generate(self.rng.as_ref());
        let code = OneTimeCode::generate(self.rng.as_ref());
        let mac = self
            .keyring
            .code_mac(KIND.code(), &flow.digest().0, &code)
            .to_vec();
        let mut change = ChangeSet::default();
        let mut record = FlowRecord::start(
            flow.digest(),
            KIND,
            relative.as_ref().map(|r| r.id),
            mac,
            now,
            &self.policy.flow,
        );
        record.subject_key = Some(owner_key(auth.member.id));
        // The member's own record says only that they asked: whether the details
        // were an entitled member's is not for them to learn.
        change.audit.push(self.qualification_event(
            "qualification.relative_start",
            Outcome::Success,
            auth.member.id,
            ctx,
        ));
        if let Some(r) = &relative {
            let phone = self.phone_on_file(r)?;
            // A phone that had its texts gets none, with the same answer.
            let texted = self.sms_allowed(&phone, ctx).await? == RateDecision::Allowed;
            if texted {
                let text = self.code_text(&self.templates.relative_code, &code);
                change.outbox.push(self.outbox_message(
                    Some(r.id),
                    SmsPurpose::RelativeCode,
                    &phone,
                    &text,
                ));
            }
            // On the relative's record: who asked to run their checks.
            change.audit.push(
                self.event_by(
                    "qualification.relative_start",
                    Outcome::Success,
                    (auth.member.id, r.id),
                    ctx,
                )
                .details(serde_json::json!({
                    "requested_by": auth.member.account_no.as_str(), "texted": texted,
                })),
            );
        }
        let started = LinkStarted {
            flow,
            code_expires_at: record.code_expires_at,
        };
        change.flows.push(FlowWrite::Insert(record));
        self.store.apply(change).await?;
        Ok(started)
    }

    /// The entitled member the details name, if they are someone else's and their
    /// benefit has not ended.
    async fn entitled_relative(
        &self,
        auth: &Authenticated,
        id: &IdNumber,
        name: &str,
    ) -> Result<Option<MemberRecord>, RelativeError> {
        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
        let Some(found) = self.store.member_by_id_number(id.id_type(), &index).await? else {
            return Ok(None);
        };
        if found.id == auth.member.id || found.name != name {
            return Ok(None);
        }
        let entitled = self
            .store
            .benefit(found.id)
            .await?
            .is_some_and(|b| b.status != QualificationStatus::Ended);
        Ok(entitled.then_some(found))
    }

    /// Confirms a link with the code the relative read back and returns the
    /// relative's standing. A wrong code counts against the flow, as every code does.
    pub async fn confirm_relative_link(
        &self,
        auth: &Authenticated,
        flow: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<super::QualificationView, RelativeError> {
        let now = self.clock.now();
        let token = OpaqueToken::parse(flow.trim()).ok_or(RelativeError::UnknownFlow)?;
        let record = match self.store.flow(&token.digest()).await? {
            Some(f) if f.kind == KIND && f.subject_key == Some(owner_key(auth.member.id)) => f,
            _ => return Err(RelativeError::UnknownFlow),
        };
        let matches = record.member_id.is_some()
            && OneTimeCode::parse(code).is_some_and(|c| {
                self.keyring
                    .code_matches(KIND.code(), &record.id.0, &c, &record.code_mac)
            });
        let (next, step) = record.enter_code(matches, now, &self.policy.flow);
        let relative = match (step, record.member_id) {
            (Ok(()), Some(relative)) => self.store.member_by_id(relative).await?,
            _ => None,
        };
        let mut change = ChangeSet::default();
        let outcome = if relative.is_some() {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let mut event = self.qualification_event(
            "qualification.relative_confirm",
            outcome,
            auth.member.id,
            ctx,
        );
        if let Some(r) = &relative {
            let done = next.complete(now).map_err(RelativeError::Flow)?;
            change.flows.push(FlowWrite::Update {
                record: done,
                expected_version: record.version,
            });
            let existing = self.store.relatives_of(auth.member.id).await?;
            if !existing.iter().any(|l| l.relative_id == r.id) {
                change
                    .qualification
                    .push(QualificationWrite::Relative(RelativeLink {
                        member_id: auth.member.id,
                        relative_id: r.id,
                        confirmed_at: now,
                        confirmed_via: "sms",
                    }));
            }
            event = event
                .details(serde_json::json!({ "relative": r.account_no.as_str(), "via": "sms" }));
        } else if next != record {
            change.flows.push(FlowWrite::Update {
                record: next.clone(),
                expected_version: record.version,
            });
            event = event.details(serde_json::json!({ "wrong_codes": next.wrong_codes }));
        }
        change.audit.push(event);
        // The same relative confirmed twice at once: the second finds the link made.
        self.store.apply(change).await.map_err(|e| match e {
            crate::ports::StoreError::Duplicate(_) => {
                RelativeError::Qualification(QualificationError::Conflict)
            }
            other => other.into(),
        })?;
        match relative {
            Some(r) => Ok(self.standing_of(&r).await?),
            None => Err(RelativeError::Flow(match step {
                Err(e) => e,
                Ok(()) => FlowError::WrongStep,
            })),
        }
    }

    /// The relatives whose checks the signed-in member may run, with their benefits.
    pub async fn my_relatives(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<super::QualificationView>, QualificationError> {
        let mut out = Vec::new();
        for link in self.store.relatives_of(auth.member.id).await? {
            let Some(member) = self.store.member_by_id(link.relative_id).await? else {
                continue;
            };
            if let Some(benefit) = self.store.benefit(member.id).await? {
                out.push(self.view_of(&member, &benefit));
            }
        }
        Ok(out)
    }

    /// The relative (by account number) whose check the signed-in member may run.
    pub(crate) async fn linked_relative(
        &self,
        auth: &Authenticated,
        account_no: &str,
    ) -> Result<MemberRecord, QualificationError> {
        let account = crate::member::AccountNumber::parse(account_no)
            .map_err(|_| QualificationError::NotRelative)?;
        let relative = self
            .store
            .member_by_account(&account)
            .await?
            .ok_or(QualificationError::NotRelative)?;
        let links = self.store.relatives_of(auth.member.id).await?;
        if !links.iter().any(|l| l.relative_id == relative.id) {
            return Err(QualificationError::NotRelative);
        }
        Ok(relative)
    }
}
