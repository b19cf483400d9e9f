//! Calendar arithmetic of due dates, in China dates.

use time::{Date, Month};

/// `date` moved on by `months` calendar months, kept on the same day of the month or,
/// when that month is shorter, on its last day (31 January + 1 month = 28 or 29
/// February).
pub fn add_months(date: Date, months: u32) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month()) - 1);
    let target = index + i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u8::try_from(target.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(Date::MAX)
}

/// `date` moved back by `months` calendar months, on the same day of the month or
/// the last day of a shorter month.
pub fn months_back(date: Date, months: u32) -> Date {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month()) - 1);
    let target = index - i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).unwrap_or(i32::MIN);
    let month = u8::try_from(target.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(Date::MIN)
}

/// The calendar months from the month of `from` to the month of `to` (0 within one
/// month, never negative): a check on 2 June of a benefit due on 15 March ends three
/// months of suspended payments (April, May and June).
pub fn months_between(from: Date, to: Date) -> u32 {
    let index = |d: Date| i64::from(d.year()) * 12 + i64::from(u8::from(d.month()));
    u32::try_from((index(to) - index(from)).max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_added_on_the_same_day_or_the_last_of_a_short_month() {
        assert_eq!(add_months(date!(2026 - 03 - 15), 12), date!(2027 - 03 - 15));
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2027 - 12 - 31), 2), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 30), 3), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 05 - 01), 0), date!(2026 - 05 - 01));
    }

    #[test]
    fn months_are_taken_back_the_same_way() {
        assert_eq!(
            months_back(date!(2027 - 03 - 15), 12),
            date!(2026 - 03 - 15)
        );
        assert_eq!(months_back(date!(2026 - 03 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(months_back(date!(2026 - 01 - 10), 2), date!(2025 - 11 - 10));
    }

    #[test]
    fn the_gap_counts_calendar_months_and_is_never_negative() {
        assert_eq!(
            months_between(date!(2026 - 03 - 15), date!(2026 - 06 - 02)),
            3
        );
        assert_eq!(
            months_between(date!(2026 - 03 - 15), date!(2026 - 03 - 31)),
            0
        );
        assert_eq!(
            months_between(date!(2026 - 12 - 31), date!(2027 - 01 - 01)),
            1
        );
        assert_eq!(
            months_between(date!(2026 - 06 - 01), date!(2026 - 03 - 01)),
            0
        );
    }
}
