//! Issuing a counter case: the new phone on file, the ticket and its notices in one
//! change, the approval checked again first, and the member's older tickets closed;
//! the ticket lifetimes and texts the hotline uses too.

use super::{CaseView, ConsoleError, StaffAuth};
use crate::assisted::{
    AssistedCase, CaseStatus, CaseWrite, ResetScope, ResetTicket, Risk, RiskFacts, assess,
};
use crate::audit::{Channel, Outcome};
use crate::crypto::{BlindIndex, Field, Sealed};
use crate::identity::Phone;
use crate::member::{HoldReason, MemberId, MemberRecord, PiiUpdate};
use crate::portal::{Portal, RequestContext, china_time, fill};
use crate::ports::{ChangeSet, PiiWrite, SessionWrite, SmsContent, SmsPurpose, StoreError};

impl Portal {
    /// Issues an approved case in one change: the new phone on file (hold, notice to
    /// the old phone, every session ended), the ticket (shown once; texted to the
    /// phone on file when asked), the notices of it (to the old phone as well when
    /// the phone changes), and every older ticket of the member closed.
    pub(super) async fn issue(
        &self,
        auth: &StaffAuth,
        case: &AssistedCase,
        member: &MemberRecord,
        ctx: &RequestContext,
    ) -> Result<CaseView, ConsoleError> {
        let now = self.clock.now();
        let mut change = ChangeSet {
            cases: self.close_issued_cases(case.member_id, now).await?,
            ..ChangeSet::default()
        };
        let old_phone = self.phone_on_file(member)?;
        let phone = match (&case.new_phone, &case.new_phone_index) {
            (Some(sealed), Some(index)) => {
                self.phone_change_writes(&mut change, member, sealed, index, &old_phone, case)?
            }
            _ => old_phone.clone(),
        };
        let mut next = AssistedCase {
            updated_at: now,
            version: case.version + 1,
            status: CaseStatus::Closed,
            ..case.clone()
        };
        let ticket = case.scope.map(|scope| {
            let ticket = ResetTicket::generate(self.rng.as_ref());
            next.status = CaseStatus::Issued;
            next.ticket_mac = Some(ticket.mac(&self.keyring));
            next.ticket_expires_at = Some(now + self.ticket_ttl(case.channel));
            next.issued_at = Some(now);
            let send_sms = case.check.get("send_sms") == Some(&serde_json::Value::Bool(true));
            let notice = self.ticket_issued_notice(scope, case.channel);
            let (purpose, text) = if send_sms {
                (
                    SmsPurpose::ResetTicket,
                    self.ticket_text(&ticket, scope, case.channel),
                )
            } else {
                (SmsPurpose::TicketIssued, notice.clone())
            };
            let member_id = Some(member.id);
            change
                .outbox
                .push(self.outbox_message(member_id, purpose, &phone, &text));
            if phone != old_phone {
                change.outbox.push(self.outbox_message(
                    member_id,
                    SmsPurpose::TicketIssued,
                    &old_phone,
                    &notice,
                ));
            }
            ticket
        });
        change.cases.push(CaseWrite::Update {
            record: next.clone(),
            expected_version: case.version,
        });
        change.audit.push(self.staff_event(
            auth,
            "counter.issue_ticket",
            Outcome::Success,
            Some(member.id),
            serde_json::json!({
                "case": case.id,
                "form_number": case.reference,
                "ticket": ticket.is_some(),
                "phone_change": case.new_phone.is_some(),
                "approved_by": case.approved_by.map(|s| s.0),
            }),
            ctx,
        ));
        self.store.apply(change).await?;
        let member = self
            .store
            .member_by_id(member.id)
            .await?
            .ok_or(ConsoleError::MemberNotFound)?;
        Ok(CaseView {
            member: self.summary(&member).await?,
            case: next,
            ticket,
        })
    }

    /// The high-risk reasons of resetting `scope` (with or without a new phone) for
    /// `member` now: the one place the rules get their facts.
    pub(crate) async fn current_risks(
        &self,
        member: MemberId,
        scope: Option<ResetScope>,
        phone_change: bool,
    ) -> Result<Vec<Risk>, StoreError> {
        let now = self.clock.now();
        let facts = RiskFacts {
            last_reset_at: self.store.last_reset_at(member).await?,
            active_hold: !self.store.active_holds(member, now).await?.is_empty(),
            scope,
            phone_change,
        };
        Ok(assess(&facts, &self.policy.assisted, now))
    }

    /// The risks a case must go back to a supervisor with, if any: an approval more
    /// than a day old, or a risk that was not there when it was approved (or opened).
    pub(super) async fn needs_approval_again(
        &self,
        case: &AssistedCase,
        member: &MemberRecord,
    ) -> Result<Option<Vec<Risk>>, ConsoleError> {
        let now = self.clock.now();
        let risks = self
            .current_risks(member.id, case.scope, case.new_phone.is_some())
            .await?;
        let new_risk = risks.iter().any(|r| !case.risks.contains(r));
        let stale = case
            .approved_at
            .is_some_and(|at| now - at > self.policy.assisted.counter_ticket_ttl);
        Ok((new_risk || stale).then_some(risks))
    }

