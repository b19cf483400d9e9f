//! Forgotten login password (seed scenario 1): name, document and captcha → the
//! transaction password → a new login password twice.
//!
//! The identify step answers the same whether or not anyone matched. A wrong
//! transaction password counts against the transaction-password lock (the member's
//! own, or for details that match nobody a counter keyed by the document, which
//! locks the same way), and the failure says only "could not be verified".

use super::{NewSecret, RecoveryError, RecoveryIdentify, RecoveryStarted};
use crate::audit::Outcome;
use crate::crypto::BlindIndex;
use crate::crypto::OpaqueToken;
use crate::flow::{FlowKind, FlowRecord, FlowState};
use crate::lockout::Gate;
use crate::member::{CredentialUpdate, LockState, MemberRecord, MemberStatus, SecretKind};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, FlowWrite, MemberWrite, RateDecision, StoreError, ThrottleWrite};

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
        if let RateDecision::Limited { retry_after } = self.recovery_ip_limit(ctx).await? {
            return Err(RecoveryError::RateLimited { retry_after });
        }
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
    ///
    /// Every attempt counts against the document typed (a counter keyed by a MAC of
    /// it, whatever the name), and also against the member's own transaction-password
    /// lock when name and document matched. Only the document's counter decides what
    /// the client is told, so the answers never depend on whether the name was right;
    /// a member whose own lock is closed (after failures elsewhere) is not tried and
    /// gets the same "could not be verified".
    pub async fn verify_forgot_login(
        &self,
        flow: &str,
        transaction_password: &str,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let (_, mut record) = self.load_flow_of(flow, KIND).await?;
        let policy = self.policy.transaction_lock;
        if let RateDecision::Limited { retry_after } = self.recovery_ip_limit(ctx).await? {
            return Err(RecoveryError::RateLimited { retry_after });
        }
        // A failure must be counted even when another request changed the member, the
        // flow or the counter meanwhile: the step is redone on fresh rows, a few times.
        for _ in 0..5 {
            let now = self.clock.now();
            if record.state != FlowState::Identified {
                let (_, result) = record.enter_proof(false, now, &self.policy.flow);
                return result.map_err(RecoveryError::from_flow);
            }
            let key = BlindIndex::from_bytes(record.subject_key.clone().unwrap_or_default());
            let document = self.store.throttle(&key).await?;
            let document_disabled = document.failures >= policy.disable_after;
            match policy.gate(&document, document_disabled, now) {
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
            let member = match record.member_id {
                Some(id) => self.store.member_by_id(id).await?,
                None => None,
            };
            let member_open = member.as_ref().is_some_and(|m| {
                policy.gate(&m.transaction_lock, m.transaction_disabled, now) == Gate::Open
            });
            let tried = member.as_ref().filter(|_| member_open);
            let right = self
                .check_transaction_password(tried, transaction_password)
                .await?;
            let (next, result) = record.enter_proof(right, now, &self.policy.flow);
            let outcome = if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            let mut change = ChangeSet {
                flows: vec![FlowWrite::Update {
                    record: next.clone(),
                    expected_version: record.version,
                }],
                audit: vec![
                    self.recovery_event("recovery.login.proof", outcome, record.member_id, ctx)
                        .details(serde_json::json!({"wrong_proofs": next.wrong_codes})),
                ],
                ..ChangeSet::default()
            };
            let (document_next, _) = if result.is_ok() {
                (LockState::default(), false)
            } else {
                policy.after_failure(&document, now)
            };
            if document_next != document {
                change.throttles.push(ThrottleWrite {
                    key,
                    expected: document.clone(),
                    next: document_next.clone(),
                });
            }
            if let Some(m) = tried {
                let (lock, disabled) = if result.is_ok() {
                    (LockState::default(), false)
                } else {
                    policy.after_failure(&m.transaction_lock, now)
                };
                if lock != m.transaction_lock || disabled != m.transaction_disabled {
                    let mut update = CredentialUpdate::from_record(m, now);
                    update.transaction_lock = lock;
                    update.transaction_disabled = disabled;
                    change.members.push(MemberWrite {
                        id: m.id,
                        expected_version: m.version,
                        update,
                    });
                }
            }
            match self.store.apply(change).await {
                Ok(()) => {
                    crate::metrics::lock_placed("transaction_password", &document, &document_next);
                    return match result {
                        Ok(()) => Ok(()),
                        Err(_) if document_next.failures >= policy.disable_after => {
                            Err(RecoveryError::TransactionDisabled)
                        }
                        Err(e) => match document_next.locked_until {
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

    /// Counts one anonymous recovery request from the client's address (against
    /// spraying transaction passwords across many members).
    async fn recovery_ip_limit(&self, ctx: &RequestContext) -> Result<RateDecision, StoreError> {
        let key = format!("forgot-login:ip:{}", ctx.ip.as_deref().unwrap_or("unknown"));
        self.limiter
            .hit(
                &key,
                self.policy.login_per_ip_window,
                self.policy.login_per_ip,
                self.clock.now(),
            )
            .await
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
        Ok(self
            .verify_on_pool(stored, candidate, false)
            .await?
            .is_some())
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
