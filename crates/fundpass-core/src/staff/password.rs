//! The staff password policy: stricter than members' (staff passwords open the
//! console over many members), with a maximum age.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::credentials::MAX_SECRET_BYTES;
use crate::credentials::blocklist;

/// One reason a proposed staff password is refused; all are reported at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffPasswordViolation {
    /// Fewer characters than the minimum.
    TooShort { min: usize },
    /// More characters than the maximum.
    TooLong { max: usize },
    /// Fewer character classes (lower case, upper case, digit, symbol) than required.
    TooFewClasses { required: usize, found: usize },
    /// A control or invisible character.
    BadCharacter,
    /// A common password, or the portal's own name with digits and symbols.
    Common,
    /// Contains the staff member's user name.
    ContainsUsername,
}

impl StaffPasswordViolation {
    /// Stable code for tests and the console.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::TooFewClasses { .. } => "too_few_classes",
            Self::BadCharacter => "bad_character",
            Self::Common => "common_password",
            Self::ContainsUsername => "contains_username",
        }
    }
}

impl std::fmt::Display for StaffPasswordViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { min } => write!(f, "the password must have at least {min} characters"),
            Self::TooLong { max } => write!(f, "the password may have at most {max} characters"),
            Self::TooFewClasses { required, found } => write!(
                f,
                "the password must mix at least {required} of: lower-case letters, upper-case \
                 letters, digits, symbols (it has {found})"
            ),
            Self::BadCharacter => {
                f.write_str("the password contains a control or invisible character")
            }
            Self::Common => f.write_str("the password is too common or easy to guess"),
            Self::ContainsUsername => f.write_str("the password must not contain the user name"),
        }
    }
}

/// What a staff password must be, configurable per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPasswordPolicy {
    /// Fewest code points after NFKC normalisation.
    pub min_len: usize,
    /// Most code points after NFKC normalisation.
    pub max_len: usize,
    /// How many of the four classes (lower, upper, digit, symbol) must appear.
    pub min_classes: usize,
    /// Days after which the password must be changed (MLPS level 3 practice).
    pub max_age_days: u32,
}

impl Default for StaffPasswordPolicy {
    /// 12 to 64 characters, 3 of 4 classes, changed every 90 days.
    fn default() -> Self {
        Self {
            min_len: 12,
            max_len: 64,
            min_classes: 3,
            max_age_days: 90,
        }
    }
}

impl StaffPasswordPolicy {
    /// Every reason `raw` is refused for the staff account `username` (empty when it
    /// is acceptable).
    pub fn check(&self, raw: &str, username: &str) -> Vec<StaffPasswordViolation> {
        if raw.len() > MAX_SECRET_BYTES {
            return vec![StaffPasswordViolation::TooLong { max: self.max_len }];
        }
        let normalized = Zeroizing::new(raw.nfkc().collect::<String>());
        let lower = Zeroizing::new(normalized.to_lowercase());
        let mut found = Vec::new();
        let len = normalized.chars().count();
        if len < self.min_len {
            found.push(StaffPasswordViolation::TooShort { min: self.min_len });
        } else if len > self.max_len {
            found.push(StaffPasswordViolation::TooLong { max: self.max_len });
        }
        if normalized.chars().any(is_invisible) {
            found.push(StaffPasswordViolation::BadCharacter);
        }
        let classes = classes(&normalized);
        if classes < self.min_classes {
            found.push(StaffPasswordViolation::TooFewClasses {
                required: self.min_classes,
                found: classes,
            });
        }
        if is_common_base(&lower)
            || blocklist::is_site_word(&lower)
            || blocklist::has_repeated_run(&lower)
            || blocklist::has_sequence(&lower)
        {
            found.push(StaffPasswordViolation::Common);
        }
        let name = username.trim().to_lowercase();
        if name.chars().count() >= 3 && lower.contains(name.as_str()) {
            found.push(StaffPasswordViolation::ContainsUsername);
        }
        found
    }

    /// Whether a password set at `changed_at` is too old at `now`: the next login must
    /// change it before anything else.
    pub fn must_change(&self, changed_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        now - changed_at >= Duration::days(i64::from(self.max_age_days))
    }
}

