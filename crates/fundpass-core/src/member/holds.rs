//! Holds: "this member's credentials changed recently". Business systems read them
//! before paying money out; the member sees them on their home page.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::MemberId;
use crate::audit::Channel;

/// Why a hold was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// The login password was reset.
    LoginReset,
    /// The transaction password was reset.
    TransactionReset,
    /// The phone number on file changed.
    PhoneChange,
    /// The member reported an event on their record as not theirs ("this was not
    /// me"). Always blocks payouts, whatever `payouts.blocking_holds` says.
    ReportedByMember,
}

impl HoldReason {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::LoginReset => "login_reset",
            Self::TransactionReset => "transaction_reset",
            Self::PhoneChange => "phone_change",
            Self::ReportedByMember => "reported_by_member",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "login_reset" => Some(Self::LoginReset),
            "transaction_reset" => Some(Self::TransactionReset),
            "phone_change" => Some(Self::PhoneChange),
            "reported_by_member" => Some(Self::ReportedByMember),
            _ => None,
        }
    }
}

/// One hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub member_id: MemberId,
    pub reason: HoldReason,
    pub channel: Channel,
    pub created_at: OffsetDateTime,
    pub until: OffsetDateTime,
}

/// How long holds last, per channel of the reset (phone changes have their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    pub web: Duration,
    pub app: Duration,
    pub counter: Duration,
    pub hotline: Duration,
    pub phone_change: Duration,
    /// After the member reported an event as not theirs.
    pub reported: Duration,
}

impl Default for HoldPolicy {
    fn default() -> Self {
        Self {
            web: Duration::hours(24),
            app: Duration::hours(24),
            counter: Duration::hours(24),
            hotline: Duration::hours(24),
            phone_change: Duration::hours(72),
            reported: Duration::days(7),
        }
    }
}

impl HoldPolicy {
    /// The hold a change of this kind through this channel places at `now`.
    pub fn hold(
        &self,
        member_id: MemberId,
        reason: HoldReason,
        channel: Channel,
        now: OffsetDateTime,
    ) -> Hold {
        let length = match (reason, channel) {
            (HoldReason::PhoneChange, _) => self.phone_change,
            (HoldReason::ReportedByMember, _) => self.reported,
            (_, Channel::App) => self.app,
            (_, Channel::Counter) => self.counter,
            (_, Channel::Hotline) => self.hotline,
            _ => self.web,
        };
        Hold {
            member_id,
            reason,
            channel,
            created_at: now,
            until: now + length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn hold_length_follows_the_channel_and_phone_changes_hold_longer() {
        let p = HoldPolicy {
            app: Duration::hours(48),
            ..HoldPolicy::default()
        };
        let now = datetime!(2026-11-23 08:00 UTC);
        let m = MemberId(1);
        assert_eq!(
            p.hold(m, HoldReason::LoginReset, Channel::Web, now).until,
            now + Duration::hours(24)
        );
        assert_eq!(
            p.hold(m, HoldReason::TransactionReset, Channel::App, now)
                .until,
            now + Duration::hours(48)
        );
        assert_eq!(
            p.hold(m, HoldReason::PhoneChange, Channel::Counter, now)
                .until,
            now + Duration::hours(72)
        );
        for r in [
            HoldReason::LoginReset,
            HoldReason::TransactionReset,
            HoldReason::PhoneChange,
            HoldReason::ReportedByMember,
        ] {
            assert_eq!(HoldReason::from_code(r.code()), Some(r));
        }
    }
}
