//! Staff account writes inside a unit of work: the failure counters and the TOTP replay
//! step land with the rest of a console change, on the version read, or not at all.

use fundpass_core::member::LockState;
use fundpass_core::ports::{
    AuditStore, ChangeSet, StaffSessionStore, StaffStore, StaffWrite, StoreError, UnitOfWork,
};
use fundpass_core::staff::{StaffId, StaffRole, StaffSessionWrite};

use super::{staff_account, staff_session};
use crate::portal::{digest, event, members, verified_chain_length};
use crate::support::{at, backends};

#[tokio::test]
async fn a_staff_write_lands_with_its_change_only_on_the_version_read() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let read = staff_account(store, "wang.li", StaffRole::Counter).await;
        let mut failed = read.clone();
        failed.lock = LockState {
            failures: 4,
            lock_count: 1,
            locked_until: Some(at(900)),
        };
        failed.totp_last_step = Some(58_333_335);
        failed.updated_at = at(5);
        let change = ChangeSet {
            staff: vec![StaffWrite {
                record: failed.clone(),
                expected_version: read.version,
            }],
            staff_sessions: vec![StaffSessionWrite::Insert(staff_session(1, read.id, at(5)))],
            audit: vec![event(5, member.id)],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let stored = store.staff_by_id(read.id).await.unwrap().unwrap();
        assert_eq!(stored.lock, failed.lock);
        assert_eq!(stored.totp_last_step, Some(58_333_335));
        assert_eq!(stored.updated_at, at(5));
        assert_eq!(stored.version, read.version + 1);
        assert_eq!(
            stored.username, read.username,
            "the user name never changes"
        );

        // A second request that read the same version loses, and its whole change with it.
        let mut stale = read.clone();
        stale.lock = LockState::default();
        stale.totp_last_step = Some(1);
        let lost = ChangeSet {
            staff: vec![StaffWrite {
                record: stale,
                expected_version: read.version,
            }],
            staff_sessions: vec![StaffSessionWrite::Insert(staff_session(2, read.id, at(6)))],
            audit: vec![event(6, member.id)],
            ..ChangeSet::default()
        };
        let refused = store.apply(lost).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        let still = store.staff_by_id(read.id).await.unwrap().unwrap();
        assert_eq!(still, stored);
        assert_eq!(store.staff_session(&digest(2)).await.unwrap(), None);
        assert_eq!(verified_chain_length(store).await, 1);
        assert!(store.staff_session(&digest(1)).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_staff_write_for_an_account_that_does_not_exist_is_not_found() {
    for db in backends().await {
        let store = &db.store;
        let real = staff_account(store, "wang.li", StaffRole::Counter).await;
        let mut ghost = real.clone();
        ghost.id = StaffId(real.id.0 + 1000);
        let change = ChangeSet {
            staff: vec![
                StaffWrite {
                    record: real.clone(),
                    expected_version: real.version,
                },
                StaffWrite {
                    record: ghost,
                    expected_version: real.version,
                },
            ],
            ..ChangeSet::default()
        };
        let refused = store.apply(change).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
        let untouched = store.staff_by_id(real.id).await.unwrap().unwrap();
        assert_eq!(
            untouched.version, real.version,
            "the write before it is undone"
        );
        assert_eq!(store.head().await.unwrap(), None);
    }
}
