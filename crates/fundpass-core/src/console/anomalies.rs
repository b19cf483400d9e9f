//! Anomaly reports for the auditor, read from the audit trail: many resets from one
//! client address, one staff member letting out many resets, and a reset followed
//! by a change of the phone on file within three days, and a reset or phone change
//! followed by a payout authorisation within three days (the pattern of an account
//! taken over before a withdrawal). The rules are pure functions of the events.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::{ConsoleError, StaffAuth};
use crate::audit::{AuditEvent, AuditRecord, Outcome};
use crate::member::MemberId;
use crate::portal::{Portal, RequestContext};
use crate::staff::StaffAction;

/// Completed resets, whatever the channel.
const RESETS: &[&str] = &[
    "recovery.login.complete",
    "recovery.transaction.complete",
    "recovery.ticket.redeem",
];

/// Checks after a date of death listed at most (newest first).
const DECEASED_CHECKS_LISTED: u32 = 200;

/// How far back a report looks, and what counts as many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnomalyRules {
    pub window: Duration,
    /// Completed resets from one address in the window.
    pub resets_per_address: usize,
    /// Tickets and reset codes one staff account let out in the window.
    pub resets_per_staff: usize,
    /// A phone change this soon after a reset of the same member.
    pub reset_then_phone: Duration,
    /// The newest events read (the trail is read backwards from its head).
    pub max_events: u32,
    /// The qualification check's thresholds.
    pub qualification: crate::qualification::QualificationRules,
}

impl Default for AnomalyRules {
    fn default() -> Self {
        Self {
            window: Duration::days(7),
            resets_per_address: 3,
            resets_per_staff: 20,
            reset_then_phone: Duration::hours(72),
            max_events: 20_000,
            qualification: crate::qualification::QualificationRules::default(),
        }
    }
}

/// What the auditor is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnomalyReport {
    /// Address and how many resets completed from it.
    pub busy_addresses: Vec<(String, usize)>,
    /// Staff user name and how many tickets or codes they let out.
    pub busy_staff: Vec<(String, usize)>,
    /// Member, when the reset was, when the phone changed.
    pub reset_then_phone: Vec<(MemberId, OffsetDateTime, OffsetDateTime)>,
    /// Member, when the reset or phone change was, when a payout was authorised
    /// (created, verified or confirmed) after it.
    pub change_then_payout: Vec<(MemberId, OffsetDateTime, OffsetDateTime)>,
    /// Members who reported an event on their record as not theirs: the member, the
    /// kind of event reported (its record code), when it happened, when they reported.
    pub reported: Vec<NotMeRow>,
    /// The qualification check's signals: addresses and relatives passing checks for
    /// many members.
    pub qualification: crate::qualification::QualificationSignals,
    /// Checks passed on or after a date of death the benefit import reported.
    pub deceased_checks: Vec<crate::qualification::DeceasedCheck>,
    /// How many events were read, and whether the window reached past them.
    pub events_read: usize,
    pub truncated: bool,
}

/// One "this was not me" report on the anomaly report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeRow {
    pub member: MemberId,
    pub kind: String,
    pub happened_at: Option<OffsetDateTime>,
    pub reported_at: OffsetDateTime,
}

/// Whether `e` is a reset or reset code a staff member let out.
fn staff_reset(e: &AuditEvent) -> bool {
    e.outcome == Outcome::Success
        && (e.action == "hotline.send_reset_code"
            || (e.action == "counter.issue_ticket" && e.details["ticket"] == true))
}

/// Whether `e` changed a member's phone on file.
fn phone_change(e: &AuditEvent) -> bool {
    e.outcome == Outcome::Success
        && (e.action == "phone.change"
            || (e.action == "counter.issue_ticket" && e.details["phone_change"] == true))
}

/// Whether `e` authorised a payout for a member (a business system's request, a
/// direct verification or the member's confirmation that succeeded).
fn payout(e: &AuditEvent) -> bool {
    e.outcome == Outcome::Success
        && matches!(
            e.action.as_str(),
            "payout.create" | "payout.verify" | "payout.confirm"
        )
}

