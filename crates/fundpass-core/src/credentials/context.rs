//! What the policies know about the member, so that a password cannot be guessed from
//! the member's own documents.

use time::Date;
use unicode_normalization::UnicodeNormalization;

/// The member's own data that a new password must not contain.
///
/// Plain strings and dates rather than the identity types, so the credentials rules can
/// be used (and tested) before a member record is parsed; every field is optional
/// because not every flow knows everything (a first login may not know the phone).
#[derive(Clone, Copy, Default)]
pub struct PolicyContext<'a> {
    /// The document number (居民身份证号码 or another document), as stored.
    pub id_number: Option<&'a str>,
    /// The mobile phone on file, with or without `+86`, spaces or dashes.
    pub phone: Option<&'a str>,
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// The fund account number (个人账号).
    pub account_no: Option<&'a str>,
    /// The member's name as written on the document.
    pub name: Option<&'a str>,
}

/// Shows only which fields are present: the values are personal data.
impl std::fmt::Debug for PolicyContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyContext")
            .field("id_number", &self.id_number.map(|_| "[redacted]"))
            .field("phone", &self.phone.map(|_| "[redacted]"))
            .field("birth_date", &self.birth_date.map(|_| "[redacted]"))
            .field("account_no", &self.account_no.map(|_| "[redacted]"))
            .field("name", &self.name.map(|_| "[redacted]"))
            .finish()
    }
}

impl PolicyContext<'_> {
    /// The document number lower-cased with separators removed (`x` for a final `X`).
    pub(crate) fn id_chars(&self) -> Option<String> {
        alphanumeric_lower(self.id_number?)
    }

    /// Only the ASCII digits of the document number.
    pub(crate) fn id_digits(&self) -> Option<String> {
        let digits = ascii_digits(self.id_number?);
        (!digits.is_empty()).then_some(digits)
    }

    /// The national phone number: digits only, without a leading `86` country code.
    pub(crate) fn phone_digits(&self) -> Option<String> {
        let digits = ascii_digits(self.phone?);
        let national = match digits.strip_prefix("86") {
            Some(rest) if digits.len() > 11 => rest.to_owned(),
            _ => digits,
        };
        (!national.is_empty()).then_some(national)
    }

    /// The account number lower-cased with separators removed.
    pub(crate) fn account_chars(&self) -> Option<String> {
        alphanumeric_lower(self.account_no?)
    }

    /// The name NFKC-normalised, lower-cased, without white space.
    pub(crate) fn name_chars(&self) -> Option<String> {
        let name: String = self
            .name?
            .nfkc()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        (!name.is_empty()).then_some(name)
    }

    /// The birth date as `YYYYMMDD`: from `birth_date`, or else from positions 7-14 of
    /// an 18-character resident ID number, which encode it.
    pub(crate) fn birth_yyyymmdd(&self) -> Option<String> {
        if let Some(date) = self.birth_date {
            return Some(format!(
                "{:04}{:02}{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            ));
        }
        let id = self.id_chars()?;
        let embedded = id.get(6..14)?;
        (id.len() == 18 && embedded.bytes().all(|b| b.is_ascii_digit()))
            .then(|| embedded.to_owned())
    }
}

/// Letters and digits only, NFKC-normalised and lower-cased; `None` when nothing is left.
fn alphanumeric_lower(s: &str) -> Option<String> {
    let kept: String = s
        .nfkc()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// Only the ASCII digits of `s` (after NFKC, so full-width digits count).
pub(crate) fn ascii_digits(s: &str) -> String {
    s.nfkc().filter(char::is_ascii_digit).collect()
}

/// The last `n` characters of an ASCII string (the whole string when shorter).
pub(crate) fn tail(s: &str, n: usize) -> &str {
    s.get(s.len().saturating_sub(n)..).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_phone_loses_its_country_code_and_separators() {
        let ctx = PolicyContext {
            phone: Some("+86 138-0013-8000"),
            ..Default::default()
        };
        assert_eq!(ctx.phone_digits().as_deref(), Some("13800138000"));
    }

    #[test]
    fn the_birth_date_comes_from_the_id_number_when_not_given() {
        let from_id = PolicyContext {
            id_number: Some("11010519491231002X"),
            ..Default::default()
        };
        assert_eq!(from_id.birth_yyyymmdd().as_deref(), Some("19491231"));
        let given = PolicyContext {
            birth_date: Some(date!(1990 - 03 - 07)),
            ..from_id
        };
        assert_eq!(given.birth_yyyymmdd().as_deref(), Some("19900307"));
    }

    #[test]
    fn debug_output_shows_no_personal_data() {
        let ctx = PolicyContext {
            id_number: Some("11010519491231002X"),
            phone: Some("13800138000"),
            name: Some("张三"),
            ..Default::default()
        };
        let shown = format!("{ctx:?}");
        assert!(!shown.contains("1380013"));
        assert!(!shown.contains("张三"));
        assert!(!shown.contains("110105"));
    }
}
