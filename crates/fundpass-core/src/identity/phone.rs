//! Mainland China mobile numbers (中心留存手机号): the phone on file that receives SMS codes.

use super::clean::{MAX_INPUT_CHARS, Refusal, clean};

/// A mainland mobile number: 11 digits matching `1[3-9]` then 9 digits.
///
/// Holding one means the number was parsed, so SMS gateways and lookups never see raw
/// input. Its `Debug` shows the masked form only and it cannot be serialised.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// Why a mobile number was refused, in words a member understands. No message repeats the
/// number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The input was longer than [`MAX_INPUT_CHARS`] and was not looked at.
    #[error("this is too long to be a mobile number (more than {MAX_INPUT_CHARS} characters)")]
    TooLong,
    /// Nothing but spaces and hyphens was entered.
    #[error("enter the mobile number")]
    Empty,
    /// Not 11 digits once the country code is removed.
    #[error("a mobile number has 11 digits, but {actual} were entered")]
    Length { actual: usize },
    /// A character other than a digit (or a leading `+`).
    #[error("character {position} is {found:?}, but only digits are allowed")]
    BadCharacter {
        /// 1-based, counted after spaces and hyphens are removed.
        position: usize,
        found: char,
    },
    /// 11 digits, but not a mobile number (landlines and other ranges).
    #[error("this is not a mainland mobile number: mobile numbers start with 13 to 19")]
    NotMobile,
    /// A country code other than +86.
    #[error("only mainland China mobile numbers (+86) can be used")]
    ForeignNumber,
}

impl PhoneError {
    /// A stable reason code for the API, logs and audit rows.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::Empty => "empty",
            Self::Length { .. } => "bad_length",
            Self::BadCharacter { .. } => "bad_character",
            Self::NotMobile => "not_mobile",
            Self::ForeignNumber => "foreign_number",
        }
    }
}

impl From<Refusal> for PhoneError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::TooLong => Self::TooLong,
            Refusal::Empty => Self::Empty,
        }
    }
}

/// Number ranges that deserve caution: they are easier to obtain anonymously and are more
/// often behind fraud, so imports and flows may flag them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneRisk {
    /// Resold by a virtual operator (170, 171, 162, 165, 167).
    VirtualOperator,
    /// A satellite service (174, 1349, 1619).
    Satellite,
}

impl Phone {
    /// Checks `raw` as a mainland mobile number. Spaces, hyphens and full-width characters
    /// are forgiven, and a `+86`, `0086` or `86` country code is removed.
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let cleaned = clean(raw, &['-'])?;
        let national = strip_country_code(&cleaned)?;
        let offset = cleaned.len() - national.len();
        if let Some((index, found)) = national
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(PhoneError::BadCharacter {
                position: offset + index + 1,
                found,
            });
        }
        if national.len() != 11 {
            return Err(PhoneError::Length {
                actual: national.len(),
            });
        }
        match national.as_bytes() {
            [b'1', b'3'..=b'9', ..] => Ok(Self(national.to_owned())),
            _ => Err(PhoneError::NotMobile),
        }
    }

    /// The 11 digits, the form that is encrypted and blind-indexed.
    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// The form shown to people, as in `138****5678`.
    pub fn masked(&self) -> String {
        let head = self.0.get(..3).unwrap_or_default();
        let tail = self.0.get(7..).unwrap_or_default();
        format!("{head}****{tail}")
    }

    /// The last six digits, which a transaction password must not be.
    pub fn last_six(&self) -> &str {
        self.0.get(5..).unwrap_or_default()
    }

    /// Whether the number is in a range that deserves caution.
    pub fn risk(&self) -> Option<PhoneRisk> {
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| self.0.starts_with(p));
        if starts(&["174", "1349", "1619"]) {
            Some(PhoneRisk::Satellite)
        } else if starts(&["170", "171", "162", "165", "167"]) {
            Some(PhoneRisk::VirtualOperator)
        } else {
            None
        }
    }
}

