//! Travel permits for Hong Kong, Macao and Taiwan residents, and foreign permanent
//! resident ID cards.
//!
//! Only the structure of these numbers is checked, plus the check character where it is
//! the resident-ID one (ISO 7064 MOD 11-2).

use time::Date;

use super::clean::{digit, first_bad_character};
use super::region::{has_residence_permit_prefix, is_mainland_province};
use super::resident::{birth_date_at_7, check_check_character, check_layout};
use super::{IdNumberError, IdType};

/// Validates a Mainland travel permit for Hong Kong and Macao residents (already cleaned):
/// `H` (Hong Kong) or `M` (Macao) then 8 digits, or then 10 digits where the last two
/// count how many times the permit was renewed (older cards print them).
pub(super) fn parse_hk_macau_permit(value: &str) -> Result<(), IdNumberError> {
    let actual = value.chars().count();
    if actual != 9 && actual != 11 {
        return Err(IdNumberError::Length {
            expected: "9 or 11",
            actual,
        });
    }
    first_bad_character(value, |index, c| match index {
        0 if c == 'H' || c == 'M' => Ok(()),
        0 => Err("H or M"),
        _ => digit(c),
    })
}

/// Validates a Mainland travel permit for Taiwan residents (already cleaned): 8 digits as
/// on current cards, or 10 characters, 8 digits then 2 letters or digits, as on older
/// cards that printed a suffix after the number.
pub(super) fn parse_taiwan_permit(value: &str) -> Result<(), IdNumberError> {
    let actual = value.chars().count();
    if actual != 8 && actual != 10 {
        return Err(IdNumberError::Length {
            expected: "8 or 10",
            actual,
        });
    }
    first_bad_character(value, |index, c| match index {
        0..8 => digit(c),
        _ if c.is_ascii_alphanumeric() => Ok(()),
        _ => Err("a letter or a digit"),
    })
}

/// Validates a foreign permanent resident ID number (already cleaned) and returns the date
/// of birth when the number carries one.
///
/// - The 15-character form (cards issued before December 2023): 3 letters (the country)
///   then 12 digits. Only this structure is checked, not the last digit: refusing a
///   genuine card over a check rule that might not be the issuer's is worse than letting a
///   typing mistake through to the lookup that follows, which then finds nobody.
/// - The 18-character form (cards issued from December 2023): `9`, 16 more digits, and a
///   check character computed like a resident ID's (ISO 7064 MOD 11-2). Characters 7 to
///   14 are the date of birth (`YYYYMMDD`) as in a resident ID and are checked the same
///   way; the region and country codes before them are not checked.
pub(super) fn parse_foreign_permanent_residence(
    value: &str,
    today: Date,
) -> Result<Option<Date>, IdNumberError> {
    match value.chars().count() {
        15 => {
            first_bad_character(value, |index, c| match index {
                0..3 if c.is_ascii_uppercase() => Ok(()),
                0..3 => Err("a letter"),
                _ => digit(c),
            })?;
            Ok(None)
        }
        18 => {
            check_layout(value)?;
            if !value.starts_with('9') {
                return Err(not_a_new_permanent_residence_number(value));
            }
            let born = birth_date_at_7(value, today)?;
            check_check_character(value)?;
            Ok(Some(born))
        }
        actual => Err(IdNumberError::Length {
            expected: "15 or 18",
            actual,
        }),
    }
}

