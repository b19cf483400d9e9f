//! Account numbers (个人账号) as the fund's core system issues them.

use serde::{Deserialize, Serialize};

/// A personal account number: 6 to 24 ASCII digits or upper-case letters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountNumber(String);

/// Why an account number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountNumberError {
    /// Empty after trimming.
    #[error("the account number is empty")]
    Empty,
    /// Too short or too long.
    #[error("an account number has 6 to 24 characters, this one has {0}")]
    Length(usize),
    /// A character other than a digit or a Latin letter.
    #[error("an account number has only digits and letters; found {0:?}")]
    BadCharacter(char),
}

impl AccountNumber {
    /// Shortest and longest accepted account numbers.
    pub const LENGTH: std::ops::RangeInclusive<usize> = 6..=24;

    /// Trims spaces, upper-cases letters and checks the form.
    pub fn parse(raw: &str) -> Result<Self, AccountNumberError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(AccountNumberError::Empty);
        }
        if let Some(bad) = trimmed.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(AccountNumberError::BadCharacter(bad));
        }
        let len = trimmed.len();
        if !Self::LENGTH.contains(&len) {
            return Err(AccountNumberError::Length(len));
        }
        Ok(Self(trimmed.to_ascii_uppercase()))
    }

    /// The normalised account number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountNumber {
    type Error = AccountNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AccountNumber> for String {
    fn from(value: AccountNumber) -> Self {
        value.0
    }
}

impl std::fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_are_trimmed_and_upper_cased() {
        assert_eq!(
            AccountNumber::parse(" 10012345ab ").unwrap().as_str(),
            "10012345AB"
        );
    }

    #[test]
    fn bad_account_numbers_say_what_is_wrong() {
        assert_eq!(AccountNumber::parse("  "), Err(AccountNumberError::Empty));
        assert_eq!(
            AccountNumber::parse("12345"),
            Err(AccountNumberError::Length(5))
        );
        assert_eq!(
            AccountNumber::parse("1234-5678"),
            Err(AccountNumberError::BadCharacter('-'))
        );
    }
}
