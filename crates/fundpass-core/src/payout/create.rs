//! Creating authorisations: pending until the member confirms them in fundpass, or
//! confirmed at once by the transaction password typed on the business system's own
//! PIN pad (direct verification).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::audit::payout_event;
use super::{
    Authorization, AuthorizationWrite, ConfirmChannel, Mode, Payment, PaymentInput, PayoutError,
    State, receipt,
};
use crate::audit::Outcome;
use crate::clients::{ClientCaller, Scope};
use crate::lockout::Gate;
use crate::member::{AccountNumber, MemberRecord, MemberStatus};
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, RateDecision, StoreError};

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 128;

impl Portal {
    /// A pending authorisation the member confirms in fundpass. A retry with the same
    /// `Idempotency-Key` and the same request returns the authorisation made the first
    /// time; the same key with another request is refused.
    pub async fn create_authorization(
        &self,
        caller: &ClientCaller,
        input: &PaymentInput,
        idempotency_key: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        caller.require(Scope::PaymentsAuthorize)?;
        let payment = self.parse_payment(input)?;
        let key = idempotency_key
            .filter(|k| valid_idempotency_key(k))
            .ok_or(PayoutError::BadIdempotencyKey)?;
        let digest = request_digest(Mode::Confirm, input);
        if let Some(found) = self.replay(caller, Some(key), &digest).await? {
            return Ok(found);
        }
        let member = self.payout_member(&input.account_no).await?;
        let now = self.clock.now();
        self.member_payout_limit(&member, now).await?;
        let risk_flags = self.payout_holds(&member, now).await?;
        match self.policy.transaction_lock.gate(
            &member.transaction_lock,
            member.transaction_disabled,
            now,
        ) {
            Gate::Open => {}
            Gate::Locked { until } => return Err(PayoutError::TransactionLocked { until }),
            Gate::Disabled => return Err(PayoutError::TransactionDisabled),
        }
        let auth = self.new_authorization(
            caller,
            &member,
            payment,
            Mode::Confirm,
            risk_flags,
            Some(key),
            digest,
            now,
        );
        let event = payout_event(caller, &auth, now, "payout.create", Outcome::Success, ctx);
        self.insert_authorization(
            caller,
            auth,
            ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            },
        )
        .await
    }

    /// Direct verification: the transaction password typed on the business system's
    /// PIN pad, checked now. Right: a confirmed authorisation with its receipt. Wrong:
    /// counted against the member's counter shared with every channel. An account
    /// number nobody holds gets the same refusal, after the same work (a dummy hash),
    /// counted against a counter of its own that locks the same way.
    pub async fn verify_payment_directly(
        &self,
        caller: &ClientCaller,
        input: &PaymentInput,
        transaction_password: &str,
        idempotency_key: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Authorization, PayoutError> {
        caller.require(Scope::PaymentsAuthorize)?;
        let payment = self.parse_payment(input)?;
        if payment.amount_fen > self.policy.payout.direct_max_fen {
            return Err(PayoutError::ConfirmationRequired {
                threshold_fen: self.policy.payout.direct_max_fen,
            });
        }
        if idempotency_key.is_some_and(|k| !valid_idempotency_key(k)) {
            return Err(PayoutError::BadIdempotencyKey);
        }
        let digest = request_digest(Mode::Direct, input);
        if let Some(found) = self.replay(caller, idempotency_key, &digest).await? {
            return Ok(found);
        }
        let member = match self.payout_member(&input.account_no).await {
            Ok(m) => m,
            Err(PayoutError::UnknownMember | PayoutError::NotRegistered) => {
                return Err(self
                    .unknown_account_attempt(caller, input, &payment, transaction_password, ctx)
                    .await);
            }
            Err(e) => return Err(e),
        };
        let now = self.clock.now();
        self.member_payout_limit(&member, now).await?;
        let risk_flags = self.payout_holds(&member, now).await?;
        let mut auth = self.new_authorization(
            caller,
            &member,
            payment,
            Mode::Direct,
            risk_flags,
            idempotency_key,
            digest,
            now,
        );
        let (member, unlock) = self
            .check_payout_password(caller, member, transaction_password, &auth, ctx)
            .await?;
        auth.member_id = member.id;
        self.confirm_record(&mut auth, ConfirmChannel::Terminal, self.clock.now())?;
        let event = payout_event(caller, &auth, now, "payout.verify", Outcome::Success, ctx);
        let change = ChangeSet {
            members: unlock.into_iter().collect(),
            events: vec![super::confirm::decision_event(
                &auth,
                crate::clients::EventKind::AuthorizationConfirmed,
                self,
            )],
            audit: vec![event],
            ..ChangeSet::default()
        };
        self.insert_authorization(caller, auth, change).await
    }

    fn parse_payment(&self, input: &PaymentInput) -> Result<Payment, PayoutError> {
        AccountNumber::parse(&input.account_no)
            .map_err(|_| PayoutError::BadPayment(super::PaymentProblem::BadAccount))?;
        Payment::parse(input, self.policy.payout.max_amount_fen).map_err(PayoutError::BadPayment)
    }

    /// The authorisation an earlier request with this key made, if the request is the
    /// same; a different request under the key is refused.
    async fn replay(
        &self,
        caller: &ClientCaller,
        key: Option<&str>,
        digest: &[u8; 32],
    ) -> Result<Option<Authorization>, PayoutError> {
        let Some(key) = key else { return Ok(None) };
        match self
            .store
            .authorization_by_key(&caller.client.id, key)
            .await?
        {
            Some(found) if found.request_digest == *digest => Ok(Some(found)),
            Some(_) => Err(PayoutError::IdempotencyKeyReused),
            None => Ok(None),
        }
    }

    /// The registered, unfrozen member holding `account_no`.
    pub(crate) async fn payout_member(
        &self,
        account_no: &str,
    ) -> Result<MemberRecord, PayoutError> {
        let account = AccountNumber::parse(account_no).map_err(|_| PayoutError::UnknownMember)?;
        let member = self
            .store
            .member_by_account(&account)
            .await?
            .ok_or(PayoutError::UnknownMember)?;
        match member.status {
            MemberStatus::Registered => Ok(member),
            MemberStatus::Ordinary => Err(PayoutError::NotRegistered),
            MemberStatus::Frozen => Err(PayoutError::MemberFrozen),
        }
    }

    async fn member_payout_limit(
        &self,
        member: &MemberRecord,
        now: OffsetDateTime,
    ) -> Result<(), PayoutError> {
        let key = format!("payout:member:{}", member.id.0);
        let limit = self.policy.payout.per_member_per_hour;
        match self
            .limiter
            .hit(&key, time::Duration::hours(1), limit, now)
            .await?
        {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after } => Err(PayoutError::RateLimited { retry_after }),
        }
    }

    /// Refuses a member under a hold that blocks payouts; the flags of holds that only
    /// mark them.
    pub(crate) async fn payout_holds(
        &self,
        member: &MemberRecord,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, PayoutError> {
        let holds = self.store.active_holds(member.id, now).await?;
        let policy = &self.policy.payout;
        if let Some(h) = holds
            .iter()
            .filter(|h| policy.blocks(h.reason))
            .max_by_key(|h| h.until)
        {
            return Err(PayoutError::OnHold {
                reason: h.reason,
                until: h.until,
            });
        }
        let mut flags: Vec<String> = holds
            .iter()
            .map(|h| format!("recent_{}", h.reason.code()))
            .collect();
        flags.sort();
        flags.dedup();
        Ok(flags)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_authorization(
        &self,
        caller: &ClientCaller,
        member: &MemberRecord,
        payment: Payment,
        mode: Mode,
        risk_flags: Vec<String>,
        key: Option<&str>,
        digest: [u8; 32],
        now: OffsetDateTime,
    ) -> Authorization {
        let mut id = [0u8; 16];
        self.rng.fill(&mut id);
        Authorization {
            id: format!("pa_{}", URL_SAFE_NO_PAD.encode(id)),
            client_id: caller.client.id.clone(),
            member_id: member.id,
            account_no: member.account_no.as_str().to_owned(),
            payment,
            mode,
            state: State::Pending,
            risk_flags,
            idempotency_key: key.map(str::to_owned),
            request_digest: digest,
            created_at: now,
            expires_at: now + self.policy.payout.pending_lifetime,
            decided_at: None,
            channel: None,
            captured_at: None,
            receipt: None,
            version: 1,
        }
    }

    /// Marks `auth` confirmed at `now` through `channel`, with its signed receipt and
    /// the capture window.
    pub(crate) fn confirm_record(
        &self,
        auth: &mut Authorization,
        channel: ConfirmChannel,
        now: OffsetDateTime,
    ) -> Result<(), PayoutError> {
        let signer = self
            .keyring
            .receipt_signer()
            .ok_or(PayoutError::NoSigningKey)?;
        let expires_at = now + self.policy.payout.capture_window;
        auth.receipt = Some(receipt::sign(
            &signer,
            auth,
            &auth.payment,
            channel,
            now,
            expires_at,
            self.rng.as_ref(),
        ));
        auth.state = State::Confirmed;
        auth.decided_at = Some(now);
        auth.channel = Some(channel);
        auth.expires_at = expires_at;
        Ok(())
    }

    async fn insert_authorization(
        &self,
        caller: &ClientCaller,
        auth: Authorization,
        mut change: ChangeSet,
    ) -> Result<Authorization, PayoutError> {
        change
            .authorizations
            .push(AuthorizationWrite::Insert(auth.clone()));
        match self.store.apply(change).await {
            Ok(()) => Ok(auth),
            // A parallel request with the same idempotency key won.
            Err(StoreError::Duplicate(_)) => self
                .replay(
                    caller,
                    auth.idempotency_key.as_deref(),
                    &auth.request_digest,
                )
                .await?
                .ok_or(PayoutError::Conflict),
            Err(e) => Err(e.into()),
        }
    }
}

fn valid_idempotency_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY && key.bytes().all(|b| b.is_ascii_graphic())
}

/// SHA-256 over the request's fields, to recognise a retry.
fn request_digest(mode: Mode, input: &PaymentInput) -> [u8; 32] {
    let canonical = serde_json::json!([
        mode.code(),
        input.account_no,
        input.amount_fen,
        input.currency,
        input.payee_name,
        input.payee_account,
        input.purpose,
        input.business_ref,
    ]);
    Sha256::digest(canonical.to_string().as_bytes()).into()
}
