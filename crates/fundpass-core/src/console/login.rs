//! Staff login: user name and password, then a TOTP code (enrolled at the first
//! login from a secret fundpass makes and shows once as a QR code). A password alone
//! never yields a usable session; the TOTP step replaces the password-step session
//! with a new one (new token), so a token seen before the second factor is worthless
//! after it.
//!
//! Password and code failures share the account's lock counter (5 in a row lock it
//! for 15 minutes, doubling). Unknown and disabled accounts cost the same hash work,
//! read the same as a wrong password and lock the same way (a counter keyed by a MAC
//! of the name).

use secrecy::SecretString;

use super::StaffAuth;
use crate::audit::Outcome;
use crate::crypto::OpaqueToken;
use crate::lockout::Gate;
use crate::member::LockState;
use crate::portal::{Portal, RequestContext, SessionError};
use crate::ports::{ChangeSet, PoolBusy, StaffWrite, StoreError};
use crate::session::SessionEnded;
use crate::staff::{
    StaffLevel, StaffPasswordViolation, StaffRecord, StaffSessionRecord, StaffSessionWrite,
    StaffStatus, TotpRejection, TotpSecret, Username,
};

/// Why a staff login step was refused.
#[derive(Debug, thiserror::Error)]
pub enum StaffLoginError {
    /// Unknown user, disabled account or wrong password: one answer for all.
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("the account is locked until {until}")]
    Locked { until: time::OffsetDateTime },
    #[error("the code is wrong; {remaining} tries before the account locks")]
    WrongCode { remaining: i32 },
    #[error("this code was already used; wait for the next one")]
    CodeReplayed,
    /// The password step's session is gone or expired: log in again.
    #[error("log in again")]
    StartAgain,
    /// The account's branch only allows the console from its own networks.
    #[error("this account may not use the console from this network")]
    NetworkRefused,
    #[error("the new password is refused")]
    NewPassword {
        violations: Vec<StaffPasswordViolation>,
        mismatch: bool,
        same_as_old: bool,
    },
    #[error("another request changed the account first")]
    Conflict,
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for StaffLoginError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict,
            other => Self::Store(other),
        }
    }
}

/// A passed password step: the session token for the TOTP step.
#[derive(Debug)]
pub struct PasswordStep {
    pub token: OpaqueToken,
    /// Whether the account still has to enrol its second factor.
    pub enrolling: bool,
}

