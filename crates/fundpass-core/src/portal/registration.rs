//! Registration: an ordinary member becomes a registered user.
//!
//! identify (name, document, phone, captcha) → code by SMS to the phone on file →
//! login and transaction passwords → registered. The identify step answers the same
//! whether or not anyone matched; a flow exists either way and a code only works in a
//! flow that found an ordinary member whose name, document and phone all match.

use time::OffsetDateTime;

use super::{Portal, RequestContext};
use crate::audit::{Actor, ActorKind, AuditEvent, Outcome};
use crate::credentials::{LoginPassword, PolicyViolation, TransactionPassword};
use crate::crypto::{Field, OneTimeCode, OpaqueToken};
use crate::flow::{FlowError, FlowKind, FlowRecord};
use crate::identity::{IdNumber, IdNumberError, IdType, Phone, PhoneError};
use crate::member::{CredentialUpdate, MemberRecord, MemberStatus, SecretKind};
use crate::ports::{
    ChangeSet, FlowWrite, MemberWrite, PoolBusy, RateDecision, SecretHistoryEntry, SmsPurpose,
    StoreError, run_on_pool,
};

/// The one answer to every identify step that passed its format checks.
pub const NEUTRAL_IDENTIFY_MESSAGE: &str = "identify.neutral";

/// What the member types in the identify step.
#[derive(Debug, Clone)]
pub struct IdentifyInput {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    pub phone: String,
}

/// A started flow: the bearer id the client keeps for the next steps.
#[derive(Debug, Clone)]
pub struct StartedFlow {
    pub flow: OpaqueToken,
    pub code_expires_at: OffsetDateTime,
    pub resend_after: OffsetDateTime,
}

/// The two new secrets, each typed twice.
#[derive(Clone)]
pub struct NewPasswords {
    pub login: String,
    pub login_again: String,
    pub transaction: String,
    pub transaction_again: String,
}

impl std::fmt::Debug for NewPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPasswords([redacted])")
    }
}

/// Why a registration step was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("name is empty, too long or has a control character")]
    BadName,
    #[error("document number: {0}")]
    BadIdNumber(IdNumberError),
    #[error("phone: {0}")]
    BadPhone(PhoneError),
    #[error("too many codes requested; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    #[error("the flow is unknown")]
    UnknownFlow,
    #[error(transparent)]
    Flow(FlowError),
    #[error("the new passwords do not meet the rules")]
    Passwords {
        login: Vec<PolicyViolation>,
        login_mismatch: bool,
        transaction: Vec<PolicyViolation>,
        transaction_mismatch: bool,
    },
    #[error("another request finished this step first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RegistrationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

const PURPOSE: FlowKind = FlowKind::Registration;

impl Portal {
    fn audit(&self, action: &str, outcome: Outcome, ctx: &RequestContext) -> AuditEvent {
        let mut e = AuditEvent::new(
            self.clock.now(),
            Actor {
                kind: ActorKind::Member,
                id: None,
            },
            action,
            ctx.channel,
            outcome,
        );
        e.ip = ctx.ip.clone();
        e
    }

