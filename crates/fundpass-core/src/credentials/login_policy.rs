//! The login password: what a member may choose, and the validated value.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::blocklist;
use super::context::{PolicyContext, ascii_digits, tail};
use super::hasher::MAX_SECRET_BYTES;
use super::reason::PolicyViolation;

/// The rules a new login password must meet, configurable per deployment.
///
/// Two presets: [`standard`](Self::standard) (length plus blocklist, the NIST and
/// OWASP advice) and [`beijing_eight`](Self::beijing_eight) (the Beijing housing
/// provident fund's "8 letters and digits", for deployments that must match it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPasswordPolicy {
    /// Fewest code points, after NFKC normalisation.
    pub min_len: usize,
    /// Most code points, after NFKC normalisation. Passwords are never truncated.
    pub max_len: usize,
    /// At least one letter and one digit.
    pub require_letter_and_digit: bool,
    /// An exact length that replaces `min_len` and `max_len` when set.
    pub exact_len: Option<usize>,
    /// How many previous passwords may not be reused (checked by the caller with
    /// [`reused`](super::reused)).
    pub history: usize,
    /// Only `A-Z`, `a-z` and `0-9` are allowed (the Beijing rule).
    #[serde(default)]
    pub ascii_alphanumeric_only: bool,
}

impl LoginPasswordPolicy {
    /// Letters and digits, 8 to 64 code points, any Unicode.
    ///
    /// DESIGN.md says 8-32; the maximum is 64 because NIST SP 800-63B and ASVS 6.2.9
    /// require that at least 64 characters be allowed (a CJK passphrase reaches 32
    /// quickly). The hasher accepts up to 1024 bytes, so 64 code points always fit.
    pub fn standard() -> Self {
        Self {
            min_len: 8,
            max_len: 64,
            require_letter_and_digit: true,
            exact_len: None,
            history: 5,
            ascii_alphanumeric_only: false,
        }
    }

    /// Exactly 8 ASCII letters and digits with at least one of each: the rule of the
    /// Beijing housing provident fund, for deployments that must keep it.
    pub fn beijing_eight() -> Self {
        Self {
            min_len: 8,
            max_len: 8,
            require_letter_and_digit: true,
            exact_len: Some(8),
            history: 5,
            ascii_alphanumeric_only: true,
        }
    }

    /// Every reason `raw` is refused under this policy for this member (empty when it
    /// is acceptable). The history rule is not checked here: it needs the stored hashes.
    pub fn check(&self, raw: &str, ctx: &PolicyContext<'_>) -> Vec<PolicyViolation> {
        // Cheap refusal of absurd input before normalising it; 64 code points of any
        // script fit well within this bound.
        if raw.len() > MAX_SECRET_BYTES {
            return vec![PolicyViolation::TooLong { max: self.upper() }];
        }
        let normalized = Zeroizing::new(raw.nfkc().collect::<String>());
        let lower = Zeroizing::new(normalized.to_lowercase());
        let mut found = Vec::new();
        self.check_length(&normalized, &mut found);
        self.check_characters(&normalized, &mut found);
        if blocklist::is_common(&lower) {
            found.push(PolicyViolation::CommonPassword);
        }
        check_context(&lower, ctx, &mut found);
        if blocklist::is_site_word(&lower) {
            found.push(PolicyViolation::SiteWord);
        }
        if blocklist::has_repeated_run(&lower) {
            found.push(PolicyViolation::RepeatedCharacter);
        }
        if blocklist::has_sequence(&lower) {
            found.push(PolicyViolation::Sequence);
        }
        found
    }

    fn lower(&self) -> usize {
        self.exact_len.unwrap_or(self.min_len)
    }

    fn upper(&self) -> usize {
        self.exact_len.unwrap_or(self.max_len)
    }

    fn check_length(&self, normalized: &str, found: &mut Vec<PolicyViolation>) {
        let len = normalized.chars().count();
        if len < self.lower() {
            found.push(PolicyViolation::TooShort { min: self.lower() });
        } else if len > self.upper() {
            found.push(PolicyViolation::TooLong { max: self.upper() });
        }
    }

    fn check_characters(&self, normalized: &str, found: &mut Vec<PolicyViolation>) {
        let bad = normalized.chars().any(|c| {
            is_invisible(c) || (self.ascii_alphanumeric_only && !c.is_ascii_alphanumeric())
        });
        if bad {
            found.push(PolicyViolation::BadCharacter);
        }
        if !self.require_letter_and_digit {
            return;
        }
        let ascii = self.ascii_alphanumeric_only;
        let letter = |c: char| {
            if ascii {
                c.is_ascii_alphabetic()
            } else {
                c.is_alphabetic()
            }
        };
        let digit = |c: char| {
            if ascii {
                c.is_ascii_digit()
            } else {
                c.is_numeric()
            }
        };
        if !normalized.chars().any(letter) {
            found.push(PolicyViolation::NeedsLetter);
        }
        if !normalized.chars().any(digit) {
            found.push(PolicyViolation::NeedsDigit);
        }
    }
}

impl Default for LoginPasswordPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

/// Control characters and the invisible format characters that make a password
/// impossible to type again (zero-width spaces and joiners, direction marks, BOM).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// The member's own data inside the password: ID number, phone, birth date, account
/// number and name.
fn check_context(lower: &str, ctx: &PolicyContext<'_>, found: &mut Vec<PolicyViolation>) {
    // The whole number, its last six characters, or its last six digits (which differ
    // when the number ends in the check character X).
    let id_forms = [
        ctx.id_chars(),
        ctx.id_chars().map(|id| tail(&id, 6).to_owned()),
        ctx.id_digits().map(|d| tail(&d, 6).to_owned()),
    ];
    if id_forms
        .iter()
        .flatten()
        .any(|form| form.len() >= 6 && lower.contains(form.as_str()))
    {
        found.push(PolicyViolation::ContainsIdNumber);
    }
    if let Some(phone) = ctx.phone_digits().filter(|p| p.len() >= 6)
        && lower.contains(tail(&phone, 8))
    {
        found.push(PolicyViolation::ContainsPhone);
    }
    if let Some(full) = ctx.birth_yyyymmdd() {
        let short = tail(&full, 6);
        if lower.contains(full.as_str())
            || lower.contains(short)
            || ascii_digits(lower).contains(full.as_str())
        {
            found.push(PolicyViolation::ContainsBirthDate);
        }
    }
    if let Some(account) = ctx.account_chars().filter(|a| a.len() >= 6)
        && lower.contains(account.as_str())
    {
        found.push(PolicyViolation::ContainsAccountNumber);
    }
    if let Some(name) = ctx.name_chars().filter(|n| n.chars().count() >= 2)
        && lower.contains(name.as_str())
    {
        found.push(PolicyViolation::ContainsName);
    }
}

/// A login password that met the policy, NFKC-normalised, held so it cannot be
/// logged or serialised by accident.
pub struct LoginPassword(SecretString);

impl LoginPassword {
    /// Checks `raw` against `policy` for this member and keeps the normalised form.
    ///
    /// Returns every violation at once so the member can fix them together.
    pub fn parse(
        raw: &str,
        policy: &LoginPasswordPolicy,
        ctx: &PolicyContext<'_>,
    ) -> Result<Self, Vec<PolicyViolation>> {
        let found = policy.check(raw, ctx);
        if found.is_empty() {
            Ok(Self(SecretString::from(raw.nfkc().collect::<String>())))
        } else {
            Err(found)
        }
    }

    /// The normalised password, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for LoginPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
#[path = "login_policy_tests.rs"]
mod tests;
