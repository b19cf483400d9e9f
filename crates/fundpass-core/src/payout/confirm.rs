//! The member's side (pending authorisations, confirm with the transaction password,
//! decline) and the business system's (read one, capture it exactly once).

use time::OffsetDateTime;

use super::audit::{audit_details, by_member, payout_event};
use super::{Authorization, AuthorizationWrite, ConfirmChannel, PayoutError, State};
use crate::audit::Outcome;
use crate::clients::{BusinessEvent, ClientCaller, EventKind, Scope};
use crate::portal::{Authenticated, Portal, RequestContext};
use crate::ports::{ChangeSet, StoreError};
use crate::session::SessionScope;

impl Portal {
    /// The member's authorisations still waiting for them, newest first.
    pub async fn pending_authorizations(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<Authorization>, PayoutError> {
        let now = self.clock.now();
        let all = self.store.member_authorizations(auth.member.id, 50).await?;
        Ok(all
            .into_iter()
            .filter(|a| a.state_at(now) == State::Pending)
            .collect())
    }

    /// One of the member's own authorisations (any other id reads as unknown).
    pub async fn member_authorization(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<Authorization, PayoutError> {
        match self.store.authorization(id).await? {
            Some(a) if a.member_id == auth.member.id => Ok(a),
            _ => Err(PayoutError::NotFound),
        }
    }

    /// The member approves this payment with the transaction password. Only a full
    /// login may; a face-login token may not pay anything out.
    pub async fn confirm_authorization(
        &self,
        auth: &Authenticated,
        id: &str,
        password: &str,
        channel: ConfirmChannel,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        let (mut record, owner) = self.decidable(auth, id).await?;
        let now = self.clock.now();
        // A hold placed since the authorisation was made refuses it too.
        let flags = self.payout_holds(&auth.member, now).await?;
        let (_, unlock) = self
            .check_payout_password(&owner, auth.member.clone(), password, &record, ctx)
            .await?;
        let expected_version = record.version;
        record.risk_flags = flags;
        self.confirm_record(&mut record, channel, self.clock.now())?;
        let decision = Decision {
            kind: EventKind::AuthorizationConfirmed,
            action: "payout.confirm",
            members: unlock.into_iter().collect(),
        };
        self.decide(auth, &owner, record, expected_version, decision, ctx)
            .await
    }

    /// The member refuses this payment.
    pub async fn decline_authorization(
        &self,
        auth: &Authenticated,
        id: &str,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        let (mut record, owner) = self.decidable(auth, id).await?;
        let expected_version = record.version;
        record.state = State::Declined;
        record.decided_at = Some(self.clock.now());
        record.channel = Some(match ctx.channel {
            crate::audit::Channel::App => ConfirmChannel::App,
            _ => ConfirmChannel::Web,
        });
        let decision = Decision {
            kind: EventKind::AuthorizationDeclined,
            action: "payout.decline",
            members: Vec::new(),
        };
        self.decide(auth, &owner, record, expected_version, decision, ctx)
            .await
    }

    /// The member's own authorisation, still pending, and the business system that
    /// asked (as the audit trail names it). Only a full login may decide.
    async fn decidable(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<(Authorization, ClientCaller), PayoutError> {
        if auth.session.scope != SessionScope::Full {
            return Err(PayoutError::NotFound);
        }
        let record = self.member_authorization(auth, id).await?;
        match record.state_at(self.clock.now()) {
            State::Pending => {}
            State::Expired => return Err(PayoutError::Expired),
            State::Confirmed | State::Declined | State::Captured => {
                return Err(PayoutError::AlreadyDecided);
            }
        }
        let client = self
            .store
            .client(&record.client_id)
            .await?
            .ok_or(PayoutError::NotFound)?;
        let owner = ClientCaller {
            client,
            scopes: Vec::new(),
        };
        Ok((record, owner))
    }

    /// Stores the member's decision on `record` (still at `expected_version`), with its
    /// event for the owning client and its audit row, in one change.
    async fn decide(
        &self,
        auth: &Authenticated,
        owner: &ClientCaller,
        record: Authorization,
        expected_version: i64,
        decision: Decision,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        let now = self.clock.now();
        let event = payout_event(owner, &record, now, decision.action, Outcome::Success, ctx);
        let mut stored = record;
        stored.version = expected_version + 1;
        let change = ChangeSet {
            members: decision.members,
            events: vec![decision_event(&stored, decision.kind, self)],
            authorizations: vec![AuthorizationWrite::Update {
                record: stored.clone(),
                expected_version,
            }],
            audit: vec![by_member(event, ctx, &auth.member)],
            ..ChangeSet::default()
        };
        match self.store.apply(change).await {
            Ok(()) => Ok(stored),
            Err(StoreError::Conflict) => Err(PayoutError::AlreadyDecided),
            Err(e) => Err(e.into()),
        }
    }

    /// One of the caller's authorisations.
    pub async fn client_authorization(
        &self,
        caller: &ClientCaller,
        id: &str,
    ) -> Result<Authorization, PayoutError> {
        caller.require(Scope::PaymentsAuthorize)?;
        let record = self
            .store
            .authorization(id)
            .await?
            .ok_or(PayoutError::NotFound)?;
        if record.client_id != caller.client.id {
            return Err(PayoutError::Foreign);
        }
        Ok(record)
    }

    /// Marks a confirmed authorisation used, exactly once: the state moves from
    /// confirmed to captured only if nobody moved it first (version check), so of
    /// parallel captures one succeeds and the others are told it was captured.
    pub async fn capture_authorization(
        &self,
        caller: &ClientCaller,
        id: &str,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        let record = self.client_authorization(caller, id).await?;
        let now = self.clock.now();
        let refusal = match record.state_at(now) {
            State::Confirmed => None,
            State::Pending => Some(PayoutError::NotConfirmed),
            State::Declined => Some(PayoutError::Declined),
            State::Expired => Some(PayoutError::Expired),
            State::Captured => Some(PayoutError::AlreadyCaptured),
        };
        if let Some(refusal) = refusal {
            let event = payout_event(caller, &record, now, "payout.capture", Outcome::Denied, ctx);
            self.store
                .apply(ChangeSet {
                    audit: vec![event],
                    ..ChangeSet::default()
                })
                .await?;
            return Err(refusal);
        }
        let mut captured = record.clone();
        captured.state = State::Captured;
        captured.captured_at = Some(now);
        captured.version = record.version + 1;
        let event = caller
            .event(now, "payout.capture", Outcome::Success, ctx)
            .member(record.member_id)
            .details(audit_details(&captured));
        let change = ChangeSet {
            authorizations: vec![AuthorizationWrite::Update {
                record: captured.clone(),
                expected_version: record.version,
            }],
            audit: vec![event],
            ..ChangeSet::default()
        };
        match self.store.apply(change).await {
            Ok(()) => Ok(captured),
            Err(StoreError::Conflict) => Err(PayoutError::AlreadyCaptured),
            Err(e) => Err(e.into()),
        }
    }
}

/// What a member's decision writes besides the authorisation.
struct Decision {
    kind: EventKind,
    action: &'static str,
    members: Vec<crate::ports::MemberWrite>,
}

/// The event telling the owning client of the member's decision.
pub(crate) fn decision_event(
    record: &Authorization,
    kind: EventKind,
    portal: &Portal,
) -> BusinessEvent {
    let at: OffsetDateTime = record.decided_at.unwrap_or(record.created_at);
    let mut event = BusinessEvent::new(
        kind,
        serde_json::json!({
            "authorization_id": record.id,
            "account_no": record.account_no,
            "business_ref": record.payment.business_ref,
            "state": record.state.code(),
        }),
        at,
        portal.rng.as_ref(),
    );
    event.audience = Some(record.client_id.clone());
    event.member_id = Some(record.member_id);
    event
}
