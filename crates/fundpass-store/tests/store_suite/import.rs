//! Importing members: one transaction, inserts and updates counted, duplicates refused.

use fundpass_core::identity::IdType;
use fundpass_core::member::{CredentialUpdate, ImportOutcome, MemberStatus};
use fundpass_core::ports::{MemberStore, StoreError};

use crate::support::{account, at, backends, document_index, import, member, phone_index};

#[tokio::test]
async fn import_inserts_then_updates_by_account_number_and_counts_both() {
    for db in backends().await {
        let store = &db.store;
        let first = import(store, &[member(1), member(2), member(3)], at(0)).await;
        assert_eq!(
            first,
            ImportOutcome {
                inserted: 3,
                updated: 0
            }
        );

        // Member 2 registers before the next import.
        let before = store.member_by_account(&account(2)).await.unwrap().unwrap();
        let mut registered = CredentialUpdate::from_record(&before, at(10));
        registered.status = MemberStatus::Registered;
        registered.login_hash = Some("$argon2id$login".into());
        store
            .update_credentials(before.id, before.version, &registered)
            .await
            .unwrap();

        let mut changed = member(2);
        changed.name = "改名会员".into();
        changed.phone_index = phone_index(200);
        let second = import(store, &[changed, member(4)], at(60)).await;
        assert_eq!(
            second,
            ImportOutcome {
                inserted: 1,
                updated: 1
            }
        );
        assert_eq!(store.member_count().await.unwrap(), 4);

        let after = store.member_by_account(&account(2)).await.unwrap().unwrap();
        assert_eq!(after.id, before.id);
        assert_eq!(after.name, "改名会员");
        assert_eq!(after.phone_index, phone_index(200));
        assert_eq!(
            after.version, 3,
            "registration and import each bump the version"
        );
        assert_eq!(after.created_at, at(0));
        assert_eq!(after.updated_at, at(60));
        // The import changes personal data only: the registration survives it.
        assert_eq!(after.status, MemberStatus::Registered);
        assert_eq!(after.login_hash.as_deref(), Some("$argon2id$login"));
    }
}

