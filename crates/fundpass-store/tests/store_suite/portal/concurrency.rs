//! Many requests at once: one winner per version, one taker per captcha, no overshoot
//! of a rate limit, one chain of audit records.

use std::collections::HashSet;

use fundpass_core::flow::FlowRecord;
use fundpass_core::ports::{
    AuditStore, CaptchaRecord, ChangeSet, FlowStore, FlowWrite, OutboxStore, RateDecision,
    SessionWrite, StoreError, UnitOfWork,
};
use time::Duration;

use super::{digest, event, flow, keyring, members, message, session, verified_chain_length};
use crate::support::{at, backends, ephemeral_backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_fifty_parallel_submissions_of_one_flow_step_exactly_one_lands() {
    for db in backends().await {
        let member = members(&db.store, 1).await.remove(0);
        let started = flow(1, Some(member.id));
        let insert = ChangeSet {
            flows: vec![FlowWrite::Insert(started.clone())],
            ..ChangeSet::default()
        };
        db.store.apply(insert).await.unwrap();

        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let store = db.store.clone();
                let change = ChangeSet {
                    flows: vec![FlowWrite::Update {
                        record: FlowRecord {
                            wrong_codes: n,
                            ..started.clone()
                        },
                        expected_version: started.version,
                    }],
                    audit: vec![event(i64::from(n), member.id)],
                    ..ChangeSet::default()
                };
                tokio::spawn(async move { store.apply(change).await })
            })
            .collect();
        let (mut landed, mut conflicts) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => landed += 1,
                Err(StoreError::Conflict) => conflicts += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((landed, conflicts), (1, 49));
        let stored = db.store.flow(&started.id).await.unwrap().unwrap();
        assert_eq!(stored.version, started.version + 1);
        assert_eq!(
            verified_chain_length(&db.store).await,
            1,
            "only the winner's audit event is recorded"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_and_appends_build_one_verified_chain() {
    for db in backends().await {
        let member = members(&db.store, 1).await.remove(0);
        let ring = keyring();
        let mut tasks = Vec::new();
        for n in 0..40u64 {
            let store = db.store.clone();
            let index = i64::try_from(n).unwrap();
            let change = ChangeSet {
                sessions: vec![SessionWrite::Insert(session(100 + n, member.id, at(index)))],
                outbox: vec![message(
                    &ring,
                    n,
                    Some(member.id),
                    "13800138000",
                    "x",
                    at(0),
                )],
                audit: vec![event(2 * index, member.id), event(2 * index + 1, member.id)],
                ..ChangeSet::default()
            };
            tasks.push(tokio::spawn(async move { store.apply(change).await }));
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .append(&event(1000 + index, member.id))
                    .await
                    .map(|_| ())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // 80 events, 40 appends, and one audit row for each of the 40 texts.
        assert_eq!(verified_chain_length(&db.store).await, 160);
        assert_eq!(db.store.recent_messages(100).await.unwrap().len(), 40);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_takers_exactly_one_gets_the_captcha() {
    for backend in ephemeral_backends().await {
        let captcha = CaptchaRecord {
            id: digest(1),
            answer_mac: vec![1; 32],
            expires_at: at(300),
            dev_answer: None,
        };
        backend
            .captchas
            .insert_captcha(&captcha, at(0))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = backend.captchas.clone();
                tokio::spawn(async move { store.take_captcha(&digest(1)).await })
            })
            .collect();
        let mut taken = Vec::new();
        for task in tasks {
            taken.extend(task.await.unwrap().unwrap());
        }
        assert_eq!(taken, [captcha], "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_hits_on_a_limit_of_ten_allow_exactly_ten() {
    for backend in ephemeral_backends().await {
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let store = backend.limiter.clone();
                tokio::spawn(async move {
                    store
                        .hit("sms:phone:abc", Duration::minutes(1), 10, at(5))
                        .await
                })
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() == RateDecision::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 10, "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_message() {
    for db in backends().await {
        let ring = keyring();
        let outbox = (0..60)
            .map(|n| message(&ring, n, None, "13800138000", "x", at(0)))
            .collect();
        let change = ChangeSet {
            outbox,
            ..ChangeSet::default()
        };
        db.store.apply(change).await.unwrap();

        let claimers: Vec<_> = (0..4)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        let batch = store.claim_due(at(10), at(70), 7).await.unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        got.extend(batch.into_iter().map(|m| m.id));
                    }
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for claimer in claimers {
            for id in claimer.await.unwrap() {
                assert!(seen.insert(id.clone()), "{id} was claimed twice");
            }
        }
        assert_eq!(seen.len(), 60, "every due message was claimed once");
    }
}
