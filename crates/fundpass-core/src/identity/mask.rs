//! Masking document numbers for display: screens, staff consoles, logs and audit rows never
//! show a whole number.

/// Masks a normalised document number, keeping its length so the member can recognise it.
///
/// - 18 characters (resident ID numbers, residence permits, new foreign permanent resident
///   IDs): the first 6 and the last 4 stay, as in `110105********002X`.
/// - 8 to 17 characters: the first 2 and the last 2 stay, as in `H1*****78`.
/// - 3 to 7 characters (short passport numbers): the first and the last stay, so that never
///   more than half of the number shows.
/// - 2 characters or fewer: everything is masked.
///
/// It takes the stored string rather than an [`IdNumber`](super::IdNumber) so that a value
/// read back from storage can be shown without parsing it again.
pub fn mask_id_number(normalised: &str) -> String {
    let chars: Vec<char> = normalised.chars().collect();
    let len = chars.len();
    let (head, tail) = match len {
        18 => (6, 4),
        8.. => (2, 2),
        3..=7 => (1, 1),
        _ => (0, 0),
    };
    chars
        .iter()
        .enumerate()
        .map(|(index, &c)| {
            if index < head || index >= len - tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_style_numbers_show_the_region_and_the_last_four() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("440524188001010014"), "440524********0014");
    }

    #[test]
    fn other_numbers_show_two_characters_at_each_end() {
        assert_eq!(mask_id_number("H12345678"), "H1*****78");
        assert_eq!(mask_id_number("M1234567801"), "M1*******01");
        assert_eq!(mask_id_number("12345678"), "12****78");
        assert_eq!(mask_id_number("USA310180101001"), "US***********01");
    }

    #[test]
    fn short_numbers_never_show_more_than_half() {
        assert_eq!(mask_id_number("E1234"), "E***4");
        assert_eq!(mask_id_number("E123456"), "E*****6");
        assert_eq!(mask_id_number("AB"), "**");
        assert_eq!(mask_id_number(""), "");
    }

    #[test]
    fn masking_keeps_the_length_of_any_string() {
        for len in 0..=40 {
            let value = "7".repeat(len);
            assert_eq!(mask_id_number(&value).chars().count(), len);
        }
        assert_eq!(mask_id_number("护照号码12345").chars().count(), 9);
    }
}
