//! Security questions: set, replaced as a whole, removed, and never half-written.

use fundpass_core::ports::{ChangeSet, SecurityQuestionStore, StoreError, UnitOfWork};

use super::{answers, members};
use crate::support::backends;

#[tokio::test]
async fn new_security_answers_replace_the_previous_set_of_that_member_only() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (alice, bob) = (both[0].id, both[1].id);
        let set = |security_answers, clear_questions| ChangeSet {
            security_answers,
            clear_questions,
            ..ChangeSet::default()
        };
        let first = answers(
            alice,
            &["first_school", "childhood_friend", "first_street"],
            1,
        );
        let bobs = answers(bob, &["first_school"], 3);
        store.apply(set(first.clone(), vec![])).await.unwrap();
        store.apply(set(bobs.clone(), vec![])).await.unwrap();
        assert_eq!(store.security_answers(alice).await.unwrap(), first);

        // Fewer questions, one of them kept in another slot: no row of the old set stays.
        let second = answers(alice, &["first_street", "parents_hometown"], 2);
        store.apply(set(second.clone(), vec![])).await.unwrap();
        assert_eq!(store.security_answers(alice).await.unwrap(), second);

        // Clearing first and then setting, in one change, is the same replacement.
        let third = answers(alice, &["favourite_teacher"], 4);
        store.apply(set(third.clone(), vec![alice])).await.unwrap();
        assert_eq!(store.security_answers(alice).await.unwrap(), third);

        store.apply(set(vec![], vec![alice])).await.unwrap();
        assert!(store.security_answers(alice).await.unwrap().is_empty());
        assert_eq!(
            store.security_answers(bob).await.unwrap(),
            bobs,
            "another member's questions are untouched"
        );
    }
}

#[tokio::test]
async fn a_question_chosen_twice_is_a_duplicate_and_leaves_the_old_set() {
    for db in backends().await {
        let store = &db.store;
        let alice = members(store, 1).await[0].id;
        let old = answers(alice, &["first_school", "first_employer"], 1);
        let change = ChangeSet {
            security_answers: old.clone(),
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let twice = ChangeSet {
            security_answers: answers(alice, &["first_street", "first_street"], 2),
            ..ChangeSet::default()
        };
        let refused = store.apply(twice).await;
        assert!(
            matches!(&refused, Err(StoreError::Duplicate(c)) if c == "security_answers_question_key"),
            "{refused:?}"
        );
        let mut same_slot = answers(alice, &["first_street", "parents_hometown"], 2);
        same_slot[1].slot = 1;
        let refused = store
            .apply(ChangeSet {
                security_answers: same_slot,
                ..ChangeSet::default()
            })
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Duplicate(c)) if c == "security_answers_pkey"),
            "{refused:?}"
        );
        assert_eq!(store.security_answers(alice).await.unwrap(), old);
    }
}
