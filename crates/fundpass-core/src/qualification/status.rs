//! Where a member's check stands, as the member and the fund's business systems read
//! it.

use time::{Date, OffsetDateTime};

use super::{Benefit, BenefitKind, CheckChannel, QualificationError, QualificationStatus};
use crate::clients::{ClientCaller, Scope};
use crate::member::{AccountNumber, MemberRecord};
use crate::payout::PayoutError;
use crate::portal::{Authenticated, Portal};

/// How many passed checks a status read lists.
const RECENT_CHECKS: u32 = 5;

/// A member's standing with the check.
#[derive(Debug, Clone, PartialEq)]
pub struct QualificationView {
    pub account_no: String,
    pub kind: BenefitKind,
    pub status: QualificationStatus,
    pub due_date: Date,
    /// The first day a check can be passed for this due date.
    pub opens_on: Date,
    /// The due date that was missed, while suspended.
    pub suspended_since: Option<Date>,
    pub last_check_at: Option<OffsetDateTime>,
    pub last_check_channel: Option<CheckChannel>,
    /// Whether the face check is open (not closed by refusals, not ended).
    pub face_check_open: bool,
    /// Refused face checks since the last passed one.
    pub failed_attempts: i32,
    /// The newest passed checks, newest first.
    pub recent: Vec<RecentCheck>,
}

/// One passed check, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentCheck {
    pub checked_at: OffsetDateTime,
    pub channel: CheckChannel,
    pub gap_months: u32,
}

impl Portal {
    /// The signed-in member's own standing.
    pub async fn my_qualification(
        &self,
        auth: &Authenticated,
    ) -> Result<QualificationView, QualificationError> {
        self.standing_of(&auth.member).await
    }

    /// A member's standing for a business system with `qualification:read`.
    pub async fn client_qualification(
        &self,
        caller: &ClientCaller,
        account_no: &str,
    ) -> Result<QualificationView, QualificationError> {
        caller
            .require(Scope::QualificationRead)
            .map_err(PayoutError::from)?;
        let account = AccountNumber::parse(account_no).map_err(|_| PayoutError::UnknownMember)?;
        let member = self
            .store
            .member_by_account(&account)
            .await?
            .ok_or(PayoutError::UnknownMember)?;
        self.standing_of(&member).await
    }

    /// `member`'s standing with their recent checks; `NotEntitled` without a benefit.
    pub(crate) async fn standing_of(
        &self,
        member: &MemberRecord,
    ) -> Result<QualificationView, QualificationError> {
        let benefit = self
            .store
            .benefit(member.id)
            .await?
            .ok_or(QualificationError::NotEntitled)?;
        let mut view = self.view_of(member, &benefit);
        view.recent = self.recent_of(member.id).await?;
        Ok(view)
    }

    /// The member's newest passed checks.
    pub(crate) async fn recent_of(
        &self,
        member: crate::member::MemberId,
    ) -> Result<Vec<RecentCheck>, QualificationError> {
        let checks = self.store.recent_checks(member, RECENT_CHECKS).await?;
        Ok(checks
            .into_iter()
            .map(|c| RecentCheck {
                checked_at: c.checked_at,
                channel: c.channel,
                gap_months: c.gap_months,
            })
            .collect())
    }

    /// The view of `benefit`, without its recent checks.
    pub(crate) fn view_of(&self, member: &MemberRecord, benefit: &Benefit) -> QualificationView {
        QualificationView {
            account_no: member.account_no.as_str().to_owned(),
            kind: benefit.kind,
            status: benefit.status,
            due_date: benefit.due_date,
            opens_on: benefit.opens_on(self.policy.qualification.window_days),
            suspended_since: benefit.suspended_since,
            last_check_at: benefit.last_check_at,
            last_check_channel: benefit.last_check_channel,
            face_check_open: benefit.status != QualificationStatus::Ended
                && benefit.failed_attempts < self.policy.qualification.max_face_failures,
            failed_attempts: benefit.failed_attempts,
            recent: Vec::new(),
        }
    }
}