    /// Sends a case back to the supervisors' list with its current risks.
    pub(super) async fn back_to_supervisor(
        &self,
        auth: &StaffAuth,
        case: &AssistedCase,
        risks: Vec<Risk>,
        member: &MemberRecord,
        ctx: &RequestContext,
    ) -> Result<CaseView, ConsoleError> {
        let now = self.clock.now();
        let next = AssistedCase {
            status: CaseStatus::AwaitingApproval,
            risks,
            approved_by: None,
            approved_at: None,
            updated_at: now,
            version: case.version + 1,
            ..case.clone()
        };
        let event = self.staff_event(
            auth,
            "counter.issue_ticket",
            Outcome::Denied,
            Some(member.id),
            serde_json::json!({
                "case": case.id,
                "form_number": case.reference,
                "reason": "needs_approval",
                "risks": next.risks.iter().map(|r| r.code()).collect::<Vec<_>>(),
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
        Ok(CaseView {
            member: self.summary(member).await?,
            case: next,
            ticket: None,
        })
    }

    /// The writes of a new phone on file: personal data, a hold, the notice to the
    /// old phone, every session ended. Returns the new phone.
    fn phone_change_writes(
        &self,
        change: &mut ChangeSet,
        member: &MemberRecord,
        sealed: &Sealed,
        index: &BlindIndex,
        old_phone: &Phone,
        case: &AssistedCase,
    ) -> Result<Phone, ConsoleError> {
        let now = self.clock.now();
        let t = &self.templates;
        let opened = self
            .keyring
            .open(Field::Phone, sealed)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let new = Phone::parse(&opened).map_err(ConsoleError::BadPhone)?;
        change.pii.push(PiiWrite {
            id: member.id,
            expected_version: member.version,
            update: PiiUpdate {
                id_number: member.id_number.clone(),
                id_number_index: member.id_number_index.clone(),
                phone: sealed.clone(),
                phone_index: index.clone(),
                at: now,
            },
        });
        let notice = fill(
            &t.phone_changed,
            &[
                ("time", &china_time(now)),
                ("channel", self.channel_name(case.channel)),
                ("masked", &new.masked()),
                ("hotline", &t.hotline),
            ],
        );
        change.outbox.push(self.outbox_message(
            Some(member.id),
            SmsPurpose::PhoneChanged,
            old_phone,
            &notice,
        ));
        let hold = self
            .policy
            .holds
            .hold(member.id, HoldReason::PhoneChange, case.channel, now);
        change
            .events
            .extend(crate::clients::BusinessEvent::for_holds(
                member,
                std::slice::from_ref(&hold),
                self.rng.as_ref(),
            ));
        change.holds.push(hold);
        change.sessions.push(SessionWrite::RevokeAll {
            member: member.id,
            at: now,
        });
        Ok(new)
    }

    /// "Staff issued a reset ticket for …; if it was not you, call …".
    fn ticket_issued_notice(&self, scope: ResetScope, channel: Channel) -> SmsContent {
        let t = &self.templates;
        fill(
            &t.ticket_issued,
            &[
                ("time", &china_time(self.clock.now())),
                ("channel", self.channel_name(channel)),
                ("secrets", &self.secret_names(scope.kinds().iter().copied())),
                ("hotline", &t.hotline),
            ],
        )
    }

    /// Closes every ticket of the member that is still out, so that a new ticket (or
    /// phone) leaves at most one live: two cases opened side by side can never give
    /// two resets.
    pub(crate) async fn close_issued_cases(
        &self,
        member: MemberId,
        now: time::OffsetDateTime,
    ) -> Result<Vec<CaseWrite>, StoreError> {
        Ok(self
            .store
            .issued_cases_of(member)
            .await?
            .into_iter()
            .map(|c| CaseWrite::Update {
                expected_version: c.version,
                record: AssistedCase {
                    status: CaseStatus::Closed,
                    updated_at: now,
                    version: c.version + 1,
                    ..c
                },
            })
            .collect())
    }

    /// How long a ticket of this channel is good for.
    pub(crate) fn ticket_ttl(&self, channel: Channel) -> time::Duration {
        match channel {
            Channel::Hotline => self.policy.assisted.hotline_ticket_ttl,
            _ => self.policy.assisted.counter_ticket_ttl,
        }
    }

    /// The SMS that carries a ticket.
    pub(crate) fn ticket_text(
        &self,
        ticket: &ResetTicket,
        scope: ResetScope,
        channel: Channel,
    ) -> SmsContent {
        let hours = self.ticket_ttl(channel).whole_hours().max(1).to_string();
        fill(
            &self.templates.reset_ticket,
            &[
                ("ticket", &ticket.display()),
                ("secrets", &self.secret_names(scope.kinds().iter().copied())),
                ("hours", &hours),
                ("channel", self.channel_name(channel)),
                ("hotline", &self.templates.hotline),
            ],
        )
    }
}
