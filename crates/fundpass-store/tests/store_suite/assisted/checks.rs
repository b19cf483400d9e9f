//! Hotline checklists: stored whole, marked used once, on the version read.

use fundpass_core::assisted::{CheckWrite, HotlineCheck};
use fundpass_core::ports::{CaseStore, ChangeSet, StoreError, UnitOfWork};
use fundpass_core::staff::StaffRole;

use super::{case_id, check, staff_account};
use crate::portal::members;
use crate::support::{at, backends};

fn checks(writes: Vec<CheckWrite>) -> ChangeSet {
    ChangeSet {
        checks: writes,
        ..ChangeSet::default()
    }
}

#[tokio::test]
async fn a_hotline_check_survives_the_round_trip_passed_or_failed() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let agent = staff_account(store, "zhao.min", StaffRole::Hotline)
            .await
            .id;
        let passed = check(1, agent, Some(member.id), at(0));
        let failed = HotlineCheck {
            items: vec![
                ("document".into(), true),
                ("phone".into(), false),
                ("问题_2".into(), true),
            ],
            passed: false,
            used_at: Some(at(3)),
            version: 3,
            ..check(2, agent, Some(member.id), at(1))
        };
        let nobody = HotlineCheck {
            items: Vec::new(),
            passed: false,
            ..check(3, agent, None, at(2))
        };
        let change = checks(
            [&passed, &failed, &nobody]
                .map(|c| CheckWrite::Insert(c.clone()))
                .to_vec(),
        );
        store.apply(change).await.unwrap();

        assert_eq!(store.hotline_check(&passed.id).await.unwrap(), Some(passed));
        assert_eq!(store.hotline_check(&failed.id).await.unwrap(), Some(failed));
        assert_eq!(store.hotline_check(&nobody.id).await.unwrap(), Some(nobody));
        assert_eq!(store.hotline_check(&case_id(4)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_hotline_check_is_used_once_on_the_version_read() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let agent = staff_account(store, "zhao.min", StaffRole::Hotline)
            .await
            .id;
        let read = check(1, agent, None, at(0));
        store
            .apply(checks(vec![CheckWrite::Insert(read.clone())]))
            .await
            .unwrap();
        let used = HotlineCheck {
            member_id: Some(member.id),
            items: vec![("document".into(), true)],
            expires_at: at(60),
            used_at: Some(at(40)),
            version: read.version + 1,
            ..read.clone()
        };
        let write = |record: &HotlineCheck| CheckWrite::Update {
            record: record.clone(),
            expected_version: read.version,
        };
        store.apply(checks(vec![write(&used)])).await.unwrap();
        let stored = store.hotline_check(&read.id).await.unwrap().unwrap();
        assert_eq!(stored, used);

        // A second use that read the same version is refused and changes nothing.
        let again = HotlineCheck {
            used_at: Some(at(45)),
            ..read.clone()
        };
        let refused = store.apply(checks(vec![write(&again)])).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        assert_eq!(store.hotline_check(&read.id).await.unwrap(), Some(used));

        let ghost = CheckWrite::Update {
            record: check(9, agent, None, at(0)),
            expected_version: 1,
        };
        let missing = store.apply(checks(vec![ghost])).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
}
