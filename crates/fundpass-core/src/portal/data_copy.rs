//! A copy of the personal information fundpass holds about the member (PIPL Art. 45).
//!
//! The copy is the one place the full document number and phone on file leave
//! fundpass for the member, so it is given only against the login password typed in
//! the same request (a proof no older than the request itself). A wrong password is a
//! guess like any other: it counts against the login lock through the same path as a
//! password change, and the failure that locks ends every session, this one too.
//!
//! Every copy is audited (`member.data_copy`, without any personal data) and texted
//! to the phone on file, in the same change, before the copy is handed out.

use secrecy::SecretString;
use time::OffsetDateTime;

use super::{Authenticated, LiveSession, PasswordChangeError, Portal, RequestContext, china_today};
use crate::audit::Outcome;
use crate::crypto::Field;
use crate::identity::IdType;
use crate::lockout::Gate;
use crate::member::{AccountNumber, Hold, MemberId, MemberRecord, MemberStatus, SecretKind};
use crate::ports::{ChangeSet, MemberEventsQuery, PoolBusy, SmsPurpose, StoreError};
use crate::session::SessionScope;

/// The audit action of a data copy, granted or refused.
const ACTION: &str = "member.data_copy";
/// The audit action of a completed online registration.
const REGISTRATION: &str = "registration.complete";

/// What fundpass holds about the member, as handed to the member.
#[derive(Debug)]
pub struct DataCopy {
    pub exported_at: OffsetDateTime,
    /// The day of the export in China, for the file's name.
    pub exported_on: time::Date,
    pub name: String,
    pub id_type: IdType,
    /// The full document number: only ever shown in the copy.
    pub id_number: SecretString,
    /// The full phone on file: only ever shown in the copy.
    pub phone: SecretString,
    pub account_no: AccountNumber,
    pub status: MemberStatus,
    /// When the member last registered for online services: the newest successful
    /// `registration.complete` event of the audit trail (`None` if there is none).
    pub registered_at: Option<OffsetDateTime>,
    /// When the current login password was set (the newest login entry of the
    /// secret history: registration, a reset or a change).
    pub login_password_set_at: Option<OffsetDateTime>,
    /// When the fund's core system's record of the member was imported.
    pub imported_at: OffsetDateTime,
    /// The codes of the security questions set, in order (never the answers).
    pub security_questions: Vec<String>,
    pub holds: Vec<Hold>,
    /// Live sessions and app tokens, addresses masked.
    pub sessions: Vec<LiveSession>,
}

/// Why no copy was given.
#[derive(Debug, thiserror::Error)]
pub enum DataCopyError {
    /// A face-login session is good for recovering the transaction password alone.
    #[error("a face-login session cannot download personal data")]
    RecoverySession,
    #[error("wrong login password; {remaining} tries before the account locks")]
    WrongPassword { remaining: i32 },
    /// Locked before this attempt (failures elsewhere); the session goes on.
    #[error("the login password is locked until {until}")]
    Locked { until: OffsetDateTime },
    /// This failure locked the account: every session ended, this one too.
    #[error("too many wrong login passwords; locked until {until}, every session ended")]
    LockedOut { until: OffsetDateTime },
    #[error("another request changed the account first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PasswordChangeError> for DataCopyError {
    /// The shared login-password failure path answers in a password change's terms;
    /// only its login-password variants can come back from it.
    fn from(e: PasswordChangeError) -> Self {
        match e {
            PasswordChangeError::RecoverySession => Self::RecoverySession,
            PasswordChangeError::WrongLoginPassword { remaining } => {
                Self::WrongPassword { remaining }
            }
            PasswordChangeError::Locked { until } => Self::Locked { until },
            PasswordChangeError::LockedOut { until } => Self::LockedOut { until },
            PasswordChangeError::Conflict => Self::Conflict,
            PasswordChangeError::Busy(b) => Self::Busy(b),
            PasswordChangeError::Store(e) => Self::Store(e),
            other @ (PasswordChangeError::WrongTransactionPassword { .. }
            | PasswordChangeError::TransactionLocked { .. }
            | PasswordChangeError::TransactionDisabled
            | PasswordChangeError::NewSecret { .. }) => {
                Self::Store(StoreError::Backend(format!("unexpected refusal: {other}")))
            }
        }
    }
}

impl Portal {
    /// The member's copy of their personal information, against the login password
    /// typed with the request.
    pub async fn data_copy(
        &self,
        auth: &Authenticated,
        password: &str,
        ctx: &RequestContext,
    ) -> Result<DataCopy, DataCopyError> {
        if auth.session.scope != SessionScope::Full {
            return Err(DataCopyError::RecoverySession);
        }
        let member = &auth.member;
        let now = self.clock.now();
        if let Gate::Locked { until } = self.policy.login_lock.gate(&member.login_lock, now) {
            let event = self
                .recovery_event(ACTION, Outcome::Denied, Some(member.id), ctx)
                .details(serde_json::json!({ "reason": "locked" }));
            self.store
                .apply(ChangeSet {
                    audit: vec![event],
                    ..ChangeSet::default()
                })
                .await?;
            return Err(DataCopyError::Locked { until });
        }
        if self
            .verify_on_pool(member.login_hash.clone(), password, false)
            .await?
            .is_none()
        {
            let refusal = self
                .wrong_login_in_session(member.clone(), ACTION, ctx)
                .await?;
            return Err(refusal.into());
        }
        let copy = self.gather_copy(auth).await?;
        self.record_copy(member, ctx).await?;
        Ok(copy)
    }

    /// Everything the copy holds, read before anything is recorded.
    async fn gather_copy(&self, auth: &Authenticated) -> Result<DataCopy, StoreError> {
        let member = &auth.member;
        let id_number = self
            .keyring
            .open(Field::IdNumber, &member.id_number)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let phone = self.phone_on_file(member)?;
        Ok(DataCopy {
            exported_at: self.clock.now(),
            exported_on: china_today(self.clock.now()),
            name: member.name.clone(),
            id_type: member.id_type,
            id_number: SecretString::from(id_number),
            phone: SecretString::from(phone.normalised().to_owned()),
            account_no: member.account_no.clone(),
            status: member.status,
            registered_at: self.registered_at(member.id).await?,
            login_password_set_at: self
                .store
                .secret_set_at(member.id, SecretKind::Login)
                .await?,
            imported_at: member.created_at,
            security_questions: self.security_questions_of(member.id).await?,
            holds: self.holds_of(auth).await?,
            sessions: self.live_sessions(auth).await?,
        })
    }

    /// When the member last completed an online registration, from the audit trail.
    async fn registered_at(&self, member: MemberId) -> Result<Option<OffsetDateTime>, StoreError> {
        let query = MemberEventsQuery {
            member,
            before: None,
            actions: Some(vec![REGISTRATION]),
            outcome: Some(Outcome::Success),
            limit: 1,
        };
        let newest = self.store.member_events(&query).await?;
        Ok(newest.first().map(|r| r.event.at))
    }

    /// The audit row (no personal data) and the notice to the phone on file.
    async fn record_copy(
        &self,
        member: &MemberRecord,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let phone = self.phone_on_file(member)?;
        let text = self.notice_text(&self.templates.data_copy);
        let event = self
            .recovery_event(ACTION, Outcome::Success, Some(member.id), ctx)
            .details(serde_json::json!({ "format": "json" }));
        self.store
            .apply(ChangeSet {
                outbox: vec![self.outbox_message(
                    Some(member.id),
                    SmsPurpose::DataCopy,
                    &phone,
                    &text,
                )],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
    }
}
