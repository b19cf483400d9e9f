//! Property tests across the identity parsers: exhaustive single-character changes,
//! generated valid numbers, arbitrary input and phone formats.

use proptest::prelude::*;
use time::Date;

use super::region::MAINLAND_PROVINCES;
use super::resident::tests::{TODAY, with_check};
use super::{EARLIEST_BIRTH_DATE, IdNumber, IdType, Phone};

const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Valid numbers of the resident-ID layout, with the type they belong to.
fn resident_style_numbers() -> Vec<(IdType, String)> {
    let mut numbers = vec![
        (IdType::ResidentId, "11010519491231002X".to_owned()),
        (IdType::ResidentId, "440524188001010014".to_owned()),
    ];
    for body in [
        "32010219850615123",
        "65010120001231888",
        "21020319700101000",
        "54000020250601999",
    ] {
        numbers.push((IdType::ResidentId, with_check(body)));
    }
    for body in [
        "81000019900101123",
        "82000020010911002",
        "83000019660606660",
    ] {
        numbers.push((IdType::HmtResidencePermit, with_check(body)));
    }
    numbers.push((
        IdType::ForeignPermanentResidence,
        with_check("91184019800101001"),
    ));
    numbers
}

#[test]
fn every_single_character_change_of_a_valid_number_is_refused() {
    let mut tried = 0;
    for (id_type, number) in resident_style_numbers() {
        assert!(IdNumber::parse(id_type, &number, TODAY).is_ok(), "{number}");
        for (position, original) in number.char_indices() {
            for replacement in ALPHABET.chars().filter(|&c| c != original) {
                let mut changed = number.clone();
                changed.replace_range(position..=position, &replacement.to_string());
                let result = IdNumber::parse(id_type, &changed, TODAY);
                assert!(result.is_err(), "{id_type}: {changed} was accepted");
                tried += 1;
            }
        }
    }
    assert_eq!(tried, resident_style_numbers().len() * 18 * 35);
}

fn date_between(earliest: Date, latest: Date) -> impl Strategy<Value = Date> {
    (earliest.to_julian_day()..=latest.to_julian_day())
        .prop_map(|day| Date::from_julian_day(day).unwrap())
}

prop_compose! {
    fn valid_resident_id()(
        province in prop::sample::select(MAINLAND_PROVINCES.to_vec()),
        county in 0u32..10_000,
        born in date_between(EARLIEST_BIRTH_DATE, TODAY),
        sequence in 0u32..1000,
    ) -> (String, Date) {
        let body = format!(
            "{province}{county:04}{:04}{:02}{:02}{sequence:03}",
            born.year(),
            u8::from(born.month()),
            born.day()
        );
        (with_check(&body), born)
    }
}

proptest! {
    #[test]
    fn generated_resident_ids_round_trip((number, born) in valid_resident_id(), spaced in any::<bool>()) {
        let typed = if spaced {
            format!(" {} {} {} ", &number[..6], &number[6..14], number[14..].to_lowercase())
        } else {
            number.clone()
        };
        let id = IdNumber::parse(IdType::ResidentId, &typed, TODAY).unwrap();
        prop_assert_eq!(id.normalised(), number.as_str());
        prop_assert_eq!(id.birth_date(), Some(born));
        prop_assert_eq!(id.masked(), format!("{}********{}", &number[..6], &number[14..]));
        prop_assert_eq!(IdNumber::parse(IdType::ResidentId, id.normalised(), TODAY), Ok(id));
    }

    #[test]
    fn parsers_never_panic_and_accepted_numbers_are_stable(raw in any::<String>()) {
        check_any_input(&raw)?;
    }

    #[test]
    fn parsers_never_panic_on_near_miss_input(raw in "[0-9xX+ \\-a-zA-Z０-９ｘＸ\u{3000}]{0,70}") {
        check_any_input(&raw)?;
    }

    #[test]
    fn refusals_never_repeat_a_long_input(raw in "[0-9]{9,40}") {
        for id_type in IdType::ALL {
            if let Err(error) = IdNumber::parse(id_type, &raw, TODAY) {
                prop_assert!(!error.to_string().contains(&raw));
            }
        }
        if let Err(error) = Phone::parse(&raw) {
            prop_assert!(!error.to_string().contains(&raw));
        }
    }

    #[test]
    fn mobile_numbers_parse_with_any_country_code_and_separators(
        number in "1[3-9][0-9]{9}",
        prefix in prop::sample::select(vec!["", "+86", "+86 ", "86", "0086", "0086 ", "＋８６"]),
        separator in prop::sample::select(vec!["", " ", "-", "\u{3000}"]),
    ) {
        let typed = format!("{prefix}{}{separator}{}{separator}{}", &number[..3], &number[3..7], &number[7..]);
        let phone = Phone::parse(&typed).unwrap();
        prop_assert_eq!(phone.normalised(), number.as_str());
        prop_assert_eq!(phone.masked(), format!("{}****{}", &number[..3], &number[7..]));
        prop_assert_eq!(phone.last_six(), &number[5..]);
    }
}

/// Every parser on `raw`: no panic, and whatever is accepted is ASCII, parses again to the
/// same value from its normalised form, and masks to the same length.
fn check_any_input(raw: &str) -> Result<(), TestCaseError> {
    for id_type in IdType::ALL {
        if let Ok(id) = IdNumber::parse(id_type, raw, TODAY) {
            let normalised = id.normalised();
            prop_assert!(normalised.chars().all(|c| c.is_ascii_alphanumeric()));
            prop_assert_eq!(id.masked().len(), normalised.len());
            prop_assert_eq!(IdNumber::parse(id_type, normalised, TODAY), Ok(id.clone()));
        }
    }
    if let Ok(phone) = Phone::parse(raw) {
        prop_assert_eq!(Phone::parse(phone.normalised()), Ok(phone.clone()));
    }
    Ok(())
}

#[test]
fn the_phone_examples_from_the_requirements_behave() {
    assert_eq!(
        Phone::parse("+86 138 1234 5678").unwrap().normalised(),
        "13812345678"
    );
    assert_eq!(
        Phone::parse("8613812345678").unwrap().normalised(),
        "13812345678"
    );
    assert!(Phone::parse("12812345678").is_err());
    assert!(Phone::parse("+1 2025550123").is_err());
}
