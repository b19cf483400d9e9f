//! What every completed reset does, whichever channel it came through: check and hash
//! the new secret, then one change that stores it, clears its lock, ends every
//! session, places a hold, queues the SMS notice and writes the audit event.

use time::OffsetDateTime;

use super::{NewSecret, RecoveryError, china_today};
use crate::audit::{AuditEvent, Channel, Outcome};
use crate::credentials::{
    LoginPassword, PolicyContext, PolicyViolation, TransactionPassword, reused,
};
use crate::crypto::Field;
use crate::flow::FlowRecord;
use crate::identity::{IdNumber, Phone};
use crate::member::{CredentialUpdate, HoldReason, LockState, MemberRecord, SecretKind};
use crate::portal::Portal;
use crate::portal::RequestContext;
use crate::portal::notify::fill;
use crate::ports::{
    ChangeSet, FlowWrite, MemberWrite, SecretHistoryEntry, SessionWrite, SmsPurpose, StoreError,
    run_on_pool,
};

/// How many previous transaction passwords a new one is compared with.
pub const REUSE_HISTORY: u32 = 3;

impl Portal {
    /// How many previous secrets of `kind` a new one (reset or changed) may not
    /// repeat: the login-password policy's history (5 by default), or
    /// [`REUSE_HISTORY`] transaction passwords.
    pub(crate) fn reuse_history(&self, kind: SecretKind) -> u32 {
        match kind {
            SecretKind::Login => u32::try_from(self.policy.login_password.history).unwrap_or(0),
            SecretKind::Transaction => REUSE_HISTORY,
        }
    }
}

/// A member's personal data, decrypted for the password rules and notices.
#[derive(Clone)]
pub struct MemberFacts {
    pub id_number: String,
    pub phone: Phone,
    pub birth_date: Option<time::Date>,
    pub account_no: String,
    pub name: String,
}

impl std::fmt::Debug for MemberFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberFacts([redacted])")
    }
}

impl MemberFacts {
    /// What the password rules must keep out of a new secret.
    pub fn policy_context(&self) -> PolicyContext<'_> {
        PolicyContext {
            id_number: Some(&self.id_number),
            phone: Some(self.phone.normalised()),
            birth_date: self.birth_date,
            account_no: Some(&self.account_no),
            name: Some(&self.name),
        }
    }
}

/// Parses a new secret of `kind` against the rules and the member's own data.
pub(crate) fn check_new_secret(
    portal: &Portal,
    kind: SecretKind,
    value: &str,
    again: &str,
    facts: &MemberFacts,
) -> Result<String, (Vec<PolicyViolation>, bool)> {
    let ctx = facts.policy_context();
    let parsed = match kind {
        SecretKind::Login => LoginPassword::parse(value, &portal.policy.login_password, &ctx)
            .map(|p| p.expose().to_owned()),
        SecretKind::Transaction => {
            TransactionPassword::parse(value, &ctx).map(|p| p.expose().to_owned())
        }
    };
    let mismatch = value != again;
    match parsed {
        Ok(secret) if !mismatch => Ok(secret),
        Ok(_) => Err((Vec::new(), true)),
        Err(v) => Err((v, mismatch)),
    }
}

impl Portal {
    /// The member's personal data, decrypted.
    pub fn member_facts(&self, member: &MemberRecord) -> Result<MemberFacts, StoreError> {
        let id_number = self
            .keyring
            .open(Field::IdNumber, &member.id_number)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let phone = self.phone_on_file(member)?;
        let birth_date = IdNumber::parse(member.id_type, &id_number, china_today(self.clock.now()))
            .ok()
            .and_then(|i| i.birth_date());
        Ok(MemberFacts {
            id_number,
            phone,
            birth_date,
            account_no: member.account_no.to_string(),
            name: member.name.clone(),
        })
    }

    /// Checks a new secret (rules, typed twice, not one of the last few) and hashes it
    /// on the CPU pool.
    pub async fn prepare_new_secret(
        &self,
        member: &MemberRecord,
        kind: SecretKind,
        value: &str,
        again: &str,
    ) -> Result<String, RecoveryError> {
        let facts = self.member_facts(member)?;
        let secret = check_new_secret(self, kind, value, again, &facts).map_err(
            |(violations, mismatch)| RecoveryError::Secret {
                violations,
                mismatch,
            },
        )?;
        let previous = self
            .store
            .recent_secret_hashes(member.id, kind, self.reuse_history(kind))
            .await?;
        let (hasher, keyring, rng) = (self.hasher.clone(), self.keyring.clone(), self.rng.clone());
        let secret = secrecy::SecretString::from(secret);
        let hashed = run_on_pool(self.pool.as_ref(), move || {
            use secrecy::ExposeSecret as _;
            let secret = secret.expose_secret();
            if reused(&hasher, &keyring, secret, &previous) {
                return Err(previous.len());
            }
            Ok(hasher.hash(&keyring, secret, rng.as_ref()))
        })
        .await?;
        match hashed {
            Err(last) => Err(RecoveryError::Secret {
                violations: vec![PolicyViolation::Reused { last }],
                mismatch: false,
            }),
            Ok(Ok(hash)) => Ok(hash),
            Ok(Err(e)) => Err(RecoveryError::Store(StoreError::Backend(e.to_string()))),
        }
    }

