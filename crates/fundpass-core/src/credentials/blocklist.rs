//! Guessable passwords: the common-password list, the portal's own words, repeated
//! characters and alphabet or keyboard sequences.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The common-password list shipped with the crate (see its header for the source).
const COMMON_PASSWORDS_TXT: &str = include_str!("common_passwords.txt");

/// The list as a set, built on first use.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Names of the portal and of the funds it serves; a password that is one of them with
/// only digits or symbols added is the first thing an attacker tries.
const SITE_WORDS: [&str; 5] = ["fundpass", "gjj", "gongjijin", "shebao", "zfgjj"];

/// Keyboard rows (US layout, as used on Chinese keyboards) for sequence detection.
const KEYBOARD_ROWS: [&str; 5] = [
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "!@#$%^&*()",
];

/// Length from which a run or a sequence makes a password guessable.
pub(crate) const RUN_LEN: usize = 6;

/// Number of entries in the common-password list.
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// Whether `lower` (already NFKC-normalised and lower-cased) is a common password.
pub(crate) fn is_common(lower: &str) -> bool {
    COMMON_PASSWORDS.contains(lower)
}

/// Whether `lower` is a site word once digits, symbols and spaces are taken away
/// (`gjj123456`, `Fundpass@2024`).
pub(crate) fn is_site_word(lower: &str) -> bool {
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    SITE_WORDS.contains(&letters.as_str())
}

/// Whether one character appears [`RUN_LEN`] or more times in a row.
pub(crate) fn has_repeated_run(s: &str) -> bool {
    let mut prev = None;
    let mut run = 0;
    for c in s.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        if run >= RUN_LEN {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// Whether `lower` holds [`RUN_LEN`] or more ASCII letters or digits counting up or
/// down (`abcdef`, `987654`), or consecutive keys of a keyboard row in either
/// direction (`qwerty`, `567890`, `lkjhgf`).
pub(crate) fn has_sequence(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    chars
        .windows(RUN_LEN)
        .any(|w| is_alphabet_run(w) || is_keyboard_run(w))
}

fn is_alphabet_run(w: &[char]) -> bool {
    let same_class = w.iter().all(char::is_ascii_digit) || w.iter().all(char::is_ascii_lowercase);
    if !same_class {
        return false;
    }
    let steps = |delta: i64| {
        w.windows(2)
            .all(|p| i64::from(u32::from(p[1])) - i64::from(u32::from(p[0])) == delta)
    };
    steps(1) || steps(-1)
}

fn is_keyboard_run(w: &[char]) -> bool {
    let forward: String = w.iter().collect();
    let backward: String = w.iter().rev().collect();
    KEYBOARD_ROWS
        .iter()
        .any(|row| row.contains(&forward) || row.contains(&backward))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_thousands_of_lower_case_entries_of_six_or_more() {
        assert!(common_password_count() >= 10_000);
        for entry in COMMON_PASSWORDS.iter() {
            assert!(entry.chars().count() >= 6, "{entry}");
            assert_eq!(*entry, entry.to_lowercase(), "{entry}");
        }
    }

    #[test]
    fn well_known_western_and_chinese_passwords_are_listed() {
        for pw in [
            "12345678",
            "passw0rd",
            "password1",
            "a1234567",
            "qwer1234",
            "abc12345",
            "aa123456",
            "woaini1314",
            "5201314520",
        ] {
            assert!(is_common(pw), "{pw}");
        }
        assert!(!is_common("header"));
        assert!(!is_common("# common passwords refused for login passwords"));
    }

    #[test]
    fn site_words_are_caught_only_when_nothing_but_digits_and_symbols_are_added() {
        assert!(is_site_word("gjj123456"));
        assert!(is_site_word("fundpass@2024"));
        assert!(is_site_word("2024shebao"));
        assert!(!is_site_word("mygjj2024home"));
    }

    #[test]
    fn runs_and_sequences_are_found_from_six_characters() {
        assert!(has_repeated_run("xaaaaaay"));
        assert!(!has_repeated_run("xaaaaay"));
        for s in [
            "abcdef", "x123456y", "fedcba", "qwerty1", "567890", "lkjhgf", "987654",
        ] {
            assert!(has_sequence(s), "{s}");
        }
        for s in ["abcde1", "12345a", "qwert", "a1b2c3d4", "90abcd"] {
            assert!(!has_sequence(s), "{s}");
        }
    }
}
