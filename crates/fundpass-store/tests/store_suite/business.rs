//! The business-system API's storage: clients and their tokens, used assertions,
//! payment authorisations (idempotency keys, exactly-once moves) and the webhook
//! outbox's fan-out, on every backend.

use fundpass_core::clients::{
    AccessTokenRecord, BusinessEvent, ClientWrite, EventKind, Scope, ServiceClient, UsedAssertion,
};
use fundpass_core::crypto::{Field, JwsSigner, TokenDigest};
use fundpass_core::member::MemberId;
use fundpass_core::payout::{Authorization, AuthorizationWrite, Mode, Payment, Purpose, State};
use fundpass_core::ports::{
    AuthorizationStore, ChangeSet, ClientStore, HoldAnnounced, HoldStore, StoreError, UnitOfWork,
    WebhookStore,
};
use fundpass_core::testing::CountingRng;
use fundpass_store::Store;

use super::portal::{hold, keyring, members};
use crate::support::{at, backends};

fn client(id: &str, webhook: bool, disabled: bool) -> ServiceClient {
    let ring = keyring();
    ServiceClient {
        id: id.to_owned(),
        description: format!("{id} system"),
        scopes: vec![Scope::PaymentsAuthorize, Scope::HoldsRead],
        public_key: JwsSigner::generate("k", &CountingRng::default()).public_key(),
        secret_digest: Some(TokenDigest([7; 32])),
        webhook_url: webhook.then(|| format!("https://{id}.example/hook")),
        webhook_secret: webhook
            .then(|| ring.seal(Field::WebhookSecret, "s3cret", &CountingRng::default())),
        created_at: at(0),
        disabled_at: disabled.then(|| at(1)),
        version: 1,
    }
}

async fn register(store: &Store, clients: Vec<ServiceClient>) {
    let change = ChangeSet {
        clients: clients.into_iter().map(ClientWrite::Insert).collect(),
        ..ChangeSet::default()
    };
    store.apply(change).await.unwrap();
}

fn authorization(id: &str, member: MemberId, key: Option<&str>) -> Authorization {
    Authorization {
        id: id.to_owned(),
        client_id: "withdrawals".into(),
        member_id: member,
        account_no: "110000000001".into(),
        payment: Payment {
            amount_fen: 1_234_500,
            currency: "CNY".into(),
            payee_name: "张三".into(),
            payee_account: "6222********1234".into(),
            purpose: Purpose::WithdrawalRetirement,
            business_ref: "WD-1".into(),
        },
        mode: Mode::Confirm,
        state: State::Pending,
        risk_flags: vec!["recent_phone_change".into()],
        idempotency_key: key.map(str::to_owned),
        request_digest: [3; 32],
        created_at: at(10),
        expires_at: at(610),
        decided_at: None,
        channel: None,
        captured_at: None,
        receipt: None,
        version: 1,
    }
}

#[tokio::test]
async fn clients_tokens_and_assertions_round_trip_and_a_jti_is_used_once() {
    for db in backends().await {
        let store = &db.store;
        register(store, vec![client("withdrawals", true, false)]).await;
        let found = store.client("withdrawals").await.unwrap().unwrap();
        assert_eq!(found, client("withdrawals", true, false));
        assert!(store.client("loans").await.unwrap().is_none());

        let mut disabled = found.clone();
        disabled.disabled_at = Some(at(5));
        let update = |expected| ChangeSet {
            clients: vec![ClientWrite::Update {
                record: disabled.clone(),
                expected_version: expected,
            }],
            ..ChangeSet::default()
        };
        store.apply(update(1)).await.unwrap();
        assert!(matches!(
            store.apply(update(1)).await,
            Err(StoreError::Conflict)
        ));
        let now = store.client("withdrawals").await.unwrap().unwrap();
        assert_eq!((now.disabled_at, now.version), (Some(at(5)), 2));

        let token = AccessTokenRecord {
            digest: TokenDigest([9; 32]),
            client_id: "withdrawals".into(),
            scopes: vec![Scope::HoldsRead],
            issued_at: at(0),
            expires_at: at(300),
        };
        let used = UsedAssertion {
            client_id: "withdrawals".into(),
            jti: "jti-1".into(),
            expires_at: at(300),
        };
        let issue = ChangeSet {
            client_tokens: vec![token.clone()],
            used_assertions: vec![used.clone()],
            ..ChangeSet::default()
        };
        store.apply(issue).await.unwrap();
        assert_eq!(
            store.access_token(&token.digest).await.unwrap(),
            Some(token.clone())
        );
        let replay = ChangeSet {
            client_tokens: vec![AccessTokenRecord {
                digest: TokenDigest([10; 32]),
                ..token
            }],
            used_assertions: vec![used],
            ..ChangeSet::default()
        };
        match store.apply(replay).await {
            Err(StoreError::Duplicate(name)) => assert_eq!(name, "client_assertions_pkey"),
            other => panic!("a used jti was accepted again: {other:?}"),
        }
        assert!(
            store
                .access_token(&TokenDigest([10; 32]))
                .await
                .unwrap()
                .is_none(),
            "nothing of the refused change landed"
        );
    }
}

