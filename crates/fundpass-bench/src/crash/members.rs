//! The members the fault harnesses import: made-up people with valid resident ID
//! numbers (check character included) and mobile numbers of their own, and the
//! passwords the harness gives them.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use fundpass_core::identity::{IdNumber, IdType};
use time::macros::date;

/// One member as the fund's core system exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// 个人账号.
    pub account: String,
    /// Name as on the document.
    pub name: String,
    /// An 18-character resident ID number.
    pub id_number: String,
    /// The 11-digit phone on file.
    pub phone: String,
}

/// Transaction password set at registration and never changed by the harnesses: not a
/// run, not a date, not the tail of any document or phone made here.
pub const TRANSACTION_PASSWORD: &str = "135792";

const NAMES: [&str; 8] = [
    "周文", "吴敏", "郑强", "孙丽", "钱进", "冯雪", "何平", "高峰",
];

/// `count` distinct members. Birth dates run from 1960 one day apart; the sequence
/// part of every ID number starts with 0, so that no ID number ends in the
/// transaction password's digits.
pub fn people(count: usize) -> anyhow::Result<Vec<Person>> {
    let today = date!(2026 - 01 - 01);
    let base = date!(1960 - 01 - 01);
    (0..count)
        .map(|i| {
            let days = i64::try_from(i % 15_000)?;
            let birth = base + time::Duration::days(days);
            let seq = i / 15_000;
            let first17 = format!(
                "110105{:04}{:02}{:02}0{:02}",
                birth.year(),
                u8::from(birth.month()),
                birth.day(),
                seq % 100
            );
            let check = "0123456789X"
                .chars()
                .find(|c| {
                    IdNumber::parse(IdType::ResidentId, &format!("{first17}{c}"), today).is_ok()
                })
                .context("no check character fits a generated ID number")?;
            Ok(Person {
                account: format!("7{i:011}"),
                name: NAMES[i % NAMES.len()].to_owned(),
                id_number: format!("{first17}{check}"),
                phone: format!("139{:08}", 10_000_000 + i),
            })
        })
        .collect()
}

/// The import file `fundpass import` reads.
pub fn csv(people: &[Person]) -> String {
    let mut out = String::from("account_no,name,id_type,id_number,phone\n");
    for p in people {
        out.push_str(&format!(
            "{},{},resident_id,{},{}\n",
            p.account, p.name, p.id_number, p.phone
        ));
    }
    out
}

/// Hands out login passwords no member has had before: letters with two single
/// digits apart, so that no password holds a date, a document or a phone number,
/// and none repeats (the history rule refuses the last five).
#[derive(Debug, Default)]
pub struct Passwords {
    next: AtomicU64,
}

impl Passwords {
    /// A new login password.
    pub fn fresh(&self) -> String {
        let mut n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut letters = String::new();
        for _ in 0..5 {
            letters.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        format!("Qv{letters}7m3k")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_members_are_valid_and_distinct() {
        let people = people(20_000).unwrap();
        let today = date!(2026 - 01 - 01);
        let mut ids: Vec<&str> = people.iter().map(|p| p.id_number.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 20_000);
        for p in [
            &people[0],
            &people[14_999],
            &people[15_000],
            &people[19_999],
        ] {
            assert!(IdNumber::parse(IdType::ResidentId, &p.id_number, today).is_ok());
            assert!(fundpass_core::identity::Phone::parse(&p.phone).is_ok());
            assert!(!p.id_number.ends_with(TRANSACTION_PASSWORD));
        }
    }

    #[test]
    fn passwords_never_repeat_and_keep_digits_apart() {
        let passwords = Passwords::default();
        let first = passwords.fresh();
        let second = passwords.fresh();
        assert_ne!(first, second);
        assert_eq!(first, "Qvaaaaa7m3k");
        assert!(
            !first
                .as_bytes()
                .windows(2)
                .any(|w| w.iter().all(u8::is_ascii_digit))
        );
    }

    #[test]
    fn the_import_file_has_the_header_and_one_line_each() {
        let people = people(2).unwrap();
        let text = csv(&people);
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("account_no,name,id_type,id_number,phone\n"));
        assert!(text.contains(&people[1].id_number));
    }
}