    /// The identify step. The caller has already checked the captcha.
    pub async fn start_registration(
        &self,
        input: &IdentifyInput,
        ctx: &RequestContext,
    ) -> Result<StartedFlow, RegistrationError> {
        let now = self.clock.now();
        let name = crate::member::typed_name(&input.name).ok_or(RegistrationError::BadName)?;
        let id = IdNumber::parse(
            input.id_type,
            &input.id_number,
            super::notify::china_today(now),
        )
        .map_err(RegistrationError::BadIdNumber)?;
        let phone = Phone::parse(&input.phone).map_err(RegistrationError::BadPhone)?;
        if let RateDecision::Limited { retry_after } = self.sms_allowed(&phone, ctx).await? {
            return Err(RegistrationError::RateLimited { retry_after });
        }
        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
        let found = self.store.member_by_id_number(id.id_type(), &index).await?;
        let phone_index = self.keyring.blind_index(Field::Phone, phone.normalised());
        let matched = found.filter(|m| m.name == name && m.phone_index == phone_index);

        let flow = OpaqueToken::generate(self.rng.as_ref());
        let code = OneTimeCode::generate(self.rng.as_ref());
        let mac = self
            .keyring
            .code_mac(PURPOSE.code(), &flow.digest().0, &code)
            .to_vec();
        let mut change = ChangeSet::default();
        let mut event = self.audit("registration.start", Outcome::Success, ctx);
        let member_id = match &matched {
            Some(m) if m.status == MemberStatus::Ordinary => {
                let text = self.code_text(&self.templates.registration_code, &code);
                change.outbox.push(self.outbox_message(
                    Some(m.id),
                    SmsPurpose::RegistrationCode,
                    &phone,
                    &text,
                ));
                event = event
                    .member(m.id)
                    .details(serde_json::json!({"matched": true, "phone": phone.masked()}));
                Some(m.id)
            }
            Some(m) if m.status == MemberStatus::Registered => {
                let text = self.notice_text(&self.templates.registration_attempt);
                change.outbox.push(self.outbox_message(
                    Some(m.id),
                    SmsPurpose::RegistrationAttempt,
                    &phone,
                    &text,
                ));
                event = event
                    .member(m.id)
                    .details(serde_json::json!({"matched": true, "already_registered": true}));
                None
            }
            _ => {
                event = event.details(serde_json::json!({"matched": false}));
                None
            }
        };
        let record = FlowRecord::start(
            flow.digest(),
            PURPOSE,
            member_id,
            mac,
            now,
            &self.policy.flow,
        );
        let started = StartedFlow {
            flow,
            code_expires_at: record.code_expires_at,
            resend_after: record.code_sent_at + self.policy.flow.resend_after,
        };
        change.flows.push(FlowWrite::Insert(record));
        change.audit.push(event);
        self.store.apply(change).await?;
        Ok(started)
    }

    async fn load_flow(&self, flow: &str) -> Result<FlowRecord, RegistrationError> {
        let token = OpaqueToken::parse(flow.trim()).ok_or(RegistrationError::UnknownFlow)?;
        match self.store.flow(&token.digest()).await? {
            Some(f) if f.kind == PURPOSE => Ok(f),
            _ => Err(RegistrationError::UnknownFlow),
        }
    }

