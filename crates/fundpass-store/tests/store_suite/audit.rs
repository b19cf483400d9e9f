//! The audit trail: chained appends, concurrency, and rows the database will not change.

use fundpass_core::audit::{
    Actor, ActorKind, AuditEvent, AuditRecord, ChainVerifier, Channel, Outcome,
};
use fundpass_core::member::MemberId;
use fundpass_core::ports::AuditStore;
use fundpass_store::Store;
use serde_json::json;

use crate::support::{at, backends};

fn event(n: i64) -> AuditEvent {
    let actor = Actor {
        kind: ActorKind::Staff,
        id: Some(format!("counter-{n}")),
    };
    let mut event = AuditEvent::new(
        at(n),
        actor,
        "reset.ticket_issued",
        Channel::Counter,
        Outcome::Success,
    )
    // Keys out of order, nesting and non-ASCII text: stored and hashed alike.
    .details(json!({"zeta": n, "alpha": {"网点": "朝阳", "list": [1, 2.5, null, true]}}));
    if n % 2 == 0 {
        event = event.member(MemberId(n)).ip("203.0.113.7");
    }
    event
}

async fn verify(store: &Store) -> i64 {
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = store.records_after(after, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            verifier.check(record).unwrap();
        }
    }
    verifier.finish(store.head().await.unwrap()).unwrap()
}

#[tokio::test]
async fn appended_events_form_a_chain_the_verifier_accepts() {
    for db in backends().await {
        let store = &db.store;
        assert_eq!(store.head().await.unwrap(), None);
        assert!(store.records_after(0, 10).await.unwrap().is_empty());

        let mut appended: Vec<AuditRecord> = Vec::new();
        for n in 1..=5 {
            appended.push(store.append(&event(n)).await.unwrap());
        }
        assert_eq!(
            appended.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(appended[1].prev_hash, appended[0].hash);

        let stored = store.records_after(0, 100).await.unwrap();
        assert_eq!(
            stored, appended,
            "records read back equal the records appended"
        );
        assert_eq!(store.head().await.unwrap(), Some((5, appended[4].hash)));
        let middle = store.records_after(2, 2).await.unwrap();
        assert_eq!(middle.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(verify(store).await, 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_appends_make_one_gapless_verified_chain() {
    for db in backends().await {
        let tasks: Vec<_> = (1..=50)
            .map(|n| {
                let store = db.store.clone();
                tokio::spawn(async move { store.append(&event(n)).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await.unwrap().unwrap().seq);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
        assert_eq!(verify(&db.store).await, 50);
    }
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_rows() {
    for db in backends().await {
        for n in 1..=3 {
            db.store.append(&event(n)).await.unwrap();
        }
        let mut raw = db.raw().await;
        let tampering = [
            "UPDATE audit_events SET outcome = 'failure' WHERE seq = 2",
            "DELETE FROM audit_events WHERE seq = 3",
            "DELETE FROM audit_events",
            "UPDATE audit_head SET seq = 1 WHERE id = 1",
            "DELETE FROM audit_head",
        ];
        for sql in tampering {
            let refused = sqlx::query(sql).execute(&mut raw).await;
            let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains("append-only") || message.contains("only moves forward"),
                "{sql:?} on {:?} should be refused by a trigger, got {message:?}",
                db.store.backend()
            );
        }
        assert_eq!(verify(&db.store).await, 3);
    }
}
