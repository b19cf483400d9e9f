//! Forgotten transaction password (seed scenario 2, and step one of scenario 3 in the
//! app after a face login): logged in, the member confirms name and document, sees
//! the masked phone on file, types it in full, receives a code, and sets a new
//! six-digit transaction password twice.
//!
//! Wrong codes count in the flow (5 kill it) and in a per-member counter that
//! survives new flows, so starting again does not buy new attempts.

use time::OffsetDateTime;

use super::{NewSecret, RecoveryError, RecoveryIdentify};
use crate::audit::Outcome;
use crate::crypto::{BlindIndex, Field, OneTimeCode, OpaqueToken};
use crate::flow::{FlowKind, FlowRecord};
use crate::identity::Phone;
use crate::lockout::Gate;
use crate::member::{LockState, SecretKind};
use crate::portal::registration::StartedFlow;
use crate::portal::{Authenticated, Portal, RequestContext};
use crate::ports::{ChangeSet, FlowWrite, RateDecision, SmsPurpose, ThrottleWrite};

const KIND: FlowKind = FlowKind::ForgotTransaction;

/// The identify step passed: the flow, and the phone on file, masked.
#[derive(Debug, Clone)]
pub struct TransactionRecoveryStarted {
    pub flow: OpaqueToken,
    pub masked_phone: String,
    pub expires_at: OffsetDateTime,
}

