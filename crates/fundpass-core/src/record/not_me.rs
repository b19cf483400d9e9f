//! "This was not me": the member reports a login, reset or change on their record as
//! not theirs. Every session and app token ends (this one too), payouts are held,
//! the phone on file is texted the hotline's number, business systems hear of the
//! hold, and the report shows on the auditor's anomaly report — all in one change.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{RecordKind, kind_of, member_facing_actions};
use crate::audit::Outcome;
use crate::clients::BusinessEvent;
use crate::member::{Hold, HoldReason};
use crate::portal::{Authenticated, Portal, RequestContext};
use crate::ports::{ChangeSet, MemberEventsQuery, SessionWrite, SmsPurpose, StoreError};

/// The audit action of a report.
pub const ACTION: &str = "member.not_me";

/// Kinds of event a member may report: what someone else holding their secrets would
/// have done.
pub const REPORTABLE: &[RecordKind] = &[
    RecordKind::Login,
    RecordKind::PasswordChange,
    RecordKind::PasswordReset,
    RecordKind::PhoneChange,
    RecordKind::SecurityQuestions,
];

/// Whether an event of this kind and outcome can be reported.
pub fn reportable(kind: RecordKind, outcome: Outcome) -> bool {
    outcome == Outcome::Success && REPORTABLE.contains(&kind)
}

/// What the report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeReport {
    /// The hold placed on payouts.
    pub hold: Hold,
    /// The number the member was texted to call.
    pub hotline: String,
}

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotMeError {
    /// No event with this number is on the member's own record.
    #[error("no such event on your record")]
    UnknownEvent,
    /// The event is not a login, reset or change that succeeded.
    #[error(
        "only a successful login, password change or reset, phone change or security-question change can be reported"
    )]
    NotReportable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portal {
    /// Reports the event `seq` of the signed-in member's record as not theirs.
    pub async fn report_not_me(
        &self,
        auth: &Authenticated,
        seq: i64,
        ctx: &RequestContext,
    ) -> Result<NotMeReport, NotMeError> {
        let member = &auth.member;
        let found = self
            .store
            .member_events(&MemberEventsQuery {
                member: member.id,
                before: seq.checked_add(1),
                actions: Some(member_facing_actions()),
                outcome: None,
                limit: 1,
            })
            .await?;
        let record = found
            .into_iter()
            .find(|r| r.seq == seq && r.event.member_id == Some(member.id))
            .ok_or(NotMeError::UnknownEvent)?;
        let kind =
            kind_of(&record.event.action, record.event.outcome).ok_or(NotMeError::UnknownEvent)?;
        if !reportable(kind, record.event.outcome) {
            return Err(NotMeError::NotReportable);
        }
        let now = self.clock.now();
        let hold =
            self.policy
                .holds
                .hold(member.id, HoldReason::ReportedByMember, ctx.channel, now);
        let phone = self.phone_on_file(member)?;
        let text = self.notice_text(&self.templates.not_me);
        let event = self
            .recovery_event(ACTION, Outcome::Success, Some(member.id), ctx)
            .details(serde_json::json!({
                "reported_seq": seq,
                "reported_kind": kind.code(),
                "reported_at": record.event.at.format(&Rfc3339).unwrap_or_default(),
                "hold_until": hold.until.format(&Rfc3339).unwrap_or_default(),
            }));
        self.store
            .apply(ChangeSet {
                sessions: vec![SessionWrite::RevokeAll {
                    member: member.id,
                    at: now,
                }],
                holds: vec![hold.clone()],
                events: BusinessEvent::for_holds(
                    member,
                    std::slice::from_ref(&hold),
                    self.rng.as_ref(),
                ),
                outbox: vec![self.outbox_message(
                    Some(member.id),
                    SmsPurpose::NotMe,
                    &phone,
                    &text,
                )],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(NotMeReport {
            hold,
            hotline: self.templates.hotline.clone(),
        })
    }
}

/// When a reported event happened, from a report's details.
pub fn reported_at(details: &serde_json::Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(details.get("reported_at")?.as_str()?, &Rfc3339).ok()
}
