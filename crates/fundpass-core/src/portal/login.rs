//! Login with a document number or account number and the login password.
//!
//! Unknown identifiers, wrong passwords, members who have not registered and frozen
//! accounts all get the same answer after the same work (a dummy hash when nobody
//! matches). Unknown identifiers even lock like real ones: their failures are counted
//! under a keyed hash of the identifier, so the lock message reveals nothing either.

use time::OffsetDateTime;

use super::{Portal, RequestContext};
use crate::audit::{Actor, ActorKind, AuditEvent, Outcome};
use crate::crypto::{BlindIndex, Field, OpaqueToken};
use crate::identity::{IdNumber, IdType};
use crate::lockout::Gate;
use crate::member::{
    AccountNumber, CredentialUpdate, LockState, MemberId, MemberRecord, MemberStatus,
};
use crate::ports::{
    ChangeSet, MemberWrite, PoolBusy, RateDecision, SessionWrite, StoreError, ThrottleWrite,
    run_on_pool,
};
use crate::session::ClientKind;

/// How the member names themselves at login.
#[derive(Debug, Clone)]
pub enum LoginIdentifier {
    Document { id_type: IdType, number: String },
    Account(String),
}

/// A successful login: the new session's token (cookie or bearer) and its CSRF token.
#[derive(Debug, Clone)]
pub struct LoginSuccess {
    pub token: OpaqueToken,
    pub csrf: String,
    pub member_id: MemberId,
    pub expires_at: OffsetDateTime,
}

/// Why a login was refused. `InvalidCredentials` and `Locked` are all a client ever
/// learns about the account.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong identifier or password")]
    InvalidCredentials,
    #[error("too many failed attempts; locked until {until}")]
    Locked { until: OffsetDateTime },
    #[error("too many attempts from this address; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whose failure counter an attempt moves.
enum Subject {
    Member(Box<MemberRecord>),
    Unknown(BlindIndex),
}

