//! The qualification check's fraud signals for the auditor's anomaly report (Art. 88
//! of the Social Insurance Law punishes forged certification): one address passing
//! checks for many members, one member checking for many relatives, and checks
//! passed for a member reported deceased. The first two are read from the audit
//! trail, the last from the checks and the benefit import's dates of death.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, OffsetDateTime};

use super::CheckChannel;
use crate::audit::{AuditEvent, Outcome};
use crate::member::MemberId;

/// A passed check's audit action.
const PASSED: &str = "qualification.result";

/// What counts as many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualificationRules {
    /// Different members whose checks passed from one client address in the window.
    pub members_per_address: usize,
    /// Different relatives one member passed checks for in the window.
    pub relatives_per_member: usize,
}

impl Default for QualificationRules {
    fn default() -> Self {
        Self {
            members_per_address: 5,
            relatives_per_member: 3,
        }
    }
}

/// A check passed on or after the date of death an import reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeceasedCheck {
    pub member: MemberId,
    pub deceased_on: Date,
    pub checked_at: OffsetDateTime,
    pub channel: CheckChannel,
    /// The member whose phone ran it, when it was a relative's.
    pub by_member: Option<MemberId>,
}

/// The address and relative signals over `events` (already cut to the window).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualificationSignals {
    /// Address and how many different members passed from it.
    pub busy_addresses: Vec<(String, usize)>,
    /// Member and how many different relatives they passed checks for.
    pub busy_relatives: Vec<(MemberId, usize)>,
}

/// The signals of passed checks among `events`.
pub fn signals(events: &[&AuditEvent], rules: &QualificationRules) -> QualificationSignals {
    let mut by_address: BTreeMap<&str, BTreeSet<MemberId>> = BTreeMap::new();
    let mut by_relative: BTreeMap<i64, BTreeSet<MemberId>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.action == PASSED && e.outcome == Outcome::Success)
    {
        let Some(member) = e.member_id else { continue };
        if let Some(ip) = &e.ip {
            by_address.entry(ip).or_default().insert(member);
        }
        if let Some(helper) = e.details["by_member"].as_i64() {
            by_relative.entry(helper).or_default().insert(member);
        }
    }
    let mut busy_addresses: Vec<(String, usize)> = by_address
        .into_iter()
        .filter(|(_, m)| m.len() >= rules.members_per_address)
        .map(|(ip, m)| (ip.to_owned(), m.len()))
        .collect();
    busy_addresses.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut busy_relatives: Vec<(MemberId, usize)> = by_relative
        .into_iter()
        .filter(|(_, m)| m.len() >= rules.relatives_per_member)
        .map(|(helper, m)| (MemberId(helper), m.len()))
        .collect();
    busy_relatives.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.0.cmp(&b.0.0)));
    QualificationSignals {
        busy_addresses,
        busy_relatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, ActorKind, Channel};
    use time::macros::datetime;

    fn passed(member: i64, ip: &str, by: Option<i64>) -> AuditEvent {
        let mut e = AuditEvent::new(
            datetime!(2026-12-01 02:00 UTC),
            Actor {
                kind: ActorKind::Member,
                id: None,
            },
            PASSED,
            Channel::App,
            Outcome::Success,
        )
        .member(MemberId(member))
        .details(serde_json::json!({ "channel": "app_face", "by_member": by }));
        e.ip = Some(ip.to_owned());
        e
    }

    #[test]
    fn many_members_from_one_address_and_many_relatives_of_one_member_are_named() {
        let mut events: Vec<AuditEvent> =
            (1..=5).map(|m| passed(m, "198.51.100.7", None)).collect();
        // The same member twice from another address counts once.
        events.push(passed(9, "198.51.100.8", None));
        events.push(passed(9, "198.51.100.8", None));
        for relative in [20, 21, 22] {
            events.push(passed(relative, "203.0.113.5", Some(77)));
        }
        events.push(passed(30, "203.0.113.6", Some(78)));
        let mut refused = passed(31, "198.51.100.7", None);
        refused.outcome = Outcome::Failure;
        events.push(refused);
        let refs: Vec<&AuditEvent> = events.iter().collect();
        let s = signals(&refs, &QualificationRules::default());
        assert_eq!(s.busy_addresses, [("198.51.100.7".to_owned(), 5)]);
        assert_eq!(s.busy_relatives, [(MemberId(77), 3)]);
        let fewer: Vec<&AuditEvent> = events.iter().skip(1).collect();
        assert!(
            signals(&fewer, &QualificationRules::default())
                .busy_addresses
                .is_empty()
        );
    }
}
