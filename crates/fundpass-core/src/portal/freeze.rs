//! Freezing a member's account (the fund's decision, taken by an operator): nothing
//! online works while it lasts — logins, recoveries, payouts — every session ends at
//! once, and business systems are told. Lifting it restores where the member stood.

use super::{Portal, RequestContext};
use crate::audit::{Actor, ActorKind, AuditEvent, Outcome};
use crate::clients::BusinessEvent;
use crate::member::{AccountNumber, CredentialUpdate, MemberRecord, MemberStatus};
use crate::ports::{ChangeSet, MemberWrite, SessionWrite, StoreError};

/// Longest reason kept, in characters.
const MAX_REASON_CHARS: usize = 200;

/// Why a freeze or its lifting was refused.
#[derive(Debug, thiserror::Error)]
pub enum FreezeError {
    #[error("no member has this account number")]
    UnknownMember,
    #[error("the account is already frozen")]
    AlreadyFrozen,
    #[error("the account is not frozen")]
    NotFrozen,
    #[error("give a reason of 1 to 200 characters")]
    BadReason,
    #[error("another request changed the account first; try again")]
    Conflict,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for FreezeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

impl Portal {
    /// Freezes (`frozen`) or unfreezes the account `account_no` for `reason`, as the
    /// operator `operator`. Unfreezing returns the member to registered if they had
    /// set their passwords, else to ordinary.
    pub async fn set_frozen(
        &self,
        account_no: &str,
        frozen: bool,
        reason: &str,
        operator: &str,
        ctx: &RequestContext,
    ) -> Result<MemberRecord, FreezeError> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(FreezeError::BadReason);
        }
        let account = AccountNumber::parse(account_no).map_err(|_| FreezeError::UnknownMember)?;
        let member = self
            .store
            .member_by_account(&account)
            .await?
            .ok_or(FreezeError::UnknownMember)?;
        let status = match (frozen, member.status) {
            (true, MemberStatus::Frozen) => return Err(FreezeError::AlreadyFrozen),
            (false, MemberStatus::Ordinary | MemberStatus::Registered) => {
                return Err(FreezeError::NotFrozen);
            }
            (true, _) => MemberStatus::Frozen,
            (false, MemberStatus::Frozen) if member.login_hash.is_some() => {
                MemberStatus::Registered
            }
            (false, MemberStatus::Frozen) => MemberStatus::Ordinary,
        };
        let now = self.clock.now();
        let mut update = CredentialUpdate::from_record(&member, now);
        update.status = status;
        let action = if frozen {
            "member.freeze"
        } else {
            "member.unfreeze"
        };
        let mut event = AuditEvent::new(
            now,
            Actor {
                kind: ActorKind::Operator,
                id: Some(operator.to_owned()),
            },
            action,
            ctx.channel,
            Outcome::Success,
        )
        .member(member.id)
        .details(serde_json::json!({
            "reason": crate::console::mask_numbers(reason),
            "status": status.code(),
        }));
        event.ip = ctx.ip.clone();
        let change = ChangeSet {
            members: vec![MemberWrite {
                id: member.id,
                expected_version: member.version,
                update,
            }],
            sessions: if frozen {
                vec![SessionWrite::RevokeAll {
                    member: member.id,
                    at: now,
                }]
            } else {
                Vec::new()
            },
            events: vec![BusinessEvent::freeze(
                &member,
                frozen,
                now,
                self.rng.as_ref(),
            )],
            audit: vec![event],
            ..ChangeSet::default()
        };
        self.store.apply(change).await?;
        Ok(MemberRecord {
            status,
            version: member.version + 1,
            ..member
        })
    }
}
