//! A wrong current password inside a session: counted like a wrong one anywhere
//! else, on the member's own counter, redone on the fresh row when another request
//! changed the member meanwhile so that no failure is lost.

use super::PasswordChangeError;
use crate::audit::Outcome;
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, MemberRecord, SecretKind};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, MemberWrite, SessionWrite, StoreError};

impl Portal {
    /// Records a change refused without checking anything (a lock in force).
    pub(super) async fn deny_password_change(
        &self,
        member: &MemberRecord,
        kind: SecretKind,
        reason: &str,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let event = self
            .password_change_event(member, kind, Outcome::Denied, ctx)
            .details(serde_json::json!({ "reason": reason }));
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
    }

    /// Counts a wrong current login password against the login lock (redone on the
    /// fresh row when another request changed the member meanwhile, so no failure is
    /// lost). The failure that locks ends every session of the member in the same
    /// change. Returns the refusal to give.
    pub(super) async fn wrong_current_login(
        &self,
        member: MemberRecord,
        ctx: &RequestContext,
    ) -> Result<PasswordChangeError, PasswordChangeError> {
        self.wrong_login_in_session(member, super::action(SecretKind::Login), ctx)
            .await
    }

    /// [`Self::wrong_current_login`] for any use case that checks the login password
    /// inside a session (a password change, a copy of one's data), audited under
    /// `action`: one counter, one lock, whatever asked.
    pub(in crate::portal) async fn wrong_login_in_session(
        &self,
        mut member: MemberRecord,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<PasswordChangeError, PasswordChangeError> {
        let policy = self.policy.login_lock;
        for _ in 0..5 {
            let now = self.clock.now();
            if let Gate::Locked { until } = policy.gate(&member.login_lock, now) {
                return Ok(PasswordChangeError::Locked { until });
            }
            let next = policy.after_failure(&member.login_lock, now);
            let mut update = CredentialUpdate::from_record(&member, now);
            update.login_lock = next.clone();
            let event = self
                .recovery_event(action, Outcome::Failure, Some(member.id), ctx)
                .details(serde_json::json!({
                    "reason": "wrong_password",
                    "locked": next.locked_until.is_some(),
                }));
            let mut change = ChangeSet {
                members: vec![MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                }],
                audit: vec![event],
                ..ChangeSet::default()
            };
            if next.locked_until.is_some() {
                // Guessing inside a session ends it like a lock at the login page.
                change.sessions.push(SessionWrite::RevokeAll {
                    member: member.id,
                    at: now,
                });
            }
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed("login_password", &member.login_lock, &next);
                    return Ok(match next.locked_until {
                        Some(until) => PasswordChangeError::LockedOut { until },
                        None => PasswordChangeError::WrongLoginPassword {
                            remaining: policy.threshold - next.failures,
                        },
                    });
                }
                Err(StoreError::Conflict) => member = self.reload_for_change(&member).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PasswordChangeError::Conflict)
    }

    /// Counts a wrong current transaction password against the counter every
    /// channel shares, with the SMS notice when it locks or disables it.
    pub(super) async fn wrong_current_transaction(
        &self,
        mut member: MemberRecord,
        ctx: &RequestContext,
    ) -> Result<PasswordChangeError, PasswordChangeError> {
        let policy = self.policy.transaction_lock;
        for _ in 0..5 {
            let now = self.clock.now();
            match policy.gate(&member.transaction_lock, member.transaction_disabled, now) {
                Gate::Open => {}
                Gate::Locked { until } => {
                    return Ok(PasswordChangeError::TransactionLocked { until });
                }
                Gate::Disabled => return Ok(PasswordChangeError::TransactionDisabled),
            }
            let (next, disabled) = policy.after_failure(&member.transaction_lock, now);
            let mut update = CredentialUpdate::from_record(&member, now);
            update.transaction_lock = next.clone();
            update.transaction_disabled = disabled;
            let event = self
                .password_change_event(&member, SecretKind::Transaction, Outcome::Failure, ctx)
                .details(serde_json::json!({
                    "reason": "wrong_transaction_password",
                    "failures": next.failures,
                }));
            let change = ChangeSet {
                members: vec![MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                }],
                outbox: self
                    .lock_notice(&member, disabled, next.locked_until, now)?
                    .into_iter()
                    .collect(),
                audit: vec![event],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed(
                        "transaction_password",
                        &member.transaction_lock,
                        &next,
                    );
                    return Ok(match (disabled, next.locked_until) {
                        (true, _) => PasswordChangeError::TransactionDisabled,
                        (false, Some(until)) => PasswordChangeError::TransactionLocked { until },
                        (false, None) => PasswordChangeError::WrongTransactionPassword {
                            remaining: policy.tries_left(next.failures),
                        },
                    });
                }
                Err(StoreError::Conflict) => member = self.reload_for_change(&member).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PasswordChangeError::Conflict)
    }

    pub(super) async fn reload_for_change(
        &self,
        member: &MemberRecord,
    ) -> Result<MemberRecord, PasswordChangeError> {
        self.store
            .member_by_id(member.id)
            .await?
            .ok_or(PasswordChangeError::Conflict)
    }
}