impl Portal {
    /// Step one: user name and password.
    pub async fn staff_login_password(
        &self,
        username: &str,
        password: &str,
        ctx: &RequestContext,
    ) -> Result<PasswordStep, StaffLoginError> {
        let staff = match Username::parse(username) {
            Ok(name) => self.store.staff_by_username(&name).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        let usable = staff.filter(|s| s.status == StaffStatus::Active);
        // A name nobody holds (or a disabled account) locks exactly like an account,
        // so the lock message never tells real user names from others.
        let unknown = match &usable {
            Some(_) => None,
            None => {
                let key = self.unknown_staff_key(username);
                let lock = self.store.throttle(&key).await?;
                Some((key, lock))
            }
        };
        let lock = match (&usable, &unknown) {
            (Some(s), _) => s.lock.clone(),
            (None, Some((_, lock))) => lock.clone(),
            (None, None) => LockState::default(),
        };
        if let Gate::Locked { until } = self.policy.staff_lock.gate(&lock, now) {
            let event = self.staff_login_event(usable.as_ref(), Outcome::Denied, "locked", ctx);
            self.audit_only(event).await?;
            return Err(StaffLoginError::Locked { until });
        }
        let stored = usable.as_ref().map(|s| s.password_hash.clone());
        let right = self
            .verify_on_pool(stored, password, false)
            .await?
            .is_some();
        let staff = match usable {
            Some(s) if right => s,
            Some(s) => {
                let lock = self.staff_failure(&s, "wrong_password", ctx).await?;
                return Err(self.failure_answer(&lock, |_| StaffLoginError::InvalidCredentials));
            }
            None => {
                let (key, lock) = unknown
                    .unwrap_or_else(|| (self.unknown_staff_key(username), LockState::default()));
                let lock = self.unknown_staff_failure(key, lock, ctx).await?;
                return Err(self.failure_answer(&lock, |_| StaffLoginError::InvalidCredentials));
            }
        };
        // Checked only once the password is right, so the answer tells no one
        // without it which user names exist.
        if !self.staff_network_allowed(&staff, ctx) {
            self.audit_only(self.staff_login_event(Some(&staff), Outcome::Denied, "network", ctx))
                .await?;
            return Err(StaffLoginError::NetworkRefused);
        }
        let enrolling = staff.needs_mfa_enrolment();
        let pending = enrolling.then(|| {
            TotpSecret::generate(self.rng.as_ref()).seal(&self.keyring, self.rng.as_ref())
        });
        let (token, record) = self.new_staff_session(&staff, StaffLevel::Password, pending, ctx);
        let event = self.staff_login_event(Some(&staff), Outcome::Success, "password", ctx);
        self.store
            .apply(ChangeSet {
                staff_sessions: vec![StaffSessionWrite::Insert(record)],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(PasswordStep { token, enrolling })
    }

    /// The password-step session of `token` and its account, if still good.
    pub async fn staff_password_step(&self, token: &str) -> Result<StaffAuth, StaffLoginError> {
        match self.staff_session_of(token, StaffLevel::Password).await {
            Ok(auth) => Ok(auth),
            Err(SessionError::Store(e)) => Err(e.into()),
            Err(_) => Err(StaffLoginError::StartAgain),
        }
    }

    /// The `otpauth://` URI of the secret being enrolled in this password-step
    /// session (shown as a QR code and as text), or `None` when the account has one.
    pub fn staff_enrolment_uri(
        &self,
        step: &StaffAuth,
    ) -> Result<Option<SecretString>, StaffLoginError> {
        let Some(sealed) = &step.session.pending_totp else {
            return Ok(None);
        };
        // Another login enrolled a secret meanwhile: this one is worthless now.
        if step.staff.totp_secret.is_some() {
            return Err(StaffLoginError::StartAgain);
        }
        let secret = TotpSecret::open(&self.keyring, sealed)
            .map_err(|e| StaffLoginError::Store(StoreError::Backend(e.to_string())))?;
        secret
            .enrolment_uri(step.staff.username.as_str())
            .map(Some)
            .map_err(|e| StaffLoginError::Store(StoreError::Backend(e.to_string())))
    }

    /// Step two: the TOTP code (from the secret being enrolled, on a first login).
    /// Returns the console session's token; the password-step token stops working.
    pub async fn staff_login_code(
        &self,
        token: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<OpaqueToken, StaffLoginError> {
        let step = self.staff_password_step(token).await?;
        let now = self.clock.now();
        let staff = &step.staff;
        if !self.staff_network_allowed(staff, ctx) {
            return Err(StaffLoginError::NetworkRefused);
        }
        if let Gate::Locked { until } = self.policy.staff_lock.gate(&staff.lock, now) {
            return Err(StaffLoginError::Locked { until });
        }
        // The secret offered at this step was for an account without one: once
        // another login has enrolled a secret, this step may not replace it.
        if step.session.pending_totp.is_some() && staff.totp_secret.is_some() {
            return Err(StaffLoginError::StartAgain);
        }
        let sealed = step
            .session
            .pending_totp
            .as_ref()
            .or(staff.totp_secret.as_ref())
            .ok_or(StaffLoginError::StartAgain)?;
        let secret = TotpSecret::open(&self.keyring, sealed)
            .map_err(|e| StaffLoginError::Store(StoreError::Backend(e.to_string())))?;
        let last = if step.session.pending_totp.is_some() {
            None
        } else {
            staff.totp_last_step
        };
        let accepted = match secret.verify(code, now, last) {
            Ok(step) => step,
            Err(TotpRejection::Replayed) => {
                let lock = self.staff_failure(staff, "code_replayed", ctx).await?;
                return Err(self.failure_answer(&lock, |_| StaffLoginError::CodeReplayed));
            }
            Err(TotpRejection::Wrong) => {
                let lock = self.staff_failure(staff, "wrong_code", ctx).await?;
                return Err(self
                    .failure_answer(&lock, |remaining| StaffLoginError::WrongCode { remaining }));
            }
        };
        let mut next = staff.clone();
        if let Some(pending) = &step.session.pending_totp {
            next.totp_secret = Some(pending.clone());
        }
        next.totp_last_step = Some(accepted);
        next.lock = LockState::default();
        next.updated_at = now;
        let (token, record) = self.new_staff_session(staff, StaffLevel::Mfa, None, ctx);
        let reason = if step.session.pending_totp.is_some() {
            "mfa_enrolled"
        } else {
            "mfa"
        };
        self.store
            .apply(ChangeSet {
                staff: vec![StaffWrite {
                    expected_version: staff.version,
                    record: next,
                }],
                staff_sessions: vec![
                    StaffSessionWrite::Revoke {
                        token: step.session.token,
                        at: now,
                    },
                    StaffSessionWrite::Insert(record),
                ],
                audit: vec![self.staff_login_event(Some(staff), Outcome::Success, reason, ctx)],
                ..ChangeSet::default()
            })
            .await?;
        Ok(token)
    }

    /// Checks a console session token (password and TOTP both passed) used from
    /// where `ctx` says: a session of a branch limited to its networks ends when it
    /// is used from elsewhere.
    pub async fn authenticate_staff(
        &self,
        token: &str,
        ctx: &RequestContext,
    ) -> Result<StaffAuth, SessionError> {
        let auth = self.staff_session_of(token, StaffLevel::Mfa).await?;
        if !self.staff_network_allowed(&auth.staff, ctx) {
            return Err(SessionError::Ended(SessionEnded::Revoked));
        }
        Ok(auth)
    }

    /// Whether the account's branch may use the console from the request's address.
    fn staff_network_allowed(&self, staff: &StaffRecord, ctx: &RequestContext) -> bool {
        self.policy
            .staff_networks
            .allows(&staff.branch.id, ctx.ip.as_deref())
    }

    /// Ends this staff session.
    pub async fn staff_logout(
        &self,
        auth: &StaffAuth,
        ctx: &RequestContext,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.store
            .apply(ChangeSet {
                staff_sessions: vec![StaffSessionWrite::Revoke {
                    token: auth.session.token,
                    at: now,
                }],
                audit: vec![self.staff_event(
                    auth,
                    "staff.logout",
                    Outcome::Success,
                    None,
                    serde_json::json!({}),
                    ctx,
                )],
                ..ChangeSet::default()
            })
            .await
    }

    /// Whether the account's password is past its maximum age: the console then
    /// offers nothing but the password change.
    pub fn staff_must_change_password(&self, auth: &StaffAuth) -> bool {
        auth.staff
            .must_change_password(&self.policy.staff_password, self.clock.now())
    }

    /// Changes the staff member's own password (current one, new one twice). Every
    /// session of the account ends; the returned token is the new console session.
    pub async fn change_staff_password(
        &self,
        auth: &StaffAuth,
        current: &str,
        new: &str,
        again: &str,
        ctx: &RequestContext,
    ) -> Result<OpaqueToken, StaffLoginError> {
        let staff = &auth.staff;
        if let Gate::Locked { until } = self.policy.staff_lock.gate(&staff.lock, self.clock.now()) {
            return Err(StaffLoginError::Locked { until });
        }
        let stored = Some(staff.password_hash.clone());
        if self.verify_on_pool(stored, current, false).await?.is_none() {
            let lock = self.staff_failure(staff, "wrong_password", ctx).await?;
            if lock.locked_until.is_some() {
                // Guessing inside a session ends it like a lock at the login page.
                self.store
                    .apply(ChangeSet {
                        staff_sessions: vec![StaffSessionWrite::RevokeAll {
                            staff: staff.id,
                            at: self.clock.now(),
                        }],
                        ..ChangeSet::default()
                    })
                    .await?;
            }
            return Err(self.failure_answer(&lock, |_| StaffLoginError::InvalidCredentials));
        }
        let violations = self
            .policy
            .staff_password
            .check(new, staff.username.as_str());
        let mismatch = new != again;
        let same_as_old = new == current;
        if !violations.is_empty() || mismatch || same_as_old {
            return Err(StaffLoginError::NewPassword {
                violations,
                mismatch,
                same_as_old,
            });
        }
        let (hasher, keyring, rng) = (self.hasher.clone(), self.keyring.clone(), self.rng.clone());
        let secret = SecretString::from(new.to_owned());
        let hash = crate::ports::run_on_pool(self.pool.as_ref(), move || {
            use secrecy::ExposeSecret as _;
            hasher.hash(&keyring, secret.expose_secret(), rng.as_ref())
        })
        .await?
        .map_err(|e| StaffLoginError::Store(StoreError::Backend(e.to_string())))?;
        let now = self.clock.now();
        let mut next = staff.clone();
        next.password_hash = hash;
        next.password_changed_at = now;
        next.lock = LockState::default();
        next.updated_at = now;
        // Every session of the account ends, this one too; the member of staff goes
        // on under a new token.
        let (token, fresh) = self.new_staff_session(staff, StaffLevel::Mfa, None, ctx);
        let sessions = vec![
            StaffSessionWrite::RevokeAll {
                staff: staff.id,
                at: now,
            },
            StaffSessionWrite::Insert(fresh),
        ];
        self.store
            .apply(ChangeSet {
                staff: vec![StaffWrite {
                    expected_version: staff.version,
                    record: next,
                }],
                staff_sessions: sessions,
                audit: vec![self.staff_event(
                    auth,
                    "staff.password_change",
                    Outcome::Success,
                    None,
                    serde_json::json!({}),
                    ctx,
                )],
                ..ChangeSet::default()
            })
            .await?;
        Ok(token)
    }

    async fn staff_session_of(
        &self,
        token: &str,
        level: StaffLevel,
    ) -> Result<StaffAuth, SessionError> {
        let token = OpaqueToken::parse(token.trim()).ok_or(SessionError::Unknown)?;
        let session = self
            .store
            .staff_session(&token.digest())
            .await?
            .ok_or(SessionError::Unknown)?;
        if session.level != level {
            return Err(SessionError::Unknown);
        }
        let now = self.clock.now();
        self.policy
            .staff_session
            .check(&session, now)
            .map_err(SessionError::Ended)?;
        let staff = self
            .store
            .staff_by_id(session.staff_id)
            .await?
            .ok_or(SessionError::Unknown)?;
        if staff.status != StaffStatus::Active {
            return Err(SessionError::Ended(SessionEnded::Revoked));
        }
        if self.policy.staff_session.should_touch(&session, now) {
            self.store.touch_staff_session(&session.token, now).await?;
        }
        Ok(StaffAuth { session, staff })
    }

    fn new_staff_session(
        &self,
        staff: &StaffRecord,
        level: StaffLevel,
        pending_totp: Option<crate::crypto::Sealed>,
        ctx: &RequestContext,
    ) -> (OpaqueToken, StaffSessionRecord) {
        let now = self.clock.now();
        let (token, csrf) = self.session_tokens();
        let record = StaffSessionRecord {
            token: token.digest(),
            staff_id: staff.id,
            level,
            pending_totp,
            csrf,
            created_at: now,
            last_seen_at: now,
            ip: ctx.ip.clone(),
            user_agent: ctx.stored_user_agent(),
            revoked_at: None,
        };
        (token, record)
    }
}