/// Removes a `+86`, `0086` or `86` country code. A bare `86` is removed only when what
/// follows starts with 1 and the whole is longer than 11 digits, since no mobile number
/// starts with 86. Any other international prefix is a foreign number.
fn strip_country_code(cleaned: &str) -> Result<&str, PhoneError> {
    if let Some(rest) = cleaned.strip_prefix("+86") {
        return Ok(rest);
    }
    if let Some(rest) = cleaned.strip_prefix("0086") {
        return Ok(rest);
    }
    let bytes = cleaned.as_bytes();
    if matches!(bytes, [b'+', b'0'..=b'9', ..]) || (bytes.starts_with(b"00") && bytes.len() > 4) {
        return Err(PhoneError::ForeignNumber);
    }
    match cleaned.strip_prefix("86") {
        Some(rest) if cleaned.len() > 11 && rest.starts_with('1') => Ok(rest),
        _ => Ok(cleaned),
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Phone").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_accepted_in_the_ways_members_write_them() {
        for raw in [
            "13812345678",
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "0086 138-1234-5678",
            "138-1234-5678",
            " １３８１２３４５６７８ ",
            "＋８６\u{3000}13812345678",
        ] {
            let phone = Phone::parse(raw).unwrap();
            assert_eq!(phone.normalised(), "13812345678", "{raw}");
        }
    }

    #[test]
    fn every_mobile_prefix_from_13_to_19_is_accepted() {
        for second in 3..=9 {
            let raw = format!("1{second}012345678");
            assert_eq!(Phone::parse(&raw).unwrap().normalised(), raw);
        }
    }

    #[test]
    fn invalid_numbers_say_what_is_wrong() {
        use PhoneError as E;
        let cases = [
            ("", E::Empty),
            (" - ", E::Empty),
            ("12812345678", E::NotMobile),
            ("10012345678", E::NotMobile),
            ("01012345678", E::NotMobile),
            ("+1 2025550123", E::ForeignNumber),
            ("+852 9123 4567", E::ForeignNumber),
            ("001 202 555 0123", E::ForeignNumber),
            ("1381234567", E::Length { actual: 10 }),
            ("138123456789", E::Length { actual: 12 }),
            ("+86 138 1234 567", E::Length { actual: 10 }),
            ("86 138 1234 567", E::Length { actual: 10 }),
            (
                "138a2345678",
                E::BadCharacter {
                    position: 4,
                    found: 'a',
                },
            ),
            (
                "+86 138.1234.5678",
                E::BadCharacter {
                    position: 7,
                    found: '.',
                },
            ),
            (
                "(138)12345678",
                E::BadCharacter {
                    position: 1,
                    found: '(',
                },
            ),
            (
                "+",
                E::BadCharacter {
                    position: 1,
                    found: '+',
                },
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(Phone::parse(raw), Err(expected), "{raw:?}");
        }
        assert_eq!(Phone::parse(&"1".repeat(65)), Err(E::TooLong));
    }

    #[test]
    fn a_phone_is_shown_masked_and_gives_its_last_six_digits() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(phone.last_six(), "345678");
        assert_eq!(format!("{phone:?}"), r#"Phone("138****5678")"#);
    }

    #[test]
    fn virtual_operator_and_satellite_ranges_are_flagged() {
        let cases = [
            ("13812345678", None),
            ("17012345678", Some(PhoneRisk::VirtualOperator)),
            ("17112345678", Some(PhoneRisk::VirtualOperator)),
            ("16212345678", Some(PhoneRisk::VirtualOperator)),
            ("16512345678", Some(PhoneRisk::VirtualOperator)),
            ("16712345678", Some(PhoneRisk::VirtualOperator)),
            ("17400012345", Some(PhoneRisk::Satellite)),
            ("13490012345", Some(PhoneRisk::Satellite)),
            ("16190012345", Some(PhoneRisk::Satellite)),
            ("13412345678", None),
            ("16612345678", None),
        ];
        for (raw, risk) in cases {
            assert_eq!(Phone::parse(raw).unwrap().risk(), risk, "{raw}");
        }
    }

    #[test]
    fn every_error_has_its_own_code_and_no_message_repeats_the_number() {
        use PhoneError as E;
        let all = [
            E::TooLong,
            E::Empty,
            E::Length { actual: 10 },
            E::BadCharacter {
                position: 1,
                found: 'a',
            },
            E::NotMobile,
            E::ForeignNumber,
        ];
        let mut codes: Vec<_> = all.iter().map(PhoneError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for raw in ["12812345678", "1381234567", "+1 2025550123", "138a2345678"] {
            let message = Phone::parse(raw).unwrap_err().to_string();
            assert!(!message.contains(&raw[..7]), "{message}");
        }
    }
}
