//! Checking rows imported from the fund's core system before anything is written.
//!
//! Reading files, batching and progress belong to the command that imports; what makes
//! a row acceptable is decided here, once, for every importer.

use time::Date;

use super::{AccountNumber, AccountNumberError, NewMember};
use crate::crypto::{Field, Keyring};
use crate::identity::{IdNumber, IdNumberError, IdType, Phone, PhoneError};
use crate::ports::SecretGenerator;

/// One row as read from a CSV or JSON Lines file, before any checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    pub account_no: String,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: String,
}

/// A row that passed every check, with its values normalised.
#[derive(Debug, Clone)]
pub struct ValidRow {
    pub account_no: AccountNumber,
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Phone,
}

/// Longest accepted member name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// One thing wrong with a row. Messages never repeat a full ID number or phone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("account_no: {0}")]
    AccountNumber(#[from] AccountNumberError),
    #[error("name: the name is empty")]
    NameEmpty,
    #[error("name: a name has at most {NAME_MAX_CHARS} characters, this one has {0}")]
    NameTooLong(usize),
    #[error("name: control characters are not allowed")]
    NameControlCharacter,
    #[error(
        "id_type: unknown document type {0:?} (expected one of resident_id, hk_macau_permit, taiwan_permit, hmt_residence_permit, foreign_permanent_residence, passport)"
    )]
    UnknownIdType(String),
    #[error("id_number: {0}")]
    IdNumber(#[from] IdNumberError),
    #[error("phone: {0}")]
    Phone(#[from] PhoneError),
}

impl ImportRow {
    /// Checks every field and reports every problem, not just the first.
    pub fn validate(&self, today: Date) -> Result<ValidRow, Vec<RowProblem>> {
        let mut problems = Vec::new();
        let account_no = AccountNumber::parse(&self.account_no)
            .map_err(|e| problems.push(e.into()))
            .ok();
        let name = check_name(&self.name).map_err(|e| problems.push(e)).ok();
        let id_number = match IdType::from_code(&self.id_type) {
            Some(t) => IdNumber::parse(t, &self.id_number, today)
                .map_err(|e| problems.push(e.into()))
                .ok(),
            None => {
                let shown: String = self.id_type.chars().take(32).collect();
                problems.push(RowProblem::UnknownIdType(shown));
                None
            }
        };
        let phone = Phone::parse(&self.phone)
            .map_err(|e| problems.push(e.into()))
            .ok();
        match (account_no, name, id_number, phone) {
            (Some(account_no), Some(name), Some(id_number), Some(phone)) if problems.is_empty() => {
                Ok(ValidRow {
                    account_no,
                    name,
                    id_number,
                    phone,
                })
            }
            _ => Err(problems),
        }
    }
}

/// A name as a member typed it, trimmed, if it can be anyone's: not empty, not longer
/// than a name may be, and without control characters (imports refuse them, so no
/// member's name has one).
pub fn typed_name(raw: &str) -> Option<&str> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_MAX_CHARS
        && !name.chars().any(char::is_control);
    ok.then_some(name)
}

fn check_name(raw: &str) -> Result<String, RowProblem> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(RowProblem::NameEmpty);
    }
    if name.chars().any(char::is_control) {
        return Err(RowProblem::NameControlCharacter);
    }
    let count = name.chars().count();
    if count > NAME_MAX_CHARS {
        return Err(RowProblem::NameTooLong(count));
    }
    Ok(name.to_owned())
}

impl ValidRow {
    /// Encrypts the document number and phone and computes their blind indexes.
    pub fn seal(&self, keyring: &Keyring, rng: &dyn SecretGenerator) -> NewMember {
        let id = self.id_number.normalised();
        let phone = self.phone.normalised();
        NewMember {
            account_no: self.account_no.clone(),
            name: self.name.clone(),
            id_type: self.id_number.id_type(),
            id_number: keyring.seal(Field::IdNumber, id, rng),
            id_number_index: keyring.blind_index(Field::IdNumber, id),
            phone: keyring.seal(Field::Phone, phone, rng),
            phone_index: keyring.blind_index(Field::Phone, phone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row() -> ImportRow {
        ImportRow {
            account_no: "100200300".into(),
            name: " 张三 ".into(),
            id_type: "resident_id".into(),
            id_number: "11010519491231002x".into(),
            phone: "+86 138 1234 5678".into(),
        }
    }

    #[test]
    fn a_good_row_is_normalised() {
        let v = row().validate(date!(2026 - 11 - 23)).unwrap();
        assert_eq!(v.name, "张三");
        assert_eq!(v.id_number.normalised(), "11010519491231002X");
        assert_eq!(v.phone.normalised(), "13812345678");
    }

    #[test]
    fn every_problem_in_a_row_is_reported_without_echoing_the_numbers() {
        let bad = ImportRow {
            account_no: "12".into(),
            name: "".into(),
            id_type: "resident_id".into(),
            id_number: "110105194912310021".into(),
            phone: "12812345678".into(),
        };
        let problems = bad.validate(date!(2026 - 11 - 23)).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        for p in &problems {
            let text = p.to_string();
            assert!(!text.contains("110105194912310021"), "{text}");
            assert!(!text.contains("12812345678"), "{text}");
        }
    }

    #[test]
    fn an_unknown_document_type_is_named() {
        let mut r = row();
        r.id_type = "driving_licence".into();
        let problems = r.validate(date!(2026 - 11 - 23)).unwrap_err();
        assert_eq!(
            problems,
            vec![RowProblem::UnknownIdType("driving_licence".into())]
        );
    }
}
