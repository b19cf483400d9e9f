//! A wrong current password inside a session: counted like a wrong one anywhere
//! else, on the member's own counter, redone on the fresh row when another request
//! changed the member meanwhile so that no failure is lost.

use super::PasswordChangeError;
use crate::audit::Outcome;
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, MemberRecord, SecretKind};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, MemberWrite, SessionWrite, StoreError};

/// Wrong tries left before the transaction password next locks or is disabled.
fn transaction_tries_left(lock_after: i32, disable_after: i32, failures: i32) -> i32 {
    let to_lock = lock_after - failures.rem_euclid(lock_after.max(1));
    to_lock.min(disable_after - failures).max(0)
}

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
        mut member: MemberRecord,
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
                .password_change_event(&member, SecretKind::Login, Outcome::Failure, ctx)
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
                    return Ok(match (disabled, next.locked_until) {
                        (true, _) => PasswordChangeError::TransactionDisabled,
                        (false, Some(until)) => PasswordChangeError::TransactionLocked { until },
                        (false, None) => PasswordChangeError::WrongTransactionPassword {
                            remaining: transaction_tries_left(
                                policy.lock_after,
                                policy.disable_after,
                                next.failures,
                            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_left_count_down_to_each_lock_and_to_the_disable() {
        let left: Vec<i32> = (1..=9).map(|f| transaction_tries_left(5, 10, f)).collect();
        assert_eq!(left, [4, 3, 2, 1, 5, 4, 3, 2, 1]);
        assert_eq!(transaction_tries_left(5, 7, 6), 1);
    }
}
