//! The service hotline (seed 000): the agent runs the caller-verification checklist
//! on a member found by document, typing what the caller says; the screen shows
//! pass or fail per item, never a stored value. A passed checklist allows exactly
//! one thing: a reset ticket texted to the phone on file. The agent never sees the
//! ticket and cannot name another number; a phone is never changed by phone.
//!
//! Failed checklists count per member (3 lock hotline resets for that member for a
//! day) and per agent (10 in a row lock the agent's checklists for an hour).

use subtle::ConstantTimeEq as _;

use super::{ConsoleError, StaffAuth};
use crate::assisted::{
    AssistedCase, CaseOpening, CaseStatus, CaseWrite, CheckWrite, HotlineCheck, ResetScope,
    ResetTicket,
};
use crate::audit::{Channel, Outcome};
use crate::crypto::{BlindIndex, Field};
use crate::identity::Phone;
use crate::lockout::{Gate, LoginLockPolicy};
use crate::member::{LockState, MemberId, MemberStatus};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, SmsPurpose, ThrottleWrite};
use crate::staff::StaffAction;

/// What the agent typed as the caller answered.
#[derive(Debug, Clone, Default)]
pub struct HotlineInput {
    pub call_id: String,
    pub name: String,
    /// The phone number the caller gives (compared with the one on file).
    pub phone: String,
    /// Answers to the member's security questions, by question code.
    pub answers: Vec<(String, String)>,
}

