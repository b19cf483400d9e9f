//! The counter's cases (seed 002 scenario 3, method 2): the in-person check of the
//! original card, what to reset, an optional new phone on file, the supervisor's
//! approval of high-risk cases, and the one-time ticket.

use time::macros::format_description;

use super::{ConsoleError, MemberSummary, StaffAuth};
use crate::assisted::{AssistedCase, CaseOpening, CaseStatus, CaseWrite, ResetScope, ResetTicket};
use crate::audit::{Channel, Outcome};
use crate::crypto::Field;
use crate::identity::{IdNumber, IdType, Phone};
use crate::member::{MemberId, MemberRecord, MemberStatus};
use crate::portal::{Portal, RequestContext, china_today};
use crate::ports::{ChangeSet, StoreError};
use crate::staff::StaffAction;

/// What the counter records of the visit.
#[derive(Debug, Clone, Default)]
pub struct CounterCaseInput {
    /// The case id the form was rendered with ([`Portal::new_case_id`]), so the same
    /// form posted twice (a reload) opens one case, not two.
    pub case_id: String,
    /// The document type and number read from the original card.
    pub card_id_type: String,
    pub card_id_number: String,
    /// The card's expiry date (`YYYY-MM-DD`), unless `card_long_term`.
    pub card_expiry: String,
    pub card_long_term: bool,
    /// Number of the signed reset form collected.
    pub form_number: String,
    /// What to reset (`None`: a phone change alone).
    pub scope: Option<ResetScope>,
    /// A new phone on file, typed twice (both empty: no change).
    pub new_phone: String,
    pub new_phone_again: String,
    /// Also text the ticket to the phone on file.
    pub send_sms: bool,
}

/// A case as the console shows it, with the ticket right after it was issued (the
/// only time it is ever visible).
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: AssistedCase,
    pub member: MemberSummary,
    pub ticket: Option<ResetTicket>,
}

/// A ticket just issued and the case it belongs to.
pub type IssuedTicket = CaseView;

