//! Checking rows of a benefit import before anything is written: the file comes from
//! the benefit system (who is entitled, since when, checked how often, and who was
//! reported deceased).

use time::Date;
use time::format_description::well_known::Iso8601;

use super::{Benefit, BenefitKind, QualificationStatus, add_months};
use crate::member::{AccountNumber, AccountNumberError, MemberId};

/// The audit action of a benefit import (by an operator, about no one member).
pub const BENEFIT_IMPORT_ACTION: &str = "benefit.import";

/// The longest check cycle accepted, in months.
pub const MAX_CYCLE_MONTHS: u8 = 24;

/// The cycle when the file leaves it empty.
pub const DEFAULT_CYCLE_MONTHS: u8 = 12;

/// One row as read (CSV header `account_no,kind,start_date,cycle_months,deceased_on`;
/// the last two may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitRow {
    pub account_no: String,
    pub kind: String,
    pub start_date: String,
    #[serde(default)]
    pub cycle_months: String,
    #[serde(default)]
    pub deceased_on: String,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidBenefitRow {
    pub account_no: AccountNumber,
    pub kind: BenefitKind,
    pub start_date: Date,
    pub cycle_months: u8,
    pub deceased_on: Option<Date>,
}

/// One thing wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenefitRowError {
    #[error("account_no: {0}")]
    AccountNumber(#[from] AccountNumberError),
    #[error("account_no: no member has this account number")]
    UnknownMember,
    #[error(
        "kind: unknown benefit {0:?} (expected one of pension, work_injury, unemployment, survivor, disability)"
    )]
    UnknownKind(String),
    #[error("start_date: not a date in the form 2024-03-15")]
    BadStartDate,
    #[error("start_date: the benefit cannot start after today")]
    StartInFuture,
    #[error("cycle_months: a whole number of months from 1 to {MAX_CYCLE_MONTHS}")]
    BadCycle,
    #[error("deceased_on: not a date in the form 2024-03-15")]
    BadDeceasedOn,
    #[error("deceased_on: the date cannot be after today or before the benefit began")]
    DeceasedOnOutOfRange,
    #[error("account_no: the account appears on an earlier line of the file")]
    Repeated,
}

fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    // `YYYY-MM-DD` only: ISO 8601's other calendar forms are refused.
    if text.len() != 10 {
        return None;
    }
    Date::parse(text, &Iso8601::DATE).ok()
}

impl BenefitRow {
    /// Checks every field and reports every problem, not just the first.
    pub fn validate(&self, today: Date) -> Result<ValidBenefitRow, Vec<BenefitRowError>> {
        let mut problems = Vec::new();
        let account_no = AccountNumber::parse(&self.account_no)
            .map_err(|e| problems.push(e.into()))
            .ok();
        let kind = BenefitKind::from_code(self.kind.trim());
        if kind.is_none() {
            let shown: String = self.kind.trim().chars().take(32).collect();
            problems.push(BenefitRowError::UnknownKind(shown));
        }
        let start_date = parse_date(&self.start_date);
        match start_date {
            None => problems.push(BenefitRowError::BadStartDate),
            Some(d) if d > today => problems.push(BenefitRowError::StartInFuture),
            Some(_) => {}
        }
        let cycle = match self.cycle_months.trim() {
            "" => Some(DEFAULT_CYCLE_MONTHS),
            text => text
                .parse::<u8>()
                .ok()
                .filter(|m| (1..=MAX_CYCLE_MONTHS).contains(m)),
        };
        if cycle.is_none() {
            problems.push(BenefitRowError::BadCycle);
        }
        let deceased_on = match self.deceased_on.trim() {
            "" => None,
            text => match parse_date(text) {
                None => {
                    problems.push(BenefitRowError::BadDeceasedOn);
                    None
                }
                Some(d) if d > today || start_date.is_some_and(|s| d < s) => {
                    problems.push(BenefitRowError::DeceasedOnOutOfRange);
                    None
                }
                Some(d) => Some(d),
            },
        };
        match (account_no, kind, start_date, cycle) {
            (Some(account_no), Some(kind), Some(start_date), Some(cycle_months))
                if problems.is_empty() =>
            {
                Ok(ValidBenefitRow {
                    account_no,
                    kind,
                    start_date,
                    cycle_months,
                    deceased_on,
                })
            }
            _ => Err(problems),
        }
    }
}