impl Portal {
    /// Runs the checklist on the member found by document and stores its result.
    pub async fn run_hotline_check(
        &self,
        auth: &StaffAuth,
        member: MemberId,
        input: &HotlineInput,
        ctx: &RequestContext,
    ) -> Result<HotlineCheck, ConsoleError> {
        const ACTION: &str = "hotline.checklist";
        self.require(auth, StaffAction::RunHotlineChecklist, ctx)
            .await?;
        let record = self.member_for_staff(auth, member, ACTION, ctx).await?;
        let call_id = input.call_id.trim();
        let call_ok = (1..=40).contains(&call_id.len())
            && call_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !call_ok {
            return self
                .staff_refused(
                    auth,
                    ACTION,
                    Some(member),
                    ConsoleError::BadField("call_id"),
                    ctx,
                )
                .await;
        }
        // What cannot be anyone's name or phone is a typing error, refused before it
        // could count as a failed checklist against the member and the agent.
        let name = input.name.trim();
        let malformed = if name.chars().count() > crate::member::NAME_MAX_CHARS
            || name.chars().any(char::is_control)
        {
            Some(ConsoleError::BadField("name"))
        } else {
            Phone::parse(&input.phone).err().map(ConsoleError::BadPhone)
        };
        if let Some(refusal) = malformed {
            return self
                .staff_refused(auth, ACTION, Some(member), refusal, ctx)
                .await;
        }
        let now = self.clock.now();
        let a = &self.policy.assisted;
        let agent_key = self.hotline_key("hotline-agent", auth.staff.id.0);
        let member_key = self.hotline_key("hotline-member", member.0);
        let agent_lock = self.store.throttle(&agent_key).await?;
        if let Gate::Locked { until } = a.hotline_agent_lock.gate(&agent_lock, now) {
            return self
                .staff_refused(
                    auth,
                    ACTION,
                    Some(member),
                    ConsoleError::AgentLocked { until },
                    ctx,
                )
                .await;
        }
        let member_lock = self.store.throttle(&member_key).await?;
        if let Gate::Locked { until } = a.hotline_member_lock.gate(&member_lock, now) {
            let e = ConsoleError::HotlineLocked { until };
            return self.staff_refused(auth, ACTION, Some(member), e, ctx).await;
        }
        let items = self.checklist_items(&record, input).await?;
        let passed = items.iter().all(|(_, ok)| *ok);
        let check = HotlineCheck {
            id: self.random_id(),
            staff_id: auth.staff.id,
            call_id: call_id.to_owned(),
            member_id: Some(member),
            items,
            passed,
            created_at: now,
            expires_at: now + a.hotline_check_ttl,
            used_at: None,
            version: 1,
        };
        let next = |policy: &LoginLockPolicy, lock: &LockState| {
            if passed {
                LockState::default()
            } else {
                policy.after_failure(lock, now)
            }
        };
        let failed: Vec<&str> = check
            .items
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(item, _)| item.as_str())
            .collect();
        let event = self.staff_event(
            auth,
            ACTION,
            if passed {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            Some(member),
            serde_json::json!({"call_id": check.call_id, "check": check.id, "failed": failed}),
            ctx,
        );
        self.store
            .apply(ChangeSet {
                checks: vec![CheckWrite::Insert(check.clone())],
                throttles: vec![
                    ThrottleWrite {
                        next: next(&a.hotline_agent_lock, &agent_lock),
                        key: agent_key,
                        expected: agent_lock,
                    },
                    ThrottleWrite {
                        next: next(&a.hotline_member_lock, &member_lock),
                        key: member_key,
                        expected: member_lock,
                    },
                ],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(check)
    }

    /// A checklist run by this agent.
    pub async fn hotline_check_of(
        &self,
        auth: &StaffAuth,
        check_id: &str,
        ctx: &RequestContext,
    ) -> Result<HotlineCheck, ConsoleError> {
        self.require(auth, StaffAction::RunHotlineChecklist, ctx)
            .await?;
        self.load_check(auth, check_id).await
    }

    /// After a passed checklist: a ticket for `scope` texted to the phone on file,
    /// valid 1 hour. No number can be given; the agent never sees the ticket.
    pub async fn send_hotline_reset(
        &self,
        auth: &StaffAuth,
        check_id: &str,
        scope: ResetScope,
        ctx: &RequestContext,
    ) -> Result<AssistedCase, ConsoleError> {
        const ACTION: &str = "hotline.send_reset_code";
        self.require(auth, StaffAction::SendHotlineResetCode, ctx)
            .await?;
        let check = self.load_check(auth, check_id).await?;
        let Some(member_id) = check.member_id else {
            return Err(ConsoleError::CheckNotPassed);
        };
        let member = self.member_for_staff(auth, member_id, ACTION, ctx).await?;
        let now = self.clock.now();
        let refusal = if !check.passed {
            Some(ConsoleError::CheckNotPassed)
        } else if check.used_at.is_some() || now >= check.expires_at {
            Some(ConsoleError::CheckUsed)
        } else if member.status != MemberStatus::Registered {
            Some(ConsoleError::NotRegistered)
        } else {
            None
        };
        if let Some(e) = refusal {
            return self
                .staff_refused(auth, ACTION, Some(member_id), e, ctx)
                .await;
        }
        let member_lock = self
            .store
            .throttle(&self.hotline_key("hotline-member", member_id.0))
            .await?;
        let lock_policy = &self.policy.assisted.hotline_member_lock;
        if let Gate::Locked { until } = lock_policy.gate(&member_lock, now) {
            let e = ConsoleError::HotlineLocked { until };
            return self
                .staff_refused(auth, ACTION, Some(member_id), e, ctx)
                .await;
        }
        // The hotline has no supervisor step: a member with a recent reset or a
        // hold in force is sent to a counter.
        let risks = self.current_risks(member_id, Some(scope), false).await?;
        if !risks.is_empty() {
            return self
                .staff_refused(
                    auth,
                    ACTION,
                    Some(member_id),
                    ConsoleError::CounterOnly { risks },
                    ctx,
                )
                .await;
        }
        let ticket = ResetTicket::generate(self.rng.as_ref());
        let opening = CaseOpening {
            id: self.random_id(),
            member_id,
            channel: Channel::Hotline,
            scope: Some(scope),
            staff_id: auth.staff.id,
            branch_id: auth.staff.branch.id.clone(),
            reference: check.call_id.clone(),
            check: serde_json::json!({"hotline_check": check.id, "call_id": check.call_id}),
        };
        let case = AssistedCase {
            status: CaseStatus::Issued,
            ticket_mac: Some(ticket.mac(&self.keyring)),
            ticket_expires_at: Some(now + self.ticket_ttl(Channel::Hotline)),
            issued_at: Some(now),
            ..AssistedCase::opened(opening, now)
        };
        let phone = self.phone_on_file(&member)?;
        let text = self.ticket_text(&ticket, scope, Channel::Hotline);
        let used = HotlineCheck {
            used_at: Some(now),
            version: check.version + 1,
            ..check.clone()
        };
        let event = self.staff_event(
            auth,
            ACTION,
            Outcome::Success,
            Some(member_id),
            serde_json::json!({
                "call_id": check.call_id,
                "check": check.id,
                "case": case.id,
                "scope": scope.code(),
                "to": phone.masked(),
            }),
            ctx,
        );
        let mut cases = self.close_issued_cases(member_id, now).await?;
        cases.push(CaseWrite::Insert(case.clone()));
        self.store
            .apply(ChangeSet {
                cases,
                checks: vec![CheckWrite::Update {
                    record: used,
                    expected_version: check.version,
                }],
                outbox: vec![self.outbox_message(
                    Some(member_id),
                    SmsPurpose::ResetTicket,
                    &phone,
                    &text,
                )],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(case)
    }

    async fn load_check(
        &self,
        auth: &StaffAuth,
        check_id: &str,
    ) -> Result<HotlineCheck, ConsoleError> {
        let id = check_id.trim();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConsoleError::UnknownCase);
        }
        match self.store.hotline_check(id).await? {
            Some(c) if c.staff_id == auth.staff.id => Ok(c),
            _ => Err(ConsoleError::UnknownCase),
        }
    }

    /// Pass or fail per item: the name, the phone number the caller gave, and each
    /// security question the member set (an unanswered one fails).
    async fn checklist_items(
        &self,
        member: &crate::member::MemberRecord,
        input: &HotlineInput,
    ) -> Result<Vec<(String, bool)>, ConsoleError> {
        let name_ok = !input.name.trim().is_empty()
            && bool::from(input.name.trim().as_bytes().ct_eq(member.name.as_bytes()));
        let phone_ok = Phone::parse(&input.phone).is_ok_and(|p| {
            self.keyring.blind_index(Field::Phone, p.normalised()) == member.phone_index
        });
        let mut items = vec![
            ("document".to_owned(), true),
            ("name".to_owned(), name_ok),
            ("phone".to_owned(), phone_ok),
        ];
        let questions: Vec<String> = self
            .store
            .security_answers(member.id)
            .await?
            .into_iter()
            .map(|a| a.question)
            .collect();
        let given: Vec<(String, String)> = questions
            .iter()
            .map(|q| {
                let answer = input
                    .answers
                    .iter()
                    .find(|(code, _)| code == q)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                (q.clone(), answer)
            })
            .collect();
        for (question, ok) in self.check_security_answers(member.id, &given).await? {
            items.push((format!("question:{question}"), ok));
        }
        Ok(items)
    }

    /// The failure-counter key of a hotline subject (agent or member).
    fn hotline_key(&self, purpose: &str, id: i64) -> BlindIndex {
        BlindIndex::from_bytes(self.keyring.answer_mac(purpose, &id.to_string()).to_vec())
    }
}
