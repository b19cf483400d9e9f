//! The 6-digit transaction password (交易密码) that confirms withdrawals and other
//! money movements.
//!
//! Six digits are only 10^6 values, so the rules refuse what an attacker tries first
//! (NIST treats such a PIN as an activation secret with a blocklist): one digit
//! repeated, runs, short repeated patterns, well-known keypad shapes, and the member's
//! birth date or the tail of their ID or phone number. The "not the previous one"
//! rule needs the stored hash and is the caller's, through [`reused`](super::reused).

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::context::{PolicyContext, tail};
use super::reason::PolicyViolation;

/// Number of digits in a transaction password.
pub const TRANSACTION_PASSWORD_LEN: usize = 6;

/// Well-known keypad shapes and sayings that no pattern rule catches.
const KEYPAD_SHAPES: [&str; 12] = [
    "147258", "258369", "369258", "147852", "741852", "852963", "963852", "159357", "159753",
    "789456", "852456", "521314",
];

/// A transaction password that met the rules, held so it cannot be logged.
pub struct TransactionPassword(SecretString);

impl TransactionPassword {
    /// Checks `raw` for this member. Full-width digits (from Chinese input methods) are
    /// accepted and stored as ASCII; anything else that is not six digits is refused
    /// with `not_six_digits` alone, since the other rules say nothing about it.
    pub fn parse(raw: &str, ctx: &PolicyContext<'_>) -> Result<Self, Vec<PolicyViolation>> {
        // Anything this long cannot normalise to six digits; refuse it before NFKC.
        if raw.len() > 64 {
            return Err(vec![PolicyViolation::NotSixDigits]);
        }
        let normalized = Zeroizing::new(raw.nfkc().collect::<String>());
        let digits: Vec<u8> = normalized.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        if digits.len() != TRANSACTION_PASSWORD_LEN || digits.iter().any(|d| *d > 9) {
            return Err(vec![PolicyViolation::NotSixDigits]);
        }
        let found = violations(&normalized, &digits, ctx);
        if found.is_empty() {
            Ok(Self(SecretString::from(normalized.as_str())))
        } else {
            Err(found)
        }
    }

    /// The six ASCII digits, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for TransactionPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// All rule violations of six digits `pin` (as text and as values 0-9).
fn violations(pin: &str, d: &[u8], ctx: &PolicyContext<'_>) -> Vec<PolicyViolation> {
    let mut found = Vec::new();
    let all_same = d.iter().all(|x| *x == d[0]);
    if all_same {
        found.push(PolicyViolation::AllSameDigit);
    }
    let step = |delta: i8| {
        d.windows(2)
            .all(|p| i16::from(p[1]) - i16::from(p[0]) == i16::from(delta))
    };
    if step(1) || step(-1) {
        found.push(PolicyViolation::DigitRun);
    }
    if !all_same && (is_pattern(d) || KEYPAD_SHAPES.contains(&pin)) {
        found.push(PolicyViolation::DigitPattern);
    }
    if birth_forms(ctx).iter().any(|form| form == pin) {
        found.push(PolicyViolation::BirthDate);
    }
    if let Some(id) = ctx.id_digits().filter(|id| id.len() >= 6)
        && tail(&id, 6) == pin
    {
        found.push(PolicyViolation::IdNumberTail);
    }
    if let Some(phone) = ctx.phone_digits().filter(|p| p.len() >= 6)
        && tail(&phone, 6) == pin
    {
        found.push(PolicyViolation::PhoneTail);
    }
    found
}

/// `aabbcc` (112233), `ababab` (121212), `abcabc` (123123), `aaabbb` (111222) and
/// `abccba` (123321).
fn is_pattern(d: &[u8]) -> bool {
    let pairs = d[0] == d[1] && d[2] == d[3] && d[4] == d[5];
    let period2 = d[0] == d[2] && d[2] == d[4] && d[1] == d[3] && d[3] == d[5];
    let period3 = d[0] == d[3] && d[1] == d[4] && d[2] == d[5];
    let halves = d[0] == d[1] && d[1] == d[2] && d[3] == d[4] && d[4] == d[5];
    let mirror = d[0] == d[5] && d[1] == d[4] && d[2] == d[3];
    pairs || period2 || period3 || halves || mirror
}

/// The birth date as six digits in the orders people use: `yyMMdd`, `MMddyy`,
/// `ddMMyy`.
fn birth_forms(ctx: &PolicyContext<'_>) -> Vec<String> {
    let Some(full) = ctx.birth_yyyymmdd() else {
        return Vec::new();
    };
    let (Some(yy), Some(mm), Some(dd)) = (full.get(2..4), full.get(4..6), full.get(6..8)) else {
        return Vec::new();
    };
    vec![
        format!("{yy}{mm}{dd}"),
        format!("{mm}{dd}{yy}"),
        format!("{dd}{mm}{yy}"),
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    fn member() -> PolicyContext<'static> {
        PolicyContext {
            id_number: Some("110105198507193816"),
            phone: Some("+86 139 1234 0759"),
            birth_date: Some(date!(1985 - 07 - 19)),
            account_no: None,
            name: None,
        }
    }

    fn codes(raw: &str) -> Vec<&'static str> {
        match TransactionPassword::parse(raw, &member()) {
            Ok(_) => Vec::new(),
            Err(found) => found.iter().map(PolicyViolation::code).collect(),
        }
    }