/// How many of lower case, upper case, digit and symbol appear. Letters without case
/// (Chinese characters) count as symbols: they are outside every guessing alphabet.
fn classes(s: &str) -> usize {
    let lower = s.chars().any(char::is_lowercase);
    let upper = s.chars().any(char::is_uppercase);
    let digit = s.chars().any(char::is_numeric);
    let symbol = s
        .chars()
        .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_numeric() && !c.is_whitespace());
    [lower, upper, digit, symbol]
        .into_iter()
        .filter(|b| *b)
        .count()
}

/// Whether the password is a common one as typed, without its symbols
/// (`password123!` → `password123`), or without digits and symbols (`password`):
/// the mandatory classes are usually met by decorating a common word.
fn is_common_base(lower: &str) -> bool {
    let alnum = Zeroizing::new(
        lower
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>(),
    );
    let letters = Zeroizing::new(
        lower
            .chars()
            .filter(|c| c.is_alphabetic())
            .collect::<String>(),
    );
    blocklist::is_common(lower)
        || blocklist::is_common(&alnum)
        || (letters.chars().count() >= 4 && blocklist::is_common(&letters))
}

fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(raw: &str, user: &str) -> Vec<&'static str> {
        StaffPasswordPolicy::default()
            .check(raw, user)
            .iter()
            .map(|v| v.code())
            .collect()
    }

    #[test]
    fn a_long_mixed_password_is_accepted() {
        assert!(codes("Blue-Harbour-47", "wang.li").is_empty());
        assert!(codes("river7Lantern%", "wang.li").is_empty());
        assert!(codes("storm lantern 47 Q", "wang.li").is_empty());
    }

    #[test]
    fn short_passwords_are_refused_with_the_minimum() {
        let v = StaffPasswordPolicy::default().check("Ab1!xyzQ", "wang.li");
        assert_eq!(v, vec![StaffPasswordViolation::TooShort { min: 12 }]);
        assert!(v[0].to_string().contains("at least 12 characters"));
    }

    #[test]
    fn three_of_four_classes_are_required() {
        assert_eq!(codes("riverlanternstorm", "wang.li"), ["too_few_classes"]);
        assert_eq!(codes("riverlantern47x", "wang.li"), ["too_few_classes"]);
        assert!(codes("riverlantern47X", "wang.li").is_empty());
        assert!(codes("riverlantern47!", "wang.li").is_empty());
        assert!(codes("RIVERLANTERN47!", "wang.li").is_empty());
        let v = StaffPasswordPolicy::default().check("riverlantern47x", "wang.li");
        assert_eq!(
            v,
            vec![StaffPasswordViolation::TooFewClasses {
                required: 3,
                found: 2
            }]
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        assert!(codes("Password123!", "wang.li").contains(&"common_password"));
        assert!(codes("Fundpass@2024!", "wang.li").contains(&"common_password"));
        assert!(codes("Qwertyui12#X", "wang.li").contains(&"common_password"));
        assert!(codes("Aaaaaaaa1!xy", "wang.li").contains(&"common_password"));
    }

    #[test]
    fn the_user_name_may_not_appear_in_any_case() {
        assert_eq!(
            codes("Wang.Li-Harbour-47", "wang.li"),
            ["contains_username"]
        );
        assert!(codes("Wang.Li-Harbour-47", "zhao").is_empty());
    }

    #[test]
    fn invisible_characters_and_absurd_lengths_are_refused() {
        assert!(codes("Blue-Harbour-47\u{200B}", "x").contains(&"bad_character"));
        assert_eq!(codes(&"Ab1!".repeat(20), "x"), ["too_long"]);
        assert_eq!(codes(&"Ab1!".repeat(400), "x"), ["too_long"]);
    }

    #[test]
    fn a_password_expires_after_the_maximum_age() {
        let policy = StaffPasswordPolicy::default();
        let set = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap();
        assert!(!policy.must_change(set, set));
        assert!(!policy.must_change(set, set + Duration::days(89)));
        assert!(policy.must_change(set, set + Duration::days(90)));
        let strict = StaffPasswordPolicy {
            max_age_days: 30,
            ..policy
        };
        assert!(strict.must_change(set, set + Duration::days(30)));
    }
}
