//! Changing a password the member knows, inside a full session: the current one,
//! then the new one twice.
//!
//! The current password is a guess like any other. A wrong login password counts
//! against the login lock (the login page's counter); the failure that locks ends
//! every session of the member, this one too, so a session cannot be used to guess
//! it. A wrong transaction password counts against the counter every channel shares
//! (5 → until midnight China time, 10 → disabled), with the SMS notice at the lock.
//!
//! A change stores the new hash and its history entry, clears that secret's lock,
//! ends every other session and app token, moves this session to a new id, texts the
//! phone on file and is audited, all in one change. No hold follows: the member
//! proved the current secret.

mod failures;
mod new_secret;

use time::{Duration, OffsetDateTime};

use super::{Authenticated, Portal, RequestContext, china_time, fill};
use crate::audit::{AuditEvent, Outcome};
use crate::credentials::PolicyViolation;
use crate::crypto::OpaqueToken;
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, LockState, MemberRecord, SecretKind};
use crate::ports::{
    ChangeSet, MemberWrite, PoolBusy, SecretHistoryEntry, SessionWrite, SmsPurpose, StoreError,
};
use crate::session::SessionScope;

/// This session after a change: its new token (cookie or bearer) and CSRF token.
#[derive(Debug)]
pub struct PasswordChanged {
    pub token: OpaqueToken,
    pub csrf: String,
    /// The latest the session can live (its start has not moved).
    pub expires_at: OffsetDateTime,
}

/// Why a password change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    /// A face-login session is good for recovering the transaction password alone.
    #[error("a face-login session cannot change passwords")]
    RecoverySession,
    #[error("wrong login password; {remaining} tries before the account locks")]
    WrongLoginPassword { remaining: i32 },
    /// Locked before this attempt (failures elsewhere); the session goes on.
    #[error("the login password is locked until {until}")]
    Locked { until: OffsetDateTime },
    /// This failure locked the account: every session ended, this one too.
    #[error("too many wrong login passwords; locked until {until}, every session ended")]
    LockedOut { until: OffsetDateTime },
    #[error("wrong transaction password; {remaining} tries before it locks")]
    WrongTransactionPassword { remaining: i32 },
    #[error("the transaction password is locked until {until}")]
    TransactionLocked { until: OffsetDateTime },
    #[error("the transaction password is disabled until it is recovered")]
    TransactionDisabled,
    /// Every rule the new password breaks, and whether the two entries differ.
    #[error("the new password is refused")]
    NewSecret {
        violations: Vec<PolicyViolation>,
        mismatch: bool,
    },
    #[error("another request changed the account first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PasswordChangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

/// The audit action of a change of `kind`.
fn action(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Login => "password.change.login",
        SecretKind::Transaction => "password.change.transaction",
    }
}

/// The stored hash of `kind`.
fn stored(member: &MemberRecord, kind: SecretKind) -> Option<&String> {
    match kind {
        SecretKind::Login => member.login_hash.as_ref(),
        SecretKind::Transaction => member.transaction_hash.as_ref(),
    }
}

/// When the login password was set, if that is at least `age` ago (`age` zero: never).
fn reminder_due(
    set_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    age: Duration,
) -> Option<OffsetDateTime> {
    set_at.filter(|at| age > Duration::ZERO && now - *at >= age)
}

