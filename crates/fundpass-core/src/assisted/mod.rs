//! Assisted recovery: the counter at a management office or entrusted bank branch,
//! and the service hotline. Staff help a member prove who they are; they never see,
//! choose or type a member's secret.
//!
//! - **Counter**: staff look the member up, record the in-person check of the
//!   original card and choose what to reset (and, optionally, a new phone on file).
//!   fundpass opens an [`AssistedCase`]; a high-risk case waits for a supervisor
//!   (another account, role `supervisor`), then the counter issues a one-time
//!   [`ResetTicket`] shown once on a printable receipt (and optionally texted to the
//!   phone on file). The member redeems it online or on the counter's PIN-pad page.
//! - **Hotline**: the agent runs the caller-verification checklist
//!   ([`HotlineCheck`]); on a pass the only thing they can do is have a ticket texted
//!   to the phone on file. They never see the ticket and cannot choose the number.
//!
//! Cases, checks and tickets are rows with optimistic versions: a ticket is redeemed
//! once, an approval lands once.

mod ticket;

pub use ticket::{ResetTicket, TICKET_ALPHABET, TICKET_CHARS};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::audit::Channel;
use crate::crypto::{BlindIndex, Sealed, TokenDigest};
use crate::lockout::LoginLockPolicy;
use crate::member::{MemberId, SecretKind};
use crate::staff::StaffId;

/// Which secrets an assisted reset renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetScope {
    Login,
    Transaction,
    Both,
}

impl ResetScope {
    /// Every scope, in the order forms list them.
    pub const ALL: [ResetScope; 3] = [Self::Login, Self::Transaction, Self::Both];

    /// Stored and posted code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Transaction => "transaction",
            Self::Both => "both",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The secrets it renews.
    pub fn kinds(self) -> &'static [SecretKind] {
        match self {
            Self::Login => &[SecretKind::Login],
            Self::Transaction => &[SecretKind::Transaction],
            Self::Both => &[SecretKind::Login, SecretKind::Transaction],
        }
    }
}

/// Where an assisted case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// High risk: a supervisor must approve before anything is issued.
    AwaitingApproval,
    /// Approved (or not high-risk): the counter may issue the ticket.
    Approved,
    /// The ticket is out; the member may redeem it until it expires.
    Issued,
    /// The member set their new secret(s).
    Redeemed,
    /// Nothing more can happen (a phone change only, done at issue time; or a ticket
    /// closed after too many wrong documents).
    Closed,
}

impl CaseStatus {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Approved => "approved",
            Self::Issued => "issued",
            Self::Redeemed => "redeemed",
            Self::Closed => "closed",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::AwaitingApproval,
            Self::Approved,
            Self::Issued,
            Self::Redeemed,
            Self::Closed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Why a counter case is high-risk and needs a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Another reset of this member less than 30 days ago.
    RecentReset,
    /// The member has a hold in force.
    ActiveHold,
    /// Both secrets at once together with a new phone on file.
    BothWithPhoneChange,
}

impl Risk {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::RecentReset => "recent_reset",
            Self::ActiveHold => "active_hold",
            Self::BothWithPhoneChange => "both_with_phone_change",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::RecentReset,
            Self::ActiveHold,
            Self::BothWithPhoneChange,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// The facts the high-risk rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskFacts {
    /// When the member's secrets were last reset, if ever.
    pub last_reset_at: Option<OffsetDateTime>,
    /// Whether a hold is in force now.
    pub active_hold: bool,
    pub scope: Option<ResetScope>,
    pub phone_change: bool,
}

/// The high-risk reasons of a case at `now`, under `policy` (empty: no approval).
pub fn assess(facts: &RiskFacts, policy: &AssistedPolicy, now: OffsetDateTime) -> Vec<Risk> {
    let mut risks = Vec::new();
    if facts
        .last_reset_at
        .is_some_and(|at| now - at < policy.recent_reset_window)
    {
        risks.push(Risk::RecentReset);
    }
    if facts.active_hold {
        risks.push(Risk::ActiveHold);
    }
    if facts.scope == Some(ResetScope::Both) && facts.phone_change {
        risks.push(Risk::BothWithPhoneChange);
    }
    risks
}

/// One assisted case: a counter visit or a hotline call that may end in a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistedCase {
    /// Random hex id (not a secret: every use needs a staff session).
    pub id: String,
    pub member_id: MemberId,
    /// [`Channel::Counter`] or [`Channel::Hotline`].
    pub channel: Channel,
    /// What the ticket renews; `None` for a phone change alone.
    pub scope: Option<ResetScope>,
    /// The new phone on file, sealed, when the case changes it (counter only).
    pub new_phone: Option<Sealed>,
    pub new_phone_index: Option<BlindIndex>,
    /// The staff member who opened the case and their branch.
    pub staff_id: StaffId,
    pub branch_id: String,
    /// The signed reset form's number (counter) or the call id (hotline).
    pub reference: String,
    /// What the counter recorded of the in-person check (masked, JSON object).
    pub check: serde_json::Value,
    pub risks: Vec<Risk>,
    pub status: CaseStatus,
    pub approved_by: Option<StaffId>,
    pub approved_at: Option<OffsetDateTime>,
    /// Keyed MAC of the ticket ([`ResetTicket::mac`]).
    pub ticket_mac: Option<Vec<u8>>,
    pub ticket_expires_at: Option<OffsetDateTime>,
    pub issued_at: Option<OffsetDateTime>,
    /// Digest of the bearer id of a redemption under way (ticket and document
    /// checked; new secrets still to come) and when it runs out.
    pub redeem_token: Option<TokenDigest>,
    pub redeem_expires_at: Option<OffsetDateTime>,
    /// Documents that did not match the ticket's member.
    pub wrong_tries: i32,
    pub redeemed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// Who opens a case, where, about whom.
