//! The face check, by the member in the app or on the web portal: the signed-in member
//! starts an attempt for themself, the provider checks the live face against the
//! member's own document, and a passed result records the check and moves the due date
//! on. The result must name the member's document: anyone else's face is refused.
//!
//! An attempt is good for one result, as a query-by-token provider's handle is good
//! for one check: a refused result ends it and, when it was about the face (not live,
//! not matching, another person), counts against the member; at the policy's maximum
//! the face check closes and the member is sent to manual review or a counter.

use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};

use super::{
    Attempt, AttemptState, Benefit, CheckChannel, CheckRecord, QualificationError,
    QualificationStatus, QualificationWrite, add_months, months_between,
};
use crate::audit::{AuditEvent, Channel, Outcome};
use crate::clients::{BusinessEvent, EventKind};
use crate::crypto::{Field, OpaqueToken};
use crate::face::{FaceRejection, subject_hash};
use crate::identity::IdType;
use crate::member::MemberRecord;
use crate::portal::{
    Authenticated, BadMetaInfo, Portal, RequestContext, china_today, clean_meta_info,
};
use crate::ports::{ChangeSet, FaceProviderError, RateDecision, StoreError};

/// Face checks one client address may start per hour.
pub const CHECK_STARTS_PER_IP_HOUR: u32 = 30;

/// A started face check: the attempt id the client keeps, the nonce its signed result
/// must carry (or the query-by-token provider's handle for its SDK).
#[derive(Debug, Clone)]
pub struct CheckChallenge {
    pub attempt: OpaqueToken,
    pub nonce: String,
    /// The query-by-token provider whose handle `nonce` is; `None` for signed results.
    pub provider: Option<&'static str>,
    pub expires_at: OffsetDateTime,
}

/// Whose check a signed-in member runs.
#[derive(Debug, Clone, Copy)]
pub enum CheckSubject<'a> {
    /// Their own.
    Own,
    /// A confirmed relative's, by account number, with the relative's face.
    Relative(&'a str),
}

/// The face check's channel for the client the member uses.
fn channel_for(ctx: &RequestContext) -> CheckChannel {
    match ctx.channel {
        Channel::Web => CheckChannel::WebFace,
        Channel::App
        | Channel::Counter
        | Channel::Hotline
        | Channel::Internal
        | Channel::Cli
        | Channel::System => CheckChannel::AppFace,
    }
}

