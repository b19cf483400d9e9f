//! What is wrong with a typed document or phone number, in the page's language.
//!
//! The core's errors carry the facts (position, character, accepted lengths); the
//! sentences come from the message files.

use fundpass_core::identity::{EARLIEST_BIRTH_DATE, IdNumberError, MAX_INPUT_CHARS, PhoneError};

use crate::i18n::Tr;

/// The sentence for a refused document number.
pub(crate) fn id_number_error(tr: Tr, err: &IdNumberError) -> String {
    match err {
        IdNumberError::TooLong => tr.format(
            "id_number.too_long",
            &[("max", &MAX_INPUT_CHARS.to_string())],
        ),
        IdNumberError::Empty => tr.get("id_number.empty").to_owned(),
        IdNumberError::Length { expected, actual } => tr.format(
            "id_number.bad_length",
            &[
                ("expected", &phrase(tr, expected)),
                ("actual", &actual.to_string()),
            ],
        ),
        IdNumberError::BadCharacter {
            position,
            found,
            expected,
        } => tr.format(
            "id_number.bad_character",
            &[
                ("position", &position.to_string()),
                ("found", &found.to_string()),
                ("expected", &phrase(tr, expected)),
            ],
        ),
        IdNumberError::OldResidentId => tr.get("id_number.old_resident_id").to_owned(),
        IdNumberError::CheckDigit { expected, found } => tr.format(
            "id_number.check_digit",
            &[
                ("expected", &expected.to_string()),
                ("found", &found.to_string()),
            ],
        ),
        IdNumberError::ImpossibleBirthDate => tr.get("id_number.impossible_birth_date").to_owned(),
        IdNumberError::BirthDateInFuture => tr.get("id_number.birth_date_in_future").to_owned(),
        IdNumberError::BirthDateTooEarly => tr.format(
            "id_number.birth_date_too_early",
            &[("year", &EARLIEST_BIRTH_DATE.year().to_string())],
        ),
        IdNumberError::UnknownRegion { code } => {
            tr.format("id_number.unknown_region", &[("code", code)])
        }
        IdNumberError::NotResidencePermitRegion => {
            tr.get("id_number.not_residence_permit_region").to_owned()
        }
        IdNumberError::WrongDocumentType { likely } => tr.format(
            "id_number.wrong_document_type",
            &[("likely", tr.id_type(*likely))],
        ),
    }
}

/// The sentence for a refused mobile number.
pub(crate) fn phone_error(tr: Tr, err: &PhoneError) -> String {
    match err {
        PhoneError::TooLong => {
            tr.format("phone.too_long", &[("max", &MAX_INPUT_CHARS.to_string())])
        }
        PhoneError::Empty => tr.get("phone.empty").to_owned(),
        PhoneError::Length { actual } => {
            tr.format("phone.bad_length", &[("actual", &actual.to_string())])
        }
        PhoneError::BadCharacter { position, found } => tr.format(
            "phone.bad_character",
            &[
                ("position", &position.to_string()),
                ("found", &found.to_string()),
            ],
        ),
        PhoneError::NotMobile => tr.get("phone.not_mobile").to_owned(),
        PhoneError::ForeignNumber => tr.get("phone.foreign_number").to_owned(),
    }
}

/// The core describes what it expected in a few fixed English phrases ("a digit",
/// "9 or 11"); each has its translation, and numbers joined by "or"/"to" are
/// rewritten word by word.
fn phrase(tr: Tr, english: &str) -> String {
    let key = match english {
        "a digit" => "id_number.expect.digit",
        "a letter" => "id_number.expect.letter",
        "a letter or a digit" => "id_number.expect.letter_or_digit",
        "a digit or X" => "id_number.expect.digit_or_x",
        "H or M" => "id_number.expect.h_or_m",
        other => {
            return other
                .replace(" or ", tr.get("id_number.expect.or"))
                .replace(" to ", tr.get("id_number.expect.to"));
        }
    };
    tr.get(key).to_owned()
}

#[cfg(test)]
mod tests {
    use fundpass_core::identity::IdType;

    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn document_errors_read_naturally_in_both_languages() {
        let err = IdNumberError::Length {
            expected: "9 or 11",
            actual: 7,
        };
        assert_eq!(
            id_number_error(Tr::new(Lang::En), &err),
            "A number on this document has 9 or 11 characters, but 7 were entered."
        );
        assert!(id_number_error(Tr::new(Lang::Zh), &err).contains("9 或 11"));
        let err = IdNumberError::BadCharacter {
            position: 1,
            found: 'Z',
            expected: "H or M",
        };
        assert!(id_number_error(Tr::new(Lang::Zh), &err).contains("H 或 M"));
        let err = IdNumberError::WrongDocumentType {
            likely: IdType::Passport,
        };
        assert!(id_number_error(Tr::new(Lang::Zh), &err).contains("护照"));
    }

    #[test]
    fn phone_errors_name_the_problem() {
        let text = phone_error(Tr::new(Lang::Zh), &PhoneError::Length { actual: 10 });
        assert!(text.contains("11") && text.contains("10"), "{text}");
    }
}
