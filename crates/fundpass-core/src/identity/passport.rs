//! Passports, Chinese or foreign.

use super::IdNumberError;
use super::clean::first_bad_character;

/// Validates a passport number (already cleaned): 5 to 17 letters and digits. Issuing
/// countries use different layouts and most carry no check character in the number itself,
/// so nothing more is checked.
pub(super) fn parse_passport(value: &str) -> Result<(), IdNumberError> {
    let actual = value.chars().count();
    if !(5..=17).contains(&actual) {
        return Err(IdNumberError::Length {
            expected: "5 to 17",
            actual,
        });
    }
    first_bad_character(value, |_, c| {
        if c.is_ascii_alphanumeric() {
            Ok(())
        } else {
            Err("a letter or a digit")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passports_are_5_to_17_letters_and_digits() {
        for ok in [
            "E12345678",
            "EA1234567",
            "12345",
            "123456789ABCDEFGH",
            "K1234567",
        ] {
            assert_eq!(parse_passport(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_passports_say_what_is_wrong() {
        use IdNumberError as E;
        let cases = [
            (
                "E123",
                E::Length {
                    expected: "5 to 17",
                    actual: 4,
                },
            ),
            (
                "123456789ABCDEFGHI",
                E::Length {
                    expected: "5 to 17",
                    actual: 18,
                },
            ),
            (
                "E1234-567",
                E::BadCharacter {
                    position: 6,
                    found: '-',
                    expected: "a letter or a digit",
                },
            ),
            (
                "护照12345",
                E::BadCharacter {
                    position: 1,
                    found: '护',
                    expected: "a letter or a digit",
                },
            ),
        ];
        for (number, expected) in cases {
            assert_eq!(parse_passport(number), Err(expected), "{number}");
        }
    }
}
