//! Face verification login in the app (seed scenario 3, method 1).
//!
//! The app asks for a challenge naming the document; fundpass answers with a nonce
//! bound to a new flow (the same answer whether or not the document is a member's).
//! The app has the certified provider verify the face and gets back a signed result
//! carrying that nonce; fundpass checks it ([`crate::face::FacePolicy::verify`]) and
//! opens a recovery-only session, good for the forgotten-transaction-password flow
//! and nothing else. Three rejected results end the flow and lock face login for the
//! document for a day: the app then sends the member to manual review or a counter.

use time::{Duration, OffsetDateTime};

use subtle::ConstantTimeEq as _;

use super::face_query::{parse_stored_handle, stored_handle};
use super::{RecoveryError, china_today};
use crate::audit::Outcome;
use crate::crypto::{BlindIndex, OpaqueToken};
use crate::face::{FaceRejection, subject_hash};
use crate::flow::{FlowError, FlowKind, FlowRecord, FlowState};
use crate::identity::{IdNumber, IdType};
use crate::lockout::Gate;
use crate::member::{LockState, MemberStatus};
use crate::portal::{LoginSuccess, Portal, RequestContext};
use crate::ports::{ChangeSet, FlowWrite, RateDecision, SessionWrite, StoreError, ThrottleWrite};
use crate::session::{ClientKind, SessionScope};

const KIND: FlowKind = FlowKind::FaceLogin;
const SUBJECT: &str = "face-login-identifier";

/// Face logins one client address may start per hour.
pub const FACE_STARTS_PER_IP_HOUR: u32 = 30;

/// Refused face results one client address may post per hour before it is told to
/// wait (results refused for the flow only, such as another person's, count here).
pub const FACE_FAILURES_PER_IP_HOUR: u32 = 10;

/// A face-login challenge: the flow id the app keeps, and the nonce the provider must
/// put in its signed result (or, with a query-by-token provider, the provider's
/// handle for its SDK).
#[derive(Debug, Clone)]
pub struct FaceChallenge {
    pub flow: OpaqueToken,
    pub nonce: String,
    pub expires_at: OffsetDateTime,
    /// The query-by-token provider whose handle `nonce` is; `None` for signed results.
    pub provider: Option<&'static str>,
}

/// What the app sends to start a face login.
#[derive(Debug, Clone, Copy)]
pub struct FaceStartInput<'a> {
    pub id_type: IdType,
    pub id_number: &'a str,
    /// The name on the document: required by query-by-token providers, which compare
    /// the face with the national database's photo for this name and number.
    pub name: Option<&'a str>,
    /// What the provider's SDK on the phone produced for the server call.
    pub meta_info: Option<&'a str>,
}