/// The report over `events` (any order) for the window ending at `now`.
pub fn analyse(events: &[AuditEvent], rules: &AnomalyRules, now: OffsetDateTime) -> AnomalyReport {
    let recent: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| now - e.at <= rules.window)
        .collect();
    let mut by_address: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_staff: BTreeMap<&str, usize> = BTreeMap::new();
    let mut resets: BTreeMap<MemberId, Vec<OffsetDateTime>> = BTreeMap::new();
    for e in &recent {
        let completed = e.outcome == Outcome::Success && RESETS.contains(&e.action.as_str());
        if completed {
            if let Some(ip) = &e.ip {
                *by_address.entry(ip).or_default() += 1;
            }
            if let Some(m) = e.member_id {
                resets.entry(m).or_default().push(e.at);
            }
        }
        if staff_reset(e)
            && let Some(who) = &e.actor.id
        {
            *by_staff.entry(who).or_default() += 1;
        }
    }
    let mut reset_then_phone = Vec::new();
    for e in recent.iter().filter(|e| phone_change(e)) {
        let Some(m) = e.member_id else { continue };
        let before = resets.get(&m).and_then(|times| {
            times
                .iter()
                .filter(|t| **t <= e.at && e.at - **t <= rules.reset_then_phone)
                .max()
                .copied()
        });
        if let Some(reset_at) = before {
            reset_then_phone.push((m, reset_at, e.at));
        }
    }
    let mut changes = resets.clone();
    for e in recent.iter().filter(|e| phone_change(e)) {
        if let Some(m) = e.member_id {
            changes.entry(m).or_default().push(e.at);
        }
    }
    let mut change_then_payout = Vec::new();
    for e in recent.iter().filter(|e| payout(e)) {
        let Some(m) = e.member_id else { continue };
        let before = changes.get(&m).and_then(|times| {
            times
                .iter()
                .filter(|t| **t <= e.at && e.at - **t <= rules.reset_then_phone)
                .max()
                .copied()
        });
        if let Some(change_at) = before {
            change_then_payout.push((m, change_at, e.at));
        }
    }
    let mut reported: Vec<NotMeRow> = recent
        .iter()
        .filter(|e| e.action == crate::record::NOT_ME_ACTION && e.outcome == Outcome::Success)
        .filter_map(|e| {
            Some(NotMeRow {
                member: e.member_id?,
                kind: e.details["reported_kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                happened_at: crate::record::reported_at(&e.details),
                reported_at: e.at,
            })
        })
        .collect();
    reported.sort_by_key(|r| std::cmp::Reverse(r.reported_at));
    let over = |map: BTreeMap<&str, usize>, limit: usize| {
        let mut out: Vec<(String, usize)> = map
            .into_iter()
            .filter(|(_, n)| *n >= limit)
            .map(|(k, n)| (k.to_owned(), n))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    };
    let qualification = crate::qualification::signals(&recent, &rules.qualification);
    AnomalyReport {
        qualification,
        deceased_checks: Vec::new(),
        busy_addresses: over(by_address, rules.resets_per_address),
        busy_staff: over(by_staff, rules.resets_per_staff),
        reset_then_phone,
        change_then_payout,
        reported,
        events_read: events.len(),
        truncated: false,
    }
}

impl Portal {
    /// The anomaly report over the newest events of the trail (audited).
    pub async fn staff_anomalies(
        &self,
        auth: &StaffAuth,
        ctx: &RequestContext,
    ) -> Result<AnomalyReport, ConsoleError> {
        self.require(auth, StaffAction::ReadAnomalyReports, ctx)
            .await?;
        let rules = AnomalyRules::default();
        let now = self.clock.now();
        let head = self.store.head().await?.map_or(0, |(seq, _)| seq);
        let first = (head - i64::from(rules.max_events)).max(0);
        let mut events = Vec::new();
        let mut after = first;
        loop {
            let page: Vec<AuditRecord> = self.store.records_after(after, 1_000).await?;
            let Some(last) = page.last().map(|r| r.seq) else {
                break;
            };
            after = last;
            events.extend(page.into_iter().map(|r| r.event));
            if after >= head {
                break;
            }
        }
        let mut report = analyse(&events, &rules, now);
        report.deceased_checks = self
            .store
            .checks_after_death(DECEASED_CHECKS_LISTED)
            .await?;
        report.truncated = first > 0 && events.first().is_some_and(|e| now - e.at <= rules.window);
        let event = self.staff_event(
            auth,
            "staff.read_anomalies",
            Outcome::Success,
            None,
            serde_json::json!({"events_read": report.events_read}),
            ctx,
        );
        self.audit_only(event).await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, ActorKind, Channel};
    use time::macros::datetime;

    fn event(action: &str, at: OffsetDateTime, member: i64, ip: &str) -> AuditEvent {
        let mut e = AuditEvent::new(
            at,
            Actor {
                kind: ActorKind::Member,
                id: None,
            },
            action,
            Channel::Web,
            Outcome::Success,
        )
        .member(MemberId(member));
        e.ip = Some(ip.to_owned());
        e
    }

    fn staff(
        action: &str,
        at: OffsetDateTime,
        who: &str,
        details: serde_json::Value,
    ) -> AuditEvent {
        let mut e = event(action, at, 9, "10.0.0.1").details(details);
        e.actor = Actor {
            kind: ActorKind::Staff,
            id: Some(who.to_owned()),
        };
        e
    }

