//! What kind of event a member reads on their security record, and the one table that
//! says which audit action codes belong to which kind.

use serde::{Deserialize, Serialize};

use crate::audit::Outcome;

/// A kind of event on the member's security record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Login,
    LoginFailed,
    /// A login refused because the account was locked.
    Lock,
    Registration,
    PasswordChange,
    /// A forgotten password reset, each step (online, app, counter ticket, hotline code).
    PasswordReset,
    PhoneChange,
    /// The account frozen or released.
    Hold,
    SecurityQuestions,
    /// A member of staff acted on the account (looked it up, opened or approved a case,
    /// issued a ticket, sent a reset code).
    StaffAction,
    /// A member of staff revealed the member's full document or phone number.
    StaffReveal,
    /// A reset code sent by SMS (purpose and time only).
    SmsNotice,
    /// A payment authorisation asked for by a business system.
    PayoutAuthorization,
    /// A session ended (log out, log out everywhere, one session ended).
    Session,
    /// A copy of the member's personal information was asked for (PIPL Art. 45), or
    /// a download of this record.
    DataCopy,
    /// The member reported an event as not theirs ("this was not me").
    NotMe,
    /// The benefit qualification check: started, passed or refused, suspended,
    /// reminded.
    Qualification,
}

impl RecordKind {
    /// Every kind, in the order the filter lists them.
    pub const ALL: [RecordKind; 17] = [
        Self::Login,
        Self::LoginFailed,
        Self::Lock,
        Self::Registration,
        Self::PasswordChange,
        Self::PasswordReset,
        Self::PhoneChange,
        Self::Hold,
        Self::SecurityQuestions,
        Self::StaffAction,
        Self::StaffReveal,
        Self::SmsNotice,
        Self::PayoutAuthorization,
        Self::Session,
        Self::DataCopy,
        Self::NotMe,
        Self::Qualification,
    ];

    /// The code used in URLs and JSON.
    pub fn code(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Lock => "lock",
            Self::Registration => "registration",
            Self::PasswordChange => "password_change",
            Self::PasswordReset => "password_reset",
            Self::PhoneChange => "phone_change",
            Self::Hold => "hold",
            Self::SecurityQuestions => "security_questions",
            Self::StaffAction => "staff_action",
            Self::StaffReveal => "staff_reveal",
            Self::SmsNotice => "sms_notice",
            Self::PayoutAuthorization => "payout_authorization",
            Self::Session => "session",
            Self::DataCopy => "data_copy",
            Self::NotMe => "not_me",
            Self::Qualification => "qualification",
        }
    }

    /// Parses a code from a URL.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The action codes whose events may be of this kind (for the store's filter).
    pub fn actions(self) -> Vec<&'static str> {
        ACTIONS
            .iter()
            .filter(|(_, m)| m.kinds().contains(&self))
            .map(|(a, _)| *a)
            .collect()
    }

    /// The outcome events of this kind have, where the kind is told by the outcome
    /// (a login, a failed login, a login while locked), so the store filters by it.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            Self::Login => Some(Outcome::Success),
            Self::LoginFailed => Some(Outcome::Failure),
            Self::Lock => Some(Outcome::Denied),
            Self::Registration
            | Self::PasswordChange
            | Self::PasswordReset
            | Self::PhoneChange
            | Self::Hold
            | Self::SecurityQuestions
            | Self::StaffAction
            | Self::StaffReveal
            | Self::SmsNotice
            | Self::PayoutAuthorization
            | Self::Session
            | Self::DataCopy
            | Self::NotMe
            | Self::Qualification => None,
        }
    }
}

/// How an audit action shows on the member's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Always this kind.
    Kind(RecordKind),
    /// `login.password`: a login, a failed login or a refusal while locked, by outcome.
    LoginByOutcome,
    /// Audited, but about staff or systems rather than the member's account: never shown.
    NotMemberFacing,
}

impl Mapping {
    /// The kinds an event with this mapping can have.
    fn kinds(self) -> &'static [RecordKind] {
        match self {
            Self::Kind(k) => match k {
                RecordKind::Login => &[RecordKind::Login],
                RecordKind::LoginFailed => &[RecordKind::LoginFailed],
                RecordKind::Lock => &[RecordKind::Lock],
                RecordKind::Registration => &[RecordKind::Registration],
                RecordKind::PasswordChange => &[RecordKind::PasswordChange],
                RecordKind::PasswordReset => &[RecordKind::PasswordReset],
                RecordKind::PhoneChange => &[RecordKind::PhoneChange],
                RecordKind::Hold => &[RecordKind::Hold],
                RecordKind::SecurityQuestions => &[RecordKind::SecurityQuestions],
                RecordKind::StaffAction => &[RecordKind::StaffAction],
                RecordKind::StaffReveal => &[RecordKind::StaffReveal],
                RecordKind::SmsNotice => &[RecordKind::SmsNotice],
                RecordKind::PayoutAuthorization => &[RecordKind::PayoutAuthorization],
                RecordKind::Session => &[RecordKind::Session],
                RecordKind::DataCopy => &[RecordKind::DataCopy],
                RecordKind::NotMe => &[RecordKind::NotMe],
                RecordKind::Qualification => &[RecordKind::Qualification],
            },
            Self::LoginByOutcome => &[RecordKind::Login, RecordKind::LoginFailed, RecordKind::Lock],
            Self::NotMemberFacing => &[],
        }
    }
}

