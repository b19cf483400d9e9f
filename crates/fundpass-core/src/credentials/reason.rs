//! Why a proposed password was refused: a stable code for the API and tests, and a
//! sentence in Chinese or English for the member.

/// The language of a message shown to a member.
///
/// Pages are in Simplified Chinese by default with English available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Simplified Chinese (the default).
    #[default]
    Zh,
    /// English.
    En,
}

/// One reason a proposed login or transaction password is refused.
///
/// The policies return every reason at once so the member can fix them all in one go;
/// [`PolicyViolation::code`] is what the API and tests match on and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyViolation {
    /// Fewer code points than the policy's minimum (or its exact length).
    TooShort {
        /// The minimum number of characters.
        min: usize,
    },
    /// More code points than the policy's maximum (or its exact length).
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// No letter although the policy requires one.
    NeedsLetter,
    /// No digit although the policy requires one.
    NeedsDigit,
    /// A control or invisible character, or one outside the policy's alphabet.
    BadCharacter,
    /// On the list of the most common passwords.
    CommonPassword,
    /// Contains the member's ID number or its last six characters.
    ContainsIdNumber,
    /// Contains the member's phone number or its last eight digits.
    ContainsPhone,
    /// Contains the member's birth date (YYYYMMDD or YYMMDD).
    ContainsBirthDate,
    /// Contains the member's fund account number.
    ContainsAccountNumber,
    /// Contains the member's name.
    ContainsName,
    /// Is the portal's or the fund's name with some digits or symbols.
    SiteWord,
    /// One character repeated six or more times in a row.
    RepeatedCharacter,
    /// Six or more letters or digits in alphabet or keyboard order.
    Sequence,
    /// A transaction password that is not exactly six digits.
    NotSixDigits,
    /// A transaction password of one digit repeated (111111).
    AllSameDigit,
    /// A transaction password counting up or down (123456, 654321).
    DigitRun,
    /// A transaction password made of a short repeated pattern (112233, 121212).
    DigitPattern,
    /// A transaction password that is the member's birth date.
    BirthDate,
    /// A transaction password equal to the last six digits of the ID number.
    IdNumberTail,
    /// A transaction password equal to the last six digits of the phone number.
    PhoneTail,
    /// The same as a recent password (checked by the caller against stored hashes).
    Reused {
        /// How many previous passwords are compared.
        last: usize,
    },
}