    /// The last step of a self-service recovery: checks and hashes the new secret,
    /// then completes the flow with everything a reset entails, in one change.
    pub(crate) async fn finish_reset(
        &self,
        record: &FlowRecord,
        member: &MemberRecord,
        kind: SecretKind,
        new_secret: &NewSecret,
        action: &str,
        ctx: &RequestContext,
    ) -> Result<(), RecoveryError> {
        let hash = match self
            .prepare_new_secret(member, kind, &new_secret.value, &new_secret.again)
            .await
        {
            Ok(hash) => hash,
            Err(e) => {
                if let RecoveryError::Secret {
                    violations,
                    mismatch,
                } = &e
                {
                    let codes: Vec<&str> = violations.iter().map(|v| v.code()).collect();
                    let event = self
                        .recovery_event(action, Outcome::Failure, Some(member.id), ctx)
                        .details(serde_json::json!({"reasons": codes, "mismatch": mismatch}));
                    self.store
                        .apply(crate::ports::ChangeSet {
                            audit: vec![event],
                            ..Default::default()
                        })
                        .await?;
                }
                return Err(e);
            }
        };
        let now = self.clock.now();
        let done = record.complete(now).map_err(RecoveryError::from_flow)?;
        let event = self.recovery_event(action, Outcome::Success, Some(member.id), ctx);
        let change = self.reset_change(
            member,
            &[(kind, hash)],
            ctx.channel,
            Some(FlowWrite::Update {
                record: done,
                expected_version: record.version,
            }),
            event,
        )?;
        self.store.apply(change).await?;
        Ok(())
    }

    /// The change that stores new secrets for `member` and does everything a reset
    /// entails: locks of the reset secrets cleared (a reset transaction password is
    /// enabled again), every session and app token ended, a hold, the SMS notice to
    /// the phone on file and `event`. `flow` is the flow write that must land with it.
    pub fn reset_change(
        &self,
        member: &MemberRecord,
        new_hashes: &[(SecretKind, String)],
        channel: Channel,
        flow: Option<FlowWrite>,
        event: AuditEvent,
    ) -> Result<ChangeSet, StoreError> {
        let now = self.clock.now();
        let phone = self.phone_on_file(member)?;
        let mut update = CredentialUpdate::from_record(member, now);
        let mut history = Vec::new();
        let mut holds = Vec::new();
        for (kind, hash) in new_hashes {
            match kind {
                SecretKind::Login => {
                    update.login_hash = Some(hash.clone());
                    update.login_lock = LockState::default();
                }
                SecretKind::Transaction => {
                    update.transaction_hash = Some(hash.clone());
                    update.transaction_lock = LockState::default();
                    update.transaction_disabled = false;
                }
            }
            history.push(SecretHistoryEntry {
                member_id: member.id,
                kind: *kind,
                hash: hash.clone(),
                at: now,
            });
            let reason = match kind {
                SecretKind::Login => HoldReason::LoginReset,
                SecretKind::Transaction => HoldReason::TransactionReset,
            };
            holds.push(self.policy.holds.hold(member.id, reason, channel, now));
        }
        let text = self.reset_notice(new_hashes.iter().map(|(k, _)| *k), channel, now);
        let events = crate::clients::BusinessEvent::for_holds(member, &holds, self.rng.as_ref());
        Ok(ChangeSet {
            events,
            members: vec![MemberWrite {
                id: member.id,
                expected_version: member.version,
                update,
            }],
            history,
            flows: flow.into_iter().collect(),
            sessions: vec![SessionWrite::RevokeAll {
                member: member.id,
                at: now,
            }],
            holds,
            outbox: vec![self.outbox_message(
                Some(member.id),
                SmsPurpose::ResetNotice,
                &phone,
                &text,
            )],
            audit: vec![event],
            ..ChangeSet::default()
        })
    }

    /// "Your login password was reset at … through … ; if it was not you, call …".
    fn reset_notice(
        &self,
        kinds: impl Iterator<Item = SecretKind>,
        channel: Channel,
        at: OffsetDateTime,
    ) -> crate::ports::SmsContent {
        let t = &self.templates;
        fill(
            &t.reset_done,
            &[
                ("secrets", &self.secret_names(kinds)),
                ("time", &super::super::notify::china_time(at)),
                ("channel", self.channel_name(channel)),
                ("hotline", &t.hotline),
            ],
        )
    }

    /// "登录密码和交易密码": the names of the secrets, as notices write them.
    pub(crate) fn secret_names(&self, kinds: impl Iterator<Item = SecretKind>) -> String {
        let t = &self.templates;
        let names: Vec<&str> = kinds
            .map(|k| match k {
                SecretKind::Login => t.login_password_name.as_str(),
                SecretKind::Transaction => t.transaction_password_name.as_str(),
            })
            .collect();
        names.join(&t.and)
    }

    /// The name of a channel, as notices write it.
    pub(crate) fn channel_name(&self, channel: Channel) -> &str {
        let t = &self.templates;
        match channel {
            Channel::App => &t.channel_app,
            Channel::Counter => &t.channel_counter,
            Channel::Hotline => &t.channel_hotline,
            _ => &t.channel_web,
        }
    }
}