impl ValidBenefitRow {
    /// The benefit this row makes for `member`, or what it changes of the one on file:
    /// a new entitlement is first due one cycle after it began, or on the first such
    /// anniversary after `today`; an existing one keeps its due date, status and checks
    /// while its kind and cycle follow the file; a date of death ends it.
    pub fn apply(&self, member: MemberId, existing: Option<&Benefit>, today: Date) -> Benefit {
        let mut benefit = match existing {
            Some(b) => Benefit {
                kind: self.kind,
                start_date: self.start_date,
                cycle_months: self.cycle_months,
                ..b.clone()
            },
            None => Benefit {
                member_id: member,
                kind: self.kind,
                start_date: self.start_date,
                cycle_months: self.cycle_months,
                due_date: first_due(self.start_date, self.cycle_months, today),
                status: QualificationStatus::Qualified,
                suspended_since: None,
                last_check_at: None,
                last_check_channel: None,
                failed_attempts: 0,
                deceased_on: None,
                version: 0,
            },
        };
        if let Some(d) = self.deceased_on {
            benefit.deceased_on = Some(d);
            benefit.status = QualificationStatus::Ended;
        }
        benefit
    }
}

/// The first `start + n × cycle` (n ≥ 1) that is not before `today`.
fn first_due(start: Date, cycle: u8, today: Date) -> Date {
    let cycle = u32::from(cycle.max(1));
    let elapsed = super::months_between(start, today);
    let mut n = (elapsed / cycle).max(1);
    let mut due = add_months(start, n * cycle);
    while due < today {
        n += 1;
        due = add_months(start, n * cycle);
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 08);

    fn row() -> BenefitRow {
        BenefitRow {
            account_no: "100200300".into(),
            kind: "pension".into(),
            start_date: "2019-03-15".into(),
            cycle_months: String::new(),
            deceased_on: String::new(),
        }
    }

    #[test]
    fn a_good_row_defaults_to_a_yearly_cycle_due_on_the_next_anniversary() {
        let valid = row().validate(TODAY).unwrap();
        assert_eq!(valid.cycle_months, 12);
        let benefit = valid.apply(MemberId(7), None, TODAY);
        assert_eq!(benefit.due_date, date!(2027 - 03 - 15));
        assert_eq!(benefit.status, QualificationStatus::Qualified);
        let recent = BenefitRow {
            start_date: "2026-11-01".into(),
            cycle_months: "6".into(),
            ..row()
        };
        let benefit = recent
            .validate(TODAY)
            .unwrap()
            .apply(MemberId(7), None, TODAY);
        assert_eq!(benefit.due_date, date!(2027 - 05 - 01));
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let bad = BenefitRow {
            account_no: "12".into(),
            kind: "lottery".into(),
            start_date: "2019/03/15".into(),
            cycle_months: "0".into(),
            deceased_on: "yesterday".into(),
        };
        let problems = bad.validate(TODAY).unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.contains(&BenefitRowError::BadCycle));
        assert!(problems.contains(&BenefitRowError::BadStartDate));
        let future = BenefitRow {
            start_date: "2027-01-01".into(),
            deceased_on: "2026-12-09".into(),
            ..row()
        };
        let problems = future.validate(TODAY).unwrap_err();
        assert_eq!(
            problems,
            [
                BenefitRowError::StartInFuture,
                BenefitRowError::DeceasedOnOutOfRange
            ]
        );
        for cycle in ["25", "-1", "12.5", "x"] {
            let r = BenefitRow {
                cycle_months: cycle.into(),
                ..row()
            };
            assert_eq!(r.validate(TODAY).unwrap_err(), [BenefitRowError::BadCycle]);
        }
    }

    #[test]
    fn a_reimport_keeps_the_due_date_and_a_death_ends_the_benefit() {
        let first = row()
            .validate(TODAY)
            .unwrap()
            .apply(MemberId(7), None, TODAY);
        let moved = Benefit {
            due_date: date!(2027 - 06 - 01),
            version: 3,
            ..first
        };
        let again = BenefitRow {
            cycle_months: "6".into(),
            deceased_on: "2026-10-02".into(),
            ..row()
        };
        let next = again
            .validate(TODAY)
            .unwrap()
            .apply(MemberId(7), Some(&moved), TODAY);
        assert_eq!(next.due_date, date!(2027 - 06 - 01));
        assert_eq!(next.cycle_months, 6);
        assert_eq!(next.version, 3);
        assert_eq!(next.status, QualificationStatus::Ended);
        assert_eq!(next.deceased_on, Some(date!(2026 - 10 - 02)));
    }
}
