//! `UnitOfWork::apply`: everything or nothing.

use fundpass_core::crypto::BlindIndex;
use fundpass_core::flow::FlowState;
use fundpass_core::member::{CredentialUpdate, LockState, MemberId, MemberStatus, SecretKind};
use fundpass_core::ports::{
    AuditStore, ChangeSet, FlowStore, FlowWrite, Health, HoldStore, MemberStore, MemberWrite,
    OutboxStore, SecretHistoryEntry, SecurityQuestionStore, SessionStore, SessionWrite, StoreError,
    ThrottleStore, ThrottleWrite, UnitOfWork,
};

use super::{
    answers, event, flow, hold, keyring, members, message, session, verified_chain_length,
};
use crate::support::{at, backends, bytes};

fn registered(record: &fundpass_core::member::MemberRecord) -> MemberWrite {
    let mut update = CredentialUpdate::from_record(record, at(5));
    update.status = MemberStatus::Registered;
    update.login_hash = Some("$argon2id$login".into());
    update.transaction_hash = Some("$argon2id$transaction".into());
    MemberWrite {
        id: record.id,
        expected_version: record.version,
        update,
    }
}

#[tokio::test]
async fn a_change_set_lands_whole_in_one_commit() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let member = members(store, 1).await.remove(0);
        let throttle_key = BlindIndex::from_bytes(bytes(1, 11, 32));
        let lock = LockState {
            failures: 3,
            lock_count: 1,
            locked_until: Some(at(900)),
        };
        let change = ChangeSet {
            members: vec![registered(&member)],
            history: vec![SecretHistoryEntry {
                member_id: member.id,
                kind: SecretKind::Login,
                hash: "$argon2id$login".into(),
                at: at(5),
            }],
            flows: vec![FlowWrite::Insert(flow(1, Some(member.id)))],
            sessions: vec![SessionWrite::Insert(session(1, member.id, at(5)))],
            throttles: vec![ThrottleWrite {
                key: throttle_key.clone(),
                expected: LockState::default(),
                next: lock.clone(),
            }],
            outbox: vec![message(
                &ring,
                1,
                Some(member.id),
                "13800138000",
                "hi",
                at(5),
            )],
            holds: vec![hold(member.id, at(5), at(900))],
            security_answers: answers(member.id, &["first_school", "first_street"], 1),
            clear_questions: vec![member.id],
            // The staff console's writes: see assisted/ (each with the rest of a change).
            staff: Vec::new(),
            staff_sessions: Vec::new(),
            cases: Vec::new(),
            checks: Vec::new(),
            pii: Vec::new(),
            // The business-system API's writes: see business.rs.
            clients: Vec::new(),
            client_tokens: Vec::new(),
            used_assertions: Vec::new(),
            authorizations: Vec::new(),
            announced_holds: Vec::new(),
            events: Vec::new(),
            // The qualification check's writes: see qualification.rs.
            qualification: Vec::new(),
            audit: vec![event(5, member.id), event(6, member.id)],
        };
        store.apply(change.clone()).await.unwrap();

        let stored = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(stored.status, MemberStatus::Registered);
        assert_eq!(stored.version, member.version + 1);
        let hashes = store
            .recent_secret_hashes(member.id, SecretKind::Login, 5)
            .await
            .unwrap();
        assert_eq!(hashes, ["$argon2id$login"]);
        assert_eq!(
            store.flow(&flow(1, None).id).await.unwrap(),
            Some(flow(1, Some(member.id)))
        );
        let sessions = store.member_sessions(member.id).await.unwrap();
        assert_eq!(sessions, [session(1, member.id, at(5))]);
        assert_eq!(store.throttle(&throttle_key).await.unwrap(), lock);
        assert_eq!(store.recent_messages(10).await.unwrap(), change.outbox);
        assert_eq!(
            store.active_holds(member.id, at(5)).await.unwrap(),
            change.holds
        );
        assert_eq!(
            store.security_answers(member.id).await.unwrap(),
            change.security_answers
        );
        // The change's own event and the audit row of its one text to a member.
        assert_eq!(verified_chain_length(store).await, 3);
        Health::ping(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_stale_member_version_leaves_no_flow_message_or_audit_event() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let member = members(store, 1).await.remove(0);
        let mut stale = registered(&member);
        stale.expected_version = member.version + 7;
        let change = ChangeSet {
            members: vec![stale],
            flows: vec![FlowWrite::Insert(flow(1, Some(member.id)))],
            sessions: vec![SessionWrite::Insert(session(1, member.id, at(5)))],
            outbox: vec![message(
                &ring,
                1,
                Some(member.id),
                "13800138000",
                "hi",
                at(5),
            )],
            audit: vec![event(5, member.id)],
            ..ChangeSet::default()
        };
        let refused = store.apply(change).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");

        let stored = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.version),
            (member.status, member.version)
        );
        assert_eq!(store.flow(&flow(1, None).id).await.unwrap(), None);
        assert!(store.member_sessions(member.id).await.unwrap().is_empty());
        assert!(store.recent_messages(10).await.unwrap().is_empty());
        assert_eq!(store.head().await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_stale_flow_version_undoes_the_member_update_written_before_it() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let started = flow(1, Some(member.id));
        let insert = ChangeSet {
            flows: vec![FlowWrite::Insert(started.clone())],
            ..ChangeSet::default()
        };
        store.apply(insert).await.unwrap();

        let verified = fundpass_core::flow::FlowRecord {
            state: FlowState::Verified,
            code_mac: Vec::new(),
            ..started.clone()
        };
        let step = |expected_version| ChangeSet {
            members: vec![registered(&member)],
            flows: vec![FlowWrite::Update {
                record: verified.clone(),
                expected_version,
            }],
            audit: vec![event(7, member.id)],
            ..ChangeSet::default()
        };
        let refused = store.apply(step(started.version + 1)).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        let unchanged = store.member_by_id(member.id).await.unwrap().unwrap();
        assert_eq!(unchanged.version, member.version);
        assert_eq!(
            store.flow(&started.id).await.unwrap(),
            Some(started.clone())
        );
        assert_eq!(store.head().await.unwrap(), None);

        store.apply(step(started.version)).await.unwrap();
        let stored = store.flow(&started.id).await.unwrap().unwrap();
        assert_eq!(stored.state, FlowState::Verified);
        assert!(
            stored.code_mac.is_empty(),
            "an empty MAC is stored as empty"
        );
        assert_eq!(stored.version, started.version + 1);
        assert_eq!(verified_chain_length(store).await, 1);
    }
}

