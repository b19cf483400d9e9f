//! Targets `identity_number` and `phone`: whatever a member types into a document-number
//! or phone field.
//!
//! The input is the typed text (invalid UTF-8 is replaced, as a form decoder would).
//! Accepted numbers are checked against an independent reading of each document's rules,
//! must parse again to themselves from their normalised form and from the other ways a
//! member may type them, and must mask without showing the whole number. Refusals must
//! not repeat the number.

use time::Date;
use time::macros::date;

use super::{Verdict, has_digit_run};
use crate::fuzz_ensure;
use crate::identity::{
    EARLIEST_BIRTH_DATE, IdNumber, IdType, MAX_INPUT_CHARS, Phone, mask_id_number, to_ascii_width,
};

/// The day the fuzzed numbers are parsed on (it bounds dates of birth).
pub const TODAY: Date = date!(2026 - 03 - 01);

/// Refusal messages may name lengths, positions, years and the residence-permit
/// prefixes, never five other digits in a row.
const LONGEST_DIGIT_RUN_IN_A_MESSAGE: usize = 4;
const NUMBERS_MESSAGES_MAY_NAME: [&str; 3] = ["810000", "820000", "830000"];

/// Whether a refusal message repeats digits it was not written with. The one character
/// a message may quote is shown escaped when it is not printable (`'\u{56596}'`); the
/// code point in the escape is not the input's digits.
fn repeats_digits(message: &str) -> bool {
    let mut rest = message.to_owned();
    for number in NUMBERS_MESSAGES_MAY_NAME {
        rest = rest.replace(number, "");
    }
    while let Some(start) = rest.find("\\u{") {
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |i| start + i + 1);
        rest.replace_range(start..end, "");
    }
    has_digit_run(&rest, LONGEST_DIGIT_RUN_IN_A_MESSAGE + 1)
}

/// Target `identity_number`: the input as a number of every document type.
pub fn check_id_number(data: &[u8]) -> Verdict {
    let raw = String::from_utf8_lossy(data);
    for id_type in IdType::ALL {
        match IdNumber::parse(id_type, &raw, TODAY) {
            Ok(id) => check_accepted_id(&id, id_type)?,
            Err(error) => {
                let message = error.to_string();
                fuzz_ensure!(
                    !repeats_digits(&message),
                    "{id_type}: the refusal {message:?} repeats digits of the input"
                );
            }
        }
    }
    Ok(())
}

fn check_accepted_id(id: &IdNumber, id_type: IdType) -> Verdict {
    let normalised = id.normalised();
    fuzz_ensure!(id.id_type() == id_type, "{id_type}: the type changed");
    fuzz_ensure!(
        !normalised.is_empty()
            && normalised
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        "{id_type}: normalised {normalised:?} is not upper-case ASCII letters and digits"
    );
    check_document_rules(id, id_type)?;
    for typed in ways_to_type(normalised) {
        let again = IdNumber::parse(id_type, &typed, TODAY);
        fuzz_ensure!(
            again.as_ref() == Ok(id),
            "{id_type}: {normalised:?} typed as {typed:?} parses to {again:?}"
        );
    }
    let masked = id.masked();
    fuzz_ensure!(
        masked == mask_id_number(normalised) && masked.len() == normalised.len(),
        "{id_type}: the masked form {masked:?} does not keep the length"
    );
    fuzz_ensure!(
        masked.contains('*'),
        "{id_type}: the masked form shows the whole number"
    );
    let shown = masked.chars().filter(|&c| c != '*').count();
    // 18-character numbers keep the region and the last four; others at most half.
    let most = if normalised.len() == 18 {
        10
    } else {
        normalised.len() / 2
    };
    fuzz_ensure!(
        shown <= most,
        "{id_type}: the masked form {masked:?} shows {shown} characters"
    );
    let debug = format!("{id:?}");
    fuzz_ensure!(
        normalised.len() < 5 || !debug.contains(normalised),
        "{id_type}: Debug output shows the whole number"
    );
    Ok(())
}

/// The rules of each document type, read independently of the parser.
fn check_document_rules(id: &IdNumber, id_type: IdType) -> Verdict {
    let value = id.normalised();
    let digits = |range: std::ops::Range<usize>| {
        value
            .get(range)
            .is_some_and(|part| part.bytes().all(|b| b.is_ascii_digit()))
    };
    let ok = match id_type {
        IdType::ResidentId => resident_style(value) && dated(id, value)?,
        IdType::HmtResidencePermit => {
            resident_style(value)
                && ["810000", "820000", "830000"]
                    .iter()
                    .any(|prefix| value.starts_with(prefix))
                && dated(id, value)?
        }
        IdType::ForeignPermanentResidence => match value.len() {
            15 => {
                value.bytes().take(3).all(|b| b.is_ascii_uppercase())
                    && digits(3..15)
                    && id.birth_date().is_none()
            }
            18 => resident_style(value) && value.starts_with('9') && dated(id, value)?,
            _ => false,
        },
        IdType::HkMacauPermit => {
            (value.len() == 9 || value.len() == 11)
                && (value.starts_with('H') || value.starts_with('M'))
                && digits(1..value.len())
                && id.birth_date().is_none()
        }
        IdType::TaiwanPermit => {
            (value.len() == 8 || value.len() == 10) && digits(0..8) && id.birth_date().is_none()
        }
        IdType::Passport => (5..=17).contains(&value.len()) && id.birth_date().is_none(),
    };
    fuzz_ensure!(
        ok,
        "{id_type}: {value:?} was accepted but breaks the document's rules"
    );
    Ok(())
}

