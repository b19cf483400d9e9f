//! Resident ID numbers (GB 11643-1999) and the residence permits for Hong Kong, Macao and
//! Taiwan residents, which use the same 18-character layout and check character.

use time::Date;

use super::birth::parse_birth_date;
use super::clean::{digit, first_bad_character};
use super::region::{check_resident_province, has_residence_permit_prefix, is_mainland_province};
use super::{IdNumberError, IdType};

/// ISO 7064 MOD 11-2 weights for the 17 leading digits: 2^(18-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum modulo 11.
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";

/// The ISO 7064 MOD 11-2 check character of 17 ASCII digits; `None` for anything else.
pub(super) fn mod11_2_check_character(body: &[u8]) -> Option<char> {
    if body.len() != WEIGHTS.len() || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARACTERS
        .get(sum as usize % 11)
        .map(|&c| char::from(c))
}

/// Checks the 18-character layout shared by resident-style numbers: 17 digits then a digit
/// or `X`. Once it passes, the value is ASCII and can be sliced by byte.
pub(super) fn check_layout(value: &str) -> Result<(), IdNumberError> {
    let actual = value.chars().count();
    if actual != 18 {
        return Err(IdNumberError::Length {
            expected: "18",
            actual,
        });
    }
    first_bad_character(value, |index, c| match index {
        17 if c.is_ascii_digit() || c == 'X' => Ok(()),
        17 => Err("a digit or X"),
        _ => digit(c),
    })
}

/// Compares the last character with the MOD 11-2 check character of the first 17.
pub(super) fn check_check_character(value: &str) -> Result<(), IdNumberError> {
    let bytes = value.as_bytes();
    let expected = bytes.get(..17).and_then(mod11_2_check_character);
    match (expected, bytes.get(17)) {
        (Some(expected), Some(&found)) if char::from(found) == expected => Ok(()),
        (Some(expected), Some(&found)) => Err(IdNumberError::CheckDigit {
            expected,
            found: char::from(found),
        }),
        _ => Err(IdNumberError::Length {
            expected: "18",
            actual: value.chars().count(),
        }),
    }
}

/// The date of birth in characters 7 to 14 of a number that passed [`check_layout`].
pub(super) fn birth_date_at_7(value: &str, today: Date) -> Result<Date, IdNumberError> {
    parse_birth_date(value.get(6..14).unwrap_or_default(), today)
}

/// Validates a resident ID number (already cleaned) and returns the date of birth in it.
///
/// Checked: the length (an all-digit 15-character number is the first-generation form and
/// is refused with its own message), the layout, a province-level region code, the date
/// of birth, and the check character. The 3-digit sequence number carries no rule.
pub(super) fn parse_resident_id(value: &str, today: Date) -> Result<Date, IdNumberError> {
    if value.len() == 15 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdNumberError::OldResidentId);
    }
    if let Some(likely) = other_document_than_resident_id(value) {
        return Err(IdNumberError::WrongDocumentType { likely });
    }
    check_layout(value)?;
    check_resident_province(value.get(..2).unwrap_or_default())?;
    let born = birth_date_at_7(value, today)?;
    check_check_character(value)?;
    Ok(born)
}

/// Numbers that are not resident ID numbers but are well formed for another document:
/// residence permits for Hong Kong, Macao and Taiwan residents (810000, 820000, 830000)
/// and new foreign permanent resident IDs (starting with 9), both with a correct check
/// character so that a mistyped first digit is not mistaken for them, and old foreign
/// permanent resident IDs (3 letters then 12 digits).
fn other_document_than_resident_id(value: &str) -> Option<IdType> {
    let bytes = value.as_bytes();
    let adds_up = || check_check_character(value).is_ok();
    match bytes.len() {
        18 if has_residence_permit_prefix(value) && adds_up() => Some(IdType::HmtResidencePermit),
        18 if value.starts_with('9') && adds_up() => Some(IdType::ForeignPermanentResidence),
        15 if bytes.iter().take(3).all(u8::is_ascii_uppercase)
            && bytes.iter().skip(3).all(u8::is_ascii_digit) =>
        {
            Some(IdType::ForeignPermanentResidence)
        }
        _ => None,
    }
}

/// Validates the number of a residence permit for Hong Kong, Macao or Taiwan residents
/// (already cleaned) and returns the date of birth in it. The layout, date of birth and
/// check character follow GB 11643-1999; the first six digits must be 810000 (Hong Kong),
/// 820000 (Macao) or 830000 (Taiwan).
pub(super) fn parse_residence_permit(value: &str, today: Date) -> Result<Date, IdNumberError> {
    check_layout(value)?;
    if !has_residence_permit_prefix(value) {
        let adds_up = check_check_character(value).is_ok();
        return Err(if value.starts_with('9') && adds_up {
            IdNumberError::WrongDocumentType {
                likely: IdType::ForeignPermanentResidence,
            }
        } else if adds_up && is_mainland_province(value.get(..2).unwrap_or_default()) {
            IdNumberError::WrongDocumentType {
                likely: IdType::ResidentId,
            }
        } else {
            IdNumberError::NotResidencePermitRegion
        });
    }
    let born = birth_date_at_7(value, today)?;
    check_check_character(value)?;
    Ok(born)
}

#[cfg(test)]
pub(super) mod tests {
    use time::macros::date;

    use super::*;

    pub(crate) const TODAY: Date = date!(2025 - 06 - 01);

    /// Completes 17 digits with their check character.
    pub(crate) fn with_check(body: &str) -> String {
        let check = mod11_2_check_character(body.as_bytes()).unwrap();
        format!("{body}{check}")
    }

