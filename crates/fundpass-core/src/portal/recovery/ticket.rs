//! Redeeming a one-time reset ticket from the counter or the hotline, online or on
//! the counter's PIN-pad page: the ticket with the member's document, then the new
//! secret(s) the ticket is for. The ticket is good once; documents that are not the
//! ticket's member count against it and close it after five.

use time::OffsetDateTime;

use super::{NewSecret, RecoveryError};
use crate::assisted::{AssistedCase, CaseStatus, CaseWrite, ResetScope, ResetTicket};
use crate::audit::Outcome;
use crate::credentials::PolicyViolation;
use crate::crypto::{Field, OpaqueToken};
use crate::identity::{IdNumber, IdNumberError, IdType};
use crate::member::{MemberStatus, SecretKind};
use crate::portal::{Portal, RequestContext, china_today};
use crate::ports::{ChangeSet, PoolBusy, RateDecision, StoreError};

/// Why a ticket step was refused. A ticket that is unknown, used, expired, closed or
/// not the document's reads the same.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("document number: {0}")]
    BadIdNumber(IdNumberError),
    #[error("the ticket is not valid for this document, used, or expired")]
    NotValid,
    #[error("too many attempts; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    /// The redemption under way is unknown or ran out: start with the ticket again.
    #[error("start again with the ticket")]
    StartAgain,
    #[error("the new secrets do not meet the rules")]
    Secrets {
        /// What the ticket is for (the form shows these fields again).
        scope: ResetScope,
        /// Violations and "typed twice differently", per secret the ticket is for.
        login: Option<(Vec<PolicyViolation>, bool)>,
        transaction: Option<(Vec<PolicyViolation>, bool)>,
    },
    #[error("another request used this ticket first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TicketError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

/// A checked ticket: the bearer id of the last step and what it resets.
#[derive(Debug)]
pub struct TicketChecked {
    pub redemption: OpaqueToken,
    pub scope: ResetScope,
    pub expires_at: OffsetDateTime,
}