#[tokio::test]
async fn an_import_that_is_not_committed_leaves_nothing() {
    for db in backends().await {
        let store = &db.store;
        {
            let mut abandoned = store.begin_import().await.unwrap();
            let outcome = abandoned
                .upsert(&[member(1), member(2)], at(0))
                .await
                .unwrap();
            assert_eq!(outcome.inserted, 2);
        }
        assert_eq!(store.member_count().await.unwrap(), 0);
        assert!(
            store
                .member_by_account(&account(1))
                .await
                .unwrap()
                .is_none()
        );
        // The abandoned import released its lock: the next one goes through.
        assert_eq!(import(store, &[member(1)], at(1)).await.inserted, 1);
        assert_eq!(store.member_count().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_document_held_by_another_account_is_a_duplicate() {
    for db in backends().await {
        let store = &db.store;
        import(store, &[member(1)], at(0)).await;

        let mut claimant = member(2);
        claimant.id_number_index = document_index(1);
        let mut batch = store.begin_import().await.unwrap();
        match batch.upsert(&[claimant.clone()], at(1)).await {
            Err(StoreError::Duplicate(constraint)) => {
                assert_eq!(constraint, "members_document_key")
            }
            other => panic!("expected a duplicate document, got {other:?}"),
        }
        drop(batch);

        // The same number under another document type is another document.
        claimant.id_type = IdType::Passport;
        assert_eq!(import(store, &[claimant], at(2)).await.inserted, 1);
        assert_eq!(store.member_count().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn one_account_twice_in_a_batch_is_a_duplicate() {
    for db in backends().await {
        let mut batch = db.store.begin_import().await.unwrap();
        let mut again = member(1);
        again.id_number_index = document_index(99);
        match batch.upsert(&[member(1), again], at(0)).await {
            Err(StoreError::Duplicate(constraint)) => {
                assert_eq!(constraint, "members_account_no_key")
            }
            other => panic!("expected a duplicate account, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn existing_by_index_names_the_account_holding_each_document() {
    for db in backends().await {
        let store = &db.store;
        import(store, &[member(1), member(2), member(3)], at(0)).await;
        let mut batch = store.begin_import().await.unwrap();
        let asked = [
            (IdType::ResidentId, document_index(2)),
            (IdType::ResidentId, document_index(7)),
            (IdType::Passport, document_index(3)),
            (IdType::ResidentId, document_index(3)),
        ];
        let mut found = batch.existing_by_index(&asked).await.unwrap();
        found.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(
            found,
            vec![
                (IdType::ResidentId, document_index(2), account(2)),
                (IdType::ResidentId, document_index(3), account(3)),
            ]
        );
        // Rows written earlier in the same import are seen too.
        batch.upsert(&[member(8)], at(1)).await.unwrap();
        let seen = batch
            .existing_by_index(&[(IdType::ResidentId, document_index(8))])
            .await
            .unwrap();
        assert_eq!(seen.len(), 1);
        assert!(batch.existing_by_index(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_batch_larger_than_one_statement_is_counted_in_full() {
    for db in backends().await {
        let rows: Vec<_> = (0..2_345).map(member).collect();
        assert_eq!(import(&db.store, &rows, at(0)).await.inserted, 2_345);
        let again = import(&db.store, &rows[..1_500], at(1)).await;
        assert_eq!(
            again,
            ImportOutcome {
                inserted: 0,
                updated: 1_500
            }
        );
        let mut batch = db.store.begin_import().await.unwrap();
        let asked: Vec<_> = (0..2_400)
            .map(|n| (IdType::ResidentId, document_index(n)))
            .collect();
        assert_eq!(batch.existing_by_index(&asked).await.unwrap().len(), 2_345);
    }
}

#[tokio::test]
async fn claims_name_the_first_line_of_a_repeated_account_or_document_across_batches() {
    use fundpass_core::ports::{Repeat, Repeated};
    for db in backends().await {
        let store = &db.store;
        let mut batch = store.begin_import().await.unwrap();
        let (one, two) = (member(1), member(2));
        assert!(
            batch
                .claim(&[(2, &one), (3, &two)])
                .await
                .unwrap()
                .is_empty()
        );

        // A later batch: member 1's account again (another document), member 2's
        // document under another account, and within the batch a document twice.
        let mut same_account = member(3);
        same_account.account_no = account(1);
        let mut same_document = member(4);
        same_document.id_number_index = document_index(2);
        let five = member(5);
        let mut five_again = member(6);
        five_again.id_number_index = document_index(5);
        let repeats = batch
            .claim(&[
                (10, &same_account),
                (11, &same_document),
                (12, &five),
                (13, &five_again),
            ])
            .await
            .unwrap();
        let repeat = |line, what, first_line| Repeat {
            line,
            what,
            first_line,
        };
        assert_eq!(
            repeats,
            vec![
                repeat(10, Repeated::Account, 2),
                repeat(11, Repeated::Document, 3),
                repeat(13, Repeated::Document, 12),
            ]
        );
        // The same document under another type is another document.
        let mut passport = member(7);
        passport.id_type = IdType::Passport;
        passport.id_number_index = document_index(1);
        assert!(batch.claim(&[(20, &passport)]).await.unwrap().is_empty());
        batch.commit().await.unwrap();

        // Notes belong to one import: the next starts with none (committed or not).
        let mut next = store.begin_import().await.unwrap();
        assert!(next.claim(&[(2, &one)]).await.unwrap().is_empty());
        drop(next);
        let mut after_abandoned = store.begin_import().await.unwrap();
        assert!(
            after_abandoned
                .claim(&[(5, &one)])
                .await
                .unwrap()
                .is_empty()
        );
    }
}