    #[test]
    fn the_standard_test_vectors_have_the_right_check_characters() {
        assert_eq!(mod11_2_check_character(b"11010519491231002"), Some('X'));
        assert_eq!(mod11_2_check_character(b"44052418800101001"), Some('4'));
        assert_eq!(mod11_2_check_character(b"1101051949123100"), None);
        assert_eq!(mod11_2_check_character(b"1101051949123100A"), None);
    }

    #[test]
    fn valid_resident_ids_give_their_date_of_birth() {
        let cases = [
            ("11010519491231002X", date!(1949 - 12 - 31)),
            ("440524188001010014", date!(1880 - 01 - 01)),
            (&with_check("81010119900101123"), date!(1990 - 01 - 01)),
            (&with_check("71000020000229123"), date!(2000 - 02 - 29)),
            (&with_check("65010120250601001"), TODAY),
        ];
        for (number, born) in cases {
            assert_eq!(parse_resident_id(number, TODAY), Ok(born), "{number}");
        }
    }

    #[test]
    fn invalid_resident_ids_say_what_is_wrong() {
        use IdNumberError as E;
        let cases: Vec<(String, IdNumberError)> = vec![
            ("110105491231002".into(), E::OldResidentId),
            (
                "11010519491231002".into(),
                E::Length {
                    expected: "18",
                    actual: 17,
                },
            ),
            (
                "11010519491231002XX".into(),
                E::Length {
                    expected: "18",
                    actual: 19,
                },
            ),
            (
                "11010519491231002Y".into(),
                E::BadCharacter {
                    position: 18,
                    found: 'Y',
                    expected: "a digit or X",
                },
            ),
            (
                "1101051949123100X2".into(),
                E::BadCharacter {
                    position: 17,
                    found: 'X',
                    expected: "a digit",
                },
            ),
            (
                "11O10519491231002X".into(),
                E::BadCharacter {
                    position: 3,
                    found: 'O',
                    expected: "a digit",
                },
            ),
            (
                "110105194912310021".into(),
                E::CheckDigit {
                    expected: 'X',
                    found: '1',
                },
            ),
            (
                "440524188001010015".into(),
                E::CheckDigit {
                    expected: '4',
                    found: '5',
                },
            ),
            (
                with_check("20010519491231002"),
                E::UnknownRegion { code: "20".into() },
            ),
            (
                "91010519491231002X".into(),
                E::UnknownRegion { code: "91".into() },
            ),
            (
                "83000019491231002X".into(),
                E::UnknownRegion { code: "83".into() },
            ),
            (
                with_check("00000019491231002"),
                E::UnknownRegion { code: "00".into() },
            ),
            (
                with_check("83010119491231002"),
                E::UnknownRegion { code: "83".into() },
            ),
            (with_check("11010519491331002"), E::ImpossibleBirthDate),
            (with_check("11010519490230002"), E::ImpossibleBirthDate),
            (with_check("11010519000229002"), E::ImpossibleBirthDate),
            (with_check("11010520250602002"), E::BirthDateInFuture),
            (with_check("11010518691231002"), E::BirthDateTooEarly),
            (
                with_check("83000019900101123"),
                E::WrongDocumentType {
                    likely: IdType::HmtResidencePermit,
                },
            ),
            (
                with_check("81000019900101123"),
                E::WrongDocumentType {
                    likely: IdType::HmtResidencePermit,
                },
            ),
            (
                with_check("91184019800101001"),
                E::WrongDocumentType {
                    likely: IdType::ForeignPermanentResidence,
                },
            ),
            (
                "USA310180101001".into(),
                E::WrongDocumentType {
                    likely: IdType::ForeignPermanentResidence,
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(parse_resident_id(&number, TODAY), Err(expected), "{number}");
        }
    }

    #[test]
    fn valid_residence_permits_give_their_date_of_birth() {
        for prefix in ["810000", "820000", "830000"] {
            let number = with_check(&format!("{prefix}19851103002"));
            assert_eq!(
                parse_residence_permit(&number, TODAY),
                Ok(date!(1985 - 11 - 03)),
                "{number}"
            );
        }
    }

    #[test]
    fn invalid_residence_permits_say_what_is_wrong() {
        use IdNumberError as E;
        let good = with_check("81000019851103002");
        let mut bad_check = good.clone();
        let last = if bad_check.ends_with('0') { "1" } else { "0" };
        bad_check.replace_range(17.., last);
        let cases: Vec<(String, IdNumberError)> = vec![
            (
                good[..17].to_owned(),
                E::Length {
                    expected: "18",
                    actual: 17,
                },
            ),
            (with_check("81000119851103002"), E::NotResidencePermitRegion),
            (with_check("84000019851103002"), E::NotResidencePermitRegion),
            (with_check("71000019851103002"), E::NotResidencePermitRegion),
            (
                "11010519491231002X".into(),
                E::WrongDocumentType {
                    likely: IdType::ResidentId,
                },
            ),
            (
                with_check("91184019800101001"),
                E::WrongDocumentType {
                    likely: IdType::ForeignPermanentResidence,
                },
            ),
            ("110105194912310021".into(), E::NotResidencePermitRegion),
            (with_check("82000019851303002"), E::ImpossibleBirthDate),
            (with_check("82000020300101002"), E::BirthDateInFuture),
            (
                bad_check,
                E::CheckDigit {
                    expected: good.chars().last().unwrap(),
                    found: last.chars().next().unwrap(),
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(
                parse_residence_permit(&number, TODAY),
                Err(expected),
                "{number}"
            );
        }
    }
}