impl Portal {
    /// Starts a face check of the signed-in member. Refused when the member has no
    /// benefit, it has ended, the window has not opened, or face checks are closed.
    pub async fn start_qualification_check(
        &self,
        auth: &Authenticated,
        subject: CheckSubject<'_>,
        meta_info: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<CheckChallenge, QualificationError> {
        let now = self.clock.now();
        let meta_info = clean_meta_info(meta_info)
            .map_err(|BadMetaInfo| QualificationError::MetaInfoRequired)?;
        let relative = match subject {
            CheckSubject::Own => None,
            CheckSubject::Relative(account_no) => {
                Some(self.linked_relative(auth, account_no).await?)
            }
        };
        let member = relative.as_ref().unwrap_or(&auth.member);
        // Counted once the request is well formed: each start may ask the provider
        // for a handle, which it charges for.
        let ip_key = format!(
            "qualification-start:ip:{}",
            ctx.ip.as_deref().unwrap_or("unknown")
        );
        if let RateDecision::Limited { retry_after } = self
            .limiter
            .hit(&ip_key, Duration::hours(1), CHECK_STARTS_PER_IP_HOUR, now)
            .await?
        {
            return Err(QualificationError::RateLimited { retry_after });
        }
        let benefit = self.open_benefit(member).await?;
        let today = china_today(now);
        let opens_on = benefit.opens_on(self.policy.qualification.window_days);
        if benefit.status == QualificationStatus::Qualified && today < opens_on {
            return Err(QualificationError::NotDue { opens_on });
        }
        let id_number = self.document_of(member)?;
        let attempt = OpaqueToken::generate(self.rng.as_ref());
        // The nonce shown to the client, and as the attempt keeps it.
        let (shown, stored, provider) = match &self.face_provider {
            Some(provider) => {
                if member.id_type != IdType::ResidentId {
                    return Err(QualificationError::DocumentUnsupported);
                }
                let id = crate::identity::IdNumber::parse(IdType::ResidentId, &id_number, today)
                    .map_err(|_| QualificationError::DocumentUnsupported)?;
                if provider.needs_meta_info() && meta_info.is_none() {
                    return Err(QualificationError::MetaInfoRequired);
                }
                let handle = self
                    .begin_face_query(provider.as_ref(), &attempt, &id, &member.name, meta_info)
                    .await
                    .map_err(|e| QualificationError::ProviderUnavailable(e.to_string()))?;
                let stored = format!("{}:{handle}", provider.name());
                (handle, stored, Some(provider.name()))
            }
            None => {
                let nonce = OpaqueToken::generate(self.rng.as_ref()).expose().to_owned();
                (nonce.clone(), nonce, None)
            }
        };
        let channel = if relative.is_some() {
            CheckChannel::RelativeFace
        } else {
            channel_for(ctx)
        };
        let record = Attempt {
            id: attempt.digest(),
            member_id: member.id,
            started_by: auth.member.id,
            channel,
            nonce: stored,
            state: AttemptState::Pending,
            created_at: now,
            expires_at: now + self.policy.qualification.attempt_lifetime,
            version: 1,
        };
        let challenge = CheckChallenge {
            attempt,
            nonce: shown,
            provider,
            expires_at: record.expires_at,
        };
        let event = self
            .event_by(
                "qualification.start",
                Outcome::Success,
                (auth.member.id, member.id),
                ctx,
            )
            .details(serde_json::json!({ "channel": channel.code() }));
        self.store
            .apply(ChangeSet {
                qualification: vec![QualificationWrite::NewAttempt(record)],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
            .map_err(|e| match e {
                // Attempts' nonces are unique: a provider that answers a handle it gave
                // before cannot bind one check to two attempts.
                StoreError::Duplicate(_) => QualificationError::ProviderUnavailable(
                    "the provider answered a handle already bound to another check".into(),
                ),
                other => other.into(),
            })?;
        Ok(challenge)
    }

    /// Judges the result of an attempt the signed-in member started: the provider's
    /// signed result (`result`), or, with a query-by-token provider, the result
    /// fetched from it. A pass records the check and returns the member's standing.
    pub async fn complete_qualification_check(
        &self,
        auth: &Authenticated,
        attempt: &str,
        result: &str,
        ctx: &RequestContext,
    ) -> Result<super::QualificationView, QualificationError> {
        let now = self.clock.now();
        let id = OpaqueToken::parse(attempt.trim()).ok_or(QualificationError::UnknownAttempt)?;
        let record = self
            .store
            .qualification_attempt(&id.digest())
            .await?
            .filter(|a| a.started_by == auth.member.id)
            .ok_or(QualificationError::UnknownAttempt)?;
        if record.state != AttemptState::Pending {
            let event = self
                .event_by(
                    "qualification.result",
                    Outcome::Denied,
                    (record.started_by, record.member_id),
                    ctx,
                )
                .details(serde_json::json!({ "reason": "replayed" }));
            self.audit_only(event).await?;
            return Err(QualificationError::Replayed);
        }
        if now >= record.expires_at {
            return Err(QualificationError::AttemptExpired);
        }
        let member = self
            .store
            .member_by_id(record.member_id)
            .await?
            .ok_or(QualificationError::NotEntitled)?;
        let benefit = self.open_benefit(&member).await?;
        let verdict = self.judge(&record, &member, result).await?;
        match verdict {
            Ok((provider, similarity)) => {
                self.check_passed(&record, &member, benefit, provider, similarity, ctx)
                    .await
            }
            Err(rejection) => Err(self.check_refused(&record, benefit, rejection, ctx).await),
        }
    }

    /// The provider's verdict on an attempt, with the provider's name (the signing
    /// key's id for a signed result) and the similarity it reported.
    async fn judge(
        &self,
        record: &Attempt,
        member: &MemberRecord,
        result: &str,
    ) -> Result<Result<(String, Option<f64>), FaceRejection>, QualificationError> {
        let now = self.clock.now();
        let document = self.document_of(member)?;
        let expected = self.face_subject_key(&subject_hash(member.id_type, &document));
        if let Some((name, handle)) = record.nonce.split_once(':') {
            let Some(provider) = self.face_provider.as_ref().filter(|p| p.name() == name) else {
                return Err(QualificationError::ProviderUnavailable(format!(
                    "the check was started with {name}, which is no longer configured"
                )));
            };
            if now - record.created_at > provider.handle_lifetime() {
                return Ok(Err(FaceRejection::Stale));
            }
            let conclusion = match provider.conclude(handle).await {
                Ok(c) => c,
                Err(FaceProviderError::Unfinished) => return Err(QualificationError::Unfinished),
                Err(FaceProviderError::HandleExpired) => return Ok(Err(FaceRejection::Stale)),
                Err(e) => {
                    return Err(QualificationError::ProviderUnavailable(format!(
                        "{name}: {e}"
                    )));
                }
            };
            let ours = self.face_order_ref(&record.id);
            return Ok(self
                .check_conclusion(conclusion, &ours, &expected, Some(&member.name))
                .map(|c| (name.to_owned(), c.similarity)));
        }
        let verdict = self
            .policy
            .face
            .verify_with(result, &record.nonce, now, |subject| {
                bool::from(self.face_subject_key(subject).ct_eq(expected.as_slice()))
            });
        Ok(verdict.map(|claims| (claims.kid, Some(claims.score * 100.0))))
    }

    /// Records a passed check: the due date moves on by one cycle (from the check's
    /// day when it was late), a suspended member is restored with the months between
    /// recorded, and business systems are told.
    async fn check_passed(
        &self,
        record: &Attempt,
        member: &MemberRecord,
        benefit: Benefit,
        provider: String,
        similarity: Option<f64>,
        ctx: &RequestContext,
    ) -> Result<super::QualificationView, QualificationError> {
        let now = self.clock.now();
        let today = china_today(now);
        let cycle = u32::from(benefit.cycle_months);
        let due_after = if today <= benefit.due_date {
            add_months(benefit.due_date, cycle)
        } else {
            add_months(today, cycle)
        };
        let restored = benefit.status == QualificationStatus::Suspended;
        let gap_months = match (restored, benefit.suspended_since) {
            (true, Some(since)) => months_between(since, today),
            _ => 0,
        };
        let check_by = (record.started_by != member.id).then_some(record.started_by);
        let check = CheckRecord {
            member_id: member.id,
            checked_at: now,
            checked_on: today,
            channel: record.channel,
            provider: provider.clone(),
            by_member: check_by,
            similarity,
            due_before: benefit.due_date,
            due_after,
            gap_months,
            ip: ctx.ip.clone(),
        };
        let next = Benefit {
            due_date: due_after,
            status: QualificationStatus::Qualified,
            suspended_since: None,
            last_check_at: Some(now),
            last_check_channel: Some(record.channel),
            failed_attempts: 0,
            ..benefit.clone()
        };
        let event = self.qualification_change_event(member, &benefit, &next, gap_months);
        let audit = self
            .event_by(
                "qualification.result",
                Outcome::Success,
                (record.started_by, member.id),
                ctx,
            )
            .details(serde_json::json!({
                "channel": record.channel.code(),
                "provider": provider,
                "similarity": similarity,
                "due_date": due_after.to_string(),
                "gap_months": gap_months,
                "restored": restored,
                "by_member": check_by.map(|m| m.0),
            }));
        let done = Attempt {
            state: AttemptState::Passed,
            ..record.clone()
        };
        self.store
            .apply(ChangeSet {
                qualification: vec![
                    QualificationWrite::Attempt {
                        record: done,
                        expected_version: record.version,
                    },
                    QualificationWrite::Benefit {
                        record: next.clone(),
                        expected_version: benefit.version,
                    },
                    QualificationWrite::Check(check),
                ],
                events: vec![event],
                audit: vec![audit],
                ..ChangeSet::default()
            })
            .await?;
        let mut view = self.view_of(member, &next);
        view.recent = self.recent_of(member.id).await?;
        Ok(view)
    }

    /// Records a refused result: the attempt ends and, when the refusal was about the
    /// face, counts against the member.
    async fn check_refused(
        &self,
        record: &Attempt,
        benefit: Benefit,
        rejection: FaceRejection,
        ctx: &RequestContext,
    ) -> QualificationError {
        let counts = rejection.counts_against_document()
            || matches!(
                rejection,
                FaceRejection::WrongSubject | FaceRejection::NoReference
            );
        let failed = benefit.failed_attempts + i32::from(counts);
        let closed = failed >= self.policy.qualification.max_face_failures;
        let mut writes = vec![QualificationWrite::Attempt {
            record: Attempt {
                state: AttemptState::Refused,
                ..record.clone()
            },
            expected_version: record.version,
        }];
        if counts {
            writes.push(QualificationWrite::CountRefusal(record.member_id));
        }
        let audit = self
            .event_by(
                "qualification.result",
                Outcome::Failure,
                (record.started_by, record.member_id),
                ctx,
            )
            .details(serde_json::json!({
                "channel": record.channel.code(),
                "reason": rejection.code(),
                "failed_attempts": failed,
            }));
        let change = ChangeSet {
            qualification: writes,
            audit: vec![audit],
            ..ChangeSet::default()
        };
        if let Err(e) = self.store.apply(change).await {
            return e.into();
        }
        if closed {
            QualificationError::FaceClosed
        } else {
            QualificationError::Refused(rejection)
        }
    }

    /// The member's benefit, refused when there is none, it has ended, or the face
    /// check is closed after too many refusals.
    async fn open_benefit(&self, member: &MemberRecord) -> Result<Benefit, QualificationError> {
        let benefit = self
            .store
            .benefit(member.id)
            .await?
            .ok_or(QualificationError::NotEntitled)?;
        if benefit.status == QualificationStatus::Ended {
            return Err(QualificationError::Ended);
        }
        if benefit.failed_attempts >= self.policy.qualification.max_face_failures {
            return Err(QualificationError::FaceClosed);
        }
        Ok(benefit)
    }

    /// The member's document number, decrypted, for the face subject.
    fn document_of(&self, member: &MemberRecord) -> Result<String, QualificationError> {
        self.keyring
            .open(Field::IdNumber, &member.id_number)
            .map_err(|e| StoreError::Backend(e.to_string()).into())
    }

    /// An audit event of a qualification step about `member`.
    pub(crate) fn qualification_event(
        &self,
        action: &str,
        outcome: Outcome,
        member: crate::member::MemberId,
        ctx: &RequestContext,
    ) -> AuditEvent {
        self.recovery_event(action, outcome, Some(member), ctx)
    }

    /// [`Self::qualification_event`] about `member` taken by `actor` (a relative).
    pub(crate) fn event_by(
        &self,
        action: &str,
        outcome: Outcome,
        (actor, member): (crate::member::MemberId, crate::member::MemberId),
        ctx: &RequestContext,
    ) -> AuditEvent {
        let mut event = self.qualification_event(action, outcome, member, ctx);
        event.actor.id = Some(actor.0.to_string());
        event
    }

    /// The event telling business systems what a passed check changed.
    fn qualification_change_event(
        &self,
        member: &MemberRecord,
        before: &Benefit,
        after: &Benefit,
        gap_months: u32,
    ) -> BusinessEvent {
        let restored = before.status == QualificationStatus::Suspended;
        let kind = if restored {
            EventKind::QualificationRestored
        } else {
            EventKind::QualificationChecked
        };
        let mut data = serde_json::json!({
            "account_no": member.account_no.as_str(),
            "status": after.status.code(),
            "due_date": after.due_date.to_string(),
            "previous_due_date": before.due_date.to_string(),
            "channel": after.last_check_channel.map(CheckChannel::code),
        });
        if restored {
            data["suspended_since"] =
                serde_json::json!(before.suspended_since.map(|d| d.to_string()));
            data["gap_months"] = serde_json::json!(gap_months);
        }
        let mut event = BusinessEvent::new(kind, data, self.clock.now(), self.rng.as_ref());
        event.member_id = Some(member.id);
        event
    }
}