/// Why an 18-digit number that does not start with 9 was refused: when it is a well-formed
/// resident ID or residence permit, the wrong document type was most likely chosen.
fn not_a_new_permanent_residence_number(value: &str) -> IdNumberError {
    let adds_up = check_check_character(value).is_ok();
    if adds_up && has_residence_permit_prefix(value) {
        IdNumberError::WrongDocumentType {
            likely: IdType::HmtResidencePermit,
        }
    } else if adds_up && is_mainland_province(value.get(..2).unwrap_or_default()) {
        IdNumberError::WrongDocumentType {
            likely: IdType::ResidentId,
        }
    } else {
        IdNumberError::BadCharacter {
            position: 1,
            found: value.chars().next().unwrap_or('?'),
            expected: "9",
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::identity::resident::tests::{TODAY, with_check};

    #[test]
    fn hong_kong_and_macao_permits_are_a_letter_and_8_or_10_digits() {
        for ok in ["H12345678", "M87654321", "H1234567801", "M0000000003"] {
            assert_eq!(parse_hk_macau_permit(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_hong_kong_and_macao_permits_say_what_is_wrong() {
        use IdNumberError as E;
        let cases = [
            (
                "H1234567",
                E::Length {
                    expected: "9 or 11",
                    actual: 8,
                },
            ),
            (
                "H123456789",
                E::Length {
                    expected: "9 or 11",
                    actual: 10,
                },
            ),
            (
                "12345678",
                E::Length {
                    expected: "9 or 11",
                    actual: 8,
                },
            ),
            (
                "A12345678",
                E::BadCharacter {
                    position: 1,
                    found: 'A',
                    expected: "H or M",
                },
            ),
            (
                "123456789",
                E::BadCharacter {
                    position: 1,
                    found: '1',
                    expected: "H or M",
                },
            ),
            (
                "H1234567A",
                E::BadCharacter {
                    position: 9,
                    found: 'A',
                    expected: "a digit",
                },
            ),
            (
                "HM12345678",
                E::Length {
                    expected: "9 or 11",
                    actual: 10,
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(parse_hk_macau_permit(number), Err(expected), "{number}");
        }
    }

    #[test]
    fn taiwan_permits_are_8_digits_or_8_digits_and_a_2_character_suffix() {
        for ok in ["12345678", "0012345678", "12345678B1", "12345678AB"] {
            assert_eq!(parse_taiwan_permit(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_taiwan_permits_say_what_is_wrong() {
        use IdNumberError as E;
        let cases = [
            (
                "1234567",
                E::Length {
                    expected: "8 or 10",
                    actual: 7,
                },
            ),
            (
                "123456789",
                E::Length {
                    expected: "8 or 10",
                    actual: 9,
                },
            ),
            (
                "12345678(B)",
                E::Length {
                    expected: "8 or 10",
                    actual: 11,
                },
            ),
            (
                "T2345678",
                E::BadCharacter {
                    position: 1,
                    found: 'T',
                    expected: "a digit",
                },
            ),
            (
                "1234567A01",
                E::BadCharacter {
                    position: 8,
                    found: 'A',
                    expected: "a digit",
                },
            ),
            (
                "12345678-1",
                E::BadCharacter {
                    position: 9,
                    found: '-',
                    expected: "a letter or a digit",
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(parse_taiwan_permit(number), Err(expected), "{number}");
        }
    }

    #[test]
    fn both_forms_of_foreign_permanent_resident_id_are_accepted() {
        assert_eq!(
            parse_foreign_permanent_residence("USA310180101001", TODAY),
            Ok(None)
        );
        let new = with_check("91184019800101001");
        assert_eq!(
            parse_foreign_permanent_residence(&new, TODAY),
            Ok(Some(date!(1980 - 01 - 01)))
        );
    }

    #[test]
    fn invalid_foreign_permanent_resident_ids_say_what_is_wrong() {
        use IdNumberError as E;
        let new = with_check("91184019800101001");
        let wrong_check = if new.ends_with('0') { "1" } else { "0" };
        let cases: Vec<(String, IdNumberError)> = vec![
            (
                "USA31018010100".into(),
                E::Length {
                    expected: "15 or 18",
                    actual: 14,
                },
            ),
            (
                "US1310180101001".into(),
                E::BadCharacter {
                    position: 3,
                    found: '1',
                    expected: "a letter",
                },
            ),
            (
                "USA3101801010O1".into(),
                E::BadCharacter {
                    position: 14,
                    found: 'O',
                    expected: "a digit",
                },
            ),
            (
                new[..17].to_owned() + wrong_check,
                E::CheckDigit {
                    expected: new.chars().last().unwrap(),
                    found: wrong_check.chars().next().unwrap(),
                },
            ),
            (with_check("91184019801301001"), E::ImpossibleBirthDate),
            (with_check("91184020300101001"), E::BirthDateInFuture),
            (
                "11010519491231002X".into(),
                E::WrongDocumentType {
                    likely: IdType::ResidentId,
                },
            ),
            (
                with_check("83000019851103002"),
                E::WrongDocumentType {
                    likely: IdType::HmtResidencePermit,
                },
            ),
            (
                "110105194912310021".into(),
                E::BadCharacter {
                    position: 1,
                    found: '1',
                    expected: "9",
                },
            ),
            (
                with_check("01184019800101001"),
                E::BadCharacter {
                    position: 1,
                    found: '0',
                    expected: "9",
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(
                parse_foreign_permanent_residence(&number, TODAY),
                Err(expected),
                "{number}"
            );
        }
    }
}
