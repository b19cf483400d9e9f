//! Multi-step processes (registration, the recoveries, face login) as persisted
//! state machines. A flow is a table row with an opaque random id, its kind and state, the
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
    /// Forgotten login password: identify, then prove the transaction password.
    ForgotLogin,
    /// Forgotten transaction password: identify (logged in), phone on file, SMS code.
    ForgotTransaction,
    /// Face verification login in the app, which opens a recovery-only session.
    FaceLogin,
    /// A member adds a relative for the qualification check; the relative confirms
    /// with a code sent to their phone.
    RelativeLink,
}

impl FlowKind {
    /// Every kind.
    pub const ALL: [FlowKind; 5] = [
        Self::Registration,
        Self::ForgotLogin,
        Self::ForgotTransaction,
        Self::FaceLogin,
        Self::RelativeLink,
    ];

    /// Stored code, also the purpose a one-time code is bound to.
    pub fn code(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::ForgotLogin => "forgot_login",
            Self::ForgotTransaction => "forgot_transaction",
            Self::FaceLogin => "face_login",
            Self::RelativeLink => "relative_link",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "registration" => Some(Self::Registration),
            "forgot_login" => Some(Self::ForgotLogin),
            "forgot_transaction" => Some(Self::ForgotTransaction),
            "face_login" => Some(Self::FaceLogin),
            "relative_link" => Some(Self::RelativeLink),
            _ => None,
        }
    }
}

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// Identify step done, no code sent yet: the flow waits for its proof (a
    /// transaction password, or the phone number on file before a code is sent).
    Identified,
    /// A face-verification nonce was issued; the provider's result is awaited.
    FacePending,
    /// Identify step done; a code was sent if (and only if) someone matched.
    CodeSent,
    /// The flow's proof (code, transaction password or face result) was accepted:
    /// the last step may be taken.
    Verified,
    /// Finished.
    Completed,
    /// Killed by too many wrong codes.
    Dead,
}

impl FlowState {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Identified => "identified",
            Self::FacePending => "face_pending",
            Self::CodeSent => "code_sent",
            Self::Verified => "verified",
            Self::Completed => "completed",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "identified" => Some(Self::Identified),
            "face_pending" => Some(Self::FacePending),
            "code_sent" => Some(Self::CodeSent),
            "verified" => Some(Self::Verified),
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
    /// Wrong proofs other than codes (transaction password, phone on file) before the
    /// flow is dead.
    pub max_wrong_proofs: i32,
    /// Rejected face results before the flow is dead and the app is sent to manual
    /// review or the counter.
    pub max_face_attempts: i32,
}

