//! Turning what a member typed into the form the validators read.
//!
//! Chinese input methods often produce full-width characters (`１２３Ｘ`) and members copy
//! numbers with spaces in them; both are forgiven here, once, for every document type and
//! for phone numbers.

use super::IdNumberError;

/// Longest input looked at, in characters (surrounding spaces included). Anything longer is
/// refused before any other work, so a hostile form field cannot make parsing expensive.
pub const MAX_INPUT_CHARS: usize = 64;

/// Why an input was refused before it was looked at character by character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    TooLong,
    Empty,
}

/// Converts full-width ASCII variants (U+FF01 to U+FF5E, which include the full-width
/// digits and letters) to ASCII and drops every whitespace character (inner ones too,
/// U+3000 included) and every character in `also_drop`.
pub(super) fn clean(raw: &str, also_drop: &[char]) -> Result<String, Refusal> {
    // A char is at most 4 bytes: the byte test refuses huge inputs without walking them.
    if raw.len() > MAX_INPUT_CHARS * 4 || raw.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(Refusal::TooLong);
    }
    let cleaned: String = raw
        .chars()
        .map(to_ascii_width)
        .filter(|c| !c.is_whitespace() && !also_drop.contains(c))
        .collect();
    if cleaned.is_empty() {
        Err(Refusal::Empty)
    } else {
        Ok(cleaned)
    }
}

pub(crate) fn to_ascii_width(c: char) -> char {
    match u32::from(c) {
        cp @ 0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Reports the first character `allowed` refuses, by 1-based position, with the
/// description of what was expected there.
pub(super) fn first_bad_character(
    value: &str,
    allowed: impl Fn(usize, char) -> Result<(), &'static str>,
) -> Result<(), IdNumberError> {
    for (index, found) in value.chars().enumerate() {
        if let Err(expected) = allowed(index, found) {
            return Err(IdNumberError::BadCharacter {
                position: index + 1,
                found,
                expected,
            });
        }
    }
    Ok(())
}

/// A character rule: ASCII digits only.
pub(super) fn digit(c: char) -> Result<(), &'static str> {
    if c.is_ascii_digit() {
        Ok(())
    } else {
        Err("a digit")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_letters_become_ascii() {
        assert_eq!(clean("１２３ｘＹｚ", &[]), Ok("123xYz".to_owned()));
    }

    #[test]
    fn surrounding_and_inner_spaces_are_removed_including_ideographic_ones() {
        assert_eq!(clean("  12 34\u{3000}56\t", &[]), Ok("123456".to_owned()));
    }

    #[test]
    fn listed_characters_are_dropped_too() {
        assert_eq!(clean("138-1234-5678", &['-']), Ok("13812345678".to_owned()));
    }

    #[test]
    fn an_input_of_only_spaces_is_empty() {
        assert_eq!(clean(" \u{3000} ", &[]), Err(Refusal::Empty));
    }

    #[test]
    fn sixty_four_characters_are_read_and_sixty_five_are_refused() {
        assert!(clean(&"1".repeat(MAX_INPUT_CHARS), &[]).is_ok());
        assert_eq!(
            clean(&"1".repeat(MAX_INPUT_CHARS + 1), &[]),
            Err(Refusal::TooLong)
        );
        assert_eq!(clean(&"１".repeat(65), &[]), Err(Refusal::TooLong));
        assert_eq!(clean(&" ".repeat(10_000), &[]), Err(Refusal::TooLong));
    }

    #[test]
    fn the_first_bad_character_is_reported_by_one_based_position() {
        let err = first_bad_character("12a4b", |_, c| digit(c));
        assert_eq!(
            err,
            Err(IdNumberError::BadCharacter {
                position: 3,
                found: 'a',
                expected: "a digit"
            })
        );
    }
}
