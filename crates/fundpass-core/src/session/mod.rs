//! Server-side sessions for the web portal (cookie) and the app (bearer token): one
//! table, one set of rules.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::crypto::TokenDigest;
use crate::member::MemberId;

/// Which client holds the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// Browser, cookie.
    Web,
    /// Mobile app, bearer token.
    App,
}

impl ClientKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::App => "app",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "web" => Some(Self::Web),
            "app" => Some(Self::App),
            _ => None,
        }
    }
}

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionScope {
    /// A login with the login password: everything a member can do.
    Full,
    /// A face-verification login in the app: only the forgotten-transaction-password
    /// flow, for a short time.
    Recovery,
}

impl SessionScope {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Recovery => "recovery",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "full" => Some(Self::Full),
            "recovery" => Some(Self::Recovery),
            _ => None,
        }
    }
}

/// A member session as stored (the token itself is never stored, only its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token: TokenDigest,
    pub member_id: MemberId,
    pub client: ClientKind,
    pub scope: SessionScope,
    /// Synchroniser token that every form posted in this session must carry.
    pub csrf: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why a session is no longer usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnded {
    #[error("the session was idle too long")]
    Idle,
    #[error("the session reached its maximum length")]
    Absolute,
    #[error("the session was ended")]
    Revoked,
}

/// Whether a session (member or staff) is usable at `now`: not revoked, before its
/// absolute end and before its idle end.
pub(crate) fn check_times(
    revoked_at: Option<OffsetDateTime>,
    absolute_end: OffsetDateTime,
    idle_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), SessionEnded> {
    if revoked_at.is_some() {
        return Err(SessionEnded::Revoked);
    }
    if now >= absolute_end {
        return Err(SessionEnded::Absolute);
    }
    if now >= idle_end {
        return Err(SessionEnded::Idle);
    }
    Ok(())
}

/// Idle and absolute timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    /// Absolute length of a recovery-only session.
    pub recovery_absolute: Duration,
}

impl SessionPolicy {
    /// Members: 15 minutes idle, 12 hours in all.
    pub fn member() -> Self {
        Self {
            idle: Duration::minutes(15),
            absolute: Duration::hours(12),
            recovery_absolute: Duration::minutes(15),
        }
    }

    /// Whether `session` may be used at `now`.
    pub fn check(&self, session: &SessionRecord, now: OffsetDateTime) -> Result<(), SessionEnded> {
        let absolute = self.absolute_length(session.scope);
        check_times(
            session.revoked_at,
            session.created_at + absolute,
            session.last_seen_at + self.idle,
            now,
        )
    }

    /// When `session` ends if it is not used again: its idle end or its absolute
    /// end, whichever comes first.
    pub fn ends_at(&self, session: &SessionRecord) -> OffsetDateTime {
        let absolute = self.absolute_length(session.scope);
        (session.created_at + absolute).min(session.last_seen_at + self.idle)
    }

    fn absolute_length(&self, scope: SessionScope) -> Duration {
        match scope {
            SessionScope::Full => self.absolute,
            SessionScope::Recovery => self.recovery_absolute.min(self.absolute),
        }
    }

    /// Whether `last_seen_at` is worth writing again (at most once a minute, so
    /// every page view is not a database write).
    pub fn should_touch(&self, session: &SessionRecord, now: OffsetDateTime) -> bool {
        now - session.last_seen_at >= Duration::minutes(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(created: OffsetDateTime, seen: OffsetDateTime) -> SessionRecord {
        SessionRecord {
            token: TokenDigest([0; 32]),
            member_id: MemberId(1),
            client: ClientKind::Web,
            scope: SessionScope::Full,
            csrf: String::new(),
            created_at: created,
            last_seen_at: seen,
            ip: None,
            user_agent: None,
            revoked_at: None,
        }
    }

    #[test]
    fn sessions_end_after_idle_or_absolute_time_or_revocation() {
        let p = SessionPolicy::member();
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let s = session(t0, t0);
        assert_eq!(p.check(&s, t0 + Duration::minutes(14)), Ok(()));
        assert_eq!(
            p.check(&s, t0 + Duration::minutes(15)),
            Err(SessionEnded::Idle)
        );
        let busy = session(t0, t0 + Duration::hours(12) - Duration::minutes(1));
        assert_eq!(
            p.check(&busy, t0 + Duration::hours(12)),
            Err(SessionEnded::Absolute)
        );
        let revoked = SessionRecord {
            revoked_at: Some(t0),
            ..s
        };
        assert_eq!(p.check(&revoked, t0), Err(SessionEnded::Revoked));
    }

    #[test]
    fn a_recovery_session_ends_after_fifteen_minutes_whatever_its_use() {
        let p = SessionPolicy::member();
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let s = SessionRecord {
            scope: SessionScope::Recovery,
            ..session(t0, t0 + Duration::minutes(14))
        };
        assert_eq!(p.check(&s, t0 + Duration::minutes(14)), Ok(()));
        assert_eq!(
            p.check(&s, t0 + Duration::minutes(15)),
            Err(SessionEnded::Absolute)
        );
        let full = SessionRecord {
            scope: SessionScope::Full,
            ..s
        };
        assert_eq!(p.check(&full, t0 + Duration::minutes(15)), Ok(()));
        for scope in [SessionScope::Full, SessionScope::Recovery] {
            assert_eq!(SessionScope::from_code(scope.code()), Some(scope));
        }
    }
}
