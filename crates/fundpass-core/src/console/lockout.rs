//! Counting failed staff passwords and codes: on the account, or, for a user name
//! nobody holds, on a counter keyed by a MAC of the name, so both lock alike; and the
//! audit event of every login step.

use super::login::StaffLoginError;
use super::staff_event_for;
use crate::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use crate::crypto::BlindIndex;
use crate::member::LockState;
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, StaffWrite, StoreError, ThrottleWrite};
use crate::staff::StaffRecord;

impl Portal {
    /// The answer to a failed password or code: the lock and its end when this
    /// failure locked the account (as the member portal answers the failure that
    /// locks), else `otherwise` with the tries left before it locks.
    pub(super) fn failure_answer(
        &self,
        lock: &LockState,
        otherwise: impl FnOnce(i32) -> StaffLoginError,
    ) -> StaffLoginError {
        match lock.locked_until {
            Some(until) => StaffLoginError::Locked { until },
            None => otherwise(self.policy.staff_lock.threshold - lock.failures),
        }
    }

    /// Counts one failed password or code on the account (compare-and-set, retried
    /// on a lost race so parallel failures all count); returns the account's lock
    /// state after it.
    pub(super) async fn staff_failure(
        &self,
        staff: &StaffRecord,
        reason: &str,
        ctx: &RequestContext,
    ) -> Result<LockState, StaffLoginError> {
        let mut current = staff.clone();
        for _ in 0..5 {
            let now = self.clock.now();
            let lock = self.policy.staff_lock.after_failure(&current.lock, now);
            let mut next = current.clone();
            next.lock = lock.clone();
            next.updated_at = now;
            let change = ChangeSet {
                staff: vec![StaffWrite {
                    expected_version: current.version,
                    record: next,
                }],
                audit: vec![self.staff_login_event(Some(&current), Outcome::Failure, reason, ctx)],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed("staff", &current.lock, &lock);
                    return Ok(lock);
                }
                Err(StoreError::Conflict) => {
                    current = self
                        .store
                        .staff_by_id(staff.id)
                        .await?
                        .ok_or(StaffLoginError::InvalidCredentials)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StaffLoginError::Conflict)
    }

    /// The failure-counter key of a user name that matches no usable account.
    pub(super) fn unknown_staff_key(&self, username: &str) -> BlindIndex {
        let name: String = username.trim().to_lowercase().chars().take(64).collect();
        BlindIndex::from_bytes(self.keyring.answer_mac("staff-login-name", &name).to_vec())
    }

    /// Counts one failure of a user name that matches no usable account (compare and
    /// set, retried on a lost race); returns its lock state after it.
    pub(super) async fn unknown_staff_failure(
        &self,
        key: BlindIndex,
        mut lock: LockState,
        ctx: &RequestContext,
    ) -> Result<LockState, StaffLoginError> {
        for _ in 0..5 {
            let next = self
                .policy
                .staff_lock
                .after_failure(&lock, self.clock.now());
            let change = ChangeSet {
                throttles: vec![ThrottleWrite {
                    key: key.clone(),
                    expected: lock.clone(),
                    next: next.clone(),
                }],
                audit: vec![self.staff_login_event(None, Outcome::Failure, "unknown", ctx)],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed("staff", &lock, &next);
                    return Ok(next);
                }
                Err(StoreError::Conflict) => lock = self.store.throttle(&key).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StaffLoginError::Conflict)
    }

    pub(super) fn staff_login_event(
        &self,
        staff: Option<&StaffRecord>,
        outcome: Outcome,
        reason: &str,
        ctx: &RequestContext,
    ) -> AuditEvent {
        let details = serde_json::json!({"reason": reason});
        match staff {
            Some(s) => staff_event_for(
                self.clock.now(),
                s,
                Channel::Internal,
                "staff.login",
                outcome,
                None,
                details,
                ctx,
            ),
            None => {
                let mut e = AuditEvent::new(
                    self.clock.now(),
                    Actor {
                        kind: ActorKind::Staff,
                        id: None,
                    },
                    "staff.login",
                    Channel::Internal,
                    outcome,
                )
                .details(details);
                e.ip = ctx.ip.clone();
                e
            }
        }
    }
}
