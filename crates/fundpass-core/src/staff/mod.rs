//! Staff accounts of the assisted channels (counter, hotline) and of supervision,
//! audit and administration: roles and what each may do, the staff password policy,
//! the TOTP second factor, and the stored account.
//!
//! No staff account exists after install; the first admin is made with
//! `fundpass staff add`. A password alone never yields a staff session: every login
//! also needs a TOTP code, enrolled at the first login.

mod networks;
mod password;
mod role;
mod session;
mod totp;

pub use networks::{BranchNetworks, NetworkError};
pub use password::{StaffPasswordPolicy, StaffPasswordViolation};
pub use role::{StaffAction, StaffRole, allowed};
pub use session::{StaffLevel, StaffSessionPolicy, StaffSessionRecord, StaffSessionWrite};
pub use totp::{
    TOTP_DIGITS, TOTP_ISSUER, TOTP_SECRET_LEN, TOTP_STEP_SECS, TotpError, TotpRejection, TotpSecret,
};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::crypto::{BlindIndex, Sealed};
use crate::member::LockState;

/// Internal staff id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StaffId(pub i64);

/// A staff user name: 3 to 32 of `a-z 0-9 . _ -`, starting with a letter. Typed at
/// login and shown in audit events and authenticator apps, so it stays plain ASCII.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Username(String);

/// Why a user name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("the user name must have 3 to 32 characters")]
    Length,
    #[error("the user name must start with a letter a-z")]
    Start,
    #[error("the user name may only contain a-z, 0-9, '.', '_' and '-'")]
    Character,
}

impl Username {
    /// Checks and lower-cases a user name (`Wang.Li` and `wang.li` are one account).
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim().to_ascii_lowercase();
        if !(3..=32).contains(&name.len()) {
            return Err(UsernameError::Length);
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(UsernameError::Start);
        }
        let ok = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !ok {
            return Err(UsernameError::Character);
        }
        Ok(Self(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The office or entrusted bank branch a staff member works at; audit events and
/// anomaly reports group by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Branch {
    /// The fund's code for the branch.
    pub id: String,
    /// Its name as staff know it.
    pub name: String,
}

/// Whether a staff account may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    /// Kept for the record (audit events name it) but never logs in again.
    Disabled,
}

impl StaffStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// A staff account about to be created.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: Username,
    pub display_name: String,
    pub role: StaffRole,
    pub branch: Branch,
    /// PHC string from [`crate::credentials::PasswordHasher`].
    pub password_hash: String,
    /// The blind index ([`crate::crypto::Field::IdNumber`]) of the staff member's own
    /// document number, so they can be refused on their own member account.
    pub member_index: Option<BlindIndex>,
    pub created_at: OffsetDateTime,
}

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub id: StaffId,
    pub username: Username,
    pub display_name: String,
    pub role: StaffRole,
    pub branch: Branch,
    /// PHC string; never shown.
    pub password_hash: String,
    pub password_changed_at: OffsetDateTime,
    /// The sealed TOTP secret; `None` until enrolled (or after an MFA reset).
    pub totp_secret: Option<Sealed>,
    /// The step of the last accepted TOTP code (replay protection).
    pub totp_last_step: Option<i64>,
    pub status: StaffStatus,
    /// Password failures and lock.
    pub lock: LockState,
    pub member_index: Option<BlindIndex>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: i64,
}

impl StaffRecord {
    /// Whether the next login must enrol a TOTP secret first.
    pub fn needs_mfa_enrolment(&self) -> bool {
        self.totp_secret.is_none()
    }

    /// Whether the password is past the policy's maximum age at `now`.
    pub fn must_change_password(&self, policy: &StaffPasswordPolicy, now: OffsetDateTime) -> bool {
        policy.must_change(self.password_changed_at, now)
    }

    /// Forgets the second factor so the next login enrols a new one (lost phone).
    pub fn reset_mfa(&mut self, now: OffsetDateTime) {
        self.totp_secret = None;
        self.totp_last_step = None;
        self.updated_at = now;
    }

    /// Stops the account from logging in; the row stays for the record.
    pub fn disable(&mut self, now: OffsetDateTime) {
        self.status = StaffStatus::Disabled;
        self.updated_at = now;
    }

    /// Whether this staff member is the holder of the member document with `index`.
    pub fn is_own_member_account(&self, index: &BlindIndex) -> bool {
        self.member_index.as_ref() == Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_lower_cased_and_checked() {
        assert_eq!(Username::parse(" Wang.Li ").unwrap().as_str(), "wang.li");
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::Length));
        assert_eq!(Username::parse("1admin"), Err(UsernameError::Start));
        assert_eq!(Username::parse("wang li"), Err(UsernameError::Character));
        assert_eq!(Username::parse("wang:li"), Err(UsernameError::Character));
        assert_eq!(Username::parse("王力力"), Err(UsernameError::Start));
        assert_eq!(Username::parse("wang王li"), Err(UsernameError::Character));
    }

    #[test]
    fn status_codes_round_trip() {
        for s in [StaffStatus::Active, StaffStatus::Disabled] {
            assert_eq!(StaffStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(StaffStatus::from_code("locked"), None);
    }

    fn record() -> StaffRecord {
        let at = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap();
        StaffRecord {
            id: StaffId(1),
            username: Username::parse("wang.li").unwrap(),
            display_name: "王力".into(),
            role: StaffRole::Counter,
            branch: Branch {
                id: "BJ-001".into(),
                name: "东城管理部".into(),
            },
            password_hash: "$argon2id$…".into(),
            password_changed_at: at,
            totp_secret: Some(Sealed::from_bytes(vec![1; 40])),
            totp_last_step: Some(5),
            status: StaffStatus::Active,
            lock: LockState::default(),
            member_index: Some(BlindIndex::from_bytes(vec![7; 32])),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    #[test]
    fn an_mfa_reset_forgets_the_secret_and_the_last_step() {
        let mut r = record();
        assert!(!r.needs_mfa_enrolment());
        r.reset_mfa(r.created_at + time::Duration::hours(1));
        assert!(r.needs_mfa_enrolment());
        assert_eq!(r.totp_last_step, None);
        r.disable(r.created_at);
        assert_eq!(r.status, StaffStatus::Disabled);
    }

    #[test]
    fn the_own_member_account_is_recognised_by_its_index() {
        let r = record();
        assert!(r.is_own_member_account(&BlindIndex::from_bytes(vec![7; 32])));
        assert!(!r.is_own_member_account(&BlindIndex::from_bytes(vec![8; 32])));
        let policy = StaffPasswordPolicy::default();
        assert!(!r.must_change_password(&policy, r.password_changed_at));
        assert!(r.must_change_password(&policy, r.password_changed_at + time::Duration::days(91)));
    }
}
