//! Dates of birth carried inside document numbers, and the ways members write them.

use time::macros::date;
use time::{Date, Month};

use super::IdNumberError;

/// Earliest date of birth accepted inside a number. GB 11643-1999 sets no lower bound; the
/// bound is 1870-01-01 so that numbers of members born in the 1880s (such as
/// `440524188001010014`) pass, while years such as 0199 or 1019 from a slipped digit are
/// still refused.
pub const EARLIEST_BIRTH_DATE: Date = date!(1870 - 01 - 01);

/// Reads `YYYYMMDD` and checks that it is a real calendar date between
/// [`EARLIEST_BIRTH_DATE`] and `today`, both included.
pub(super) fn parse_birth_date(yyyymmdd: &str, today: Date) -> Result<Date, IdNumberError> {
    let bytes = yyyymmdd.as_bytes();
    if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdNumberError::ImpossibleBirthDate);
    }
    let number = |from: usize, to: usize| {
        bytes
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
    };
    let month = u8::try_from(number(4, 6))
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(number(6, 8)).ok();
    let born = match (month, day) {
        (Some(month), Some(day)) => Date::from_calendar_date(i32::from(number(0, 4)), month, day)
            .map_err(|_| IdNumberError::ImpossibleBirthDate)?,
        _ => return Err(IdNumberError::ImpossibleBirthDate),
    };
    if born > today {
        Err(IdNumberError::BirthDateInFuture)
    } else if born < EARLIEST_BIRTH_DATE {
        Err(IdNumberError::BirthDateTooEarly)
    } else {
        Ok(born)
    }
}

/// The digit strings a member might use to write `date` inside a password, longest first
/// and without repeats: `YYYYMMDD`, `MMDDYYYY`, `DDMMYYYY`, `YYMMDD`, `MMDDYY`, `DDMMYY`,
/// `YYYYMM`, `MMDD`, `DDMM`, all zero-padded. Password policies use it to refuse secrets
/// that anyone who knows the member's birthday could guess.
pub fn birth_date_forms(date: Date) -> Vec<String> {
    let yyyy = format!("{:04}", date.year());
    let yy = format!("{:02}", date.year().rem_euclid(100));
    let mm = format!("{:02}", u8::from(date.month()));
    let dd = format!("{:02}", date.day());
    let candidates = [
        [yyyy.as_str(), &mm, &dd],
        [&mm, &dd, &yyyy],
        [&dd, &mm, &yyyy],
        [&yy, &mm, &dd],
        [&mm, &dd, &yy],
        [&dd, &mm, &yy],
        [&yyyy, &mm, ""],
        [&mm, &dd, ""],
        [&dd, &mm, ""],
    ];
    let mut forms: Vec<String> = Vec::with_capacity(candidates.len());
    for parts in candidates {
        let form = parts.concat();
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = date!(2025 - 06 - 01);

    #[test]
    fn real_dates_in_range_are_read() {
        assert_eq!(
            parse_birth_date("19491231", TODAY),
            Ok(date!(1949 - 12 - 31))
        );
        assert_eq!(
            parse_birth_date("20000229", TODAY),
            Ok(date!(2000 - 02 - 29))
        );
        assert_eq!(parse_birth_date("18700101", TODAY), Ok(EARLIEST_BIRTH_DATE));
        assert_eq!(parse_birth_date("20250601", TODAY), Ok(TODAY));
    }

    #[test]
    fn dates_that_do_not_exist_are_impossible() {
        for bad in [
            "19901301", "19900001", "19900100", "19900230", "19000229", "1990010", "1990010a",
        ] {
            assert_eq!(
                parse_birth_date(bad, TODAY),
                Err(IdNumberError::ImpossibleBirthDate),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_after_today_or_before_1870_are_refused() {
        assert_eq!(
            parse_birth_date("20250602", TODAY),
            Err(IdNumberError::BirthDateInFuture)
        );
        assert_eq!(
            parse_birth_date("18691231", TODAY),
            Err(IdNumberError::BirthDateTooEarly)
        );
        assert_eq!(
            parse_birth_date("01990101", TODAY),
            Err(IdNumberError::BirthDateTooEarly)
        );
    }

    #[test]
    fn a_birthday_is_offered_in_every_common_order() {
        let forms = birth_date_forms(date!(1990 - 03 - 07));
        assert_eq!(
            forms,
            [
                "19900307", "03071990", "07031990", "900307", "030790", "070390", "199003", "0307",
                "0703"
            ]
        );
    }

    #[test]
    fn forms_that_read_the_same_are_listed_once() {
        let forms = birth_date_forms(date!(2005 - 05 - 05));
        assert_eq!(forms, ["20050505", "05052005", "050505", "200505", "0505"]);
    }
}
