//! What the counter changes on a member: a new phone on file (found by its new index
//! only, on the version read), and the last reset the high-risk rule looks at.

use fundpass_core::assisted::CaseWrite;
use fundpass_core::audit::Channel;
use fundpass_core::crypto::Field;
use fundpass_core::member::{
    CredentialUpdate, Hold, HoldReason, MemberId, MemberRecord, MemberStatus, PiiUpdate,
};
use fundpass_core::ports::{
    AuditStore, CaseStore, ChangeSet, MemberStore, MemberWrite, PiiWrite, StoreError, UnitOfWork,
};
use fundpass_core::staff::StaffRole;
use fundpass_core::testing::CountingRng;
use time::OffsetDateTime;

use super::{case, case_id, staff_account};
use crate::portal::{event, hold, keyring, members, verified_chain_length};
use crate::support::{at, backends, phone_index};

/// `member`'s personal data with the phone replaced by `phone` (and its index).
fn new_phone(member: &MemberRecord, phone: &str, when: OffsetDateTime) -> PiiUpdate {
    let ring = keyring();
    PiiUpdate {
        id_number: member.id_number.clone(),
        id_number_index: member.id_number_index.clone(),
        phone: ring.seal(Field::Phone, phone, &CountingRng::default()),
        phone_index: ring.blind_index(Field::Phone, phone),
        at: when,
    }
}

#[tokio::test]
async fn a_new_phone_on_file_moves_the_phone_index_and_the_version() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (member, other) = (&both[0], &both[1]);
        let update = new_phone(member, "13912345678", at(40));
        let change = ChangeSet {
            pii: vec![PiiWrite {
                id: member.id,
                expected_version: member.version,
                update: update.clone(),
            }],
            holds: vec![Hold {
                reason: HoldReason::PhoneChange,
                channel: Channel::Counter,
                ..hold(member.id, at(40), at(1000))
            }],
            audit: vec![event(40, member.id)],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let stored = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(stored.phone, update.phone);
        assert_eq!(stored.phone_index, update.phone_index);
        assert_eq!(stored.id_number_index, member.id_number_index);
        assert_eq!(stored.updated_at, at(40));
        assert_eq!(stored.version, member.version + 1);
        let found = store.members_by_phone(&update.phone_index).await.unwrap();
        assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), [member.id]);
        assert!(
            store
                .members_by_phone(&phone_index(1))
                .await
                .unwrap()
                .is_empty(),
            "the old phone no longer finds the member"
        );
        let untouched = store.member_by_id(other.id).await.unwrap().unwrap();
        assert_eq!(
            (untouched.phone_index, untouched.version),
            (other.phone_index.clone(), other.version)
        );
    }
}

#[tokio::test]
async fn a_new_phone_lands_after_the_credentials_of_the_same_change_or_not_at_all() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let mut update = CredentialUpdate::from_record(&member, at(5));
        update.status = MemberStatus::Registered;
        let credentials = MemberWrite {
            id: member.id,
            expected_version: member.version,
            update,
        };
        let pii = |expected_version| PiiWrite {
            id: member.id,
            expected_version,
            update: new_phone(&member, "13912345678", at(5)),
        };
        let change = |expected_version| ChangeSet {
            members: vec![credentials.clone()],
            pii: vec![pii(expected_version)],
            cases: vec![CaseWrite::Insert(case(1, member.id, staff, at(5)))],
            audit: vec![event(5, member.id)],
            ..ChangeSet::default()
        };

        // Expecting the version read, not the one the credential update left: refused,
        // and the credentials, the case and the event go with it.
        let refused = store.apply(change(member.version)).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        let unchanged = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(
            (unchanged.status, unchanged.phone_index, unchanged.version),
            (member.status, member.phone_index.clone(), member.version)
        );
        assert_eq!(store.case_by_id(&case_id(1)).await.unwrap(), None);
        assert_eq!(store.head().await.unwrap(), None);

        store.apply(change(member.version + 1)).await.unwrap();
        let stored = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(stored.status, MemberStatus::Registered);
        assert_eq!(stored.phone_index, pii(0).update.phone_index);
        assert_eq!(stored.version, member.version + 2);
        assert_eq!(verified_chain_length(store).await, 1);

        let ghost = ChangeSet {
            pii: vec![PiiWrite {
                id: MemberId(member.id.0 + 1000),
                ..pii(1)
            }],
            ..ChangeSet::default()
        };
        let missing = store.apply(ghost).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
}

#[tokio::test]
async fn the_last_reset_is_the_newest_reset_hold_ended_or_not_and_not_a_phone_change() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (member, other) = (both[0].id, both[1].id);
        assert_eq!(store.last_reset_at(member).await.unwrap(), None);

        let reset = |reason, created: i64, until: i64| Hold {
            reason,
            ..hold(member, at(created), at(until))
        };
        let change = ChangeSet {
            holds: vec![
                reset(HoldReason::LoginReset, 10, 1000),
                // The newest reset, already ended.
                reset(HoldReason::TransactionReset, 50, 60),
                reset(HoldReason::LoginReset, 30, 2000),
                // Newer still, but a phone change is not a reset.
                reset(HoldReason::PhoneChange, 90, 3000),
                // Another member's reset.
                hold(other, at(200), at(300)),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        assert_eq!(store.last_reset_at(member).await.unwrap(), Some(at(50)));
        assert_eq!(store.last_reset_at(other).await.unwrap(), Some(at(200)));
        let phone_only = ChangeSet {
            holds: vec![Hold {
                reason: HoldReason::PhoneChange,
                ..hold(other, at(400), at(500))
            }],
            ..ChangeSet::default()
        };
        store.apply(phone_only).await.unwrap();
        assert_eq!(store.last_reset_at(other).await.unwrap(), Some(at(200)));
    }
}
