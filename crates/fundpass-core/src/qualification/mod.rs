//! The annual benefit qualification check (待遇资格认证): a pensioner or other benefit
//! recipient confirms once a cycle (12 months unless the import says otherwise) that
//! they are alive and still entitled; without it, payment is suspended.
//!
//! Entitlements arrive by import ([`BenefitRow`]). Each has a due date; reminders go
//! by SMS at configured offsets before and after it ([`QualificationPolicy`]); a
//! passed check ([`CheckChannel`]) moves the due date on by one cycle; a due date
//! that passes without one suspends the member ([`QualificationStatus::Suspended`])
//! until a late check restores them, with the months between recorded so the
//! benefit system can pay them back. Business systems read the status and receive an
//! event on every change.
//!
//! This module holds the rules; the face check itself goes through the same face
//! verification as face login (signed results or a query-by-token provider).

mod anomalies;
mod check;
mod dates;
mod import;
mod relatives;
mod status;
mod sweep;

use time::{Date, OffsetDateTime};

use crate::member::MemberId;

pub use anomalies::{DeceasedCheck, QualificationRules, QualificationSignals, signals};
pub use check::{CheckChallenge, CheckSubject};
pub use dates::{add_months, months_back, months_between};
pub use import::{
    BENEFIT_IMPORT_ACTION, BenefitRow, BenefitRowError, MAX_CYCLE_MONTHS, ValidBenefitRow,
};
pub use relatives::{LinkStarted, RelativeError, RelativeInput, RelativeLink};
pub use status::{QualificationView, RecentCheck};
pub use sweep::SweepOutcome;

/// What benefit the member receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BenefitKind {
    /// Basic old-age pension (基本养老金).
    Pension,
    /// Long-term work-injury benefit (工伤保险长期待遇).
    WorkInjury,
    /// Unemployment benefit (失业保险金).
    Unemployment,
    /// Survivor's pension (遗属待遇).
    Survivor,
    /// Disability pension (病残津贴).
    Disability,
}

impl BenefitKind {
    /// Every kind, in a stable order.
    pub const ALL: [BenefitKind; 5] = [
        Self::Pension,
        Self::WorkInjury,
        Self::Unemployment,
        Self::Survivor,
        Self::Disability,
    ];

    /// The stored and imported code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pension => "pension",
            Self::WorkInjury => "work_injury",
            Self::Unemployment => "unemployment",
            Self::Survivor => "survivor",
            Self::Disability => "disability",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Where an entitled member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualificationStatus {
    /// Checked within the cycle (or not yet due): payments go on.
    Qualified,
    /// The due date passed without a check: payments are suspended until one.
    Suspended,
    /// Reported deceased by import: no check can be passed any more.
    Ended,
}

impl QualificationStatus {
    /// The stored and published code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Qualified => "qualified",
            Self::Suspended => "suspended",
            Self::Ended => "ended",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "qualified" => Some(Self::Qualified),
            "suspended" => Some(Self::Suspended),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }
}

/// How a check was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckChannel {
    /// The member's own face, in the app.
    AppFace,
    /// The member's own face, on the web portal.
    WebFace,
    /// The member's face on a relative's phone (relatives' service, 亲情服务).
    RelativeFace,
}

impl CheckChannel {
    /// Every channel, in a stable order.
    pub const ALL: [CheckChannel; 3] = [Self::AppFace, Self::WebFace, Self::RelativeFace];

    /// The stored and published code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AppFace => "app_face",
            Self::WebFace => "web_face",
            Self::RelativeFace => "relative_face",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// A member's entitlement and where its check stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    pub member_id: MemberId,
    pub kind: BenefitKind,
    /// When the benefit began.
    pub start_date: Date,
    /// Months between two checks.
    pub cycle_months: u8,
    /// The day by which the next check must be passed (China date, inclusive).
    pub due_date: Date,
    pub status: QualificationStatus,
    /// The due date that was missed, while suspended.
    pub suspended_since: Option<Date>,
    /// The last passed check.
    pub last_check_at: Option<OffsetDateTime>,
    pub last_check_channel: Option<CheckChannel>,
    /// Refused face checks since the last passed one; at the policy's maximum the
    /// face check is closed and the member is sent to manual review or a counter.
    pub failed_attempts: i32,
    /// The date of death an import reported.
    pub deceased_on: Option<Date>,
    pub version: i64,
}

