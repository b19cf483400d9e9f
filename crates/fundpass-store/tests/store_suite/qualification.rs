//! The qualification check's storage on every backend: the benefit import (all or
//! nothing, re-import keeps due dates), benefits moved under their version, attempts
//! used once, a reminder recorded once per key, and the sweeps' queries.

use fundpass_core::crypto::TokenDigest;
use fundpass_core::member::AccountNumber;
use fundpass_core::ports::{ChangeSet, QualificationStore, StoreError, UnitOfWork};
use fundpass_core::qualification::{
    Attempt, AttemptState, Benefit, BenefitKind, CheckChannel, CheckRecord, QualificationStatus,
    QualificationWrite, ReminderSent,
};
use time::macros::date;

use super::portal::members;
use crate::support::{at, backends};

fn benefit(member: fundpass_core::member::MemberId, due: time::Date) -> Benefit {
    Benefit {
        member_id: member,
        kind: BenefitKind::Pension,
        start_date: date!(2019 - 03 - 15),
        cycle_months: 12,
        due_date: due,
        status: QualificationStatus::Qualified,
        suspended_since: None,
        last_check_at: None,
        last_check_channel: None,
        failed_attempts: 0,
        deceased_on: None,
        version: 0,
    }
}

#[tokio::test]
async fn an_import_lands_whole_or_not_at_all_and_a_reimport_keeps_the_due_date() {
    for db in backends().await {
        let store = &db.store;
        let people = members(store, 3).await;
        let mut tx = store.begin_benefit_import().await.unwrap();
        let accounts: Vec<AccountNumber> = people.iter().map(|m| m.account_no.clone()).collect();
        let mut unknown = accounts.clone();
        unknown.push(AccountNumber::parse("999999999").unwrap());
        let found = tx.members_by_account(&unknown).await.unwrap();
        assert_eq!(found.len(), 3, "{}", db.url);
        tx.upsert(&[benefit(people[0].id, date!(2027 - 03 - 15))])
            .await
            .unwrap();
        // Dropped without commit: nothing was written.
        drop(tx);
        assert_eq!(store.benefit(people[0].id).await.unwrap(), None);

        let mut tx = store.begin_benefit_import().await.unwrap();
        let first: Vec<Benefit> = people
            .iter()
            .map(|m| benefit(m.id, date!(2027 - 03 - 15)))
            .collect();
        tx.upsert(&first).await.unwrap();
        tx.commit().await.unwrap();
        let stored = store.benefit(people[1].id).await.unwrap().unwrap();
        assert_eq!(
            stored,
            Benefit {
                version: 1,
                ..first[1].clone()
            }
        );

        // A re-import changes kind, cycle, status and date of death only.
        let mut tx = store.begin_benefit_import().await.unwrap();
        assert_eq!(
            tx.benefits_of(&[people[1].id]).await.unwrap(),
            std::slice::from_ref(&stored)
        );
        let again = Benefit {
            kind: BenefitKind::Survivor,
            cycle_months: 6,
            due_date: date!(2030 - 01 - 01),
            status: QualificationStatus::Ended,
            deceased_on: Some(date!(2026 - 10 - 02)),
            ..stored.clone()
        };
        tx.upsert(&[again]).await.unwrap();
        tx.commit().await.unwrap();
        let after = store.benefit(people[1].id).await.unwrap().unwrap();
        assert_eq!(after.due_date, date!(2027 - 03 - 15));
        assert_eq!(after.kind, BenefitKind::Survivor);
        assert_eq!(after.status, QualificationStatus::Ended);
        assert_eq!(after.deceased_on, Some(date!(2026 - 10 - 02)));
        assert_eq!(after.version, 2);
    }
}

