//! Staff console sessions: stored whole, touched forward only, ended one at a time or
//! all of one account's at once.

use fundpass_core::crypto::Field;
use fundpass_core::ports::{ChangeSet, StaffSessionStore, UnitOfWork};
use fundpass_core::staff::{StaffLevel, StaffRole, StaffSessionWrite, TotpSecret};
use fundpass_core::testing::CountingRng;

use super::{staff_account, staff_session};
use crate::portal::{digest, keyring};
use crate::support::{at, backends};

fn sessions(writes: Vec<StaffSessionWrite>) -> ChangeSet {
    ChangeSet {
        staff_sessions: writes,
        ..ChangeSet::default()
    }
}

#[tokio::test]
async fn a_staff_session_survives_the_round_trip_with_its_pending_second_factor() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await;
        let secret = TotpSecret::generate(&rng);
        let mut first_login = staff_session(1, staff.id, at(0));
        first_login.level = StaffLevel::Password;
        first_login.pending_totp = Some(secret.seal(&ring, &rng));
        let mut bare = staff_session(2, staff.id, at(5));
        bare.ip = None;
        bare.user_agent = None;
        let change = sessions(vec![
            StaffSessionWrite::Insert(first_login.clone()),
            StaffSessionWrite::Insert(bare.clone()),
        ]);
        store.apply(change).await.unwrap();

        let stored = store.staff_session(&digest(1)).await.unwrap().unwrap();
        assert_eq!(stored, first_login);
        let sealed = stored.pending_totp.unwrap();
        assert!(ring.open(Field::TotpSecret, &sealed).is_ok());
        assert_eq!(store.staff_session(&digest(2)).await.unwrap(), Some(bare));
        assert_eq!(store.staff_session(&digest(3)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn touching_a_staff_session_only_moves_its_last_activity_forward() {
    for db in backends().await {
        let store = &db.store;
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await;
        let change = sessions(vec![StaffSessionWrite::Insert(staff_session(
            1,
            staff.id,
            at(0),
        ))]);
        store.apply(change).await.unwrap();
        let last_seen = || async {
            let s = store.staff_session(&digest(1)).await.unwrap().unwrap();
            s.last_seen_at
        };

        store.touch_staff_session(&digest(1), at(90)).await.unwrap();
        assert_eq!(last_seen().await, at(90));
        store.touch_staff_session(&digest(1), at(60)).await.unwrap();
        assert_eq!(
            last_seen().await,
            at(90),
            "a late request does not move it back"
        );
        store.touch_staff_session(&digest(2), at(60)).await.unwrap();
        let created = store.staff_session(&digest(1)).await.unwrap().unwrap();
        assert_eq!(created.created_at, at(0), "only the activity moves");
    }
}

#[tokio::test]
async fn revoking_ends_one_staff_session_and_revoking_all_ends_only_that_accounts() {
    for db in backends().await {
        let store = &db.store;
        let wang = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let zhao = staff_account(store, "zhao.min", StaffRole::Hotline)
            .await
            .id;
        let change = sessions(vec![
            StaffSessionWrite::Insert(staff_session(1, wang, at(0))),
            StaffSessionWrite::Insert(staff_session(2, wang, at(1))),
            StaffSessionWrite::Insert(staff_session(3, wang, at(2))),
            StaffSessionWrite::Insert(staff_session(4, zhao, at(3))),
        ]);
        store.apply(change).await.unwrap();
        let revoked_at = |n| async move {
            let s = store.staff_session(&digest(n)).await.unwrap().unwrap();
            s.revoked_at
        };

        let one = StaffSessionWrite::Revoke {
            token: digest(1),
            at: at(10),
        };
        store.apply(sessions(vec![one])).await.unwrap();
        assert_eq!(revoked_at(1).await, Some(at(10)));
        assert_eq!(revoked_at(2).await, None);

        let all = StaffSessionWrite::RevokeAll {
            staff: wang,
            at: at(20),
        };
        store.apply(sessions(vec![all])).await.unwrap();
        assert_eq!(
            revoked_at(1).await,
            Some(at(10)),
            "the first revocation time stays"
        );
        assert_eq!(revoked_at(2).await, Some(at(20)));
        assert_eq!(revoked_at(3).await, Some(at(20)));
        assert_eq!(
            revoked_at(4).await,
            None,
            "another account's session is untouched"
        );

        // Revoking again changes nothing and is not an error.
        let again = StaffSessionWrite::Revoke {
            token: digest(2),
            at: at(30),
        };
        store.apply(sessions(vec![again])).await.unwrap();
        assert_eq!(revoked_at(2).await, Some(at(20)));
    }
}