impl Portal {
    /// Records the in-person check and opens a case; a case that needs no approval
    /// is issued at once (the view then carries the ticket).
    pub async fn open_counter_case(
        &self,
        auth: &StaffAuth,
        member: MemberId,
        input: &CounterCaseInput,
        ctx: &RequestContext,
    ) -> Result<CaseView, ConsoleError> {
        const ACTION: &str = "counter.open_case";
        self.require(auth, StaffAction::RecordInPersonCheck, ctx)
            .await?;
        if input.scope.is_some() {
            self.require(auth, StaffAction::IssueCounterTicket, ctx)
                .await?;
        }
        let record = self.member_for_staff(auth, member, ACTION, ctx).await?;
        let case = match self.checked_case(auth, &record, input).await {
            Ok(case) => case,
            Err(e) => return self.staff_refused(auth, ACTION, Some(member), e, ctx).await,
        };
        if case.new_phone.is_some() {
            self.require(auth, StaffAction::ChangePhoneAtCounter, ctx)
                .await?;
        }
        let event = self.staff_event(
            auth,
            ACTION,
            Outcome::Success,
            Some(member),
            serde_json::json!({
                "case": case.id,
                "form_number": case.reference,
                "scope": case.scope.map(ResetScope::code),
                "phone_change": case.new_phone.is_some(),
                "risks": case.risks.iter().map(|r| r.code()).collect::<Vec<_>>(),
            }),
            ctx,
        );
        let opened = self
            .store
            .apply(ChangeSet {
                cases: vec![CaseWrite::Insert(case.clone())],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await;
        match opened {
            Ok(()) => {}
            Err(StoreError::Duplicate(key)) if key == "assisted_cases_pkey" => {
                return Err(ConsoleError::AlreadyOpened { case: case.id });
            }
            Err(e) => return Err(e.into()),
        }
        if case.status == CaseStatus::Approved {
            return self.issue(auth, &case, &record, ctx).await;
        }
        Ok(CaseView {
            member: self.summary(&record).await?,
            case,
            ticket: None,
        })
    }

    /// Issues the ticket of an approved case (the counter that opened it).
    pub async fn issue_counter_ticket(
        &self,
        auth: &StaffAuth,
        case_id: &str,
        ctx: &RequestContext,
    ) -> Result<CaseView, ConsoleError> {
        const ACTION: &str = "counter.issue_ticket";
        self.require(auth, StaffAction::IssueCounterTicket, ctx)
            .await?;
        let case = self.load_case(case_id).await?;
        let member = self
            .member_for_staff(auth, case.member_id, ACTION, ctx)
            .await?;
        let refusal = if case.staff_id != auth.staff.id {
            Some(ConsoleError::NotYourCase)
        } else if case.status != CaseStatus::Approved {
            Some(ConsoleError::WrongStep)
        } else {
            None
        };
        if let Some(e) = refusal {
            return self
                .staff_refused(auth, ACTION, Some(case.member_id), e, ctx)
                .await;
        }
        // Approved a while ago: the approval must still fit the case as it is now.
        if let Some(back) = self.needs_approval_again(&case, &member).await? {
            return self
                .back_to_supervisor(auth, &case, back, &member, ctx)
                .await;
        }
        self.issue(auth, &case, &member, ctx).await
    }

    /// A case as the console shows it: to the counter that opened it and to
    /// supervisors.
    pub async fn staff_case(
        &self,
        auth: &StaffAuth,
        case_id: &str,
        ctx: &RequestContext,
    ) -> Result<CaseView, ConsoleError> {
        let case = self.load_case(case_id).await?;
        let action = if case.staff_id == auth.staff.id {
            StaffAction::RecordInPersonCheck
        } else {
            StaffAction::ApproveHighRisk
        };
        self.require(auth, action, ctx).await?;
        let member = self
            .member_for_staff(auth, case.member_id, "staff.view_case", ctx)
            .await?;
        Ok(CaseView {
            member: self.summary(&member).await?,
            case,
            ticket: None,
        })
    }

    /// Cases waiting for a supervisor, oldest first, with their members (masked).
    pub async fn cases_to_approve(
        &self,
        auth: &StaffAuth,
        ctx: &RequestContext,
    ) -> Result<Vec<CaseView>, ConsoleError> {
        self.require(auth, StaffAction::ApproveHighRisk, ctx)
            .await?;
        let mut out = Vec::new();
        for case in self.store.cases_awaiting_approval(100).await? {
            let Some(member) = self.store.member_by_id(case.member_id).await? else {
                continue;
            };
            // A supervisor does not see cases on their own member account.
            if auth.staff.is_own_member_account(&member.id_number_index) {
                continue;
            }
            out.push(CaseView {
                member: self.summary(&member).await?,
                case,
                ticket: None,
            });
        }
        Ok(out)
    }

    /// A supervisor's decision on a high-risk case: approved (the counter may issue
    /// the ticket) or rejected (closed). Never by the one who opened it.
    pub async fn decide_case(
        &self,
        auth: &StaffAuth,
        case_id: &str,
        approve: bool,
        ctx: &RequestContext,
    ) -> Result<AssistedCase, ConsoleError> {
        let action = if approve {
            "counter.approve_case"
        } else {
            "counter.reject_case"
        };
        self.require(auth, StaffAction::ApproveHighRisk, ctx)
            .await?;
        let case = self.load_case(case_id).await?;
        self.member_for_staff(auth, case.member_id, action, ctx)
            .await?;
        // Two accounts of one person (a counter and a supervisor account held by the
        // same member) are one pair of eyes.
        let opener = self.store.staff_by_id(case.staff_id).await?;
        let same_person = opener
            .as_ref()
            .is_some_and(|o| o.member_index.is_some() && o.member_index == auth.staff.member_index);
        let refusal = if case.staff_id == auth.staff.id || same_person {
            Some(ConsoleError::SelfApproval)
        } else if case.status != CaseStatus::AwaitingApproval {
            Some(ConsoleError::WrongStep)
        } else {
            None
        };
        if let Some(e) = refusal {
            return self
                .staff_refused(auth, action, Some(case.member_id), e, ctx)
                .await;
        }
        let now = self.clock.now();
        let next = AssistedCase {
            status: if approve {
                CaseStatus::Approved
            } else {
                CaseStatus::Closed
            },
            approved_by: approve.then_some(auth.staff.id),
            approved_at: approve.then_some(now),
            updated_at: now,
            version: case.version + 1,
            ..case.clone()
        };
        let event = self.staff_event(
            auth,
            action,
            Outcome::Success,
            Some(case.member_id),
            serde_json::json!({
                "case": case.id,
                "form_number": case.reference,
                "opened_by": case.staff_id.0,
            }),
            ctx,
        );
        self.store
            .apply(ChangeSet {
                cases: vec![CaseWrite::Update {
                    record: next.clone(),
                    expected_version: case.version,
                }],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(next)
    }

    /// A fresh case id for a counter form.
    pub fn new_case_id(&self) -> String {
        self.random_id()
    }

    pub(crate) async fn load_case(&self, id: &str) -> Result<AssistedCase, ConsoleError> {
        let id = id.trim();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConsoleError::UnknownCase);
        }
        self.store
            .case_by_id(id)
            .await?
            .ok_or(ConsoleError::UnknownCase)
    }

    /// Checks what the counter recorded and builds the case (not stored yet).
    async fn checked_case(
        &self,
        auth: &StaffAuth,
        member: &MemberRecord,
        input: &CounterCaseInput,
    ) -> Result<AssistedCase, ConsoleError> {
        let now = self.clock.now();
        let today = china_today(now);
        let card_type = IdType::from_code(input.card_id_type.trim())
            .ok_or(ConsoleError::BadField("card_id_type"))?;
        let card = IdNumber::parse(card_type, &input.card_id_number, today)
            .map_err(ConsoleError::BadIdNumber)?;
        let index = self.keyring.blind_index(Field::IdNumber, card.normalised());
        if card_type != member.id_type || index != member.id_number_index {
            return Err(ConsoleError::CardMismatch);
        }
        let expiry = if input.card_long_term {
            "long_term".to_owned()
        } else {
            let date = time::Date::parse(
                input.card_expiry.trim(),
                format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| ConsoleError::BadField("card_expiry"))?;
            if date < today {
                return Err(ConsoleError::CardExpired);
            }
            date.to_string()
        };
        let form = input.form_number.trim();
        let form_ok = (1..=32).contains(&form.len())
            && form.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !form_ok {
            return Err(ConsoleError::BadField("form_number"));
        }
        let new_phone = self.checked_new_phone(member, input)?;
        if input.scope.is_none() && new_phone.is_none() {
            return Err(ConsoleError::NothingChosen);
        }
        if input.scope.is_some() && member.status != MemberStatus::Registered {
            return Err(ConsoleError::NotRegistered);
        }
        let risks = self
            .current_risks(member.id, input.scope, new_phone.is_some())
            .await?;
        let (new_phone, new_phone_index) = match new_phone {
            Some(p) => (
                Some(
                    self.keyring
                        .seal(Field::Phone, p.normalised(), self.rng.as_ref()),
                ),
                Some(self.keyring.blind_index(Field::Phone, p.normalised())),
            ),
            None => (None, None),
        };
        // A form rendered by the console carries its case id; one without (an older
        // page) opens a case of a new id, one with anything else is refused.
        let id = match input.case_id.trim() {
            "" => self.random_id(),
            id if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                id.to_ascii_lowercase()
            }
            _ => return Err(ConsoleError::BadField("case_id")),
        };
        let status = if risks.is_empty() {
            CaseStatus::Approved
        } else {
            CaseStatus::AwaitingApproval
        };
        let opening = CaseOpening {
            id,
            member_id: member.id,
            channel: Channel::Counter,
            scope: input.scope,
            staff_id: auth.staff.id,
            branch_id: auth.staff.branch.id.clone(),
            reference: form.to_owned(),
            check: serde_json::json!({
                "card_id_type": card_type.code(),
                "card_id_number": card.masked(),
                "card_expiry": expiry,
                "form_number": form,
                "send_sms": input.send_sms,
            }),
        };
        Ok(AssistedCase {
            new_phone,
            new_phone_index,
            risks,
            status,
            ..AssistedCase::opened(opening, now)
        })
    }

    fn checked_new_phone(
        &self,
        member: &MemberRecord,
        input: &CounterCaseInput,
    ) -> Result<Option<Phone>, ConsoleError> {
        let (first, again) = (input.new_phone.trim(), input.new_phone_again.trim());
        if first.is_empty() && again.is_empty() {
            return Ok(None);
        }
        let phone = Phone::parse(first).map_err(ConsoleError::BadPhone)?;
        let again = Phone::parse(again).map_err(|_| ConsoleError::PhoneMismatch)?;
        if phone != again {
            return Err(ConsoleError::PhoneMismatch);
        }
        let index = self.keyring.blind_index(Field::Phone, phone.normalised());
        if index == member.phone_index {
            return Err(ConsoleError::SamePhone);
        }
        Ok(Some(phone))
    }
}
