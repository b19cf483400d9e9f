//! Holds: listed while in force, newest first, each member's own; written with the rest
//! of a change or not at all.

use fundpass_core::audit::Channel;
use fundpass_core::flow::FlowState;
use fundpass_core::member::{HoldReason, MemberId};
use fundpass_core::ports::{
    ChangeSet, FlowStore, FlowWrite, HoldStore, MemberStore, SecurityQuestionStore, StoreError,
    UnitOfWork,
};

use super::{answers, flow, hold, members};
use crate::support::{at, backends};

#[tokio::test]
async fn only_holds_still_in_force_are_listed_newest_first_and_per_member() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (alice, bob) = (both[0].id, both[1].id);
        let ended = hold(alice, at(0), at(100));
        let long = hold(alice, at(10), at(1000));
        let phone = fundpass_core::member::Hold {
            reason: HoldReason::PhoneChange,
            channel: Channel::Counter,
            ..hold(alice, at(20), at(500))
        };
        let bobs = hold(bob, at(30), at(2000));
        let change = ChangeSet {
            holds: vec![ended, long.clone(), bobs.clone(), phone.clone()],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        assert_eq!(
            store.active_holds(alice, at(99)).await.unwrap().len(),
            3,
            "every hold is in force before its end"
        );
        assert_eq!(
            store.active_holds(alice, at(100)).await.unwrap(),
            [phone, long.clone()],
            "a hold has ended at its `until`"
        );
        assert_eq!(store.active_holds(alice, at(500)).await.unwrap(), [long]);
        assert!(
            store
                .active_holds(alice, at(1000))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.active_holds(bob, at(100)).await.unwrap(), [bobs]);
        assert!(
            store
                .active_holds(MemberId(bob.0 + 1000), at(0))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_change_that_fails_places_no_hold_and_keeps_the_old_answers() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let started = flow(1, Some(member.id));
        let old_answers = answers(member.id, &["first_school", "first_employer"], 1);
        let setup = ChangeSet {
            flows: vec![FlowWrite::Insert(started.clone())],
            security_answers: old_answers.clone(),
            ..ChangeSet::default()
        };
        store.apply(setup).await.unwrap();

        let reset = ChangeSet {
            flows: vec![FlowWrite::Update {
                record: fundpass_core::flow::FlowRecord {
                    state: FlowState::Completed,
                    ..started.clone()
                },
                expected_version: started.version + 1,
            }],
            holds: vec![hold(member.id, at(5), at(900))],
            clear_questions: vec![member.id],
            security_answers: answers(member.id, &["first_street"], 2),
            ..ChangeSet::default()
        };
        let refused = store.apply(reset).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");

        assert!(
            store
                .active_holds(member.id, at(5))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.security_answers(member.id).await.unwrap(),
            old_answers
        );
        assert_eq!(
            store.flow(&started.id).await.unwrap(),
            Some(started.clone())
        );

        // A failure after the flow, the hold and the removal of the old answers were
        // written (a question chosen twice) undoes all three.
        let late_failure = ChangeSet {
            flows: vec![FlowWrite::Update {
                record: started.clone(),
                expected_version: started.version,
            }],
            holds: vec![hold(member.id, at(5), at(900))],
            security_answers: answers(member.id, &["first_street", "first_street"], 2),
            ..ChangeSet::default()
        };
        let refused = store.apply(late_failure).await;
        assert!(
            matches!(refused, Err(StoreError::Duplicate(_))),
            "{refused:?}"
        );
        assert!(
            store
                .active_holds(member.id, at(5))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.security_answers(member.id).await.unwrap(),
            old_answers
        );
        assert_eq!(store.flow(&started.id).await.unwrap(), Some(started));
    }
}

#[tokio::test]
async fn a_hold_or_answer_for_a_member_that_does_not_exist_is_not_found() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let ghost = MemberId(member.id.0 + 1000);
        let ghost_hold = ChangeSet {
            holds: vec![hold(ghost, at(0), at(100))],
            ..ChangeSet::default()
        };
        let ghost_answers = ChangeSet {
            security_answers: answers(ghost, &["first_school"], 1),
            ..ChangeSet::default()
        };
        for change in [ghost_hold, ghost_answers] {
            let refused = store.apply(change).await;
            assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
        }
        // Clearing the questions of nobody is not an error: there is nothing to remove.
        let clear = ChangeSet {
            clear_questions: vec![ghost],
            ..ChangeSet::default()
        };
        store.apply(clear).await.unwrap();
        assert!(store.member_by_id(ghost).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_hold_from_an_unknown_channel_is_refused_on_reading() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let change = ChangeSet {
            holds: vec![hold(member.id, at(0), at(100))],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        sqlx::query("UPDATE member_holds SET channel = 'carrier_pigeon'")
            .execute(&mut db.raw().await)
            .await
            .unwrap();
        let refused = store.active_holds(member.id, at(0)).await;
        assert!(
            matches!(&refused, Err(StoreError::Backend(m)) if m.contains("hold channel")),
            "{refused:?}"
        );
    }
}
