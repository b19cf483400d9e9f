//! Multi-step processes (registration now; recoveries later) as persisted state
//! machines. A flow is a table row with an opaque random id, its kind and state, the
//! member it concerns (or none: identify steps never reveal whether anyone matched),
//! the current one-time code's MAC, counters, expiry and a version for optimistic
//! concurrency. The transitions here are pure: handlers load a flow, apply one, and
//! store the result only if the version is unchanged, so two parallel submissions of
//! the same code can never both succeed.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::crypto::TokenDigest;
use crate::member::MemberId;

/// What a flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Ordinary member becomes a registered user.
    Registration,
}

impl FlowKind {
    /// Stored code, also the purpose a one-time code is bound to.
    pub fn code(self) -> &'static str {
        match self {
            Self::Registration => "registration",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "registration" => Some(Self::Registration),
            _ => None,
        }
    }
}

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// Identify step done; a code was sent if (and only if) someone matched.
    CodeSent,
    /// The right code was entered: the next step may be taken.
    CodeVerified,
    /// Finished.
    Completed,
    /// Killed by too many wrong codes.
    Dead,
}

impl FlowState {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::CodeSent => "code_sent",
            Self::CodeVerified => "code_verified",
            Self::Completed => "completed",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "code_sent" => Some(Self::CodeSent),
            "code_verified" => Some(Self::CodeVerified),
            "completed" => Some(Self::Completed),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// Limits every flow obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowPolicy {
    /// From start to the last step.
    pub lifetime: Duration,
    /// How long one code is valid.
    pub code_ttl: Duration,
    /// Wrong codes before the flow is dead (a resend does not reset the count).
    pub max_wrong_codes: i32,
    /// Time between two sends in one flow.
    pub resend_after: Duration,
    /// Codes sent in one flow, first included.
    pub max_sends: i32,
}

impl Default for FlowPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::minutes(15),
            code_ttl: Duration::minutes(5),
            max_wrong_codes: 5,
            resend_after: Duration::seconds(60),
            max_sends: 5,
        }
    }
}

/// A flow as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// Digest of the flow's bearer id (the id itself is only in the client's hands).
    pub id: TokenDigest,
    pub kind: FlowKind,
    pub state: FlowState,
    /// The member concerned; `None` when the identify step matched nobody.
    pub member_id: Option<MemberId>,
    /// MAC of the current code (a MAC of a code nobody knows when nobody matched).
    pub code_mac: Vec<u8>,
    pub code_expires_at: OffsetDateTime,
    pub code_sent_at: OffsetDateTime,
    pub wrong_codes: i32,
    pub sends: i32,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub version: i64,
}

/// Why a step was refused. Messages are for logs; members get neutral wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the flow has expired")]
    Expired,
    #[error("the flow is not at this step")]
    WrongStep,
    #[error("the code has expired")]
    CodeExpired,
    #[error("wrong code; {remaining} tries left")]
    WrongCode { remaining: i32 },
    #[error("too many wrong codes: the flow is closed")]
    Dead,
    #[error("a new code can be sent after {retry_after}")]
    ResendTooSoon { retry_after: OffsetDateTime },
    #[error("no more codes can be sent in this flow")]
    TooManySends,
}

impl FlowRecord {
    /// A flow whose first code has just been issued.
    pub fn start(
        id: TokenDigest,
        kind: FlowKind,
        member_id: Option<MemberId>,
        code_mac: Vec<u8>,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> Self {
        Self {
            id,
            kind,
            state: FlowState::CodeSent,
            member_id,
            code_mac,
            code_expires_at: now + policy.code_ttl,
            code_sent_at: now,
            wrong_codes: 0,
            sends: 1,
            created_at: now,
            expires_at: now + policy.lifetime,
            version: 1,
        }
    }

    fn live(&self, now: OffsetDateTime) -> Result<(), FlowError> {
        match self.state {
            FlowState::Dead => Err(FlowError::Dead),
            _ if now >= self.expires_at => Err(FlowError::Expired),
            _ => Ok(()),
        }
    }

    /// Applies an entered code: the flow as it must now be stored, and whether the
    /// code was accepted. `matches` says whether it matched the stored MAC; it never
    /// counts for a flow with no member.
    pub fn enter_code(
        &self,
        matches: bool,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> (Self, Result<(), FlowError>) {
        if let Err(e) = self.live(now) {
            return (self.clone(), Err(e));
        }
        if self.state != FlowState::CodeSent {
            return (self.clone(), Err(FlowError::WrongStep));
        }
        if now >= self.code_expires_at {
            return (self.clone(), Err(FlowError::CodeExpired));
        }
        if matches && self.member_id.is_some() {
            let verified = Self {
                state: FlowState::CodeVerified,
                code_mac: Vec::new(),
                ..self.clone()
            };
            return (verified, Ok(()));
        }
        let wrong_codes = self.wrong_codes + 1;
        let remaining = policy.max_wrong_codes - wrong_codes;
        let (state, error) = if remaining <= 0 {
            (FlowState::Dead, FlowError::Dead)
        } else {
            (self.state, FlowError::WrongCode { remaining })
        };
        (
            Self {
                wrong_codes,
                state,
                ..self.clone()
            },
            Err(error),
        )
    }

    /// Replaces the code with a new one (the old one stops working); the count of
    /// wrong codes is kept.
    pub fn resend(
        &self,
        code_mac: Vec<u8>,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> Result<Self, FlowError> {
        self.live(now)?;
        if self.state != FlowState::CodeSent {
            return Err(FlowError::WrongStep);
        }
        let next = self.code_sent_at + policy.resend_after;
        if now < next {
            return Err(FlowError::ResendTooSoon { retry_after: next });
        }
        if self.sends >= policy.max_sends {
            return Err(FlowError::TooManySends);
        }
        Ok(Self {
            code_mac,
            code_sent_at: now,
            code_expires_at: now + policy.code_ttl,
            sends: self.sends + 1,
            ..self.clone()
        })
    }

    /// The member, if the flow has passed its code step and may finish.
    pub fn ready_to_complete(&self, now: OffsetDateTime) -> Result<MemberId, FlowError> {
        self.live(now)?;
        match (self.state, self.member_id) {
            (FlowState::CodeVerified, Some(member)) => Ok(member),
            _ => Err(FlowError::WrongStep),
        }
    }

    /// The finished flow.
    pub fn complete(&self, now: OffsetDateTime) -> Result<Self, FlowError> {
        self.ready_to_complete(now)?;
        Ok(Self {
            state: FlowState::Completed,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests;