use Mapping::{Kind, LoginByOutcome, NotMemberFacing};
use RecordKind as K;

/// Every audit action code fundpass writes, and how the member's record shows it. A
/// renamed or new action fails `every_emitted_action_is_in_the_table` until it is
/// placed here.
pub const ACTIONS: &[(&str, Mapping)] = &[
    ("login.password", LoginByOutcome),
    ("registration.start", Kind(K::Registration)),
    ("registration.code", Kind(K::Registration)),
    ("registration.resend", Kind(K::Registration)),
    ("registration.complete", Kind(K::Registration)),
    ("password.change.login", Kind(K::PasswordChange)),
    ("password.change.transaction", Kind(K::PasswordChange)),
    ("recovery.login.start", Kind(K::PasswordReset)),
    ("recovery.login.proof", Kind(K::PasswordReset)),
    ("recovery.login.complete", Kind(K::PasswordReset)),
    ("recovery.transaction.start", Kind(K::PasswordReset)),
    ("recovery.transaction.code", Kind(K::PasswordReset)),
    ("recovery.transaction.complete", Kind(K::PasswordReset)),
    ("recovery.ticket.check", Kind(K::PasswordReset)),
    ("recovery.ticket.redeem", Kind(K::PasswordReset)),
    ("face.start", Kind(K::PasswordReset)),
    ("face.result", Kind(K::PasswordReset)),
    ("recovery.transaction.code_sent", Kind(K::PasswordReset)),
    ("recovery.transaction.code_resent", Kind(K::PasswordReset)),
    (crate::audit::SMS_ACTION, Kind(K::SmsNotice)),
    ("phone.change", Kind(K::PhoneChange)),
    ("member.freeze", Kind(K::Hold)),
    ("member.unfreeze", Kind(K::Hold)),
    ("security_questions.set", Kind(K::SecurityQuestions)),
    ("counter.open_case", Kind(K::StaffAction)),
    ("counter.approve_case", Kind(K::StaffAction)),
    ("counter.reject_case", Kind(K::StaffAction)),
    ("counter.issue_ticket", Kind(K::StaffAction)),
    ("hotline.checklist", Kind(K::StaffAction)),
    ("hotline.send_reset_code", Kind(K::StaffAction)),
    ("staff.look_up_member", Kind(K::StaffAction)),
    ("staff.view_case", Kind(K::StaffAction)),
    ("staff.reveal_full_identity", Kind(K::StaffReveal)),
    ("payout.create", Kind(K::PayoutAuthorization)),
    ("payout.verify", Kind(K::PayoutAuthorization)),
    ("payout.password", Kind(K::PayoutAuthorization)),
    ("payout.confirm", Kind(K::PayoutAuthorization)),
    ("payout.decline", Kind(K::PayoutAuthorization)),
    ("payout.capture", Kind(K::PayoutAuthorization)),
    ("session.logout", Kind(K::Session)),
    ("session.logout_all", Kind(K::Session)),
    ("session.end", Kind(K::Session)),
    ("member.data_copy", Kind(K::DataCopy)),
    ("member.record_export", Kind(K::DataCopy)),
    ("member.not_me", Kind(K::NotMe)),
    ("qualification.start", Kind(K::Qualification)),
    ("qualification.result", Kind(K::Qualification)),
    ("qualification.suspend", Kind(K::Qualification)),
    ("qualification.remind", Kind(K::Qualification)),
    ("qualification.relative_start", Kind(K::Qualification)),
    ("qualification.relative_confirm", Kind(K::Qualification)),
    ("benefit.import", NotMemberFacing),
    // About staff accounts, business systems or bulk operations, not one member.
    ("staff.login", NotMemberFacing),
    ("staff.logout", NotMemberFacing),
    ("staff.password_change", NotMemberFacing),
    ("staff.read_audit", NotMemberFacing),
    ("staff.read_anomalies", NotMemberFacing),
    ("staff.record_in_person_check", NotMemberFacing),
    ("staff.issue_counter_ticket", NotMemberFacing),
    ("staff.change_phone_at_counter", NotMemberFacing),
    ("staff.run_hotline_checklist", NotMemberFacing),
    ("staff.send_hotline_reset_code", NotMemberFacing),
    ("staff.approve_high_risk", NotMemberFacing),
    ("staff.read_anomaly_reports", NotMemberFacing),
    ("staff.manage_staff", NotMemberFacing),
    ("staff.manage_policy", NotMemberFacing),
    ("client.token", NotMemberFacing),
    ("client.introspect", NotMemberFacing),
    ("member.import", NotMemberFacing),
];

/// The kind an audit event shows as, or `None` when it is not on the member's record
/// (an unknown action included).
pub fn kind_of(action: &str, outcome: Outcome) -> Option<RecordKind> {
    let (_, mapping) = ACTIONS.iter().find(|(a, _)| *a == action)?;
    match mapping {
        Kind(k) => Some(*k),
        LoginByOutcome => Some(match outcome {
            Outcome::Success => K::Login,
            Outcome::Failure => K::LoginFailed,
            Outcome::Denied => K::Lock,
        }),
        NotMemberFacing => None,
    }
}

/// Every action code that can show on a member's record.
pub fn member_facing_actions() -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter(|(_, m)| *m != NotMemberFacing)
        .map(|(a, _)| *a)
        .collect()
}