impl PolicyViolation {
    /// The stable reason code (`too_short`, `common_password`, …) used in API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::NeedsLetter => "needs_letter",
            Self::NeedsDigit => "needs_digit",
            Self::BadCharacter => "bad_character",
            Self::CommonPassword => "common_password",
            Self::ContainsIdNumber => "contains_id_number",
            Self::ContainsPhone => "contains_phone",
            Self::ContainsBirthDate => "contains_birth_date",
            Self::ContainsAccountNumber => "contains_account_number",
            Self::ContainsName => "contains_name",
            Self::SiteWord => "site_word",
            Self::RepeatedCharacter => "repeated_character",
            Self::Sequence => "sequence",
            Self::NotSixDigits => "not_six_digits",
            Self::AllSameDigit => "all_same_digit",
            Self::DigitRun => "digit_run",
            Self::DigitPattern => "digit_pattern",
            Self::BirthDate => "birth_date",
            Self::IdNumberTail => "id_number_tail",
            Self::PhoneTail => "phone_tail",
            Self::Reused { .. } => "reused",
        }
    }

    /// The sentence shown to the member, saying what to change.
    ///
    /// All texts live in this one match until the web layer's message files take
    /// them over.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en): (&str, &str) = match self {
            Self::TooShort { min } => {
                return match lang {
                    Lang::Zh => format!("密码至少需要 {min} 个字符。"),
                    Lang::En => format!("The password must have at least {min} characters."),
                };
            }
            Self::TooLong { max } => {
                return match lang {
                    Lang::Zh => format!("密码最多 {max} 个字符。"),
                    Lang::En => format!("The password can have at most {max} characters."),
                };
            }
            Self::Reused { last } => {
                return match (lang, last) {
                    (Lang::Zh, 1) => "新密码不能与当前密码相同。".to_owned(),
                    (Lang::Zh, n) => format!("新密码不能与最近 {n} 次使用过的密码相同。"),
                    (Lang::En, 1) => {
                        "The new password must differ from the current one.".to_owned()
                    }
                    (Lang::En, n) => {
                        format!("The new password must differ from your last {n} passwords.")
                    }
                };
            }
            Self::NeedsLetter => ("密码需要包含字母。", "The password needs a letter."),
            Self::NeedsDigit => ("密码需要包含数字。", "The password needs a digit."),
            Self::BadCharacter => (
                "密码含有不允许使用的字符。",
                "The password contains a character that is not allowed.",
            ),
            Self::CommonPassword => (
                "该密码过于常见，容易被猜到，请换一个。",
                "This password is too common and easy to guess; choose another.",
            ),
            Self::ContainsIdNumber => (
                "密码不能包含您的证件号码。",
                "The password must not contain your ID number.",
            ),
            Self::ContainsPhone => (
                "密码不能包含您的手机号码。",
                "The password must not contain your phone number.",
            ),
            Self::ContainsBirthDate => (
                "密码不能包含您的出生日期。",
                "The password must not contain your date of birth.",
            ),
            Self::ContainsAccountNumber => (
                "密码不能包含您的个人账号。",
                "The password must not contain your account number.",
            ),
            Self::ContainsName => (
                "密码不能包含您的姓名。",
                "The password must not contain your name.",
            ),
            Self::SiteWord => (
                "密码不能是本网站或公积金、社保等名称加数字。",
                "The password must not be the site's or the fund's name with digits.",
            ),
            Self::RepeatedCharacter => (
                "密码不能有同一字符连续重复 6 次或以上。",
                "The password must not repeat one character six times or more in a row.",
            ),
            Self::Sequence => (
                "密码不能包含 6 位或以上的连续字母、数字或键盘顺序（如 abcdef、123456、qwerty）。",
                "The password must not contain six or more letters or digits in sequence \
                 (such as abcdef, 123456 or qwerty).",
            ),
            Self::NotSixDigits => (
                "交易密码必须是 6 位数字。",
                "The transaction password must be exactly six digits.",
            ),
            Self::AllSameDigit => (
                "交易密码不能是 6 位相同的数字。",
                "The transaction password must not be one digit repeated.",
            ),
            Self::DigitRun => (
                "交易密码不能是连续递增或递减的数字（如 123456、654321）。",
                "The transaction password must not count up or down (such as 123456 or 654321).",
            ),
            Self::DigitPattern => (
                "交易密码过于简单（如 112233、121212、123123），请换一组数字。",
                "The transaction password is too simple a pattern (such as 112233, 121212 \
                 or 123123).",
            ),
            Self::BirthDate => (
                "交易密码不能是您的出生日期。",
                "The transaction password must not be your date of birth.",
            ),
            Self::IdNumberTail => (
                "交易密码不能是证件号码的后 6 位。",
                "The transaction password must not be the last six digits of your ID number.",
            ),
            Self::PhoneTail => (
                "交易密码不能是手机号码的后 6 位。",
                "The transaction password must not be the last six digits of your phone number.",
            ),
        };
        match lang {
            Lang::Zh => zh.to_owned(),
            Lang::En => en.to_owned(),
        }
    }
}

/// English, for logs and error chains; members see [`PolicyViolation::message`].
impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for PolicyViolation {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [PolicyViolation; 22] = [
        PolicyViolation::TooShort { min: 8 },
        PolicyViolation::TooLong { max: 64 },
        PolicyViolation::NeedsLetter,
        PolicyViolation::NeedsDigit,
        PolicyViolation::BadCharacter,
        PolicyViolation::CommonPassword,
        PolicyViolation::ContainsIdNumber,
        PolicyViolation::ContainsPhone,
        PolicyViolation::ContainsBirthDate,
        PolicyViolation::ContainsAccountNumber,
        PolicyViolation::ContainsName,
        PolicyViolation::SiteWord,
        PolicyViolation::RepeatedCharacter,
        PolicyViolation::Sequence,
        PolicyViolation::NotSixDigits,
        PolicyViolation::AllSameDigit,
        PolicyViolation::DigitRun,
        PolicyViolation::DigitPattern,
        PolicyViolation::BirthDate,
        PolicyViolation::IdNumberTail,
        PolicyViolation::PhoneTail,
        PolicyViolation::Reused { last: 5 },
    ];

    #[test]
    fn every_reason_has_a_distinct_code_and_both_messages() {
        let codes: std::collections::HashSet<&str> = ALL.iter().map(|v| v.code()).collect();
        assert_eq!(codes.len(), ALL.len());
        for v in ALL {
            let zh = v.message(Lang::Zh);
            let en = v.message(Lang::En);
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
            assert!(en.is_ascii() && en.ends_with('.'), "{en}");
        }
    }

    #[test]
    fn length_messages_name_the_limit() {
        assert!(
            PolicyViolation::TooShort { min: 8 }
                .message(Lang::Zh)
                .contains('8')
        );
        assert!(
            PolicyViolation::TooLong { max: 64 }
                .message(Lang::En)
                .contains("64")
        );
        assert!(
            PolicyViolation::Reused { last: 5 }
                .message(Lang::Zh)
                .contains('5')
        );
    }
}