    #[test]
    fn easy_guesses_are_refused_with_their_reason() {
        assert_eq!(codes("111111"), vec!["all_same_digit"]);
        assert_eq!(codes("123456"), vec!["digit_run"]);
        assert_eq!(codes("654321"), vec!["digit_run"]);
        assert_eq!(codes("112233"), vec!["digit_pattern"]);
        assert_eq!(codes("121212"), vec!["digit_pattern"]);
        assert_eq!(codes("123123"), vec!["digit_pattern"]);
        assert_eq!(codes("111222"), vec!["digit_pattern"]);
        assert_eq!(codes("123321"), vec!["digit_pattern"]);
        assert_eq!(codes("147258"), vec!["digit_pattern"]);
    }

    #[test]
    fn only_strict_runs_count_as_runs() {
        assert!(codes("890123").is_empty());
        assert!(codes("124578").is_empty());
    }

    #[test]
    fn the_members_birth_date_is_refused_in_each_order() {
        assert_eq!(codes("850719"), vec!["birth_date"]);
        assert_eq!(codes("071985"), vec!["birth_date"]);
        assert_eq!(codes("190785"), vec!["birth_date"]);
        assert!(codes("851907").is_empty());
    }

    #[test]
    fn the_tails_of_the_id_and_phone_numbers_are_refused() {
        assert_eq!(codes("193816"), vec!["id_number_tail"]);
        assert_eq!(codes("340759"), vec!["phone_tail"]);
    }

    #[test]
    fn anything_but_six_digits_is_refused_alone() {
        for raw in [
            "abcde",
            "12345",
            "1234567",
            "12345a",
            " 83917",
            "８３９１７",
            "",
        ] {
            assert_eq!(codes(raw), vec!["not_six_digits"], "{raw:?}");
        }
    }

    #[test]
    fn full_width_digits_are_accepted_as_ascii() {
        let pin = TransactionPassword::parse("８３９１７４", &member()).expect("acceptable");
        assert_eq!(pin.expose(), "839174");
        assert_eq!(format!("{pin:?}"), "[redacted]");
    }

    #[test]
    fn several_reasons_are_reported_together() {
        let ctx = PolicyContext {
            phone: Some("13900123456"),
            ..member()
        };
        let found: Vec<_> = TransactionPassword::parse("123456", &ctx)
            .err()
            .unwrap_or_default()
            .iter()
            .map(PolicyViolation::code)
            .collect();
        assert_eq!(found, vec!["digit_run", "phone_tail"]);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(raw in "\\PC*") {
            let _ = TransactionPassword::parse(&raw, &member());
        }

        #[test]
        fn any_accepted_pin_is_six_ascii_digits(raw in "[0-9０-９]{6}") {
            if let Ok(pin) = TransactionPassword::parse(&raw, &member()) {
                prop_assert_eq!(pin.expose().len(), 6);
                prop_assert!(pin.expose().bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