/// 17 digits and a check character that adds up (ISO 7064 MOD 11-2).
fn resident_style(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 18 || !bytes.iter().take(17).all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes
        .iter()
        .take(17)
        .enumerate()
        .map(|(i, b)| {
            let weight = (1u32 << (17 - i)) % 11;
            u32::from(b - b'0') * weight
        })
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    bytes.get(17) == Some(&check)
}

/// Whether the date of birth the parser returned is the one in characters 7 to 14 and
/// lies between the earliest accepted date and today.
fn dated(id: &IdNumber, value: &str) -> Result<bool, super::Violation> {
    let Some(born) = id.birth_date() else {
        return Ok(false);
    };
    let written = format!(
        "{:04}{:02}{:02}",
        born.year(),
        u8::from(born.month()),
        born.day()
    );
    Ok(value.get(6..14) == Some(written.as_str()) && (EARLIEST_BIRTH_DATE..=TODAY).contains(&born))
}

/// The forms a member might type a normalised number in: lower case, full width, in
/// groups of four with spaces, and with ideographic spaces around it.
fn ways_to_type(normalised: &str) -> Vec<String> {
    let full_width: String = normalised
        .chars()
        .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
        .collect();
    let mut grouped = String::new();
    for (i, c) in normalised.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    [
        normalised.to_owned(),
        normalised.to_ascii_lowercase(),
        full_width,
        grouped,
        format!("\u{3000}{normalised}\u{3000}"),
    ]
    .into_iter()
    .filter(|typed| typed.chars().count() <= MAX_INPUT_CHARS)
    .collect()
}

/// Target `phone`: the input as a mobile number.
pub fn check_phone(data: &[u8]) -> Verdict {
    let raw = String::from_utf8_lossy(data);
    match Phone::parse(&raw) {
        Ok(phone) => check_accepted_phone(&phone),
        Err(error) => {
            let message = error.to_string();
            fuzz_ensure!(
                !repeats_digits(&message),
                "the refusal {message:?} repeats digits of the input"
            );
            if let crate::identity::PhoneError::BadCharacter { position, found } = error {
                let cleaned: Vec<char> = raw
                    .chars()
                    .map(to_ascii_width)
                    .filter(|&c| !c.is_whitespace() && c != '-')
                    .collect();
                fuzz_ensure!(
                    position >= 1 && cleaned.get(position - 1) == Some(&found),
                    "character {position} is not {found:?} in {cleaned:?}"
                );
            }
            Ok(())
        }
    }
}

fn check_accepted_phone(phone: &Phone) -> Verdict {
    let number = phone.normalised();
    let bytes = number.as_bytes();
    fuzz_ensure!(
        bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]),
        "{number:?} was accepted but is not 1[3-9] and 9 more digits"
    );
    let (head, middle, tail) = (&number[..3], &number[3..7], &number[7..]);
    let full_width: String = number
        .chars()
        .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
        .collect();
    for typed in [
        number.to_owned(),
        format!("+86 {head} {middle} {tail}"),
        format!("0086-{head}-{middle}-{tail}"),
        format!("86{number}"),
        format!("＋８６{full_width}"),
    ] {
        let again = Phone::parse(&typed);
        fuzz_ensure!(
            again.as_ref() == Ok(phone),
            "{number:?} typed as {typed:?} parses to {again:?}"
        );
    }
    fuzz_ensure!(
        phone.masked() == format!("{head}****{tail}"),
        "the masked form of {number:?} is {:?}",
        phone.masked()
    );
    fuzz_ensure!(
        phone.last_six() == &number[5..],
        "the last six digits of {number:?} are {:?}",
        phone.last_six()
    );
    fuzz_ensure!(
        !format!("{phone:?}").contains(number),
        "Debug output shows the whole number"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_numbers_pass_every_check() {
        for raw in [
            "11010519491231002X",
            "h12345678",
            "usa310180101001",
            "E 1234 5678",
        ] {
            assert_eq!(check_id_number(raw.as_bytes()), Ok(()), "{raw}");
        }
        for raw in ["+86 138 1234 5678", "13812345678", "138a2345678", ""] {
            assert_eq!(check_phone(raw.as_bytes()), Ok(()), "{raw}");
        }
    }

    #[test]
    fn only_digits_a_message_was_not_written_with_count_as_repeated() {
        assert!(repeats_digits("the number starts with 19491231"));
        assert!(!repeats_digits(
            "a residence permit number starts with 810000, 820000 or 830000"
        ));
        assert!(!repeats_digits(
            "character 1 is '\\u{56596}', but only digits are allowed"
        ));
    }

    #[test]
    fn the_resident_check_character_is_read_independently() {
        assert!(resident_style("11010519491231002X"));
        assert!(!resident_style("110105194912310021"));
        assert!(!resident_style("1101051949123100"));
    }
}