impl Portal {
    /// Step one: the ticket and the member's document.
    pub async fn check_reset_ticket(
        &self,
        ticket: &str,
        id_type: IdType,
        id_number: &str,
        ctx: &RequestContext,
    ) -> Result<TicketChecked, TicketError> {
        let now = self.clock.now();
        let ip = ctx.ip.as_deref().unwrap_or("unknown");
        let window = time::Duration::minutes(10);
        let key = format!("ticket:ip:{ip}");
        if let RateDecision::Limited { retry_after } = self
            .limiter
            .hit(&key, window, self.policy.ticket_per_ip, now)
            .await?
        {
            return Err(TicketError::RateLimited { retry_after });
        }
        let id = IdNumber::parse(id_type, id_number, china_today(now))
            .map_err(TicketError::BadIdNumber)?;
        let case = match ResetTicket::parse(ticket) {
            Some(t) => self.store.case_by_ticket(&t.mac(&self.keyring)).await?,
            None => None,
        };
        let Some(case) = case.filter(|c| redeemable(c, now)) else {
            self.audit_only(self.recovery_event(
                "recovery.ticket.check",
                Outcome::Failure,
                None,
                ctx,
            ))
            .await?;
            return Err(TicketError::NotValid);
        };
        let member = self.store.member_by_id(case.member_id).await?;
        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
        let matches = member
            .as_ref()
            .is_some_and(|m| m.id_type == id.id_type() && m.id_number_index == index);
        let mut next = AssistedCase {
            updated_at: now,
            version: case.version + 1,
            ..case.clone()
        };
        let result = if matches {
            let token = OpaqueToken::generate(self.rng.as_ref());
            let expires_at = (now + self.policy.assisted.redeem_window)
                .min(case.ticket_expires_at.unwrap_or(now));
            next.redeem_token = Some(token.digest());
            next.redeem_expires_at = Some(expires_at);
            Ok(TicketChecked {
                redemption: token,
                scope: case.scope.unwrap_or(ResetScope::Both),
                expires_at,
            })
        } else {
            next.wrong_tries += 1;
            if next.wrong_tries >= self.policy.assisted.max_wrong_documents {
                next.status = CaseStatus::Closed;
            }
            Err(TicketError::NotValid)
        };
        let (outcome, member_id) = if matches {
            (Outcome::Success, Some(case.member_id))
        } else {
            (Outcome::Failure, None)
        };
        let event = self
            .recovery_event("recovery.ticket.check", outcome, member_id, ctx)
            .details(serde_json::json!({"case": case.id, "channel": case.channel.code()}));
        self.store
            .apply(ChangeSet {
                cases: vec![CaseWrite::Update {
                    record: next,
                    expected_version: case.version,
                }],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        result
    }

    /// Step two: the new secret(s), each typed twice. Ends every session, places
    /// the holds, texts the notice, and uses the ticket up, in one change.
    pub async fn redeem_reset_ticket(
        &self,
        redemption: &str,
        login: &NewSecret,
        transaction: &NewSecret,
        ctx: &RequestContext,
    ) -> Result<(), TicketError> {
        let now = self.clock.now();
        let token = OpaqueToken::parse(redemption.trim()).ok_or(TicketError::StartAgain)?;
        let case = self
            .store
            .case_by_redeem_token(&token.digest())
            .await?
            .filter(|c| redeemable(c, now) && c.redeem_expires_at.is_some_and(|t| now < t))
            .ok_or(TicketError::StartAgain)?;
        let member = self
            .store
            .member_by_id(case.member_id)
            .await?
            .filter(|m| m.status == MemberStatus::Registered)
            .ok_or(TicketError::StartAgain)?;
        let scope = case.scope.unwrap_or(ResetScope::Both);
        let mut hashes = Vec::new();
        let (mut login_err, mut transaction_err) = (None, None);
        for kind in scope.kinds() {
            let secret = match kind {
                SecretKind::Login => login,
                SecretKind::Transaction => transaction,
            };
            match self
                .prepare_new_secret(&member, *kind, &secret.value, &secret.again)
                .await
            {
                Ok(hash) => hashes.push((*kind, hash)),
                Err(RecoveryError::Secret {
                    violations,
                    mismatch,
                }) => {
                    let slot = match kind {
                        SecretKind::Login => &mut login_err,
                        SecretKind::Transaction => &mut transaction_err,
                    };
                    *slot = Some((violations, mismatch));
                }
                Err(RecoveryError::Busy(b)) => return Err(TicketError::Busy(b)),
                Err(RecoveryError::Store(e)) => return Err(e.into()),
                Err(other) => return Err(StoreError::Backend(other.to_string()).into()),
            }
        }
        if login_err.is_some() || transaction_err.is_some() {
            let codes = |e: &Option<(Vec<PolicyViolation>, bool)>| {
                e.as_ref()
                    .map(|(v, m)| serde_json::json!({"reasons": v.iter().map(|x| x.code()).collect::<Vec<_>>(), "mismatch": m}))
            };
            let event = self
                .recovery_event(
                    "recovery.ticket.redeem",
                    Outcome::Failure,
                    Some(member.id),
                    ctx,
                )
                .details(serde_json::json!({
                    "case": case.id,
                    "login": codes(&login_err),
                    "transaction": codes(&transaction_err),
                }));
            self.audit_only(event).await?;
            return Err(TicketError::Secrets {
                scope,
                login: login_err,
                transaction: transaction_err,
            });
        }
        let event = self
            .recovery_event("recovery.ticket.redeem", Outcome::Success, Some(member.id), ctx)
            .details(serde_json::json!({"case": case.id, "channel": case.channel.code(), "scope": scope.code()}));
        let mut change = self.reset_change(&member, &hashes, case.channel, None, event)?;
        change.cases.push(CaseWrite::Update {
            record: AssistedCase {
                status: CaseStatus::Redeemed,
                redeemed_at: Some(now),
                updated_at: now,
                version: case.version + 1,
                ..case.clone()
            },
            expected_version: case.version,
        });
        self.store.apply(change).await?;
        Ok(())
    }
}

/// Whether a case's ticket may still be used at `now`.
fn redeemable(case: &AssistedCase, now: OffsetDateTime) -> bool {
    case.status == CaseStatus::Issued && case.ticket_expires_at.is_some_and(|t| now < t)
}