impl Default for FlowPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::minutes(15),
            code_ttl: Duration::minutes(5),
            max_wrong_codes: 5,
            resend_after: Duration::seconds(60),
            max_sends: 5,
            max_wrong_proofs: 5,
            max_face_attempts: 3,
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
    /// Keyed MAC of what the member typed to identify themselves, so failures of a
    /// flow that matched nobody can be counted like a member's (and a face result's
    /// subject checked) without storing the document number.
    pub subject_key: Option<Vec<u8>>,
    /// The face-verification nonce bound to this flow (not a secret: it travels to
    /// the provider and back inside the signed result).
    pub nonce: Option<String>,
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
    #[error("wrong answer; {remaining} tries left")]
    WrongProof { remaining: i32 },
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
            state: FlowState::CodeSent,
            code_mac,
            code_expires_at: now + policy.code_ttl,
            sends: 1,
            subject_key: None,
            ..Self::identified(id, kind, member_id, Vec::new(), now, policy)
        }
    }

    /// A flow whose identify step is done and that waits for its proof before any
    /// code is sent (forgotten passwords).
    pub fn identified(
        id: TokenDigest,
        kind: FlowKind,
        member_id: Option<MemberId>,
        subject_key: Vec<u8>,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> Self {
        Self {
            id,
            kind,
            state: FlowState::Identified,
            member_id,
            code_mac: Vec::new(),
            code_expires_at: now,
            code_sent_at: now,
            wrong_codes: 0,
            sends: 0,
            created_at: now,
            expires_at: now + policy.lifetime,
            subject_key: Some(subject_key),
            nonce: None,
            version: 1,
        }
    }

    /// A face-login flow waiting for the provider's result for `nonce`.
    pub fn face_pending(
        id: TokenDigest,
        member_id: Option<MemberId>,
        subject_key: Vec<u8>,
        nonce: String,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> Self {
        Self {
            state: FlowState::FacePending,
            nonce: Some(nonce),
            ..Self::identified(id, FlowKind::FaceLogin, member_id, subject_key, now, policy)
        }
    }

    /// Applies the result of checking the flow's proof at the `Identified` step (the
    /// transaction password for a forgotten login password): accepted only when it
    /// was right and the flow found a member.
    pub fn enter_proof(
        &self,
        right: bool,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> (Self, Result<(), FlowError>) {
        self.advance(
            FlowState::Identified,
            right,
            now,
            policy.max_wrong_proofs,
            |f| Self {
                state: FlowState::Verified,
                ..f
            },
        )
    }

    /// Applies a face result at the `FacePending` step.
    pub fn enter_face_result(
        &self,
        accepted: bool,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> (Self, Result<(), FlowError>) {
        let max = policy.max_face_attempts;
        self.advance(FlowState::FacePending, accepted, now, max, |f| Self {
            state: FlowState::Verified,
            ..f
        })
    }

    /// Sends the first code of a flow that was waiting at `Identified` (the phone
    /// number typed was checked first). `phone_matches` false counts a wrong proof
    /// and sends nothing.
    pub fn send_first_code(
        &self,
        phone_matches: bool,
        code_mac: Vec<u8>,
        now: OffsetDateTime,
        policy: &FlowPolicy,
    ) -> (Self, Result<(), FlowError>) {
        let max = policy.max_wrong_proofs;
        self.advance(FlowState::Identified, phone_matches, now, max, |f| Self {
            state: FlowState::CodeSent,
            code_mac,
            code_sent_at: now,
            code_expires_at: now + policy.code_ttl,
            sends: 1,
            ..f
        })
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
        if self.at(FlowState::CodeSent, now).is_ok() && now >= self.code_expires_at {
            return (self.clone(), Err(FlowError::CodeExpired));
        }
        self.advance(
            FlowState::CodeSent,
            matches,
            now,
            policy.max_wrong_codes,
            |f| Self {
                state: FlowState::Verified,
                code_mac: Vec::new(),
                ..f
            },
        )
    }

    fn live(&self, now: OffsetDateTime) -> Result<(), FlowError> {
        match self.state {
            FlowState::Dead => Err(FlowError::Dead),
            _ if now >= self.expires_at => {
                crate::metrics::flow_expired(self.kind);
                Err(FlowError::Expired)
            }
            _ => Ok(()),
        }
    }

    /// Whether the flow is alive and at step `state`.
    fn at(&self, state: FlowState, now: OffsetDateTime) -> Result<(), FlowError> {
        self.live(now)?;
        if self.state == state {
            Ok(())
        } else {
            Err(FlowError::WrongStep)
        }
    }

    /// One step from `from`: when `passed` (and the flow found a member) `pass` moves
    /// the flow on; otherwise one wrong attempt is counted and the `max`th kills the
    /// flow. A flow that is not alive at `from` comes back unchanged with the reason.
    fn advance(
        &self,
        from: FlowState,
        passed: bool,
        now: OffsetDateTime,
        max: i32,
        pass: impl FnOnce(Self) -> Self,
    ) -> (Self, Result<(), FlowError>) {
        if let Err(e) = self.at(from, now) {
            return (self.clone(), Err(e));
        }
        if passed && self.member_id.is_some() {
            return (pass(self.clone()), Ok(()));
        }
        let wrong_codes = self.wrong_codes + 1;
        let remaining = max - wrong_codes;
        let (state, error) = match (remaining <= 0, from) {
            (true, _) => (FlowState::Dead, FlowError::Dead),
            (false, FlowState::CodeSent) => (self.state, FlowError::WrongCode { remaining }),
            (false, _) => (self.state, FlowError::WrongProof { remaining }),
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
            (FlowState::Verified, Some(member)) => Ok(member),
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
