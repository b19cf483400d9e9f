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

use super::{RecoveryError, china_today};
use crate::audit::Outcome;
use crate::crypto::{BlindIndex, OpaqueToken};
use crate::face::{FaceRejection, subject_hash};
use crate::flow::{FlowKind, FlowRecord, FlowState};
use crate::identity::{IdNumber, IdType};
use crate::lockout::Gate;
use crate::member::{LockState, MemberStatus};
use crate::portal::{LoginSuccess, Portal, RequestContext};
use crate::ports::{ChangeSet, FlowWrite, RateDecision, SessionWrite, StoreError};
use crate::session::{ClientKind, SessionScope};

const KIND: FlowKind = FlowKind::FaceLogin;
const SUBJECT: &str = "face-login-identifier";

/// Face logins one client address may start per hour.
pub const FACE_STARTS_PER_IP_HOUR: u32 = 30;

/// A face-login challenge: the flow id the app keeps, and the nonce the provider must
/// put in its signed result.
#[derive(Debug, Clone)]
pub struct FaceChallenge {
    pub flow: OpaqueToken,
    pub nonce: String,
    pub expires_at: OffsetDateTime,
}

impl Portal {
    /// Starts a face login for a document.
    pub async fn start_face_login(
        &self,
        id_type: IdType,
        id_number: &str,
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
        let id = IdNumber::parse(id_type, id_number, china_today(now))
            .map_err(RecoveryError::BadIdNumber)?;
        let key = self.subject_key(SUBJECT, &id);
        let counter = self
            .store
            .throttle(&BlindIndex::from_bytes(key.clone()))
            .await?;
        if let Gate::Locked { until } = self.policy.face_lock.gate(&counter, now) {
            return Err(RecoveryError::FaceAttemptsExhausted { until: Some(until) });
        }
        let member = self.registered_holder(&id).await?.map(|m| m.id);
        let flow = OpaqueToken::generate(self.rng.as_ref());
        let nonce = OpaqueToken::generate(self.rng.as_ref()).expose().to_owned();
        let record = FlowRecord::face_pending(
            flow.digest(),
            member,
            key,
            nonce.clone(),
            now,
            &self.policy.flow,
        );
        let challenge = FaceChallenge {
            flow,
            nonce,
            expires_at: record.expires_at,
        };
        self.insert_flow(record, "face.start", ctx).await?;
        Ok(challenge)
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
        let now = self.clock.now();
        let member = match record.member_id {
            Some(id) => self.store.member_by_id(id).await?,
            None => None,
        };
        let expected_subject = match &member {
            Some(m) => {
                let facts = self.member_facts(m)?;
                subject_hash(m.id_type, &facts.id_number)
            }
            None => String::new(),
        };
        let nonce = record.nonce.clone().unwrap_or_default();
        let verdict = self
            .policy
            .face
            .verify(result, &nonce, &expected_subject, now);
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
        let key = BlindIndex::from_bytes(record.subject_key.clone().unwrap_or_default());
        let counter = self.store.throttle(&key).await?;
        if let Gate::Locked { until } = self.policy.face_lock.gate(&counter, now) {
            self.face_audit(&record, Outcome::Denied, "locked", ctx)
                .await?;
            return Err(RecoveryError::FaceAttemptsExhausted { until: Some(until) });
        }
        let verdict = match (verdict, &member) {
            (Ok(claims), Some(m)) if m.status == MemberStatus::Registered => Ok((claims, m)),
            (Ok(_), _) | (Err(FaceRejection::WrongSubject), None) => Err(None),
            (Err(rejection), _) => Err(Some(rejection)),
        };
        let (next, step) = record.enter_face_result(verdict.is_ok(), now, &self.policy.flow);
        let (claims, member) = match verdict {
            Ok(ok) => ok,
            Err(rejection) => {
                // Only a result signed by a trusted provider counts against the
                // document: garbage posted by anyone must not lock a member out of
                // face login (it still uses up the flow's attempts).
                let counted = if rejection.is_none_or(FaceRejection::provider_signed) {
                    self.policy.face_lock.after_failure(&counter, now)
                } else {
                    counter.clone()
                };
                let reason = rejection.map_or("not_eligible", FaceRejection::code);
                let mut change = ChangeSet {
                    throttles: if counted == counter {
                        Vec::new()
                    } else {
                        vec![(key, counted.clone())]
                    },
                    audit: vec![
                        self.recovery_event("face.result", Outcome::Failure, record.member_id, ctx)
                            .details(serde_json::json!({"reason": reason})),
                    ],
                    ..ChangeSet::default()
                };
                if next != record {
                    change.flows.push(FlowWrite::Update {
                        record: next.clone(),
                        expected_version: record.version,
                    });
                }
                self.store.apply(change).await?;
                if let Some(until) = counted.locked_until {
                    return Err(RecoveryError::FaceAttemptsExhausted { until: Some(until) });
                }
                if let Err(crate::flow::FlowError::Dead) = step {
                    return Err(RecoveryError::FaceAttemptsExhausted { until: None });
                }
                if let Err(
                    e @ (crate::flow::FlowError::Expired | crate::flow::FlowError::WrongStep),
                ) = step
                {
                    return Err(RecoveryError::Flow(e));
                }
                return Err(match rejection {
                    Some(r) => RecoveryError::Face(r),
                    None => RecoveryError::FaceNotEligible,
                });
            }
        };
        step.map_err(RecoveryError::from_flow)?;
        let done = next.complete(now).map_err(RecoveryError::from_flow)?;
        let (token, session) =
            self.new_session(member.id, ClientKind::App, SessionScope::Recovery, ctx);
        let csrf = session.csrf.clone();
        let event = self
            .recovery_event("face.result", Outcome::Success, Some(member.id), ctx)
            .details(serde_json::json!({
                "kid": claims.kid,
                "score": claims.score,
                "provider_ref": claims.jti,
            }));
        let mut throttles = Vec::new();
        if counter != LockState::default() {
            throttles.push((key, LockState::default()));
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

    async fn face_audit(
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
