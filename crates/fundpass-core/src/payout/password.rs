//! The transaction password of a payout, checked against the member's one counter
//! shared with every channel (recovery flows, phone change, PIN pads, the member's own
//! confirmation), the SMS at a lock, and account numbers nobody holds answered like a
//! wrong password.

use super::audit::{by_member, payout_event, with_details};
use super::{Authorization, Payment, PaymentInput, PayoutError};
use crate::audit::Outcome;
use crate::clients::ClientCaller;
use crate::crypto::BlindIndex;
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, LockState, MemberRecord};
use crate::portal::{Portal, RecoveryError, RequestContext};
use crate::ports::{ChangeSet, MemberWrite, SmsPurpose, StoreError, ThrottleWrite};
use time::OffsetDateTime;

impl Portal {
    /// Checks the member's transaction password for a payout, counting a failure
    /// against the counter every channel shares (redone on fresh rows when another
    /// request changed the member meanwhile, so no failure is lost). On success: the
    /// member as checked and, if the counter must be cleared, the write doing it.
    pub(crate) async fn check_payout_password(
        &self,
        caller: &ClientCaller,
        mut member: MemberRecord,
        password: &str,
        auth: &Authorization,
        ctx: &RequestContext,
    ) -> Result<(MemberRecord, Option<MemberWrite>), PayoutError> {
        let policy = self.policy.transaction_lock;
        for _ in 0..5 {
            let now = self.clock.now();
            match policy.gate(&member.transaction_lock, member.transaction_disabled, now) {
                Gate::Open => {}
                gate => {
                    let event =
                        payout_event(caller, auth, now, "payout.password", Outcome::Denied, ctx);
                    let event = with_details(
                        by_member(event, ctx, &member),
                        serde_json::json!({"reason": "transaction_password_locked"}),
                    );
                    self.store
                        .apply(ChangeSet {
                            audit: vec![event],
                            ..ChangeSet::default()
                        })
                        .await?;
                    return Err(match gate {
                        Gate::Locked { until } => PayoutError::TransactionLocked { until },
                        _ => PayoutError::TransactionDisabled,
                    });
                }
            }
            let right = self
                .check_transaction_password(Some(&member), password)
                .await
                .map_err(|e| match e {
                    RecoveryError::Busy(b) => PayoutError::Busy(b),
                    other => PayoutError::Store(StoreError::Backend(other.to_string())),
                })?;
            let mut update = CredentialUpdate::from_record(&member, now);
            if right {
                if member.transaction_lock == LockState::default() {
                    return Ok((member, None));
                }
                update.transaction_lock = LockState::default();
                let write = MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                };
                return Ok((member, Some(write)));
            }
            let (lock, disabled) = policy.after_failure(&member.transaction_lock, now);
            update.transaction_lock = lock.clone();
            update.transaction_disabled = disabled;
            let mut change = ChangeSet {
                members: vec![MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                }],
                audit: vec![with_details(
                    by_member(
                        payout_event(caller, auth, now, "payout.password", Outcome::Failure, ctx),
                        ctx,
                        &member,
                    ),
                    serde_json::json!({"reason": "wrong_transaction_password", "failures": lock.failures}),
                )],
                ..ChangeSet::default()
            };
            if let Some(notice) = self.lock_notice(&member, disabled, lock.locked_until, now)? {
                change.outbox.push(notice);
            }
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed(
                        "transaction_password",
                        &member.transaction_lock,
                        &lock,
                    );
                    return Err(match (disabled, lock.locked_until) {
                        (true, _) => PayoutError::TransactionDisabled,
                        (false, Some(until)) => PayoutError::TransactionLocked { until },
                        (false, None) => PayoutError::WrongTransactionPassword {
                            remaining: policy.tries_left(lock.failures),
                        },
                    });
                }
                Err(StoreError::Conflict) => {
                    member = self
                        .store
                        .member_by_id(member.id)
                        .await?
                        .ok_or(PayoutError::UnknownMember)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(PayoutError::Conflict)
    }

    /// The SMS to the phone on file when a failure locked or disabled the
    /// transaction password.
    pub(crate) fn lock_notice(
        &self,
        member: &MemberRecord,
        disabled: bool,
        locked_until: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Option<crate::ports::OutboxMessage>, StoreError> {
        let t = &self.templates;
        let time = crate::portal::china_time(now);
        let (purpose, text) = match (disabled, locked_until) {
            (true, _) => (
                SmsPurpose::TransactionDisabled,
                crate::portal::fill(
                    &t.transaction_disabled,
                    &[("time", &time), ("hotline", &t.hotline)],
                ),
            ),
            (false, Some(until)) => (
                SmsPurpose::TransactionLocked,
                crate::portal::fill(
                    &t.transaction_locked,
                    &[
                        ("time", &time),
                        ("until", &crate::portal::china_time(until)),
                        ("hotline", &t.hotline),
                    ],
                ),
            ),
            (false, None) => return Ok(None),
        };
        let phone = self.phone_on_file(member)?;
        Ok(Some(self.outbox_message(
            Some(member.id),
            purpose,
            &phone,
            &text,
        )))
    }

    /// A direct verification for an account number nobody (registered) holds: the
    /// same work and the same answers as a wrong password, counted per account number.
    pub(super) async fn unknown_account_attempt(
        &self,
        caller: &ClientCaller,
        input: &PaymentInput,
        payment: &Payment,
        password: &str,
        ctx: &RequestContext,
    ) -> PayoutError {
        match self
            .unknown_account_inner(caller, input, payment, password, ctx)
            .await
        {
            Ok(e) | Err(e) => e,
        }
    }

    async fn unknown_account_inner(
        &self,
        caller: &ClientCaller,
        input: &PaymentInput,
        payment: &Payment,
        password: &str,
        ctx: &RequestContext,
    ) -> Result<PayoutError, PayoutError> {
        let account_no = input.account_no.as_str();
        let policy = self.policy.transaction_lock;
        let key = BlindIndex::from_bytes(
            self.keyring
                .answer_mac("payout-unknown-account", account_no)
                .to_vec(),
        );
        let state = self.store.throttle(&key).await?;
        let now = self.clock.now();
        let disabled = state.failures >= policy.disable_after;
        match policy.gate(&state, disabled, now) {
            Gate::Open => {}
            Gate::Locked { until } => return Ok(PayoutError::TransactionLocked { until }),
            Gate::Disabled => return Ok(PayoutError::TransactionDisabled),
        }
        self.check_transaction_password(None, password)
            .await
            .map_err(|e| match e {
                RecoveryError::Busy(b) => PayoutError::Busy(b),
                other => PayoutError::Store(StoreError::Backend(other.to_string())),
            })?;
        let (next, disabled) = policy.after_failure(&state, now);
        let mut event = caller.event(now, "payout.password", Outcome::Failure, ctx);
        event = event.details(serde_json::json!({
            "reason": "unknown_account",
            "client": caller.client.id,
            "business_ref": payment.business_ref,
            "payee_account": payment.payee_account,
            "amount_fen": payment.amount_fen,
            "purpose": payment.purpose.code(),
            "mode": super::Mode::Direct.code(),
        }));
        self.store
            .apply(ChangeSet {
                throttles: vec![ThrottleWrite {
                    key,
                    expected: state.clone(),
                    next: next.clone(),
                }],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        crate::metrics::lock_placed("transaction_password", &state, &next);
        Ok(match (disabled, next.locked_until) {
            (true, _) => PayoutError::TransactionDisabled,
            (false, Some(until)) => PayoutError::TransactionLocked { until },
            (false, None) => PayoutError::WrongTransactionPassword {
                remaining: policy.tries_left(next.failures),
            },
        })
    }
}
