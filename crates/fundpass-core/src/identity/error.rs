//! What can be wrong with a document number, in words a member understands.

use super::IdType;
use super::birth::EARLIEST_BIRTH_DATE;
use super::clean::{MAX_INPUT_CHARS, Refusal};

/// Why a document number was refused. Each variant names one specific problem so that the
/// member can fix it; no message repeats the number (a position, one character or a
/// two-digit region code at most).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// The input was longer than [`MAX_INPUT_CHARS`] and was not looked at.
    #[error("this is too long to be a document number (more than {MAX_INPUT_CHARS} characters)")]
    TooLong,
    /// Nothing but spaces was entered.
    #[error("enter the document number")]
    Empty,
    /// The number has the wrong number of characters for its document type.
    #[error("a number on this document has {expected} characters, but {actual} were entered")]
    Length {
        /// The accepted lengths, such as `18` or `9 or 11`.
        expected: &'static str,
        /// How many characters were entered, spaces not counted.
        actual: usize,
    },
    /// A character that cannot appear at that place.
    #[error("character {position} is {found:?}, but {expected} is expected there")]
    BadCharacter {
        /// 1-based, counted after spaces are removed.
        position: usize,
        found: char,
        /// What may appear there, such as `a digit` or `H or M`.
        expected: &'static str,
    },
    /// A first-generation 15-digit resident ID number.
    #[error(
        "this is an old 15-digit ID number; enter the 18-character number printed on your current ID card"
    )]
    OldResidentId,
    /// The check character does not match the rest of the number: usually a typing mistake.
    #[error(
        "the number does not add up: with the characters before it, the last character would be {expected:?}, not {found:?}; please check the whole number for a typing mistake"
    )]
    CheckDigit { expected: char, found: char },
    /// Characters 7 to 14 do not form a real calendar date.
    #[error("the date of birth inside the number (characters 7 to 14) is not a real date")]
    ImpossibleBirthDate,
    /// Characters 7 to 14 form a date after today.
    #[error("the date of birth inside the number (characters 7 to 14) is in the future")]
    BirthDateInFuture,
    /// Characters 7 to 14 form a date before [`EARLIEST_BIRTH_DATE`].
    #[error(
        "the date of birth inside the number (characters 7 to 14) is before {}",
        EARLIEST_BIRTH_DATE.year()
    )]
    BirthDateTooEarly,
    /// The first two digits are not a province-level region code.
    #[error("the number starts with {code}, which is not a province or region code")]
    UnknownRegion {
        /// The two leading digits.
        code: String,
    },
    /// A residence-permit number whose first six digits are not 810000, 820000 or 830000.
    #[error(
        "a residence permit number for Hong Kong, Macao or Taiwan residents starts with 810000, 820000 or 830000"
    )]
    NotResidencePermitRegion,
    /// The number is well formed for another document type than the one chosen.
    #[error(
        "this looks like the number of another document ({}); choose that document type",
        likely.name_en()
    )]
    WrongDocumentType {
        /// The document type the number looks like.
        likely: IdType,
    },
}

impl IdNumberError {
    /// A stable reason code for the API, logs and audit rows, which must not depend on the
    /// wording of the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::Empty => "empty",
            Self::Length { .. } => "bad_length",
            Self::BadCharacter { .. } => "bad_character",
            Self::OldResidentId => "old_15_digit_id",
            Self::CheckDigit { .. } => "bad_check_digit",
            Self::ImpossibleBirthDate => "impossible_birth_date",
            Self::BirthDateInFuture => "birth_date_in_future",
            Self::BirthDateTooEarly => "birth_date_too_early",
            Self::UnknownRegion { .. } => "unknown_region",
            Self::NotResidencePermitRegion => "not_residence_permit_region",
            Self::WrongDocumentType { .. } => "wrong_document_type",
        }
    }
}

impl From<Refusal> for IdNumberError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::TooLong => Self::TooLong,
            Refusal::Empty => Self::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<IdNumberError> {
        vec![
            IdNumberError::TooLong,
            IdNumberError::Empty,
            IdNumberError::Length {
                expected: "18",
                actual: 17,
            },
            IdNumberError::BadCharacter {
                position: 3,
                found: 'a',
                expected: "a digit",
            },
            IdNumberError::OldResidentId,
            IdNumberError::CheckDigit {
                expected: 'X',
                found: '1',
            },
            IdNumberError::ImpossibleBirthDate,
            IdNumberError::BirthDateInFuture,
            IdNumberError::BirthDateTooEarly,
            IdNumberError::UnknownRegion { code: "99".into() },
            IdNumberError::NotResidencePermitRegion,
            IdNumberError::WrongDocumentType {
                likely: IdType::HmtResidencePermit,
            },
        ]
    }

    #[test]
    fn every_variant_has_its_own_snake_case_code() {
        let codes: Vec<_> = every_variant().iter().map(IdNumberError::code).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        for code in codes {
            assert!(
                code.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
        }
    }

    #[test]
    fn messages_say_what_to_fix() {
        let length = IdNumberError::Length {
            expected: "18",
            actual: 17,
        };
        assert_eq!(
            length.to_string(),
            "a number on this document has 18 characters, but 17 were entered"
        );
        let bad = IdNumberError::BadCharacter {
            position: 3,
            found: 'a',
            expected: "a digit",
        };
        assert_eq!(
            bad.to_string(),
            "character 3 is 'a', but a digit is expected there"
        );
        let check = IdNumberError::CheckDigit {
            expected: 'X',
            found: '1',
        };
        assert!(check.to_string().contains("would be 'X', not '1'"));
        assert!(
            IdNumberError::BirthDateTooEarly
                .to_string()
                .ends_with("before 1870")
        );
        let wrong = IdNumberError::WrongDocumentType {
            likely: IdType::HmtResidencePermit,
        };
        assert!(wrong.to_string().contains("Residence permit for Hong Kong"));
    }
}