    /// The code step.
    pub async fn submit_registration_code(
        &self,
        flow: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<(), RegistrationError> {
        let record = self.load_flow(flow).await?;
        let now = self.clock.now();
        let matches = OneTimeCode::parse(code).is_some_and(|c| {
            self.keyring
                .code_matches(PURPOSE.code(), &record.id.0, &c, &record.code_mac)
        });
        let (next, result) = record.enter_code(matches, now, &self.policy.flow);
        let result = result.map_err(RegistrationError::Flow);
        if next != record {
            let outcome = if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            let mut event = self.audit("registration.code", outcome, ctx);
            if let Some(m) = record.member_id {
                event = event.member(m);
            }
            let change = ChangeSet {
                flows: vec![FlowWrite::Update { record: next, expected_version: record.version }],
                audit: vec![event.details(serde_json::json!({"wrong_codes": record.wrong_codes + i32::from(result.is_err())}))],
                ..ChangeSet::default()
            };
            self.store.apply(change).await?;
        }
        result
    }

    /// Sends a new code in the same flow; the old one stops working.
    pub async fn resend_registration_code(
        &self,
        flow: &str,
        ctx: &RequestContext,
    ) -> Result<StartedFlow, RegistrationError> {
        let record = self.load_flow(flow).await?;
        let now = self.clock.now();
        let code = OneTimeCode::generate(self.rng.as_ref());
        let mac = self
            .keyring
            .code_mac(PURPOSE.code(), &record.id.0, &code)
            .to_vec();
        let next = record
            .resend(mac, now, &self.policy.flow)
            .map_err(RegistrationError::Flow)?;
        let mut change = ChangeSet::default();
        let mut event = self.audit("registration.resend", Outcome::Success, ctx);
        if let Some(member) = self.flow_member(&record).await? {
            let phone = self.phone_on_file(&member)?;
            if let RateDecision::Limited { retry_after } = self.sms_allowed(&phone, ctx).await? {
                return Err(RegistrationError::RateLimited { retry_after });
            }
            let text = self.code_text(&self.templates.registration_code, &code);
            change.outbox.push(self.outbox_message(
                Some(member.id),
                SmsPurpose::RegistrationCode,
                &phone,
                &text,
            ));
            event = event.member(member.id);
        }
        let started = StartedFlow {
            flow: OpaqueToken::parse(flow.trim()).ok_or(RegistrationError::UnknownFlow)?,
            code_expires_at: next.code_expires_at,
            resend_after: next.code_sent_at + self.policy.flow.resend_after,
        };
        change.flows.push(FlowWrite::Update {
            record: next,
            expected_version: record.version,
        });
        change.audit.push(event);
        self.store.apply(change).await?;
        Ok(started)
    }

    async fn flow_member(&self, record: &FlowRecord) -> Result<Option<MemberRecord>, StoreError> {
        match record.member_id {
            Some(id) => self.store.member_by_id(id).await,
            None => Ok(None),
        }
    }

    /// The member's phone on file, decrypted.
    pub(crate) fn phone_on_file(&self, member: &MemberRecord) -> Result<Phone, StoreError> {
        let text = self
            .keyring
            .open(Field::Phone, &member.phone)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Phone::parse(&text).map_err(|e| StoreError::Backend(e.to_string()))
    }

    /// The last step: both passwords, checked against the rules and the member's own
    /// data, hashed on the CPU pool, written with the status change, the notice and
    /// the audit event in one transaction.
    pub async fn complete_registration(
        &self,
        flow: &str,
        passwords: NewPasswords,
        ctx: &RequestContext,
    ) -> Result<(), RegistrationError> {
        let record = self.load_flow(flow).await?;
        let now = self.clock.now();
        let member_id = record
            .ready_to_complete(now)
            .map_err(RegistrationError::Flow)?;
        let member = self
            .store
            .member_by_id(member_id)
            .await?
            .ok_or(RegistrationError::UnknownFlow)?;
        if member.status != MemberStatus::Ordinary {
            return Err(RegistrationError::Flow(FlowError::WrongStep));
        }
        let facts = self.member_facts(&member)?;
        let phone = facts.phone.clone();
        let ctx_policy = facts.policy_context();
        let login =
            LoginPassword::parse(&passwords.login, &self.policy.login_password, &ctx_policy);
        let transaction = TransactionPassword::parse(&passwords.transaction, &ctx_policy);
        let login_mismatch = passwords.login != passwords.login_again;
        let transaction_mismatch = passwords.transaction != passwords.transaction_again;
        let (login, transaction) = match (login, transaction) {
            (Ok(l), Ok(t)) if !login_mismatch && !transaction_mismatch => (l, t),
            (l, t) => {
                return Err(RegistrationError::Passwords {
                    login: l.err().unwrap_or_default(),
                    login_mismatch,
                    transaction: t.err().unwrap_or_default(),
                    transaction_mismatch,
                });
            }
        };
        let (hasher, keyring, rng) = (self.hasher.clone(), self.keyring.clone(), self.rng.clone());
        let hashes = run_on_pool(self.pool.as_ref(), move || {
            let l = hasher.hash(&keyring, login.expose(), rng.as_ref());
            let t = hasher.hash(&keyring, transaction.expose(), rng.as_ref());
            (l, t)
        })
        .await?;
        let (Ok(login_hash), Ok(transaction_hash)) = hashes else {
            return Err(RegistrationError::Store(StoreError::Backend(
                "password hashing failed".into(),
            )));
        };
        let mut update = CredentialUpdate::from_record(&member, now);
        update.status = MemberStatus::Registered;
        update.login_hash = Some(login_hash.clone());
        update.transaction_hash = Some(transaction_hash.clone());
        update.login_lock = Default::default();
        update.transaction_lock = Default::default();
        update.transaction_disabled = false;
        let text = self.notice_text(&self.templates.registration_done);
        let change = ChangeSet {
            members: vec![MemberWrite {
                id: member.id,
                expected_version: member.version,
                update,
            }],
            history: vec![
                SecretHistoryEntry {
                    member_id: member.id,
                    kind: SecretKind::Login,
                    hash: login_hash,
                    at: now,
                },
                SecretHistoryEntry {
                    member_id: member.id,
                    kind: SecretKind::Transaction,
                    hash: transaction_hash,
                    at: now,
                },
            ],
            flows: vec![FlowWrite::Update {
                record: record.complete(now).map_err(RegistrationError::Flow)?,
                expected_version: record.version,
            }],
            outbox: vec![self.outbox_message(
                Some(member.id),
                SmsPurpose::RegistrationDone,
                &phone,
                &text,
            )],
            audit: vec![
                self.audit("registration.complete", Outcome::Success, ctx)
                    .member(member.id),
            ],
            ..ChangeSet::default()
        };
        self.store.apply(change).await?;
        Ok(())
    }
}
