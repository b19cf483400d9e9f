//! Changing the phone on file in the app: only in a session opened by a face
//! verification login, and with the transaction password. The old phone is told; a
//! hold follows (72 h by default); every session ends; any reset ticket still out is
//! closed; codes and notices go to the new phone from then on. (At the counter the change is part of a counter case.)

use super::{Authenticated, Portal, RequestContext};
use crate::audit::{Channel, Outcome};
use crate::crypto::Field;
use crate::identity::{Phone, PhoneError};
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, HoldReason, LockState, MemberStatus, PiiUpdate};
use crate::ports::{
    ChangeSet, MemberWrite, PiiWrite, PoolBusy, SessionWrite, SmsPurpose, StoreError,
};
use crate::session::SessionScope;

/// Why a phone change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PhoneChangeError {
    /// The session did not come from a face verification login.
    #[error("a phone change needs a face verification login first")]
    FaceLoginRequired,
    #[error("phone: {0}")]
    BadPhone(PhoneError),
    #[error("the two new numbers differ")]
    Mismatch,
    #[error("the new number is the one on file")]
    SamePhone,
    #[error("wrong transaction password; {remaining} tries before it locks")]
    WrongTransactionPassword { remaining: i32 },
    #[error("the transaction password is locked until {until}")]
    TransactionLocked { until: time::OffsetDateTime },
    #[error("the transaction password is disabled until it is recovered")]
    TransactionDisabled,
    #[error("another request changed the account first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PhoneChangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

impl Portal {
    /// Sets a new phone on file for the member of a face-login session.
    pub async fn change_phone_in_app(
        &self,
        auth: &Authenticated,
        transaction_password: &str,
        new_phone: &str,
        again: &str,
        ctx: &RequestContext,
    ) -> Result<(), PhoneChangeError> {
        if auth.session.scope != SessionScope::Recovery {
            return Err(PhoneChangeError::FaceLoginRequired);
        }
        let phone = Phone::parse(new_phone).map_err(PhoneChangeError::BadPhone)?;
        if Phone::parse(again).ok().as_ref() != Some(&phone) {
            return Err(PhoneChangeError::Mismatch);
        }
        let member = &auth.member;
        let index = self.keyring.blind_index(Field::Phone, phone.normalised());
        if index == member.phone_index {
            return Err(PhoneChangeError::SamePhone);
        }
        let now = self.clock.now();
        let policy = self.policy.transaction_lock;
        match policy.gate(&member.transaction_lock, member.transaction_disabled, now) {
            Gate::Open => {}
            Gate::Locked { until } => return Err(PhoneChangeError::TransactionLocked { until }),
            Gate::Disabled => return Err(PhoneChangeError::TransactionDisabled),
        }
        let registered = Some(member).filter(|m| m.status == MemberStatus::Registered);
        let right = self
            .check_transaction_password(registered, transaction_password)
            .await
            .map_err(|e| match e {
                super::RecoveryError::Busy(b) => PhoneChangeError::Busy(b),
                other => PhoneChangeError::Store(StoreError::Backend(other.to_string())),
            })?;
        let mut update = CredentialUpdate::from_record(member, now);
        if !right {
            let (lock, disabled) = policy.after_failure(&member.transaction_lock, now);
            update.transaction_lock = lock.clone();
            update.transaction_disabled = disabled;
            let event = self
                .recovery_event("phone.change", Outcome::Failure, Some(member.id), ctx)
                .details(serde_json::json!({"reason": "wrong_transaction_password"}));
            self.store
                .apply(ChangeSet {
                    members: vec![MemberWrite {
                        id: member.id,
                        expected_version: member.version,
                        update,
                    }],
                    audit: vec![event],
                    ..ChangeSet::default()
                })
                .await?;
            crate::metrics::lock_placed("transaction_password", &member.transaction_lock, &lock);
            return Err(match (disabled, lock.locked_until) {
                (true, _) => PhoneChangeError::TransactionDisabled,
                (false, Some(until)) => PhoneChangeError::TransactionLocked { until },
                (false, None) => PhoneChangeError::WrongTransactionPassword {
                    remaining: policy.tries_left(lock.failures),
                },
            });
        }
        update.transaction_lock = LockState::default();
        let old = self.phone_on_file(member)?;
        let notice = super::fill(
            &self.templates.phone_changed,
            &[
                ("time", &super::china_time(now)),
                ("channel", self.channel_name(Channel::App)),
                ("masked", &phone.masked()),
                ("hotline", &self.templates.hotline),
            ],
        );
        let event = self
            .recovery_event("phone.change", Outcome::Success, Some(member.id), ctx)
            .details(serde_json::json!({"new_phone": phone.masked()}));
        let hold = self
            .policy
            .holds
            .hold(member.id, HoldReason::PhoneChange, Channel::App, now);
        // A ticket texted to the old phone must not outlive it.
        let cases = self.close_issued_cases(member.id, now).await?;
        self.store
            .apply(ChangeSet {
                cases,
                members: vec![MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                }],
                // The credential write above bumps the version first.
                pii: vec![PiiWrite {
                    id: member.id,
                    expected_version: member.version + 1,
                    update: PiiUpdate {
                        id_number: member.id_number.clone(),
                        id_number_index: member.id_number_index.clone(),
                        phone: self.keyring.seal(
                            Field::Phone,
                            phone.normalised(),
                            self.rng.as_ref(),
                        ),
                        phone_index: index,
                        at: now,
                    },
                }],
                sessions: vec![SessionWrite::RevokeAll {
                    member: member.id,
                    at: now,
                }],
                events: crate::clients::BusinessEvent::for_holds(
                    member,
                    std::slice::from_ref(&hold),
                    self.rng.as_ref(),
                ),
                holds: vec![hold],
                outbox: vec![self.outbox_message(
                    Some(member.id),
                    SmsPurpose::PhoneChanged,
                    &old,
                    &notice,
                )],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(())
    }
}