#[tokio::test]
async fn writes_about_a_member_or_flow_that_does_not_exist_are_not_found() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let mut ghost = registered(&member);
        ghost.id = MemberId(member.id.0 + 1000);
        let ghost_member = ChangeSet {
            members: vec![ghost],
            ..ChangeSet::default()
        };
        let ghost_flow = ChangeSet {
            flows: vec![FlowWrite::Update {
                record: flow(9, None),
                expected_version: 1,
            }],
            ..ChangeSet::default()
        };
        let ghost_history = ChangeSet {
            history: vec![SecretHistoryEntry {
                member_id: MemberId(member.id.0 + 1000),
                kind: SecretKind::Transaction,
                hash: "h".into(),
                at: at(1),
            }],
            ..ChangeSet::default()
        };
        for change in [ghost_member, ghost_flow, ghost_history] {
            let refused = store.apply(change).await;
            assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
        }
    }
}

#[tokio::test]
async fn a_counter_moves_only_from_the_value_it_was_read_at() {
    for db in backends().await {
        let store = &db.store;
        let key = BlindIndex::from_bytes(bytes(2, 11, 32));
        let other = BlindIndex::from_bytes(bytes(3, 11, 32));
        assert_eq!(store.throttle(&key).await.unwrap(), LockState::default());
        for state in [
            LockState {
                failures: 4,
                lock_count: 0,
                locked_until: None,
            },
            LockState {
                failures: 0,
                lock_count: 2,
                locked_until: Some(at(1800)),
            },
        ] {
            let read = store.throttle(&key).await.unwrap();
            let change = ChangeSet {
                throttles: vec![ThrottleWrite {
                    key: key.clone(),
                    expected: read.clone(),
                    next: state.clone(),
                }],
                ..ChangeSet::default()
            };
            store.apply(change.clone()).await.unwrap();
            assert_eq!(store.throttle(&key).await.unwrap(), state);
            // The same write again was read at a value that is gone: refused whole.
            if read != state {
                assert!(matches!(
                    store.apply(change).await,
                    Err(StoreError::Conflict)
                ));
                assert_eq!(store.throttle(&key).await.unwrap(), state);
            }
        }
        assert_eq!(store.throttle(&other).await.unwrap(), LockState::default());
        // The database's clock dates the last write (the change carries no time).
        let written: i64 = sqlx::query_scalar("SELECT updated_at FROM login_throttles")
            .fetch_one(&mut db.raw().await)
            .await
            .unwrap();
        let since_2025 = time::macros::datetime!(2025-01-01 0:00 UTC).unix_timestamp() * 1_000_000;
        assert!((since_2025..since_2025 * 2).contains(&written), "{written}");
    }
}