impl Portal {
    /// Changes the login password of the member of `auth`.
    pub async fn change_login_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        again: &str,
        ctx: &RequestContext,
    ) -> Result<PasswordChanged, PasswordChangeError> {
        let kind = SecretKind::Login;
        let member = self.changing_member(auth)?;
        if let Gate::Locked { until } = self
            .policy
            .login_lock
            .gate(&member.login_lock, self.clock.now())
        {
            self.deny_password_change(member, kind, "locked", ctx)
                .await?;
            return Err(PasswordChangeError::Locked { until });
        }
        let verified = stored(member, kind).cloned();
        if self
            .verify_on_pool(verified, current, false)
            .await?
            .is_none()
        {
            return Err(self.wrong_current_login(member.clone(), ctx).await?);
        }
        let hash = self
            .hash_changed_secret(member, kind, new, again, ctx)
            .await?;
        self.store_password_change(auth, kind, hash, ctx).await
    }

    /// Changes the transaction password of the member of `auth`.
    pub async fn change_transaction_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        again: &str,
        ctx: &RequestContext,
    ) -> Result<PasswordChanged, PasswordChangeError> {
        let kind = SecretKind::Transaction;
        let member = self.changing_member(auth)?;
        let policy = self.policy.transaction_lock;
        match policy.gate(
            &member.transaction_lock,
            member.transaction_disabled,
            self.clock.now(),
        ) {
            Gate::Open => {}
            Gate::Locked { until } => {
                self.deny_password_change(member, kind, "locked", ctx)
                    .await?;
                return Err(PasswordChangeError::TransactionLocked { until });
            }
            Gate::Disabled => {
                self.deny_password_change(member, kind, "disabled", ctx)
                    .await?;
                return Err(PasswordChangeError::TransactionDisabled);
            }
        }
        let verified = stored(member, kind).cloned();
        if self
            .verify_on_pool(verified, current, false)
            .await?
            .is_none()
        {
            return Err(self.wrong_current_transaction(member.clone(), ctx).await?);
        }
        let hash = self
            .hash_changed_secret(member, kind, new, again, ctx)
            .await?;
        self.store_password_change(auth, kind, hash, ctx).await
    }

    /// When the member's login password was set, if it is older than the reminder
    /// age (then the home page suggests a change; nothing is ever forced).
    pub async fn login_password_reminder(
        &self,
        auth: &Authenticated,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let age = self.policy.password_reminder;
        if age <= Duration::ZERO {
            return Ok(None);
        }
        let set_at = self
            .store
            .secret_set_at(auth.member.id, SecretKind::Login)
            .await?;
        Ok(reminder_due(set_at, self.clock.now(), age))
    }

    /// The member, when the session may change passwords.
    fn changing_member<'a>(
        &self,
        auth: &'a Authenticated,
    ) -> Result<&'a MemberRecord, PasswordChangeError> {
        match auth.session.scope {
            SessionScope::Full => Ok(&auth.member),
            SessionScope::Recovery => Err(PasswordChangeError::RecoverySession),
        }
    }

    fn password_change_event(
        &self,
        member: &MemberRecord,
        kind: SecretKind,
        outcome: Outcome,
        ctx: &RequestContext,
    ) -> AuditEvent {
        self.recovery_event(action(kind), outcome, Some(member.id), ctx)
    }

    /// Stores the new secret with everything a change entails, in one change: its
    /// history entry and cleared lock, every other session ended and this one moved
    /// to a new id (same start, so its absolute limit stays), the notice and the
    /// audit event. A write that lost a race is redone on the fresh row as long as
    /// the secret the member proved is still the one on file.
    async fn store_password_change(
        &self,
        auth: &Authenticated,
        kind: SecretKind,
        hash: String,
        ctx: &RequestContext,
    ) -> Result<PasswordChanged, PasswordChangeError> {
        let mut member = auth.member.clone();
        let proved = stored(&member, kind).cloned();
        let (token, mut session) =
            self.new_session(member.id, auth.session.client, SessionScope::Full, ctx);
        session.created_at = auth.session.created_at;
        let phone = self.phone_on_file(&member)?;
        for _ in 0..3 {
            if stored(&member, kind) != proved.as_ref() {
                return Err(PasswordChangeError::Conflict);
            }
            let now = self.clock.now();
            let mut update = CredentialUpdate::from_record(&member, now);
            match kind {
                SecretKind::Login => {
                    update.login_hash = Some(hash.clone());
                    update.login_lock = LockState::default();
                }
                SecretKind::Transaction => {
                    update.transaction_hash = Some(hash.clone());
                    update.transaction_lock = LockState::default();
                    update.transaction_disabled = false;
                }
            }
            let text = fill(
                &self.templates.password_changed,
                &[
                    ("secret", &self.secret_names(std::iter::once(kind))),
                    ("time", &china_time(now)),
                    ("channel", self.channel_name(ctx.channel)),
                    ("hotline", &self.templates.hotline),
                ],
            );
            let change = ChangeSet {
                members: vec![MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                }],
                history: vec![SecretHistoryEntry {
                    member_id: member.id,
                    kind,
                    hash: hash.clone(),
                    at: now,
                }],
                sessions: vec![
                    SessionWrite::RevokeAll {
                        member: member.id,
                        at: now,
                    },
                    SessionWrite::Insert(session.clone()),
                ],
                outbox: vec![self.outbox_message(
                    Some(member.id),
                    SmsPurpose::PasswordChanged,
                    &phone,
                    &text,
                )],
                audit: vec![self.password_change_event(&member, kind, Outcome::Success, ctx)],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => {
                    return Ok(PasswordChanged {
                        token,
                        csrf: session.csrf,
                        expires_at: session.created_at + self.policy.session.absolute,
                    });
                }
                Err(StoreError::Conflict) => member = self.reload_for_change(&member).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PasswordChangeError::Conflict)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_reminder_comes_at_the_configured_age_and_never_when_off() {
        let set = datetime!(2025-11-23 02:00 UTC);
        let year = Duration::days(365);
        let due = |now, age| reminder_due(Some(set), now, age);
        assert_eq!(due(set + year - Duration::minutes(1), year), None);
        assert_eq!(due(set + year, year), Some(set));
        assert_eq!(due(set + year * 3, Duration::ZERO), None);
        assert_eq!(reminder_due(None, set + year * 3, year), None);
    }
}
