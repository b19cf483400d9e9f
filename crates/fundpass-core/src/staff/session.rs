//! Staff sessions: a cookie of the staff console, stored like member sessions (only
//! the token's digest), with an assurance level. A password alone gives a session of
//! level [`StaffLevel::Password`], good for nothing but the TOTP step (and, on the
//! first login, the enrolment of the second factor); the TOTP code replaces it with a
//! new session of level [`StaffLevel::Mfa`].

use time::{Duration, OffsetDateTime};

use super::StaffId;
use crate::crypto::{Sealed, TokenDigest};
use crate::session::{SessionEnded, check_times};

/// How far a staff session has been proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffLevel {
    /// The password was right; the TOTP code is still owed.
    Password,
    /// Password and TOTP code: the console may be used.
    Mfa,
}

impl StaffLevel {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Mfa => "mfa",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "password" => Some(Self::Password),
            "mfa" => Some(Self::Mfa),
            _ => None,
        }
    }
}

/// A staff session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRecord {
    pub token: TokenDigest,
    pub staff_id: StaffId,
    pub level: StaffLevel,
    /// The TOTP secret being enrolled at a first login (sealed), until the first code
    /// from it is accepted and it moves to the staff account.
    pub pending_totp: Option<Sealed>,
    /// Synchroniser token every console form must carry.
    pub csrf: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A staff session write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffSessionWrite {
    Insert(StaffSessionRecord),
    Revoke {
        token: TokenDigest,
        at: OffsetDateTime,
    },
    /// Ends every session of the staff account (disabled, MFA reset).
    RevokeAll {
        staff: StaffId,
        at: OffsetDateTime,
    },
}

/// Staff session timeouts (MLPS level 3: short idle time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffSessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    /// How long the password step waits for its TOTP code.
    pub password_step: Duration,
}

impl Default for StaffSessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(10),
            absolute: Duration::hours(8),
            password_step: Duration::minutes(5),
        }
    }
}

impl StaffSessionPolicy {
    /// Whether `session` may be used at `now`.
    pub fn check(
        &self,
        session: &StaffSessionRecord,
        now: OffsetDateTime,
    ) -> Result<(), SessionEnded> {
        let absolute = match session.level {
            StaffLevel::Password => self.password_step.min(self.absolute),
            StaffLevel::Mfa => self.absolute,
        };
        check_times(
            session.revoked_at,
            session.created_at + absolute,
            session.last_seen_at + self.idle,
            now,
        )
    }

    /// Whether `last_seen_at` is worth writing again (at most every 30 seconds).
    pub fn should_touch(&self, session: &StaffSessionRecord, now: OffsetDateTime) -> bool {
        now - session.last_seen_at >= Duration::seconds(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(level: StaffLevel, created: OffsetDateTime) -> StaffSessionRecord {
        StaffSessionRecord {
            token: TokenDigest([0; 32]),
            staff_id: StaffId(1),
            level,
            pending_totp: None,
            csrf: String::new(),
            created_at: created,
            last_seen_at: created,
            ip: None,
            user_agent: None,
            revoked_at: None,
        }
    }

    #[test]
    fn staff_sessions_end_after_ten_idle_minutes_or_eight_hours() {
        let p = StaffSessionPolicy::default();
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let s = session(StaffLevel::Mfa, t0);
        assert_eq!(p.check(&s, t0 + Duration::minutes(9)), Ok(()));
        assert_eq!(
            p.check(&s, t0 + Duration::minutes(10)),
            Err(SessionEnded::Idle)
        );
        let busy = StaffSessionRecord {
            last_seen_at: t0 + Duration::hours(8) - Duration::minutes(1),
            ..s.clone()
        };
        assert_eq!(
            p.check(&busy, t0 + Duration::hours(8)),
            Err(SessionEnded::Absolute)
        );
        let revoked = StaffSessionRecord {
            revoked_at: Some(t0),
            ..s
        };
        assert_eq!(p.check(&revoked, t0), Err(SessionEnded::Revoked));
    }

    #[test]
    fn the_password_step_waits_five_minutes_for_its_code() {
        let p = StaffSessionPolicy::default();
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let mut s = session(StaffLevel::Password, t0);
        s.last_seen_at = t0 + Duration::minutes(4);
        assert_eq!(p.check(&s, t0 + Duration::minutes(4)), Ok(()));
        assert_eq!(
            p.check(&s, t0 + Duration::minutes(5)),
            Err(SessionEnded::Absolute)
        );
        for l in [StaffLevel::Password, StaffLevel::Mfa] {
            assert_eq!(StaffLevel::from_code(l.code()), Some(l));
        }
    }
}