impl Portal {
    /// Checks the password and opens a session. The caller has already checked the
    /// captcha.
    pub async fn login(
        &self,
        identifier: &LoginIdentifier,
        password: &str,
        client: ClientKind,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, LoginError> {
        let result = self.try_login(identifier, password, client, ctx).await;
        crate::metrics::login(match &result {
            Ok(_) => "ok",
            Err(LoginError::InvalidCredentials) => "invalid",
            Err(LoginError::Locked { .. }) => "locked",
            Err(LoginError::RateLimited { .. }) => "rate_limited",
            Err(LoginError::Busy(_)) => "busy",
            Err(LoginError::Store(_)) => "error",
        });
        result
    }

    async fn try_login(
        &self,
        identifier: &LoginIdentifier,
        password: &str,
        client: ClientKind,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, LoginError> {
        let now = self.clock.now();
        let ip_key = format!("login:ip:{}", ctx.ip.as_deref().unwrap_or("unknown"));
        let window = self.policy.login_per_ip_window;
        if let RateDecision::Limited { retry_after } = self
            .limiter
            .hit(&ip_key, window, self.policy.login_per_ip, now)
            .await?
        {
            return Err(LoginError::RateLimited { retry_after });
        }
        let subject = self.login_subject(identifier, now).await?;
        let lock = match &subject {
            Subject::Member(m) => m.login_lock.clone(),
            Subject::Unknown(key) => self.store.throttle(key).await?,
        };
        if let Gate::Locked { until } = self.policy.login_lock.gate(&lock, now) {
            self.store
                .apply(ChangeSet {
                    audit: vec![self.login_event(&subject, Outcome::Denied, ctx, "locked")],
                    ..ChangeSet::default()
                })
                .await?;
            return Err(LoginError::Locked { until });
        }
        let verified = self.verify_login_password(&subject, password).await?;
        match (verified, subject) {
            (Some(rehash), Subject::Member(member)) => {
                self.login_succeeded(*member, rehash, client, ctx).await
            }
            (_, subject) => self.login_failed(subject, lock, ctx).await,
        }
    }

    async fn login_subject(
        &self,
        identifier: &LoginIdentifier,
        now: OffsetDateTime,
    ) -> Result<Subject, StoreError> {
        let today = super::notify::china_today(now);
        let (found, normalised) = match identifier {
            LoginIdentifier::Document { id_type, number } => {
                match IdNumber::parse(*id_type, number, today) {
                    Ok(id) => {
                        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
                        (
                            self.store.member_by_id_number(*id_type, &index).await?,
                            format!("{}:{}", id_type.code(), id.normalised()),
                        )
                    }
                    Err(_) => (
                        None,
                        format!("{}:{}", id_type.code(), number.trim().to_uppercase()),
                    ),
                }
            }
            LoginIdentifier::Account(raw) => match AccountNumber::parse(raw) {
                Ok(account) => (
                    self.store.member_by_account(&account).await?,
                    format!("account:{account}"),
                ),
                Err(_) => (None, format!("account:{}", raw.trim().to_uppercase())),
            },
        };
        Ok(match found {
            Some(m) => Subject::Member(Box::new(m)),
            None => {
                let truncated: String = normalised.chars().take(80).collect();
                Subject::Unknown(BlindIndex::from_bytes(
                    self.keyring
                        .answer_mac("login-identifier", &truncated)
                        .to_vec(),
                ))
            }
        })
    }

    /// `Some(new hash if the stored one should be re-made)` when the password is
    /// right for a registered, unfrozen member; `None` otherwise, after equal work.
    async fn verify_login_password(
        &self,
        subject: &Subject,
        password: &str,
    ) -> Result<Option<Option<String>>, PoolBusy> {
        let stored = match subject {
            Subject::Member(m) if m.status == MemberStatus::Registered => m.login_hash.clone(),
            _ => None,
        };
        self.verify_on_pool(stored, password, true).await
    }

    /// Checks `candidate` against `stored` on the CPU pool, with equal work (a dummy
    /// hash) when there is nothing to check: `Some(new hash if the stored one should be
    /// re-made and `rehash` asks for it)` when it matches, `None` otherwise.
    pub(crate) async fn verify_on_pool(
        &self,
        stored: Option<String>,
        candidate: &str,
        rehash: bool,
    ) -> Result<Option<Option<String>>, PoolBusy> {
        let (hasher, keyring, rng) = (self.hasher.clone(), self.keyring.clone(), self.rng.clone());
        let candidate = secrecy::SecretString::from(candidate.to_owned());
        run_on_pool(self.pool.as_ref(), move || {
            use secrecy::ExposeSecret as _;
            let secret = candidate.expose_secret();
            let Some(phc) = stored else {
                hasher.dummy_verify(&keyring, secret);
                return None;
            };
            match hasher.verify(&keyring, secret, &phc) {
                Ok(true) if rehash && hasher.needs_rehash(&keyring, &phc) => {
                    Some(hasher.hash(&keyring, secret, rng.as_ref()).ok())
                }
                Ok(true) => Some(None),
                _ => None,
            }
        })
        .await
    }

    fn login_event(
        &self,
        subject: &Subject,
        outcome: Outcome,
        ctx: &RequestContext,
        reason: &str,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(
            self.clock.now(),
            Actor {
                kind: ActorKind::Member,
                id: None,
            },
            "login.password",
            ctx.channel,
            outcome,
        )
        .details(serde_json::json!({"reason": reason}));
        e.ip = ctx.ip.clone();
        if let Subject::Member(m) = subject {
            e = e.member(m.id);
            e.actor.id = Some(m.id.0.to_string());
        }
        e
    }

    async fn login_failed(
        &self,
        mut subject: Subject,
        mut lock: LockState,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, LoginError> {
        let now = self.clock.now();
        let reason = match &subject {
            Subject::Member(m) if m.status == MemberStatus::Frozen => "frozen",
            Subject::Member(m) if m.status == MemberStatus::Ordinary => "not_registered",
            Subject::Member(_) => "wrong_password",
            Subject::Unknown(_) => "unknown_identifier",
        };
        // Parallel wrong attempts on one member must each count: a write that lost
        // the race is redone on the fresh row rather than dropped.
        for _ in 0..5 {
            let next = self.policy.login_lock.after_failure(&lock, now);
            let mut change = ChangeSet {
                audit: vec![self.login_event(&subject, Outcome::Failure, ctx, reason)],
                ..ChangeSet::default()
            };
            match &subject {
                Subject::Member(m) => {
                    let mut update = CredentialUpdate::from_record(m, now);
                    update.login_lock = next.clone();
                    change.members.push(MemberWrite {
                        id: m.id,
                        expected_version: m.version,
                        update,
                    });
                }
                Subject::Unknown(key) => change.throttles.push(ThrottleWrite {
                    key: key.clone(),
                    expected: lock.clone(),
                    next: next.clone(),
                }),
            }
            match (self.store.apply(change).await, &subject) {
                (Ok(()), _) => {
                    crate::metrics::lock_placed("login_password", &lock, &next);
                    return match next.locked_until {
                        Some(until) => Err(LoginError::Locked { until }),
                        None => Err(LoginError::InvalidCredentials),
                    };
                }
                (Err(StoreError::Conflict), Subject::Member(m)) => {
                    let fresh = self
                        .store
                        .member_by_id(m.id)
                        .await?
                        .ok_or(LoginError::InvalidCredentials)?;
                    lock = fresh.login_lock.clone();
                    subject = Subject::Member(Box::new(fresh));
                    if let Gate::Locked { until } = self.policy.login_lock.gate(&lock, now) {
                        return Err(LoginError::Locked { until });
                    }
                }
                (Err(StoreError::Conflict), Subject::Unknown(key)) => {
                    lock = self.store.throttle(key).await?;
                    if let Gate::Locked { until } = self.policy.login_lock.gate(&lock, now) {
                        return Err(LoginError::Locked { until });
                    }
                }
                (Err(e), _) => return Err(e.into()),
            }
        }
        Err(LoginError::InvalidCredentials)
    }

    async fn login_succeeded(
        &self,
        member: MemberRecord,
        rehash: Option<String>,
        client: ClientKind,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, LoginError> {
        let now = self.clock.now();
        let (token, session) =
            self.new_session(member.id, client, crate::session::SessionScope::Full, ctx);
        let csrf = session.csrf.clone();
        let verified_hash = member.login_hash.clone();
        let mut subject = Subject::Member(Box::new(member));
        // Two logins of one member at the same moment (app and web) both succeed: the
        // member row is only written when there is something to write (failures to
        // clear, a hash to re-make), and a write that lost the race is redone on the
        // fresh row as long as the password it verified is still the one on file.
        for _ in 0..3 {
            let Subject::Member(member) = &subject else {
                return Err(LoginError::InvalidCredentials);
            };
            if member.login_hash != verified_hash {
                return Err(LoginError::InvalidCredentials);
            }
            let mut members = Vec::new();
            if member.login_lock != LockState::default() || rehash.is_some() {
                let mut update = CredentialUpdate::from_record(member, now);
                update.login_lock = LockState::default();
                if let Some(hash) = &rehash {
                    update.login_hash = Some(hash.clone());
                }
                members.push(MemberWrite {
                    id: member.id,
                    expected_version: member.version,
                    update,
                });
            }
            let change = ChangeSet {
                members,
                sessions: vec![SessionWrite::Insert(session.clone())],
                audit: vec![self.login_event(&subject, Outcome::Success, ctx, "ok")],
                ..ChangeSet::default()
            };
            match self.store.apply(change).await {
                Ok(()) => {
                    return Ok(LoginSuccess {
                        token,
                        csrf,
                        member_id: session.member_id,
                        expires_at: now + self.policy.session.absolute,
                    });
                }
                Err(StoreError::Conflict) => {
                    let fresh = self.store.member_by_id(session.member_id).await?;
                    let Some(fresh) = fresh else {
                        return Err(LoginError::InvalidCredentials);
                    };
                    subject = Subject::Member(Box::new(fresh));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(LoginError::Store(StoreError::Conflict))
    }
}