impl Portal {
    /// Starts a face login for a document. With a query-by-token provider
    /// configured, the provider is asked for a handle for the name and document typed
    /// (whether or not they are a member's, so the answer tells nothing) and the
    /// handle is the challenge's nonce.
    pub async fn start_face_login(
        &self,
        input: &FaceStartInput<'_>,
        ctx: &RequestContext,
    ) -> Result<FaceChallenge, RecoveryError> {
        let now = self.clock.now();
        let ip_key = format!("face-start:ip:{}", ctx.ip.as_deref().unwrap_or("unknown"));
        if let RateDecision::Limited { retry_after } = self
            .limiter
            .hit(&ip_key, Duration::hours(1), FACE_STARTS_PER_IP_HOUR, now)
            .await?
        {
            return Err(RecoveryError::RateLimited { retry_after });
        }
        let id = IdNumber::parse(input.id_type, input.id_number, china_today(now))
            .map_err(RecoveryError::BadIdNumber)?;
        let (name, meta_info) = self.face_start_details(self.face_provider.as_ref(), &id, input)?;
        let key = self.face_subject_key(&subject_hash(id.id_type(), id.normalised()));
        let counter = self
            .store
            .throttle(&BlindIndex::from_bytes(key.clone()))
            .await?;
        if let Gate::Locked { until } = self.policy.face_lock.gate(&counter, now) {
            return Err(RecoveryError::FaceAttemptsExhausted { until: Some(until) });
        }
        let member = self.registered_holder(&id).await?.map(|m| m.id);
        let flow = OpaqueToken::generate(self.rng.as_ref());
        let (nonce, stored, provider) = match (&self.face_provider, name) {
            (Some(provider), Some(name)) => {
                let handle = self
                    .begin_face_query(provider.as_ref(), &flow, &id, &name, meta_info)
                    .await?;
                let stored = stored_handle(provider.name(), &handle);
                (handle, stored, Some(provider.name()))
            }
            (Some(_), None) => return Err(RecoveryError::BadName),
            (None, _) => {
                let nonce = OpaqueToken::generate(self.rng.as_ref()).expose().to_owned();
                (nonce.clone(), nonce, None)
            }
        };
        let record =
            FlowRecord::face_pending(flow.digest(), member, key, stored, now, &self.policy.flow);
        let challenge = FaceChallenge {
            flow,
            nonce,
            expires_at: record.expires_at,
            provider,
        };
        match self.insert_flow(record, "face.start", ctx).await {
            Ok(()) => Ok(challenge),
            // The flows' nonces are unique: a provider that answers a handle it gave
            // before cannot bind one check to two flows.
            Err(StoreError::Duplicate(_)) if provider.is_some() => {
                Err(RecoveryError::FaceProviderUnavailable(format!(
                    "{} answered a handle already bound to another flow",
                    provider.unwrap_or_default()
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the provider's signed result and, if it is good, opens a recovery-only
    /// app session.
    pub async fn complete_face_login(
        &self,
        flow: &str,
        result: &str,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, RecoveryError> {
        let (_, record) = self.load_flow_of(flow, KIND).await?;
        if let Some((provider, handle)) = record.nonce.as_deref().and_then(parse_stored_handle) {
            let (provider, handle) = (provider.to_owned(), handle.to_owned());
            return self
                .complete_face_query(&record, &provider, &handle, ctx)
                .await;
        }
        let now = self.clock.now();
        let nonce = record.nonce.clone().unwrap_or_default();
        let expected = record.subject_key.clone().unwrap_or_default();
        // The same check for every flow, whether or not the document is a member's:
        // the result must be for the document the flow was started for (only a keyed
        // digest of it is stored).
        let verdict = self
            .policy
            .face
            .verify_with(result, &nonce, now, |subject| {
                bool::from(self.face_subject_key(subject).ct_eq(expected.as_slice()))
            });
        if matches!(record.state, FlowState::Verified | FlowState::Completed) {
            // The flow's one result was used already: a second presentation is a
            // replay, whatever else is wrong with it.
            let reason = if verdict.is_ok() {
                "replayed"
            } else {
                "after_use"
            };
            self.face_audit(&record, Outcome::Denied, reason, ctx)
                .await?;
            return Err(RecoveryError::FaceReplayed);
        }
        let (key, counter, member) = self.face_result_gate(&record, ctx).await?;
        let verdict = match (verdict, member) {
            (Ok(claims), Some(m)) => Ok((claims, m)),
            (Ok(_), None) => Err(None),
            (Err(rejection), _) => Err(Some(rejection)),
        };
        let (next, step) = record.enter_face_result(verdict.is_ok(), now, &self.policy.flow);
        let (claims, member) = match verdict {
            Ok(ok) => ok,
            Err(rejection) => {
                return Err(self
                    .face_failed(&record, next, step, rejection, &key, &counter, ctx)
                    .await);
            }
        };
        step.map_err(RecoveryError::from_flow)?;
        let details = serde_json::json!({
            "kid": claims.kid,
            "score": claims.score,
            "provider_ref": claims.jti,
        });
        self.face_succeeded(&record, next, &member, &key, &counter, details, ctx)
            .await
    }

    /// What a face result is checked against before it is judged: the document's face
    /// counter (refused while it is locked) and the registered member the flow is for.
    pub(super) async fn face_result_gate(
        &self,
        record: &FlowRecord,
        ctx: &RequestContext,
    ) -> Result<(BlindIndex, LockState, Option<crate::member::MemberRecord>), RecoveryError> {
        let key = BlindIndex::from_bytes(record.subject_key.clone().unwrap_or_default());
        let counter = self.store.throttle(&key).await?;
        if let Gate::Locked { until } = self.policy.face_lock.gate(&counter, self.clock.now()) {
            self.face_audit(record, Outcome::Denied, "locked", ctx)
                .await?;
            return Err(RecoveryError::FaceAttemptsExhausted { until: Some(until) });
        }
        let member = match record.member_id {
            Some(id) => self
                .store
                .member_by_id(id)
                .await?
                .filter(|m| m.status == MemberStatus::Registered),
            None => None,
        };
        Ok((key, counter, member))
    }

    /// Completes the flow after an accepted face check: a recovery-only app session,
    /// the document's face counter cleared, the success audited with `details`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn face_succeeded(
        &self,
        record: &FlowRecord,
        next: FlowRecord,
        member: &crate::member::MemberRecord,
        key: &BlindIndex,
        counter: &LockState,
        details: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, RecoveryError> {
        let now = self.clock.now();
        let done = next.complete(now).map_err(RecoveryError::from_flow)?;
        let (token, session) =
            self.new_session(member.id, ClientKind::App, SessionScope::Recovery, ctx);
        let csrf = session.csrf.clone();
        let event = self
            .recovery_event("face.result", Outcome::Success, Some(member.id), ctx)
            .details(details);
        let mut throttles = Vec::new();
        if *counter != LockState::default() {
            throttles.push(ThrottleWrite {
                key: key.clone(),
                expected: counter.clone(),
                next: LockState::default(),
            });
        }
        self.store
            .apply(ChangeSet {
                flows: vec![FlowWrite::Update {
                    record: done,
                    expected_version: record.version,
                }],
                sessions: vec![SessionWrite::Insert(session)],
                throttles,
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(LoginSuccess {
            token,
            csrf,
            member_id: member.id,
            expires_at: now + self.policy.session.recovery_absolute,
        })
    }

    /// The keyed digest of a face subject (the provider's hash of a document).
    pub(crate) fn face_subject_key(&self, subject: &str) -> Vec<u8> {
        self.keyring.answer_mac(SUBJECT, subject).to_vec()
    }

    /// Records a refused result and says why it was refused. `rejection` is `None`
    /// for a valid result for someone who cannot use face login.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn face_failed(
        &self,
        record: &FlowRecord,
        next: FlowRecord,
        step: Result<(), FlowError>,
        rejection: Option<FaceRejection>,
        key: &BlindIndex,
        counter: &LockState,
        ctx: &RequestContext,
    ) -> RecoveryError {
        let now = self.clock.now();
        let counted = if rejection.is_some_and(FaceRejection::counts_against_document) {
            self.policy.face_lock.after_failure(counter, now)
        } else {
            counter.clone()
        };
        let reason = rejection.map_or("not_eligible", FaceRejection::code);
        let mut change = ChangeSet {
            audit: vec![
                self.recovery_event("face.result", Outcome::Failure, record.member_id, ctx)
                    .details(serde_json::json!({"reason": reason})),
            ],
            ..ChangeSet::default()
        };
        if counted != *counter {
            change.throttles.push(ThrottleWrite {
                key: key.clone(),
                expected: counter.clone(),
                next: counted.clone(),
            });
        }
        if next != *record {
            change.flows.push(FlowWrite::Update {
                record: next,
                expected_version: record.version,
            });
        }
        if let Err(e) = self.store.apply(change).await {
            return e.into();
        }
        crate::metrics::lock_placed("face", counter, &counted);
        // Counted per address after the failure is recorded: a limiter that cannot be
        // reached (503) never leaves a failure uncounted against the document.
        let ip_key = format!("face-fail:ip:{}", ctx.ip.as_deref().unwrap_or("unknown"));
        let by_address = match self
            .limiter
            .hit(&ip_key, Duration::hours(1), FACE_FAILURES_PER_IP_HOUR, now)
            .await
        {
            Ok(decision) => decision,
            Err(e) => return e.into(),
        };
        match (counted.locked_until, step, by_address, rejection) {
            (Some(until), _, _, _) => RecoveryError::FaceAttemptsExhausted { until: Some(until) },
            (_, Err(FlowError::Dead), _, _) => RecoveryError::FaceAttemptsExhausted { until: None },
            (_, Err(e @ (FlowError::Expired | FlowError::WrongStep)), _, _) => {
                RecoveryError::Flow(e)
            }
            (_, _, RateDecision::Limited { retry_after }, _) => {
                RecoveryError::RateLimited { retry_after }
            }
            (_, _, _, Some(r)) => RecoveryError::Face(r),
            (_, _, _, None) => RecoveryError::FaceNotEligible,
        }
    }

    pub(super) async fn face_audit(
        &self,
        record: &FlowRecord,
        outcome: Outcome,
        reason: &str,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let event = self
            .recovery_event("face.result", outcome, record.member_id, ctx)
            .details(serde_json::json!({"reason": reason}));
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
    }
}