#[tokio::test]
async fn benefits_move_under_their_version_and_attempts_and_reminders_are_used_once() {
    for db in backends().await {
        let store = &db.store;
        let people = members(store, 2).await;
        let mut tx = store.begin_benefit_import().await.unwrap();
        tx.upsert(&[
            benefit(people[0].id, date!(2026 - 06 - 30)),
            benefit(people[1].id, date!(2026 - 07 - 10)),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let lapsed = store
            .lapsed_benefits(date!(2026 - 07 - 01), 10)
            .await
            .unwrap();
        assert_eq!(lapsed.len(), 1, "{}", db.url);
        assert_eq!(lapsed[0].member_id, people[0].id);
        let suspended = Benefit {
            status: QualificationStatus::Suspended,
            suspended_since: Some(date!(2026 - 06 - 30)),
            ..lapsed[0].clone()
        };
        let suspend = |expected| ChangeSet {
            qualification: vec![QualificationWrite::Benefit {
                record: suspended.clone(),
                expected_version: expected,
            }],
            ..ChangeSet::default()
        };
        store.apply(suspend(1)).await.unwrap();
        assert!(matches!(
            store.apply(suspend(1)).await,
            Err(StoreError::Conflict)
        ));
        assert!(
            store
                .lapsed_benefits(date!(2026 - 07 - 01), 10)
                .await
                .unwrap()
                .is_empty()
        );

        // Reminders: the query skips a key already recorded; the key refuses a second.
        let due = |status| {
            store.unreminded_benefits(status, date!(2026 - 07 - 03), date!(2026 - 07 - 10), 7, 10)
        };
        assert_eq!(due(QualificationStatus::Qualified).await.unwrap().len(), 1);
        assert!(
            due(QualificationStatus::Suspended)
                .await
                .unwrap()
                .is_empty()
        );
        let reminder = ChangeSet {
            qualification: vec![QualificationWrite::Reminder(ReminderSent {
                member_id: people[1].id,
                due_date: date!(2026 - 07 - 10),
                offset_days: 7,
                sent_at: at(5),
            })],
            ..ChangeSet::default()
        };
        store.apply(reminder.clone()).await.unwrap();
        assert!(
            due(QualificationStatus::Qualified)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            store.apply(reminder).await,
            Err(StoreError::Duplicate(_) | StoreError::Conflict)
        ));

        // An attempt is inserted once per nonce and moved on once.
        let attempt = Attempt {
            id: TokenDigest([9; 32]),
            member_id: people[1].id,
            started_by: people[1].id,
            channel: CheckChannel::AppFace,
            nonce: "nonce-1".into(),
            state: AttemptState::Pending,
            created_at: at(1),
            expires_at: at(601),
            version: 1,
        };
        store
            .apply(ChangeSet {
                qualification: vec![QualificationWrite::NewAttempt(attempt.clone())],
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        let same_nonce = Attempt {
            id: TokenDigest([8; 32]),
            ..attempt.clone()
        };
        assert!(matches!(
            store
                .apply(ChangeSet {
                    qualification: vec![QualificationWrite::NewAttempt(same_nonce)],
                    ..ChangeSet::default()
                })
                .await,
            Err(StoreError::Duplicate(_))
        ));
        let passed = |expected| ChangeSet {
            qualification: vec![
                QualificationWrite::Attempt {
                    record: Attempt {
                        state: AttemptState::Passed,
                        ..attempt.clone()
                    },
                    expected_version: expected,
                },
                QualificationWrite::Check(CheckRecord {
                    member_id: people[1].id,
                    checked_at: at(30),
                    checked_on: date!(2025 - 06 - 15),
                    channel: CheckChannel::AppFace,
                    provider: "dev-sim".into(),
                    by_member: None,
                    similarity: Some(95.5),
                    due_before: date!(2026 - 07 - 10),
                    due_after: date!(2027 - 07 - 10),
                    gap_months: 0,
                    ip: Some("203.0.113.9".into()),
                }),
            ],
            ..ChangeSet::default()
        };
        store.apply(passed(1)).await.unwrap();
        assert!(matches!(
            store.apply(passed(1)).await,
            Err(StoreError::Conflict)
        ));
        let stored = store
            .qualification_attempt(&attempt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.state, stored.version), (AttemptState::Passed, 2));
        let checks = store.recent_checks(people[1].id, 5).await.unwrap();
        assert_eq!(checks.len(), 1, "the refused change left no second check");
        assert_eq!(checks[0].similarity, Some(95.5));
        assert_eq!(checks[0].due_after, date!(2027 - 07 - 10));
    }
}
