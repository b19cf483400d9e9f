//! The SMS outbox as the delivery worker uses it: leases, deliveries, retries and
//! giving up.

use fundpass_core::ports::{ChangeSet, OutboxStore, StoreError, UnitOfWork};
use fundpass_store::OUTBOX_GIVEN_UP;

use super::{keyring, members, message};
use crate::support::{at, backends};

fn ids(messages: &[fundpass_core::ports::OutboxMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test]
async fn claimed_messages_wait_for_their_lease_and_delivered_ones_never_return() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let change = ChangeSet {
            outbox: vec![
                message(&ring, 1, None, "13800138000", "a", at(0)),
                message(&ring, 2, None, "13800138001", "b", at(1)),
                message(&ring, 3, None, "13800138002", "c", at(100)),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let claimed = store.claim_due(at(10), at(40), 10).await.unwrap();
        assert_eq!(
            ids(&claimed),
            ["msg-0001", "msg-0002"],
            "only due ones, oldest first"
        );
        assert!(claimed.iter().all(|m| m.next_attempt_at == at(40)));
        assert!(
            store
                .claim_due(at(39), at(70), 10)
                .await
                .unwrap()
                .is_empty()
        );

        store
            .mark_delivered("msg-0001", at(12), None)
            .await
            .unwrap();
        let again = store.claim_due(at(40), at(70), 10).await.unwrap();
        assert_eq!(
            ids(&again),
            ["msg-0002"],
            "the lease ended; the delivered one stays done"
        );
        let later = store.claim_due(at(1000), at(1030), 10).await.unwrap();
        assert_eq!(ids(&later), ["msg-0002", "msg-0003"]);
        assert!(
            store
                .claim_due(at(1000), at(1030), 10)
                .await
                .unwrap()
                .is_empty()
        );

        let delivered = store.recent_messages(10).await.unwrap();
        let first = delivered.iter().find(|m| m.id == "msg-0001").unwrap();
        assert_eq!((first.delivered_at, first.attempts), (Some(at(12)), 1));
        assert!(matches!(
            store.mark_delivered("msg-9999", at(12), None).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn a_failed_message_is_retried_when_asked_and_never_after_giving_up() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let change = ChangeSet {
            outbox: vec![
                message(&ring, 1, None, "13800138000", "a", at(0)),
                message(&ring, 2, None, "13800138001", "b", at(0)),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        assert_eq!(store.claim_due(at(0), at(30), 10).await.unwrap().len(), 2);

        store
            .mark_failed("msg-0001", "gateway timeout", Some(at(20)))
            .await
            .unwrap();
        let long_error = "网关拒绝".repeat(100);
        store
            .mark_failed("msg-0002", &long_error, None)
            .await
            .unwrap();

        let retried = store.claim_due(at(20), at(50), 10).await.unwrap();
        assert_eq!(
            ids(&retried),
            ["msg-0001"],
            "retried at its time, before the lease"
        );
        assert_eq!(retried[0].attempts, 1);
        assert_eq!(retried[0].last_error.as_deref(), Some("gateway timeout"));
        let much_later = store
            .claim_due(at(10_000_000), at(10_000_030), 10)
            .await
            .unwrap();
        assert_eq!(
            ids(&much_later),
            ["msg-0001"],
            "the given-up message never comes back"
        );

        let given_up = store.recent_messages(10).await.unwrap();
        let given_up = given_up.iter().find(|m| m.id == "msg-0002").unwrap();
        assert_eq!(given_up.delivered_at, None);
        assert_eq!(given_up.next_attempt_at, OUTBOX_GIVEN_UP);
        assert_eq!(given_up.attempts, 1);
        let kept = given_up.last_error.as_deref().unwrap();
        assert_eq!(
            kept.chars().count(),
            200,
            "errors are cut to 200 characters"
        );
        assert!(long_error.starts_with(kept));
        assert!(matches!(
            store.mark_failed("msg-9999", "x", None).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn recent_messages_come_newest_first() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let outbox = [3, 1, 2]
            .into_iter()
            .map(|n| {
                message(
                    &ring,
                    n,
                    None,
                    "13800138000",
                    "x",
                    at(i64::try_from(n).unwrap()),
                )
            })
            .collect();
        store
            .apply(ChangeSet {
                outbox,
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        assert_eq!(
            ids(&store.recent_messages(10).await.unwrap()),
            ["msg-0003", "msg-0002", "msg-0001"]
        );
        assert_eq!(ids(&store.recent_messages(1).await.unwrap()), ["msg-0003"]);
    }
}

#[tokio::test]
async fn a_members_newer_message_waits_until_the_older_one_is_delivered_or_given_up() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let people = members(store, 2).await;
        let (first, second) = (Some(people[0].id), Some(people[1].id));
        let outbox = vec![
            message(&ring, 1, first, "13800138000", "older", at(0)),
            message(&ring, 2, first, "13800138000", "newer", at(5)),
            message(&ring, 3, second, "13800138001", "other member", at(6)),
            message(&ring, 4, None, "13800138002", "no member", at(7)),
        ];
        store
            .apply(ChangeSet {
                outbox,
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        let claimed = store.claim_due(at(10), at(40), 10).await.unwrap();
        assert_eq!(ids(&claimed), ["msg-0001", "msg-0003", "msg-0004"]);
        store
            .mark_delivered("msg-0003", at(11), None)
            .await
            .unwrap();
        store
            .mark_delivered("msg-0004", at(11), None)
            .await
            .unwrap();
        // The gateway is down: the older one is to be tried again at 100 s. The newer
        // one, due long before that, still waits for it.
        store
            .mark_failed("msg-0001", "gateway answered 503", Some(at(100)))
            .await
            .unwrap();
        assert!(
            store
                .claim_due(at(50), at(80), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            ids(&store.claim_due(at(100), at(130), 10).await.unwrap()),
            ["msg-0001"]
        );
        store
            .mark_delivered("msg-0001", at(101), None)
            .await
            .unwrap();
        assert_eq!(
            ids(&store.claim_due(at(102), at(130), 10).await.unwrap()),
            ["msg-0002"]
        );
        store
            .mark_delivered("msg-0002", at(103), None)
            .await
            .unwrap();

        // A message given up no longer holds the member's later ones back.
        let later = vec![
            message(&ring, 5, second, "13800138001", "given up", at(200)),
            message(&ring, 6, second, "13800138001", "after it", at(201)),
        ];
        store
            .apply(ChangeSet {
                outbox: later,
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        assert_eq!(
            ids(&store.claim_due(at(210), at(240), 10).await.unwrap()),
            ["msg-0005"]
        );
        store
            .mark_failed("msg-0005", "refused", None)
            .await
            .unwrap();
        assert_eq!(
            ids(&store.claim_due(at(210), at(240), 10).await.unwrap()),
            ["msg-0006"]
        );
    }
}
