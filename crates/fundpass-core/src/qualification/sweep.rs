//! What happens with the calendar, run every few minutes on every instance: a due date
//! that passed without a check suspends the member (and tells business systems), and
//! reminders go out by SMS at the configured offsets before and after the due date.
//!
//! Each reminder is recorded under its key (member, due date, offset), in the change
//! that queues the text, so two instances sweeping at once send it once. Only the
//! newest offset that has come is sent: a sweep that did not run for a while does not
//! send a backlog of stale reminders. A passed check moves the due date, which ends
//! the reminders of the old one.

use time::Duration;

use super::{Benefit, QualificationStatus, QualificationWrite, ReminderSent};
use crate::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use crate::clients::{BusinessEvent, EventKind};
use crate::member::MemberRecord;
use crate::portal::{Portal, china_hour, china_today, fill};
use crate::ports::{ChangeSet, RateDecision, SmsPurpose, StoreError};

/// The hours of the China day in which reminders are texted.
const SENDING_HOURS: std::ops::Range<u8> = 9..20;

/// How long after the last offset's day its reminder is still sent.
const LAST_STAGE_GRACE: Duration = Duration::days(7);

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Members suspended because their due date passed.
    pub suspended: usize,
    /// Reminder texts queued.
    pub reminded: usize,
}

impl Portal {
    /// Suspends up to `limit` members whose due date passed and queues the reminders
    /// that are due, within the SMS limits.
    pub async fn qualification_sweep(&self, limit: u32) -> Result<SweepOutcome, StoreError> {
        let suspended = self.suspend_lapsed(limit).await?;
        let reminded = self.send_reminders(limit).await?;
        Ok(SweepOutcome {
            suspended,
            reminded,
        })
    }

