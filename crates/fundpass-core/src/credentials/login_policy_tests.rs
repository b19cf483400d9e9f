use proptest::prelude::*;
use time::macros::date;

use super::*;

fn member() -> PolicyContext<'static> {
    PolicyContext {
        id_number: Some("11010519900307002X"),
        phone: Some("13912345678"),
        birth_date: Some(date!(1990 - 03 - 07)),
        account_no: Some("0123456789012"),
        name: Some("王小明"),
    }
}

fn codes(raw: &str, policy: &LoginPasswordPolicy) -> Vec<&'static str> {
    match LoginPassword::parse(raw, policy, &member()) {
        Ok(_) => Vec::new(),
        Err(found) => found.iter().map(PolicyViolation::code).collect(),
    }
}

#[test]
fn common_passwords_are_refused_whatever_their_case() {
    for raw in [
        "12345678",
        "Passw0rd",
        "password1",
        "PASSWORD1",
        "Woaini1314",
    ] {
        assert!(
            codes(raw, &LoginPasswordPolicy::standard()).contains(&"common_password"),
            "{raw}"
        );
    }
    assert!(codes("Passw0rd", &LoginPasswordPolicy::beijing_eight()).contains(&"common_password"));
}

#[test]
fn the_members_own_phone_is_refused() {
    assert!(codes("abc13912345678", &LoginPasswordPolicy::standard()).contains(&"contains_phone"));
    assert!(codes("Zq12345678", &LoginPasswordPolicy::standard()).contains(&"contains_phone"));
}

#[test]
fn the_members_own_id_number_is_refused_whole_or_by_its_tail() {
    let std = LoginPasswordPolicy::standard();
    assert!(codes("id11010519900307002x", &std).contains(&"contains_id_number"));
    assert!(codes("Rk7q07002X", &std).contains(&"contains_id_number"));
    assert!(codes("Rk7q307002", &std).contains(&"contains_id_number"));
}

#[test]
fn the_members_birth_date_is_refused_in_long_and_short_form() {
    let std = LoginPasswordPolicy::standard();
    assert_eq!(codes("kq19900307", &std), vec!["contains_birth_date"]);
    assert_eq!(codes("kq900307mz", &std), vec!["contains_birth_date"]);
    assert_eq!(codes("kq1990-03-07", &std), vec!["contains_birth_date"]);
}

#[test]
fn the_account_number_and_name_are_refused() {
    let std = LoginPasswordPolicy::standard();
    assert!(codes("x0123456789012", &std).contains(&"contains_account_number"));
    assert_eq!(codes("王小明的密码7k", &std), vec!["contains_name"]);
}

#[test]
fn the_portal_name_with_digits_is_refused() {
    assert_eq!(
        codes("Gjj@20240607", &LoginPasswordPolicy::standard()),
        vec!["site_word"]
    );
}

#[test]
fn repeated_characters_and_sequences_are_refused() {
    let std = LoginPasswordPolicy::standard();
    assert_eq!(codes("k8zzzzzzq", &std), vec!["repeated_character"]);
    assert_eq!(codes("k8abcdefq", &std), vec!["sequence"]);
    assert_eq!(codes("k8mqwertyu", &std), vec!["sequence"]);
}

#[test]
fn a_64_character_cjk_passphrase_with_a_digit_is_accepted() {
    let phrase: String = "春眠不觉晓处处闻啼鸟夜来风雨声花落知多少"
        .chars()
        .cycle()
        .take(63)
        .chain(['7'])
        .collect();
    assert_eq!(phrase.chars().count(), 64);
    assert_eq!(
        codes(&phrase, &LoginPasswordPolicy::standard()),
        Vec::<&str>::new()
    );
    let longer = format!("{phrase}8");
    assert_eq!(
        codes(&longer, &LoginPasswordPolicy::standard()),
        vec!["too_long"]
    );
}

#[test]
fn the_password_is_kept_nfkc_normalised_and_never_truncated() {
    let full_width = "Ｔｉｇｅｒ７Ｌｉｌｙ";
    let pw = LoginPassword::parse(full_width, &LoginPasswordPolicy::standard(), &member())
        .expect("acceptable");
    assert_eq!(pw.expose(), "Tiger7Lily");
    let long: String = "Kx7mPq2v".repeat(8);
    let pw = LoginPassword::parse(&long, &LoginPasswordPolicy::standard(), &member())
        .expect("64 characters are allowed");
    assert_eq!(pw.expose(), long);
}

#[test]
fn the_policy_returns_all_violations_at_once() {
    let found = codes("1390307", &LoginPasswordPolicy::standard());
    assert_eq!(found, vec!["too_short", "needs_letter"]);
    let found = codes("13912345678", &LoginPasswordPolicy::standard());
    assert_eq!(found, vec!["needs_letter", "contains_phone", "sequence"]);
    let found = codes("王aaaaaa", &LoginPasswordPolicy::beijing_eight());
    assert_eq!(
        found,
        vec![
            "too_short",
            "bad_character",
            "needs_digit",
            "repeated_character"
        ]
    );
}

#[test]
fn the_beijing_rule_wants_exactly_eight_ascii_letters_and_digits() {
    let bj = LoginPasswordPolicy::beijing_eight();
    assert!(codes("Kx7mPq2v", &bj).is_empty());
    assert_eq!(codes("Kx7mPq2", &bj), vec!["too_short"]);
    assert_eq!(codes("Kx7mPq2vw", &bj), vec!["too_long"]);
    assert_eq!(codes("Kx7mPq2!", &bj), vec!["bad_character"]);
    assert_eq!(codes("Kxqmpqzv", &bj), vec!["needs_digit"]);
    assert_eq!(codes("83729164", &bj), vec!["needs_letter"]);
}

#[test]
fn control_and_invisible_characters_are_refused() {
    let std = LoginPasswordPolicy::standard();
    assert_eq!(codes("Kx7m\u{7}Pq2v", &std), vec!["bad_character"]);
    assert_eq!(codes("Kx7m\u{200B}Pq2v", &std), vec!["bad_character"]);
    assert!(codes("Kx7m Pq2v word", &std).is_empty());
}

#[test]
fn a_megabyte_is_refused_as_too_long_without_further_work() {
    let huge = "a1".repeat(512 * 1024);
    assert_eq!(
        codes(&huge, &LoginPasswordPolicy::standard()),
        vec!["too_long"]
    );
}

#[test]
fn the_default_policy_is_the_standard_one() {
    assert_eq!(
        LoginPasswordPolicy::default(),
        LoginPasswordPolicy::standard()
    );
    assert_eq!(LoginPasswordPolicy::default().history, 5);
}

#[test]
fn debug_output_never_shows_the_password() {
    let pw = LoginPassword::parse("Tiger7Lily", &LoginPasswordPolicy::standard(), &member())
        .expect("acceptable");
    assert_eq!(format!("{pw:?}"), "[redacted]");
}

proptest! {
    #[test]
    fn parsing_never_panics_and_accepted_passwords_meet_the_length_rule(raw in "\\PC{0,80}") {
        let policy = LoginPasswordPolicy::standard();
        if let Ok(pw) = LoginPassword::parse(&raw, &policy, &member()) {
            let len = pw.expose().chars().count();
            prop_assert!((policy.min_len..=policy.max_len).contains(&len));
        }
    }
}
