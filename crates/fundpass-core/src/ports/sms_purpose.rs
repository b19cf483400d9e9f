//! What each text is for, and the named values filled into it.
//!
//! Commercial SMS providers (Tencent Cloud, Alibaba Cloud) do not send free text: they
//! send a template approved in advance, filled with parameters in the template's
//! order. So every text fundpass writes keeps the values it was filled with, by name,
//! beside the text itself, and the configuration maps each purpose to a provider
//! template and the order of its parameters.

use std::fmt;

/// Every kind of text fundpass sends. The code is stored with the message, shown on
/// the member's security record and used as the key of the provider templates in
/// the configuration, so codes are added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SmsPurpose {
    /// The one-time code of a registration.
    RegistrationCode,
    /// Someone tried to register an account that is registered already.
    RegistrationAttempt,
    /// The registration was completed.
    RegistrationDone,
    /// The one-time code of the forgotten-transaction-password flow.
    RecoveryCode,
    /// A password was reset.
    ResetNotice,
    /// The security questions were changed.
    QuestionsNotice,
    /// The phone on file was changed (sent to the old phone).
    PhoneChanged,
    /// A copy of the member's personal data was downloaded.
    DataCopy,
    /// The member reported an event as not theirs.
    NotMe,
    /// A one-time reset ticket (counter or hotline).
    ResetTicket,
    /// Staff issued a reset ticket.
    TicketIssued,
    /// Wrong transaction passwords locked it until a given time.
    TransactionLocked,
    /// Wrong transaction passwords disabled it until it is recovered.
    TransactionDisabled,
    /// The member changed a password they knew.
    PasswordChanged,
    /// The benefit qualification check is due soon.
    QualificationReminder,
    /// The qualification check was missed and payment is suspended.
    QualificationLapsed,
    /// The code confirming that a relative may run the member's qualification check.
    RelativeCode,
}

impl SmsPurpose {
    /// Every purpose, in the order the configuration lists them.
    pub const ALL: [SmsPurpose; 17] = [
        Self::RegistrationCode,
        Self::RegistrationAttempt,
        Self::RegistrationDone,
        Self::RecoveryCode,
        Self::ResetNotice,
        Self::QuestionsNotice,
        Self::PhoneChanged,
        Self::DataCopy,
        Self::NotMe,
        Self::ResetTicket,
        Self::TicketIssued,
        Self::TransactionLocked,
        Self::TransactionDisabled,
        Self::PasswordChanged,
        Self::QualificationReminder,
        Self::QualificationLapsed,
        Self::RelativeCode,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::RegistrationCode => "registration_code",
            Self::RegistrationAttempt => "registration_attempt",
            Self::RegistrationDone => "registration_done",
            Self::RecoveryCode => "recovery_code",
            Self::ResetNotice => "reset_notice",
            Self::QuestionsNotice => "questions_notice",
            Self::PhoneChanged => "phone_changed",
            Self::DataCopy => "data_copy",
            Self::NotMe => "not_me",
            Self::ResetTicket => "reset_ticket",
            Self::TicketIssued => "ticket_issued",
            Self::TransactionLocked => "transaction_locked",
            Self::TransactionDisabled => "transaction_disabled",
            Self::PasswordChanged => "password_changed",
            Self::QualificationReminder => "qualification_reminder",
            Self::QualificationLapsed => "qualification_lapsed",
            Self::RelativeCode => "relative_code",
        }
    }

    /// The purpose a stored code names.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// The names of the values every text of this purpose is filled with: the
    /// parameters a provider template for it may take, in any order and any subset.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Self::RegistrationCode | Self::RecoveryCode | Self::RelativeCode => {
                &["code", "minutes", "hotline"]
            }
            Self::RegistrationAttempt
            | Self::RegistrationDone
            | Self::QuestionsNotice
            | Self::DataCopy
            | Self::NotMe
            | Self::TransactionDisabled => &["time", "hotline"],
            Self::ResetNotice | Self::TicketIssued => &["secrets", "time", "channel", "hotline"],
            Self::PhoneChanged => &["time", "channel", "masked", "hotline"],
            Self::ResetTicket => &["ticket", "secrets", "hours", "channel", "hotline"],
            Self::TransactionLocked => &["time", "until", "hotline"],
            Self::PasswordChanged => &["secret", "time", "channel", "hotline"],
            Self::QualificationReminder => &["due", "days", "hotline"],
            Self::QualificationLapsed => &["due", "hotline"],
        }
    }
}

impl fmt::Display for SmsPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A text and the named values that were filled into it. Either may hold a secret
/// (a one-time code, a reset ticket), so `Debug` shows neither.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SmsContent {
    /// The whole text, as the dev outbox and the generic webhook send it.
    pub text: String,
    /// `(name, value)` of every value filled in, in the order given.
    pub params: Vec<(String, String)>,
}

impl fmt::Debug for SmsContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SmsContent")
            .field("text", &"[redacted]")
            .field("params", &names)
            .finish()
    }
}

/// The stored form of the parameters is not a JSON object of strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored template parameters are not a JSON object of strings")]
pub struct BadStoredParams;

impl SmsContent {
    /// The value filled in for `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters as a JSON object, the form sealed into the outbox.
    pub fn params_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// The parameters from the form [`Self::params_json`] wrote.
    pub fn parse_params(json: &str) -> Result<Vec<(String, String)>, BadStoredParams> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|_| BadStoredParams)?;
        let serde_json::Value::Object(map) = value else {
            return Err(BadStoredParams);
        };
        map.into_iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(s) => Ok((name, s)),
                _ => Err(BadStoredParams),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_reads_back_from_its_code() {
        for p in SmsPurpose::ALL {
            assert_eq!(SmsPurpose::from_code(p.code()), Some(p));
            assert!(!p.params().is_empty(), "{p}");
        }
        assert_eq!(SmsPurpose::from_code("registration"), None);
    }

    #[test]
    fn parameters_survive_their_stored_form_and_debug_hides_them() {
        let content = SmsContent {
            text: "code 482913".into(),
            params: vec![
                ("code".into(), "482913".into()),
                ("minutes".into(), "5".into()),
            ],
        };
        let mut back = SmsContent::parse_params(&content.params_json()).unwrap();
        back.sort();
        assert_eq!(
            back,
            vec![
                ("code".into(), "482913".into()),
                ("minutes".into(), "5".into())
            ]
        );
        assert_eq!(content.param("minutes"), Some("5"));
        assert!(!format!("{content:?}").contains("482913"));
        assert_eq!(SmsContent::parse_params("[1]"), Err(BadStoredParams));
        assert_eq!(SmsContent::parse_params("{\"a\":1}"), Err(BadStoredParams));
    }
}