impl Portal {
    /// The identify step: the details must be the logged-in member's own. The web
    /// caller has already checked the captcha.
    pub async fn start_forgot_transaction(
        &self,
        auth: &Authenticated,
        input: &RecoveryIdentify,
        ctx: &RequestContext,
    ) -> Result<TransactionRecoveryStarted, RecoveryError> {
        let now = self.clock.now();
        let (name, id) = self.parse_identify(input)?;
        let member = &auth.member;
        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
        let own = member.name == name
            && member.id_type == id.id_type()
            && member.id_number_index == index;
        if !own {
            let event = self
                .recovery_event(
                    "recovery.transaction.start",
                    Outcome::Failure,
                    Some(member.id),
                    ctx,
                )
                .details(serde_json::json!({"reason": "not_own_details"}));
            self.store
                .apply(ChangeSet {
                    audit: vec![event],
                    ..ChangeSet::default()
                })
                .await?;
            return Err(RecoveryError::NotYourAccount);
        }
        let phone = self.phone_on_file(member)?;
        let flow = OpaqueToken::generate(self.rng.as_ref());
        let record = FlowRecord::identified(
            flow.digest(),
            KIND,
            Some(member.id),
            index.as_bytes().to_vec(),
            now,
            &self.policy.flow,
        );
        let started = TransactionRecoveryStarted {
            flow,
            masked_phone: phone.masked(),
            expires_at: record.expires_at,
        };
        let event = self.recovery_event(
            "recovery.transaction.start",
            Outcome::Success,
            Some(member.id),
            ctx,
        );
        self.store
            .apply(ChangeSet {
                flows: vec![FlowWrite::Insert(record)],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(started)
    }

    async fn own_flow(
        &self,
        auth: &Authenticated,
        flow: &str,
    ) -> Result<(OpaqueToken, FlowRecord), RecoveryError> {
        let (token, record) = self.load_flow_of(flow, KIND).await?;
        if record.member_id != Some(auth.member.id) {
            return Err(RecoveryError::UnknownFlow);
        }
        Ok((token, record))
    }

    /// The phone step: the number typed must be the one on file; then the first code
    /// is sent to it.
    pub async fn send_forgot_transaction_code(
        &self,
        auth: &Authenticated,
        flow: &str,
        phone: &str,
        ctx: &RequestContext,
    ) -> Result<StartedFlow, RecoveryError> {
        let (token, record) = self.own_flow(auth, flow).await?;
        let now = self.clock.now();
        let typed = Phone::parse(phone).map_err(RecoveryError::BadPhone)?;
        let on_file = self.phone_on_file(&auth.member)?;
        let matches = typed.normalised() == on_file.normalised();
        let key = self.code_counter_key(auth);
        let counter = self.store.throttle(&key).await?;
        let lock_policy = self.policy.recovery_code_lock;
        if let Gate::Locked { until } = lock_policy.gate(&counter, now) {
            return Err(RecoveryError::CodesLocked { until });
        }
        let code = OneTimeCode::generate(self.rng.as_ref());
        let mac = self
            .keyring
            .code_mac(KIND.code(), &record.id.0, &code)
            .to_vec();
        let (next, result) = record.send_first_code(matches, mac, now, &self.policy.flow);
        if next == record {
            // Not at this step (or no longer alive): nothing is counted or sent.
            result.map_err(RecoveryError::from_flow)?;
        }
        if result.is_ok()
            && let RateDecision::Limited { retry_after } = self.sms_allowed(&on_file, ctx).await?
        {
            return Err(RecoveryError::RateLimited { retry_after });
        }
        let mut change = ChangeSet::default();
        let outcome = match &result {
            Ok(()) => {
                let text = self.code_text(&self.templates.recovery_code, &code);
                change.outbox.push(self.outbox_message(
                    Some(auth.member.id),
                    SmsPurpose::RecoveryCode,
                    &on_file,
                    &text,
                ));
                Outcome::Success
            }
            Err(_) => Outcome::Failure,
        };
        change.flows.push(FlowWrite::Update {
            record: next.clone(),
            expected_version: record.version,
        });
        // A wrong phone counts against the member like a wrong code, so restarting
        // flows does not buy guesses at the number on file.
        let counted = if result.is_ok() {
            counter.clone()
        } else {
            lock_policy.after_failure(&counter, now)
        };
        if counted != counter {
            change.throttles.push(ThrottleWrite {
                key,
                expected: counter.clone(),
                next: counted.clone(),
            });
        }
        change.audit.push(
            self.recovery_event(
                "recovery.transaction.code_sent",
                outcome,
                Some(auth.member.id),
                ctx,
            )
            .details(serde_json::json!({"phone_matched": matches, "phone": on_file.masked()})),
        );
        self.store.apply(change).await?;
        crate::metrics::lock_placed("recovery_code", &counter, &counted);
        match (result, counted.locked_until) {
            (Ok(()), _) => {}
            (Err(crate::flow::FlowError::WrongProof { .. }), Some(until)) => {
                return Err(RecoveryError::CodesLocked { until });
            }
            (Err(e), _) => return Err(RecoveryError::from_flow(e)),
        }
        Ok(StartedFlow {
            flow: token,
            code_expires_at: next.code_expires_at,
            resend_after: next.code_sent_at + self.policy.flow.resend_after,
        })
    }

    /// Sends a new code in the same flow; the old one stops working.
    pub async fn resend_forgot_transaction_code(
        &self,
        auth: &Authenticated,
        flow: &str,
        ctx: &RequestContext,
    ) -> Result<StartedFlow, RecoveryError> {
        let (token, record) = self.own_flow(auth, flow).await?;
        let now = self.clock.now();
        let code = OneTimeCode::generate(self.rng.as_ref());
        let mac = self
            .keyring
            .code_mac(KIND.code(), &record.id.0, &code)
            .to_vec();
        let next = record
            .resend(mac, now, &self.policy.flow)
            .map_err(RecoveryError::from_flow)?;
        let phone = self.phone_on_file(&auth.member)?;
        if let RateDecision::Limited { retry_after } = self.sms_allowed(&phone, ctx).await? {
            return Err(RecoveryError::RateLimited { retry_after });
        }
        let text = self.code_text(&self.templates.recovery_code, &code);
        let started = StartedFlow {
            flow: token,
            code_expires_at: next.code_expires_at,
            resend_after: next.code_sent_at + self.policy.flow.resend_after,
        };
        self.store
            .apply(ChangeSet {
                flows: vec![FlowWrite::Update {
                    record: next,
                    expected_version: record.version,
                }],
                outbox: vec![self.outbox_message(
                    Some(auth.member.id),
                    SmsPurpose::RecoveryCode,
                    &phone,
                    &text,
                )],
                audit: vec![self.recovery_event(
                    "recovery.transaction.code_resent",
                    Outcome::Success,
                    Some(auth.member.id),
                    ctx,
                )],
                ..ChangeSet::default()
            })
            .await?;
        Ok(started)
    }

    /// The per-member counter of wrong recovery codes and wrong phone numbers.
    fn code_counter_key(&self, auth: &Authenticated) -> BlindIndex {
        BlindIndex::from_bytes(
            self.keyring
                .answer_mac("recovery-code-member", &auth.member.id.0.to_string())
                .to_vec(),
        )
    }

    /// The code step.
    pub async fn submit_forgot_transaction_code(
        &self,
        auth: &Authenticated,
        flow: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let (_, record) = self.own_flow(auth, flow).await?;
        let now = self.clock.now();
        let key = self.code_counter_key(auth);
        let counter = self.store.throttle(&key).await?;
        let lock_policy = self.policy.recovery_code_lock;
        if let Gate::Locked { until } = lock_policy.gate(&counter, now) {
            return Err(RecoveryError::CodesLocked { until });
        }
        let matches = OneTimeCode::parse(code).is_some_and(|c| {
            self.keyring
                .code_matches(KIND.code(), &record.id.0, &c, &record.code_mac)
        });
        let (next, result) = record.enter_code(matches, now, &self.policy.flow);
        if next == record {
            return result.map_err(RecoveryError::from_flow);
        }
        let counted = if result.is_ok() {
            LockState::default()
        } else {
            lock_policy.after_failure(&counter, now)
        };
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
                self.recovery_event(
                    "recovery.transaction.code",
                    outcome,
                    Some(auth.member.id),
                    ctx,
                )
                .details(serde_json::json!({"wrong_codes": next.wrong_codes})),
            ],
            ..ChangeSet::default()
        };
        if counted != counter {
            change.throttles.push(ThrottleWrite {
                key,
                expected: counter.clone(),
                next: counted.clone(),
            });
        }
        self.store.apply(change).await?;
        crate::metrics::lock_placed("recovery_code", &counter, &counted);
        match (result, counted.locked_until) {
            (Ok(()), _) => Ok(()),
            (Err(crate::flow::FlowError::WrongCode { .. }), Some(until)) => {
                Err(RecoveryError::CodesLocked { until })
            }
            (Err(e), _) => Err(RecoveryError::from_flow(e)),
        }
    }

    /// The last step: the new transaction password. Every session ends, this one
    /// included.
    pub async fn complete_forgot_transaction(
        &self,
        auth: &Authenticated,
        flow: &str,
        new_password: &NewSecret,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let (_, record) = self.own_flow(auth, flow).await?;
        let now = self.clock.now();
        record
            .ready_to_complete(now)
            .map_err(RecoveryError::from_flow)?;
        let member = self
            .store
            .member_by_id(auth.member.id)
            .await?
            .ok_or(RecoveryError::UnknownFlow)?;
        self.finish_reset(
            &record,
            &member,
            SecretKind::Transaction,
            new_password,
            "recovery.transaction.complete",
            ctx,
        )
        .await
    }
}
