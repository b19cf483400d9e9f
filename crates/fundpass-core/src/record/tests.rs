use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::staff::StaffAction;

/// Dotted literals in the core that are not audit actions: business-event names,
/// payment purposes, message keys, file names and test usernames.
const NOT_ACTIONS: &[&str] = &[
    "phone.changed",
    "hold.placed",
    "hold.ended",
    "account.frozen",
    "account.unfrozen",
    "authorization.confirmed",
    "authorization.declined",
    "credential.reset",
    "qualification.checked",
    "qualification.suspended",
    "qualification.restored",
    "withdrawal.retirement",
    "withdrawal.rent",
    "withdrawal.purchase",
    "withdrawal.medical",
    "withdrawal.loan_repayment",
    "withdrawal.emigration",
    "loan.disbursement",
    "benefit.unemployment",
    "benefit.pension",
    "identify.neutral",
    "wang.li",
    "li.na",
    "a.b",
    "a.b.c.d",
];

fn dotted_literals(dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            dotted_literals(&path, out);
            continue;
        }
        // The table itself and these tests name actions without writing them.
        let in_record = path.parent().is_some_and(|p| p.ends_with("record"));
        let table = path.ends_with("kind.rs") || path.ends_with("tests.rs");
        if path.extension().and_then(|e| e.to_str()) != Some("rs") || (in_record && table) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, part) in text.split('"').enumerate() {
            let literal = i % 2 == 1;
            let dotted = part.contains('.')
                && !part.starts_with('.')
                && !part.ends_with('.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
            if literal && dotted && !part.ends_with(".rs") && !part.ends_with(".txt") {
                out.insert(part.to_owned());
            }
        }
    }
}

#[test]
fn every_emitted_action_is_in_the_table() {
    let mut found = BTreeSet::new();
    dotted_literals(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    for action in StaffAction::ALL {
        found.insert(format!("staff.{}", action.code()));
    }
    let table: BTreeSet<&str> = ACTIONS.iter().map(|(a, _)| *a).collect();
    let missing: Vec<_> = found
        .iter()
        .filter(|a| !table.contains(a.as_str()) && !NOT_ACTIONS.contains(&a.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "actions neither mapped nor listed: {missing:?}"
    );
    let stale: Vec<_> = table.iter().filter(|a| !found.contains(**a)).collect();
    assert!(
        stale.is_empty(),
        "table names actions nothing writes: {stale:?}"
    );
}

#[test]
fn the_table_names_each_action_once() {
    let mut seen = BTreeSet::new();
    for (action, _) in ACTIONS {
        assert!(seen.insert(*action), "{action} twice");
    }
}

#[test]
fn every_kind_has_an_action_and_a_code_that_parses() {
    for kind in RecordKind::ALL {
        assert!(!kind.actions().is_empty(), "{kind:?} has no action");
        assert_eq!(RecordKind::from_code(kind.code()), Some(kind));
    }
}

#[test]
fn a_login_reads_by_its_outcome() {
    assert_eq!(
        kind_of("login.password", Outcome::Success),
        Some(RecordKind::Login)
    );
    assert_eq!(
        kind_of("login.password", Outcome::Failure),
        Some(RecordKind::LoginFailed)
    );
    assert_eq!(
        kind_of("login.password", Outcome::Denied),
        Some(RecordKind::Lock)
    );
    assert_eq!(kind_of("staff.login", Outcome::Success), None);
    assert_eq!(kind_of("no.such_action", Outcome::Success), None);
}

#[test]
fn a_payee_account_keeps_only_its_last_four() {
    assert_eq!(mask_account("6222020200112233"), "************2233");
    assert_eq!(mask_account("12"), "12");
}