impl Benefit {
    /// The first day a check can be passed for the current due date: `window_days`
    /// before it, but never on or before the day a cycle earlier, so that no sitting
    /// can pass two cycles.
    pub fn opens_on(&self, window_days: u16) -> Date {
        let window = self.due_date - time::Duration::days(i64::from(window_days));
        let cycle_back =
            months_back(self.due_date, u32::from(self.cycle_months)) + time::Duration::days(1);
        window.max(cycle_back)
    }
}

/// One passed check, kept for the member, the benefit system and the auditor. Never an
/// image or a document number: the provider, its reference and the similarity only.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub member_id: MemberId,
    pub checked_at: OffsetDateTime,
    /// The China date of the check.
    pub checked_on: Date,
    pub channel: CheckChannel,
    /// `tencent`, `alibaba`, or the signing key's id for a signed result.
    pub provider: String,
    /// The member whose phone ran the check when it was not the member's own.
    pub by_member: Option<MemberId>,
    /// The provider's match score, for the audit only.
    pub similarity: Option<f64>,
    /// The due date before the check.
    pub due_before: Date,
    /// The due date after it.
    pub due_after: Date,
    /// Months of suspended payments the check ends (0 when it was on time).
    pub gap_months: u32,
    /// Client address, as seen.
    pub ip: Option<String>,
}

/// Where one face check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// The provider's result is awaited.
    Pending,
    /// The check passed and was recorded.
    Passed,
    /// The result was refused; the attempt is over.
    Refused,
}

impl AttemptState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Passed => "passed",
            Self::Refused => "refused",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(Self::Pending),
            "passed" => Some(Self::Passed),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }
}

/// One face check started: by whom, for whom, with which nonce or provider handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The digest of the attempt id the client keeps.
    pub id: crate::crypto::TokenDigest,
    /// The member being checked.
    pub member_id: MemberId,
    /// The signed-in member who started it (the same member, or their relative).
    pub started_by: MemberId,
    pub channel: CheckChannel,
    /// The nonce a signed result must carry, or `<provider>:<handle>`.
    pub nonce: String,
    pub state: AttemptState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub version: i64,
}

/// A reminder text sent for one due date at one offset (its key: one text each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSent {
    pub member_id: MemberId,
    pub due_date: Date,
    /// Days before the due date (negative: after it).
    pub offset_days: i32,
    pub sent_at: OffsetDateTime,
}

/// A write of the qualification tables, part of one [`crate::ports::ChangeSet`].
#[derive(Debug, Clone, PartialEq)]
pub enum QualificationWrite {
    /// Moves a benefit on if its version is still `expected_version`.
    Benefit {
        record: Benefit,
        expected_version: i64,
    },
    /// Counts one refused face check against the member, whatever the benefit's
    /// version (refusals at once all count).
    CountRefusal(MemberId),
    /// Inserts a face check attempt.
    NewAttempt(Attempt),
    /// Moves an attempt on if its version is still `expected_version`.
    Attempt {
        record: Attempt,
        expected_version: i64,
    },
    /// Inserts a passed check.
    Check(CheckRecord),
    /// Records a reminder; a second one for the same key is a `Conflict`.
    Reminder(ReminderSent),
    /// Records a confirmed link between a member and a relative.
    Relative(RelativeLink),
}

/// The check's configurable rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationPolicy {
    /// Days before the due date on which a reminder goes out (e.g. 30, 7 and 1).
    pub remind_days_before: Vec<u16>,
    /// Days after the due date on which a reminder goes out to a suspended member.
    pub remind_days_after: Vec<u16>,
    /// How many days before the due date a check may be passed; an earlier one is
    /// refused, so checking twice cannot push the due date two cycles on.
    pub window_days: u16,
    /// Refused face checks before the face check closes for the member.
    pub max_face_failures: i32,
    /// How long a started face check can be finished.
    pub attempt_lifetime: time::Duration,
    /// Reminders one sweep may queue at most (the rest wait for the next sweep).
    pub reminders_per_sweep: u32,
    /// Reminders the whole service may queue per hour (each also counts against the
    /// phone's daily SMS limit).
    pub reminders_per_hour: u32,
}

