//! The member record as imported from the fund's core system, with the credential
//! state fundpass keeps beside it.

mod account;
mod holds;
mod import;
mod questions;

pub use account::{AccountNumber, AccountNumberError};
pub use holds::{Hold, HoldPolicy, HoldReason};
pub use import::{ImportRow, NAME_MAX_CHARS, RowProblem, ValidRow, typed_name};

pub use questions::{
    MAX_ANSWER_CHARS, MAX_QUESTIONS, QUESTION_CODES, QuestionError, SecurityAnswer,
    check_questions, normalise_answer,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::crypto::{BlindIndex, Sealed};
use crate::identity::IdType;

/// Internal member id: never shown to members, never used in URLs as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemberId(pub i64);

/// Where a member stands with the online services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Imported, has not registered for online services yet (普通用户).
    Ordinary,
    /// Has set a login and a transaction password (注册用户).
    Registered,
    /// Blocked by the fund; nothing online works until staff lift it.
    Frozen,
}

impl MemberStatus {
    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ordinary => "ordinary",
            Self::Registered => "registered",
            Self::Frozen => "frozen",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ordinary" => Some(Self::Ordinary),
            "registered" => Some(Self::Registered),
            "frozen" => Some(Self::Frozen),
            _ => None,
        }
    }
}

/// The two secrets a member holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// 登录密码.
    Login,
    /// 交易密码, six digits.
    Transaction,
}

impl SecretKind {
    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Transaction => "transaction",
        }
    }
}

/// Failure counting and locking for one secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Consecutive failures since the last success or unlock.
    pub failures: i32,
    /// How many times the secret has been locked in a row (drives the doubling).
    pub lock_count: i32,
    /// Locked until this instant, if locked.
    pub locked_until: Option<OffsetDateTime>,
}

/// A member row as stored: personal data encrypted, looked up by blind index.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub id: MemberId,
    pub account_no: AccountNumber,
    pub name: String,
    pub id_type: IdType,
    pub id_number: Sealed,
    pub id_number_index: BlindIndex,
    pub phone: Sealed,
    pub phone_index: BlindIndex,
    pub status: MemberStatus,
    pub login_hash: Option<String>,
    pub transaction_hash: Option<String>,
    pub login_lock: LockState,
    pub transaction_lock: LockState,
    /// Transaction password disabled after too many failures, until recovered.
    pub transaction_disabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: i64,
}

/// A member row to insert or update from an import.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub account_no: AccountNumber,
    pub name: String,
    pub id_type: IdType,
    pub id_number: Sealed,
    pub id_number_index: BlindIndex,
    pub phone: Sealed,
    pub phone_index: BlindIndex,
}

/// The credential part of a member row, written as one optimistic update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUpdate {
    pub status: MemberStatus,
    pub login_hash: Option<String>,
    pub transaction_hash: Option<String>,
    pub login_lock: LockState,
    pub transaction_lock: LockState,
    pub transaction_disabled: bool,
    pub at: OffsetDateTime,
}

impl CredentialUpdate {
    /// The credential state of `record`, as a starting point for a change.
    pub fn from_record(record: &MemberRecord, at: OffsetDateTime) -> Self {
        Self {
            status: record.status,
            login_hash: record.login_hash.clone(),
            transaction_hash: record.transaction_hash.clone(),
            login_lock: record.login_lock.clone(),
            transaction_lock: record.transaction_lock.clone(),
            transaction_disabled: record.transaction_disabled,
            at,
        }
    }
}

/// New encrypted personal data for one member (key rotation, a new phone on file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiUpdate {
    pub id_number: Sealed,
    pub id_number_index: BlindIndex,
    pub phone: Sealed,
    pub phone_index: BlindIndex,
    pub at: OffsetDateTime,
}

/// What one import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub inserted: u64,
    pub updated: u64,
}

impl std::ops::AddAssign for ImportOutcome {
    fn add_assign(&mut self, rhs: Self) {
        self.inserted += rhs.inserted;
        self.updated += rhs.updated;
    }
}
