//! Using, ending and listing sessions.

use time::OffsetDateTime;

use super::{Portal, RequestContext};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::OpaqueToken;
use crate::member::MemberRecord;
use crate::ports::{ChangeSet, SessionWrite, StoreError};
use crate::session::{ClientKind, SessionEnded, SessionRecord, SessionScope};

/// A request's verified session and its member.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: SessionRecord,
    pub member: MemberRecord,
}

/// Why a token did not authenticate.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no such session")]
    Unknown,
    #[error("this session may only be used to recover the transaction password")]
    RecoveryOnly,
    #[error(transparent)]
    Ended(SessionEnded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portal {
    /// A new session for `member` (not yet stored): its bearer token and record. The
    /// token is only ever in the client's hands; the record holds its digest.
    pub(crate) fn new_session(
        &self,
        member: crate::member::MemberId,
        client: ClientKind,
        scope: SessionScope,
        ctx: &RequestContext,
    ) -> (OpaqueToken, SessionRecord) {
        let now = self.clock.now();
        let (token, csrf) = self.session_tokens();
        let record = SessionRecord {
            token: token.digest(),
            member_id: member,
            client,
            scope,
            csrf,
            created_at: now,
            last_seen_at: now,
            ip: ctx.ip.clone(),
            user_agent: ctx.stored_user_agent(),
            revoked_at: None,
        };
        (token, record)
    }

    /// A new session's bearer token and its CSRF token (member or staff session).
    pub(crate) fn session_tokens(&self) -> (OpaqueToken, String) {
        let token = OpaqueToken::generate(self.rng.as_ref());
        let csrf = OpaqueToken::generate(self.rng.as_ref()).expose().to_owned();
        (token, csrf)
    }

    /// Checks a session token from a cookie (web) or an Authorization header (app).
    /// Only full sessions pass: a face-login session is good for recovery alone.
    pub async fn authenticate(
        &self,
        token: &str,
        client: ClientKind,
    ) -> Result<Authenticated, SessionError> {
        self.authenticate_scoped(token, client, false).await
    }

    /// Like [`Self::authenticate`], also accepting a recovery-only session (the
    /// forgotten-transaction-password flow's endpoints).
    pub async fn authenticate_for_recovery(
        &self,
        token: &str,
        client: ClientKind,
    ) -> Result<Authenticated, SessionError> {
        self.authenticate_scoped(token, client, true).await
    }

    async fn authenticate_scoped(
        &self,
        token: &str,
        client: ClientKind,
        recovery_allowed: bool,
    ) -> Result<Authenticated, SessionError> {
        let token = OpaqueToken::parse(token.trim()).ok_or(SessionError::Unknown)?;
        let session = self
            .store
            .session(&token.digest())
            .await?
            .ok_or(SessionError::Unknown)?;
        if session.client != client {
            return Err(SessionError::Unknown);
        }
        let now = self.clock.now();
        self.policy
            .session
            .check(&session, now)
            .map_err(SessionError::Ended)?;
        if session.scope == SessionScope::Recovery && !recovery_allowed {
            return Err(SessionError::RecoveryOnly);
        }
        let member = self
            .store
            .member_by_id(session.member_id)
            .await?
            .ok_or(SessionError::Unknown)?;
        if member.status == crate::member::MemberStatus::Frozen {
            return Err(SessionError::Ended(SessionEnded::Revoked));
        }
        if self.policy.session.should_touch(&session, now) {
            self.store.touch_session(&session.token, now).await?;
        }
        Ok(Authenticated { session, member })
    }

    fn session_event(
        &self,
        auth: &Authenticated,
        action: &str,
        ctx: &RequestContext,
    ) -> AuditEvent {
        self.recovery_event(action, Outcome::Success, Some(auth.member.id), ctx)
    }

    /// Ends this session.
    pub async fn logout(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let revoke = |at| SessionWrite::Revoke {
            token: auth.session.token,
            at,
        };
        self.end_sessions(auth, revoke, "session.logout", ctx).await
    }

    /// Ends every session and app token of the member, this one included.
    pub async fn logout_everywhere(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let revoke = |at| SessionWrite::RevokeAll {
            member: auth.member.id,
            at,
        };
        self.end_sessions(auth, revoke, "session.logout_all", ctx)
            .await
    }

    /// Revokes what `revoke` names, now, with its audit row in the same change.
    async fn end_sessions(
        &self,
        auth: &Authenticated,
        revoke: impl FnOnce(OffsetDateTime) -> SessionWrite,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        self.store
            .apply(ChangeSet {
                sessions: vec![revoke(self.clock.now())],
                audit: vec![self.session_event(auth, action, ctx)],
                ..ChangeSet::default()
            })
            .await
    }

    /// The member's sessions, newest first (the one before the current is "last login").
    pub async fn sessions_of(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.store.member_sessions(auth.member.id).await
    }
}