impl Default for QualificationPolicy {
    fn default() -> Self {
        Self {
            remind_days_before: vec![30, 7, 1],
            remind_days_after: vec![1, 30],
            window_days: 90,
            max_face_failures: 3,
            attempt_lifetime: time::Duration::minutes(10),
            reminders_per_sweep: 500,
            reminders_per_hour: 5_000,
        }
    }
}

/// Why a qualification request was refused.
#[derive(Debug, thiserror::Error)]
pub enum QualificationError {
    /// The member (or the one named) has no benefit entitlement on file.
    #[error("no benefit entitlement is on file for this member")]
    NotEntitled,
    /// The member was reported deceased: no check can be passed.
    #[error("the benefit has ended")]
    Ended,
    /// The check window has not opened yet.
    #[error("the check is not due yet; it opens on {opens_on}")]
    NotDue { opens_on: Date },
    /// Too many refused face checks: manual review or a counter.
    #[error(
        "face checks are closed after too many refusals; ask for a manual review or visit a counter"
    )]
    FaceClosed,
    /// No such attempt, or it is someone else's.
    #[error("no such check")]
    UnknownAttempt,
    /// The attempt's time ran out.
    #[error("the check has expired; start again")]
    AttemptExpired,
    /// The attempt was used already (passed or refused).
    #[error("this check was used already")]
    Replayed,
    /// The query-by-token provider's check has not been finished in the app.
    #[error("the face verification has not been finished")]
    Unfinished,
    /// The face result was refused for the reason given.
    #[error("the face check was refused: {0}")]
    Refused(crate::face::FaceRejection),
    /// The face provider needs what its SDK produced on the phone (`meta_info`).
    #[error("the face provider needs the SDK's meta information")]
    MetaInfoRequired,
    /// The member named is not the signed-in member's confirmed relative.
    #[error("not a confirmed relative")]
    NotRelative,
    /// Face checks need a resident identity card.
    #[error("face checks need a resident identity card")]
    DocumentUnsupported,
    /// The face provider could not be reached (the text is for the log).
    #[error("the face verification provider is unavailable: {0}")]
    ProviderUnavailable(String),
    /// Too many requests from this address.
    #[error("too many attempts; try again after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    /// Another request changed the benefit first.
    #[error("the benefit was changed by another request")]
    Conflict,
    /// A business system's call without the scope, or for no member.
    #[error(transparent)]
    Client(#[from] crate::payout::PayoutError),
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] crate::portal::Internal),
}

impl From<crate::ports::StoreError> for QualificationError {
    fn from(e: crate::ports::StoreError) -> Self {
        match e {
            crate::ports::StoreError::Conflict => Self::Conflict,
            other => Self::Internal(crate::portal::Internal(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn due_on(due: Date, cycle_months: u8) -> Benefit {
        Benefit {
            member_id: MemberId(1),
            kind: BenefitKind::Pension,
            start_date: date!(2020 - 01 - 01),
            cycle_months,
            due_date: due,
            status: QualificationStatus::Qualified,
            suspended_since: None,
            last_check_at: None,
            last_check_channel: None,
            failed_attempts: 0,
            deceased_on: None,
            version: 1,
        }
    }

    #[test]
    fn the_window_never_reaches_back_a_whole_cycle() {
        // A yearly cycle: the configured 90 days.
        let yearly = due_on(date!(2027 - 03 - 15), 12);
        assert_eq!(yearly.opens_on(90), date!(2026 - 12 - 15));
        // A monthly cycle: from the day after the previous due date, so a check on
        // any open day moves the due date a month on and closes the window.
        let monthly = due_on(date!(2027 - 03 - 15), 1);
        let opens = monthly.opens_on(90);
        assert_eq!(opens, date!(2027 - 02 - 16));
        let next = due_on(add_months(monthly.due_date, 1), 1);
        assert!(next.opens_on(90) > monthly.due_date);
    }
}
