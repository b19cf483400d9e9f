//! Audit events: who did what to whom, through which channel, with what result.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::member::MemberId;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Member,
    Staff,
    BusinessSystem,
    /// An operator at the command line (import, key rotation…).
    Operator,
    /// fundpass itself (expiry jobs, outbox worker).
    System,
}

/// The channel an action came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    App,
    Counter,
    Hotline,
    Internal,
    Cli,
    System,
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// Refused by a rule (lock, permission, rate limit).
    Denied,
}

macro_rules! codes {
    ($ty:ty { $($variant:ident => $code:literal),* $(,)? }) => {
        impl $ty {
            /// The stored code.
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),* }
            }
            /// Parses a stored code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

codes!(ActorKind { Member => "member", Staff => "staff", BusinessSystem => "business_system", Operator => "operator", System => "system" });
codes!(Channel { Web => "web", App => "app", Counter => "counter", Hotline => "hotline", Internal => "internal", Cli => "cli", System => "system" });
codes!(Outcome { Success => "success", Failure => "failure", Denied => "denied" });

/// The acting party: its kind and, where it has one, its id (member id, staff
/// username, service name, operating-system user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
}

/// One thing that happened, before it is chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When, in UTC, to the microsecond (finer parts are dropped so that the stored
    /// value and the hashed value agree).
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// A dotted action code, e.g. `member.import`, `login.password`.
    pub action: String,
    pub member_id: Option<MemberId>,
    pub channel: Channel,
    pub ip: Option<String>,
    pub outcome: Outcome,
    /// Masked details as a JSON object.
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// A new event at `at` (truncated to microseconds) with empty details.
    pub fn new(
        at: OffsetDateTime,
        actor: Actor,
        action: &str,
        channel: Channel,
        outcome: Outcome,
    ) -> Self {
        Self {
            at: truncate_to_micros(at),
            actor,
            action: action.to_owned(),
            member_id: None,
            channel,
            ip: None,
            outcome,
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the member the event concerns.
    pub fn member(mut self, id: MemberId) -> Self {
        self.member_id = Some(id);
        self
    }

    /// Sets the client address.
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sets the (already masked) details.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// Microseconds since the Unix epoch, as stored.
    pub fn at_micros(&self) -> i64 {
        micros(self.at)
    }
}

/// Microseconds since the Unix epoch.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // i64 microseconds cover ±292,000 years.
    (at.unix_timestamp_nanos() / 1_000) as i64
}

fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.unix_timestamp_nanos();
    OffsetDateTime::from_unix_timestamp_nanos(nanos - nanos.rem_euclid(1_000)).unwrap_or(at)
}

/// An event as stored: its place in the chain and the hashes that link it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3… with no gaps.
    pub seq: i64,
    pub event: AuditEvent,
    /// Hash of the record before (all zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over `prev_hash` and this record's canonical form.
    pub hash: [u8; 32],
}