#[derive(Debug, Clone)]
pub struct CaseOpening {
    pub id: String,
    pub member_id: MemberId,
    pub channel: Channel,
    pub scope: Option<ResetScope>,
    pub staff_id: StaffId,
    pub branch_id: String,
    pub reference: String,
    pub check: serde_json::Value,
}

impl AssistedCase {
    /// A new case at `now`: approved, nothing issued yet, no phone change, no risks
    /// (the channel's use case sets what differs).
    pub fn opened(o: CaseOpening, now: OffsetDateTime) -> Self {
        Self {
            id: o.id,
            member_id: o.member_id,
            channel: o.channel,
            scope: o.scope,
            new_phone: None,
            new_phone_index: None,
            staff_id: o.staff_id,
            branch_id: o.branch_id,
            reference: o.reference,
            check: o.check,
            risks: Vec::new(),
            status: CaseStatus::Approved,
            approved_by: None,
            approved_at: None,
            ticket_mac: None,
            ticket_expires_at: None,
            issued_at: None,
            redeem_token: None,
            redeem_expires_at: None,
            wrong_tries: 0,
            redeemed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A caller-verification checklist run by a hotline agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineCheck {
    /// Random hex id.
    pub id: String,
    pub staff_id: StaffId,
    pub call_id: String,
    /// The member the document named, if any.
    pub member_id: Option<MemberId>,
    /// Each item checked (`document`, `name`, `phone`, `question_1`…) and whether it
    /// passed. The stored values are never part of it.
    pub items: Vec<(String, bool)>,
    pub passed: bool,
    pub created_at: OffsetDateTime,
    /// Until when a passed check may lead to a reset code.
    pub expires_at: OffsetDateTime,
    /// When the reset code was sent (a check leads to at most one).
    pub used_at: Option<OffsetDateTime>,
    pub version: i64,
}

/// An assisted-case write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseWrite {
    Insert(AssistedCase),
    Update {
        record: AssistedCase,
        expected_version: i64,
    },
}

/// A hotline-check write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckWrite {
    Insert(HotlineCheck),
    Update {
        record: HotlineCheck,
        expected_version: i64,
    },
}

/// The tunable rules of the assisted channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistedPolicy {
    /// Counter tickets: 24 h.
    pub counter_ticket_ttl: Duration,
    /// Hotline reset codes: 1 h.
    pub hotline_ticket_ttl: Duration,
    /// A reset closer than this to the previous one needs a supervisor.
    pub recent_reset_window: Duration,
    /// How long a passed hotline check may lead to a reset code.
    pub hotline_check_ttl: Duration,
    /// Failed checklists per member: 3, then no hotline reset for a day.
    pub hotline_member_lock: LoginLockPolicy,
    /// Failed checklists per agent: 10 in a row, then an hour without checklists.
    pub hotline_agent_lock: LoginLockPolicy,
    /// Wrong documents typed with one ticket before it is closed.
    pub max_wrong_documents: i32,
    /// How long a redemption waits for the new secrets once the ticket was checked.
    pub redeem_window: Duration,
}

impl Default for AssistedPolicy {
    fn default() -> Self {
        Self {
            counter_ticket_ttl: Duration::hours(24),
            hotline_ticket_ttl: Duration::hours(1),
            recent_reset_window: Duration::days(30),
            hotline_check_ttl: Duration::minutes(30),
            hotline_member_lock: LoginLockPolicy {
                threshold: 3,
                first_lock: Duration::hours(24),
                max_lock: Duration::hours(24),
            },
            hotline_agent_lock: LoginLockPolicy {
                threshold: 10,
                first_lock: Duration::hours(1),
                max_lock: Duration::hours(24),
            },
            max_wrong_documents: 5,
            redeem_window: Duration::minutes(15),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_case_is_high_risk_for_a_recent_reset_a_hold_or_both_secrets_with_a_new_phone() {
        let p = AssistedPolicy::default();
        let now = datetime!(2026-11-23 08:00 UTC);
        let calm = RiskFacts {
            last_reset_at: Some(now - Duration::days(31)),
            active_hold: false,
            scope: Some(ResetScope::Both),
            phone_change: false,
        };
        assert!(assess(&calm, &p, now).is_empty());
        let recent = RiskFacts {
            last_reset_at: Some(now - Duration::days(29)),
            ..calm
        };
        assert_eq!(assess(&recent, &p, now), [Risk::RecentReset]);
        let held = RiskFacts {
            active_hold: true,
            ..calm
        };
        assert_eq!(assess(&held, &p, now), [Risk::ActiveHold]);
        let phone = RiskFacts {
            phone_change: true,
            ..calm
        };
        assert_eq!(assess(&phone, &p, now), [Risk::BothWithPhoneChange]);
        let one_secret_and_phone = RiskFacts {
            scope: Some(ResetScope::Login),
            ..phone
        };
        assert!(assess(&one_secret_and_phone, &p, now).is_empty());
    }

    #[test]
    fn codes_round_trip() {
        for s in ResetScope::ALL {
            assert_eq!(ResetScope::from_code(s.code()), Some(s));
        }
        for r in [
            Risk::RecentReset,
            Risk::ActiveHold,
            Risk::BothWithPhoneChange,
        ] {
            assert_eq!(Risk::from_code(r.code()), Some(r));
        }
        for s in [
            CaseStatus::AwaitingApproval,
            CaseStatus::Approved,
            CaseStatus::Issued,
            CaseStatus::Redeemed,
            CaseStatus::Closed,
        ] {
            assert_eq!(CaseStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(ResetScope::Both.kinds().len(), 2);
    }
}