    #[test]
    fn many_resets_from_one_address_are_reported_and_old_ones_ignored() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let rules = AnomalyRules::default();
        let mut events: Vec<AuditEvent> = (0..3)
            .map(|i| {
                event(
                    "recovery.login.complete",
                    now - Duration::hours(i),
                    i,
                    "203.0.113.5",
                )
            })
            .collect();
        events.push(event("recovery.ticket.redeem", now, 7, "198.51.100.1"));
        events.push(event(
            "recovery.login.complete",
            now - Duration::days(8),
            8,
            "198.51.100.1",
        ));
        events.push(event(
            "recovery.login.complete",
            now - Duration::days(8),
            8,
            "198.51.100.1",
        ));
        let mut failed = event("recovery.login.complete", now, 5, "198.51.100.1");
        failed.outcome = Outcome::Failure;
        events.push(failed);
        let report = analyse(&events, &rules, now);
        assert_eq!(report.busy_addresses, [("203.0.113.5".to_owned(), 3)]);
    }

    #[test]
    fn a_staff_member_letting_out_many_resets_is_reported() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let rules = AnomalyRules {
            resets_per_staff: 3,
            ..AnomalyRules::default()
        };
        let ticket = serde_json::json!({"ticket": true, "phone_change": false});
        let phone_only = serde_json::json!({"ticket": false, "phone_change": true});
        let events = vec![
            staff("counter.issue_ticket", now, "wang.li", ticket.clone()),
            staff("counter.issue_ticket", now, "wang.li", ticket.clone()),
            staff(
                "hotline.send_reset_code",
                now,
                "wang.li",
                serde_json::json!({}),
            ),
            staff("counter.issue_ticket", now, "li.na", ticket),
            staff("counter.issue_ticket", now, "li.na", phone_only.clone()),
            staff("counter.issue_ticket", now, "li.na", phone_only),
        ];
        let report = analyse(&events, &rules, now);
        assert_eq!(report.busy_staff, [("wang.li".to_owned(), 3)]);
    }

    #[test]
    fn a_reset_followed_by_a_phone_change_within_three_days_is_reported() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let rules = AnomalyRules::default();
        let reset = now - Duration::hours(50);
        let events = vec![
            event("recovery.transaction.complete", reset, 1, "203.0.113.5"),
            event("phone.change", now, 1, "203.0.113.5"),
            // Member 2 changed the phone first and reset later: not this pattern.
            event("phone.change", now - Duration::hours(5), 2, "203.0.113.6"),
            event("recovery.login.complete", now, 2, "203.0.113.6"),
            // Member 3's reset was four days before the change.
            event(
                "recovery.login.complete",
                now - Duration::days(4),
                3,
                "203.0.113.7",
            ),
            staff(
                "counter.issue_ticket",
                now,
                "wang.li",
                serde_json::json!({"ticket": false, "phone_change": true}),
            )
            .member(MemberId(3)),
        ];
        let report = analyse(&events, &rules, now);
        assert_eq!(report.reset_then_phone, [(MemberId(1), reset, now)]);
    }

    #[test]
    fn a_payout_soon_after_a_reset_or_phone_change_is_reported() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let rules = AnomalyRules::default();
        let events = vec![
            event("recovery.login.complete", now - Duration::hours(50), 1, "a"),
            event("payout.create", now - Duration::hours(2), 1, "b"),
            event("phone.change", now - Duration::hours(10), 2, "a"),
            event("payout.confirm", now - Duration::hours(1), 2, "b"),
            // Too long after the reset, and a member with no change at all.
            event(
                "recovery.login.complete",
                now - Duration::hours(100),
                3,
                "a",
            ),
            event("payout.verify", now, 3, "b"),
            event("payout.create", now, 4, "b"),
        ];
        let report = analyse(&events, &rules, now);
        let found: Vec<i64> = report
            .change_then_payout
            .iter()
            .map(|(m, ..)| m.0)
            .collect();
        assert_eq!(found, [1, 2]);
    }

    #[test]
    fn a_members_not_me_report_is_listed_newest_first_within_the_window() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let report = |member: i64, at: OffsetDateTime| {
            event("member.not_me", at, member, "203.0.113.5").details(serde_json::json!({
                "reported_seq": 12, "reported_kind": "login",
                "reported_at": "2026-11-22T23:00:00Z",
            }))
        };
        let events = vec![
            report(1, now - Duration::hours(5)),
            report(2, now - Duration::hours(1)),
            report(3, now - Duration::days(8)),
        ];
        let got = analyse(&events, &AnomalyRules::default(), now).reported;
        assert_eq!(
            got.iter().map(|r| r.member.0).collect::<Vec<_>>(),
            [2, 1],
            "newest first; the one older than the window is left out"
        );
        assert_eq!(got[0].kind, "login");
        assert_eq!(got[0].happened_at, Some(datetime!(2026-11-22 23:00 UTC)));
        assert_eq!(got[0].reported_at, now - Duration::hours(1));
    }
}
