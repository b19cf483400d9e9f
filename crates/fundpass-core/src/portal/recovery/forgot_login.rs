//! Forgotten login password (seed scenario 1): name, document and captcha → the
//! transaction password → a new login password twice.
//!
//! The identify step answers the same whether or not anyone matched. A wrong
//! transaction password counts against the transaction-password lock (the member's
//! own, or for details that match nobody a counter keyed by the document, which
//! locks the same way), and the failure says only "could not be verified".

use super::{NewSecret, RecoveryError, RecoveryIdentify, RecoveryStarted};
use crate::audit::Outcome;
use crate::crypto::OpaqueToken;
use crate::flow::{FlowKind, FlowRecord, FlowState};
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, LockState, MemberRecord, MemberStatus, SecretKind};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, FlowWrite, MemberWrite, StoreError, run_on_pool};

const KIND: FlowKind = FlowKind::ForgotLogin;
const SUBJECT: &str = "forgot-login-identifier";

impl Portal {
    /// The identify step. The caller has already checked the captcha.
    pub async fn start_forgot_login(
        &self,
        input: &RecoveryIdentify,
        ctx: &RequestContext,
    ) -> Result<RecoveryStarted, RecoveryError> {
        let now = self.clock.now();
        let (name, id) = self.parse_identify(input)?;
        let matched = self
            .registered_holder(&id)
            .await?
            .filter(|m| m.name == name)
            .map(|m| m.id);
        let flow = OpaqueToken::generate(self.rng.as_ref());
        let record = FlowRecord::identified(
            flow.digest(),
            KIND,
            matched,
            self.subject_key(SUBJECT, &id),
            now,
            &self.policy.flow,
        );
        let started = RecoveryStarted {
            flow,
            expires_at: record.expires_at,
        };
        self.insert_flow(record, "recovery.login.start", ctx)
            .await?;
        Ok(started)
    }

    /// The proof step: the transaction password.
    pub async fn verify_forgot_login(
        &self,
        flow: &str,
        transaction_password: &str,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let (_, mut record) = self.load_flow_of(flow, KIND).await?;
        let policy = self.policy.transaction_lock;
        // A failure must be counted even when another request changed the member or
        // the flow meanwhile: the step is redone on fresh rows, a few times.
        for _ in 0..5 {
            let now = self.clock.now();
            if record.state != FlowState::Identified {
                let (_, result) = record.enter_proof(false, now, &self.policy.flow);
                return result.map_err(RecoveryError::from_flow);
            }
            let member = match record.member_id {
                Some(id) => self.store.member_by_id(id).await?,
                None => None,
            };
            let key = crate::crypto::BlindIndex::from_bytes(
                record.subject_key.clone().unwrap_or_default(),
            );
            let (lock, disabled) = match &member {
                Some(m) => (m.transaction_lock.clone(), m.transaction_disabled),
                None => {
                    let lock = self.store.throttle(&key).await?;
                    let disabled = lock.failures >= policy.disable_after;
                    (lock, disabled)
                }
            };
            match policy.gate(&lock, disabled, now) {
                Gate::Open => {}
                gate => {
                    let event = self
                        .recovery_event(
                            "recovery.login.proof",
                            Outcome::Denied,
                            record.member_id,
                            ctx,
                        )
                        .details(serde_json::json!({"reason": "transaction_password_locked"}));
                    self.store
                        .apply(ChangeSet {
                            audit: vec![event],
                            ..ChangeSet::default()
                        })
                        .await?;
                    return Err(match gate {
                        Gate::Locked { until } => RecoveryError::TransactionLocked { until },
                        _ => RecoveryError::TransactionDisabled,
                    });
                }
            }
            let right = self
                .check_transaction_password(member.as_ref(), transaction_password)
                .await?;
            let (next, result) = record.enter_proof(right, now, &self.policy.flow);
            let mut change = ChangeSet {
                flows: vec![FlowWrite::Update {
                    record: next.clone(),
                    expected_version: record.version,
                }],
                ..ChangeSet::default()
            };
            let outcome = if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            change.audit.push(
                self.recovery_event("recovery.login.proof", outcome, record.member_id, ctx)
                    .details(serde_json::json!({"wrong_proofs": next.wrong_codes})),
            );
            let new_lock = if result.is_ok() {
                (LockState::default(), false)
            } else {
                policy.after_failure(&lock, now)
            };
            match &member {
                Some(m) if (new_lock.0 != lock || new_lock.1 != disabled) => {
                    let mut update = CredentialUpdate::from_record(m, now);
                    update.transaction_lock = new_lock.0.clone();
                    update.transaction_disabled = new_lock.1;
                    change.members.push(MemberWrite {
                        id: m.id,
                        expected_version: m.version,
                        update,
                    });
                }
                Some(_) => {}
                None => change.throttles.push((key.clone(), new_lock.0.clone())),
            }
            match self.store.apply(change).await {
                Ok(()) => {
                    return match result {
                        Ok(()) => Ok(()),
                        Err(_) if new_lock.1 => Err(RecoveryError::TransactionDisabled),
                        Err(e) => match new_lock.0.locked_until {
                            Some(until) => Err(RecoveryError::TransactionLocked { until }),
                            None => Err(RecoveryError::from_flow(e)),
                        },
                    };
                }
                Err(StoreError::Conflict) => {
                    let (_, fresh) = self.load_flow_of(flow, KIND).await?;
                    record = fresh;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecoveryError::Conflict)
    }

    /// Whether `candidate` is the member's transaction password; equal work (a dummy
    /// hash) when there is no member or no password to check.
    pub(crate) async fn check_transaction_password(
        &self,
        member: Option<&MemberRecord>,
        candidate: &str,
    ) -> Result<bool, RecoveryError> {
        let stored = member
            .filter(|m| m.status == MemberStatus::Registered)
            .and_then(|m| m.transaction_hash.clone());
        let (hasher, keyring) = (self.hasher.clone(), self.keyring.clone());
        let candidate = secrecy::SecretString::from(candidate.to_owned());
        Ok(run_on_pool(self.pool.as_ref(), move || {
            use secrecy::ExposeSecret as _;
            let secret = candidate.expose_secret();
            match stored {
                Some(phc) => matches!(hasher.verify(&keyring, secret, &phc), Ok(true)),
                None => {
                    hasher.dummy_verify(&keyring, secret);
                    false
                }
            }
        })
        .await?)
    }

    /// The last step: the new login password. Every session ends; the member logs in
    /// again with the new password.
    pub async fn complete_forgot_login(
        &self,
        flow: &str,
        new_password: &NewSecret,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let (_, record) = self.load_flow_of(flow, KIND).await?;
        let now = self.clock.now();
        let member_id = record
            .ready_to_complete(now)
            .map_err(RecoveryError::from_flow)?;
        let member = self
            .store
            .member_by_id(member_id)
            .await?
            .filter(|m| m.status == MemberStatus::Registered)
            .ok_or(RecoveryError::UnknownFlow)?;
        self.finish_reset(
            &record,
            &member,
            SecretKind::Login,
            new_password,
            "recovery.login.complete",
            ctx,
        )
        .await
    }
}