#[tokio::test]
async fn an_idempotency_key_holds_one_authorisation_and_parallel_captures_land_once() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await[0].id;
        register(store, vec![client("withdrawals", false, false)]).await;
        let first = authorization("pa_1", member, Some("key-1"));
        let insert = |a: Authorization| ChangeSet {
            authorizations: vec![AuthorizationWrite::Insert(a)],
            ..ChangeSet::default()
        };
        store.apply(insert(first.clone())).await.unwrap();
        assert_eq!(
            store.authorization("pa_1").await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(
            store
                .authorization_by_key("withdrawals", "key-1")
                .await
                .unwrap()
                .map(|a| a.id),
            Some("pa_1".into())
        );
        match store
            .apply(insert(authorization("pa_2", member, Some("key-1"))))
            .await
        {
            Err(StoreError::Duplicate(name)) => {
                assert_eq!(name, "payment_authorizations_idempotency_key")
            }
            other => panic!("a second authorisation under one key: {other:?}"),
        }
        store
            .apply(insert(authorization("pa_3", member, None)))
            .await
            .unwrap();
        store
            .apply(insert(authorization("pa_4", member, None)))
            .await
            .unwrap();

        let mut captured = first.clone();
        captured.state = State::Captured;
        captured.captured_at = Some(at(20));
        let mut tries = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            let change = ChangeSet {
                authorizations: vec![AuthorizationWrite::Update {
                    record: captured.clone(),
                    expected_version: 1,
                }],
                ..ChangeSet::default()
            };
            tries.push(tokio::spawn(async move { store.apply(change).await }));
        }
        let mut landed = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(()) => landed += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!(landed, 1, "exactly one capture");
        let stored = store.authorization("pa_1").await.unwrap().unwrap();
        assert_eq!((stored.state, stored.version), (State::Captured, 2));
        let newest: Vec<String> = store
            .member_authorizations(member, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(newest.len(), 2);
    }
}

#[tokio::test]
async fn an_event_reaches_each_subscribed_enabled_client_or_only_the_one_it_names() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await[0].id;
        register(
            store,
            vec![
                client("withdrawals", true, false),
                client("loans", true, false),
                client("benefits", false, false),
                client("retired", true, true),
            ],
        )
        .await;
        let rng = CountingRng::default();
        let mut broadcast = BusinessEvent::new(
            EventKind::HoldPlaced,
            serde_json::json!({"a": 1}),
            at(0),
            &rng,
        );
        broadcast.member_id = Some(member);
        let mut addressed = BusinessEvent::new(
            EventKind::AuthorizationConfirmed,
            serde_json::json!({"b": 2}),
            at(1),
            &rng,
        );
        addressed.audience = Some("loans".into());
        let change = ChangeSet {
            events: vec![broadcast.clone(), addressed.clone()],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let claimed = store.claim_webhooks(at(5), at(65), 10).await.unwrap();
        let mut got: Vec<(String, String)> = claimed
            .iter()
            .map(|d| (d.event_id.clone(), d.client_id.clone()))
            .collect();
        got.sort();
        let mut want = vec![
            (broadcast.id.clone(), "loans".to_owned()),
            (broadcast.id.clone(), "withdrawals".to_owned()),
            (addressed.id.clone(), "loans".to_owned()),
        ];
        want.sort();
        assert_eq!(got, want);
        let one = &claimed[0];
        assert_eq!(one.id, format!("{}.{}", one.event_id, one.client_id));
        assert!(one.body.contains(&one.event_id));
        assert!(
            store
                .claim_webhooks(at(6), at(66), 10)
                .await
                .unwrap()
                .is_empty()
        );

        store
            .mark_webhook_delivered(&claimed[0].id, at(7))
            .await
            .unwrap();
        store
            .mark_webhook_failed(&claimed[1].id, "the receiver answered 500", Some(at(100)))
            .await
            .unwrap();
        store
            .mark_webhook_failed(&claimed[2].id, "the receiver answered 410", None)
            .await
            .unwrap();
        let later = store.claim_webhooks(at(200), at(260), 10).await.unwrap();
        assert_eq!(later.len(), 1, "only the retried one comes back");
        assert_eq!(
            (later[0].id.as_str(), later[0].attempts),
            (claimed[1].id.as_str(), 1)
        );
    }
}

#[tokio::test]
async fn an_ended_hold_is_listed_until_its_end_is_announced_and_announced_once() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let change = ChangeSet {
            holds: vec![
                hold(member.id, at(0), at(100)),
                hold(member.id, at(0), at(500)),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        assert!(
            store
                .unannounced_ended_holds(at(99), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let ended = store.unannounced_ended_holds(at(100), 10).await.unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].account_no, member.account_no.as_str());
        assert_eq!(ended[0].hold.until, at(100));
        let mark = |id| ChangeSet {
            announced_holds: vec![HoldAnnounced { id, at: at(101) }],
            ..ChangeSet::default()
        };
        store.apply(mark(ended[0].id)).await.unwrap();
        assert!(matches!(
            store.apply(mark(ended[0].id)).await,
            Err(StoreError::Conflict)
        ));
        assert!(
            store
                .unannounced_ended_holds(at(200), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .unannounced_ended_holds(at(600), 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