    async fn suspend_lapsed(&self, limit: u32) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let today = china_today(now);
        let mut done = 0;
        for benefit in self.store.lapsed_benefits(today, limit).await? {
            let Some(member) = self.store.member_by_id(benefit.member_id).await? else {
                continue;
            };
            let next = Benefit {
                status: QualificationStatus::Suspended,
                suspended_since: Some(benefit.due_date),
                ..benefit.clone()
            };
            let mut event = BusinessEvent::new(
                EventKind::QualificationSuspended,
                serde_json::json!({
                    "account_no": member.account_no.as_str(),
                    "status": next.status.code(),
                    "due_date": benefit.due_date.to_string(),
                    "suspended_since": benefit.due_date.to_string(),
                }),
                now,
                self.rng.as_ref(),
            );
            event.member_id = Some(member.id);
            let audit = system_event(now, "qualification.suspend", &member)
                .details(serde_json::json!({ "due_date": benefit.due_date.to_string() }));
            let change = ChangeSet {
                qualification: vec![QualificationWrite::Benefit {
                    record: next,
                    expected_version: benefit.version,
                }],
                events: vec![event],
                audit: vec![audit],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => done += 1,
                // Another instance (or a check passed just now) changed it first.
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// The reminder stages as signed day offsets (before the due date positive, after
    /// it negative), in the order their days come.
    fn reminder_stages(&self) -> Vec<i32> {
        let q = &self.policy.qualification;
        let mut before: Vec<i32> = q.remind_days_before.iter().map(|d| i32::from(*d)).collect();
        before.sort_unstable_by(|a, b| b.cmp(a));
        before.dedup();
        let mut after: Vec<i32> = q.remind_days_after.iter().map(|d| -i32::from(*d)).collect();
        after.sort_unstable_by(|a, b| b.cmp(a));
        after.dedup();
        before.into_iter().chain(after).collect()
    }

    async fn send_reminders(&self, limit: u32) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let today = china_today(now);
        if !SENDING_HOURS.contains(&china_hour(now)) {
            // Nobody is texted at night: the day's reminders wait for the morning.
            return Ok(0);
        }
        let stages = self.reminder_stages();
        let budget = limit.min(self.policy.qualification.reminders_per_sweep);
        let mut sent = 0usize;
        for (i, offset) in stages.iter().copied().enumerate() {
            // Sent on `due - offset`, until the next stage's day: due in
            // (today + next offset, today + offset].
            let due_until = today + Duration::days(i64::from(offset));
            let due_after = match stages.get(i + 1) {
                Some(next) => today + Duration::days(i64::from(*next)),
                None => due_until - LAST_STAGE_GRACE,
            };
            let status = if offset > 0 {
                QualificationStatus::Qualified
            } else {
                QualificationStatus::Suspended
            };
            let left = budget.saturating_sub(u32::try_from(sent).unwrap_or(u32::MAX));
            if left == 0 {
                break;
            }
            let due = self
                .store
                .unreminded_benefits(status, due_after, due_until, offset, left)
                .await?;
            for benefit in due {
                match self.remind(&benefit, offset).await? {
                    Reminded::Sent => sent += 1,
                    Reminded::Skipped => {}
                    Reminded::OutOfBudget => return Ok(sent),
                }
            }
        }
        Ok(sent)
    }

    async fn remind(&self, benefit: &Benefit, offset: i32) -> Result<Reminded, StoreError> {
        let now = self.clock.now();
        let Some(member) = self.store.member_by_id(benefit.member_id).await? else {
            return Ok(Reminded::Skipped);
        };
        let hourly = self.policy.qualification.reminders_per_hour;
        if let RateDecision::Limited { .. } = self
            .limiter
            .hit(
                "qualification:reminders-hour",
                Duration::hours(1),
                hourly,
                now,
            )
            .await?
        {
            return Ok(Reminded::OutOfBudget);
        }
        // The reminder's key is claimed first: an instance that loses the race
        // counts nothing against the member's phone.
        let claim = ChangeSet {
            qualification: vec![QualificationWrite::Reminder(ReminderSent {
                member_id: member.id,
                due_date: benefit.due_date,
                offset_days: offset,
                sent_at: now,
            })],
            ..ChangeSet::default()
        };
        match self.store.apply(claim).await {
            Ok(()) => {}
            Err(StoreError::Conflict | StoreError::Duplicate(_)) => return Ok(Reminded::Skipped),
            Err(e) => return Err(e),
        }
        let phone = self.phone_on_file(&member)?;
        let phone_day = self.phone_day_key(&phone);
        // A phone that had its texts for the day gets none: this reminder is not
        // sent (the next offset's will be).
        let texted = self
            .limiter
            .hit(
                &phone_day,
                Duration::days(1),
                self.policy.sms.phone_daily,
                now,
            )
            .await?
            == RateDecision::Allowed;
        let due = benefit.due_date.to_string();
        let mut change = ChangeSet::default();
        if texted {
            let (purpose, content) = if offset > 0 {
                let days = (benefit.due_date - china_today(now))
                    .whole_days()
                    .to_string();
                let text = &self.templates.qualification_reminder;
                let pairs = [
                    ("due", due.as_str()),
                    ("days", &days),
                    ("hotline", &self.templates.hotline),
                ];
                (SmsPurpose::QualificationReminder, fill(text, &pairs))
            } else {
                let text = &self.templates.qualification_lapsed;
                let pairs = [("due", due.as_str()), ("hotline", &self.templates.hotline)];
                (SmsPurpose::QualificationLapsed, fill(text, &pairs))
            };
            change
                .outbox
                .push(self.outbox_message(Some(member.id), purpose, &phone, &content));
        }
        change
            .audit
            .push(
                system_event(now, "qualification.remind", &member).details(serde_json::json!({
                    "due_date": due, "offset_days": offset, "texted": texted,
                })),
            );
        self.store.apply(change).await?;
        Ok(if texted {
            Reminded::Sent
        } else {
            Reminded::Skipped
        })
    }
}

/// What became of one reminder.
enum Reminded {
    Sent,
    /// Sent by another instance, or the phone's texts for the day are used up.
    Skipped,
    /// The hourly reminder budget is spent: the sweep stops.
    OutOfBudget,
}

/// An audit event of the calendar's own doing, about `member`.
fn system_event(at: time::OffsetDateTime, action: &str, member: &MemberRecord) -> AuditEvent {
    AuditEvent::new(
        at,
        Actor {
            kind: ActorKind::System,
            id: None,
        },
        action,
        Channel::System,
        Outcome::Success,
    )
    .member(member.id)
}
