//! Looking members up, optimistic updates, and the credential history.

use fundpass_core::crypto::{BlindIndex, Sealed};
use fundpass_core::identity::IdType;
use fundpass_core::member::{
    CredentialUpdate, LockState, MemberId, MemberStatus, PiiUpdate, SecretKind,
};
use fundpass_core::ports::{MemberStore, StoreError};

use crate::support::{account, at, backends, bytes, document_index, import, member, phone_index};

#[tokio::test]
async fn migrating_twice_is_harmless_and_the_database_answers() {
    for db in backends().await {
        db.store.migrate().await.unwrap();
        db.store.ping().await.unwrap();
        assert_eq!(db.store.member_count().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn members_are_found_by_account_by_document_and_by_phone() {
    for db in backends().await {
        let store = &db.store;
        let mut sharing = member(3);
        sharing.phone_index = phone_index(1); // Two members may share one phone on file.
        import(store, &[member(1), member(2), sharing], at(0)).await;

        let one = store.member_by_account(&account(1)).await.unwrap().unwrap();
        assert_eq!(one.name, "测试会员1");
        assert_eq!(one.id_type, IdType::ResidentId);
        assert_eq!(one.id_number, member(1).id_number);
        assert_eq!(one.phone, member(1).phone);
        assert_eq!(one.status, MemberStatus::Ordinary);
        assert_eq!(one.login_hash, None);
        assert_eq!(one.login_lock, LockState::default());
        assert!(!one.transaction_disabled);
        assert_eq!(one.version, 1);

        let by_document = store
            .member_by_id_number(IdType::ResidentId, &document_index(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_document.account_no, account(2));
        let by_id = store.member_by_id(by_document.id).await.unwrap().unwrap();
        assert_eq!(by_id.account_no, account(2));

        let by_phone = store.members_by_phone(&phone_index(1)).await.unwrap();
        let accounts: Vec<_> = by_phone.iter().map(|m| m.account_no.clone()).collect();
        assert_eq!(accounts, vec![account(1), account(3)]);

        assert!(
            store
                .member_by_account(&account(9))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .member_by_id(MemberId(999_999))
                .await
                .unwrap()
                .is_none()
        );
        let other_type = store
            .member_by_id_number(IdType::Passport, &document_index(2))
            .await;
        assert!(other_type.unwrap().is_none());
        assert!(
            store
                .members_by_phone(&phone_index(9))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn members_after_pages_through_everyone_in_id_order() {
    for db in backends().await {
        let rows: Vec<_> = (1..=7).map(member).collect();
        import(&db.store, &rows, at(0)).await;
        let mut seen = Vec::new();
        let mut after = MemberId(0);
        loop {
            let page = db.store.members_after(after, 3).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.id;
            seen.extend(page.into_iter().map(|m| m.account_no));
        }
        assert_eq!(seen, (1..=7).map(account).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_the_right_version_bumps_it() {
    for db in backends().await {
        let store = &db.store;
        import(store, &[member(1)], at(0)).await;
        let record = store.member_by_account(&account(1)).await.unwrap().unwrap();

        let mut update = CredentialUpdate::from_record(&record, at(30));
        update.status = MemberStatus::Registered;
        update.login_hash = Some("$argon2id$v=19$login".into());
        update.transaction_hash = Some("$argon2id$v=19$transaction".into());
        update.login_lock = LockState {
            failures: 2,
            lock_count: 1,
            locked_until: Some(at(900)),
        };
        update.transaction_lock = LockState {
            failures: 5,
            lock_count: 3,
            locked_until: Some(at(86_400)),
        };
        update.transaction_disabled = true;
        store
            .update_credentials(record.id, record.version, &update)
            .await
            .unwrap();

        let stored = store.member_by_id(record.id).await.unwrap().unwrap();
        assert_eq!(stored.version, record.version + 1);
        assert_eq!(CredentialUpdate::from_record(&stored, at(30)), update);
        assert_eq!(stored.updated_at, at(30));

        let stale = store
            .update_credentials(record.id, record.version, &update)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
        let unknown = store
            .update_credentials(MemberId(424_242), 1, &update)
            .await;
        assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");

        let pii = PiiUpdate {
            id_number: Sealed::from_bytes(bytes(1, 30, 57)),
            id_number_index: BlindIndex::from_bytes(bytes(1, 31, 32)),
            phone: Sealed::from_bytes(bytes(1, 32, 50)),
            phone_index: BlindIndex::from_bytes(bytes(1, 33, 32)),
            at: at(60),
        };
        let stale = store.update_pii(record.id, record.version, &pii).await;
        assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
        store
            .update_pii(record.id, stored.version, &pii)
            .await
            .unwrap();
        let rotated = store.member_by_id(record.id).await.unwrap().unwrap();
        assert_eq!(rotated.id_number, pii.id_number);
        assert_eq!(rotated.phone_index, pii.phone_index);
        assert_eq!(rotated.version, stored.version + 1);
        assert_eq!(rotated.login_hash, update.login_hash, "credentials stay");
        let found = store
            .member_by_id_number(IdType::ResidentId, &pii.id_number_index)
            .await;
        assert_eq!(found.unwrap().unwrap().id, record.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_updates_on_one_version_exactly_one_succeeds() {
    for db in backends().await {
        import(&db.store, &[member(1)], at(0)).await;
        let record = db
            .store
            .member_by_account(&account(1))
            .await
            .unwrap()
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = db.store.clone();
                let mut update = CredentialUpdate::from_record(&record, at(i));
                update.login_lock.failures = i32::try_from(i).unwrap() + 1;
                tokio::spawn(async move {
                    store
                        .update_credentials(record.id, record.version, &update)
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(won, 1);
        let after = db.store.member_by_id(record.id).await.unwrap().unwrap();
        assert_eq!(after.version, record.version + 1);
    }
}

#[tokio::test]
async fn secret_history_comes_back_newest_first_and_limited() {
    for db in backends().await {
        let store = &db.store;
        import(store, &[member(1)], at(0)).await;
        let id = store
            .member_by_account(&account(1))
            .await
            .unwrap()
            .unwrap()
            .id;
        for (hash, secs) in [("h2", 20), ("h4", 40), ("h1", 10), ("h3", 30)] {
            store
                .push_secret_history(id, SecretKind::Login, hash, at(secs))
                .await
                .unwrap();
        }
        store
            .push_secret_history(id, SecretKind::Transaction, "t1", at(50))
            .await
            .unwrap();

        let login = store
            .recent_secret_hashes(id, SecretKind::Login, 3)
            .await
            .unwrap();
        assert_eq!(login, ["h4", "h3", "h2"]);
        let all = store
            .recent_secret_hashes(id, SecretKind::Login, 10)
            .await
            .unwrap();
        assert_eq!(all.len(), 4);
        let transaction = store
            .recent_secret_hashes(id, SecretKind::Transaction, 5)
            .await;
        assert_eq!(transaction.unwrap(), ["t1"]);
        let set_at = |kind| store.secret_set_at(id, kind);
        assert_eq!(set_at(SecretKind::Login).await.unwrap(), Some(at(40)));
        assert_eq!(set_at(SecretKind::Transaction).await.unwrap(), Some(at(50)));
        let never = store.secret_set_at(MemberId(777), SecretKind::Login).await;
        assert_eq!(never.unwrap(), None);

        let nobody = store
            .push_secret_history(MemberId(777), SecretKind::Login, "x", at(1))
            .await;
        assert!(matches!(nobody, Err(StoreError::NotFound)), "{nobody:?}");
        assert!(
            store
                .recent_secret_hashes(MemberId(777), SecretKind::Login, 5)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
