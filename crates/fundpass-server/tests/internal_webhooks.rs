//! Signed events to business systems: written with the change they report, delivered
//! by the webhook worker through a receiver that fails at first, exactly once, with
//! an HMAC signature the receiver checks itself.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{Api, NEW_LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, app_with_registered};
use fundpass_core::clients::Scope;
use internal_common::{
    AMOUNT_FEN, Internal, KeyKind, MemberApp, Received, Receiver, TestClient, payment,
    signature_timestamp, webhook_worker,
};
use serde_json::{Value, json};
use support::TestApp;
use time::{Duration, OffsetDateTime};

/// Runs webhook passes, an hour apart (past any backoff), until one delivers or
/// `max` passes have run; the clock at each pass.
async fn deliver(app: &TestApp, max: usize) -> Vec<OffsetDateTime> {
    let worker = webhook_worker(app);
    let mut passes = Vec::new();
    for _ in 0..max {
        passes.push(app.clock_now());
        let report = worker.run_once().await.unwrap();
        if report.delivered > 0 {
            break;
        }
        app.clock.advance(Duration::hours(1));
    }
    passes
}

/// Asserts that `received` is signed with `secret` at a time within the 5-minute
/// replay window of `sent_at`, and that the signature covers the body.
#[track_caller]
fn assert_signed(secret: &str, received: &Received, sent_at: OffsetDateTime) {
    let t = signature_timestamp(secret, received).unwrap_or_else(|| {
        panic!(
            "the signature does not verify: {:?}",
            received.header("fundpass-signature")
        )
    });
    assert!(
        (t - sent_at.unix_timestamp()).abs() <= 300,
        "t={t}, sent at {sent_at}"
    );
    let mut tampered = received.clone();
    tampered.body = String::from_utf8_lossy(&received.body)
        .replace("confirmed", "captured")
        .replace("login", "phone")
        .into();
    assert_ne!(tampered.body, received.body);
    assert_eq!(
        signature_timestamp(secret, &tampered),
        None,
        "a tampered body verified"
    );
    assert_eq!(signature_timestamp("another secret", received), None);
    let body = received.json();
    assert_eq!(received.header("fundpass-event-id"), body["id"].as_str());
}

#[tokio::test]
async fn a_confirmation_is_delivered_once_through_a_receiver_that_fails_twice() {
    let app = app_with_registered(&WANG).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let client = TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::PaymentsAuthorize],
        Some(&receiver.url),
    )
    .await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let created = internal
        .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-HOOK-1"))
        .await;
    let id = created["id"].as_str().unwrap();
    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };
    let reply = member.confirm(id, TRANSACTION_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let passes = deliver(&app, 10).await;
    let received = receiver.received();
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 200]);
    assert_eq!(passes.len(), 3);
    for (r, sent_at) in received.iter().zip(&passes) {
        assert_signed(&client.webhook_secret, r, *sent_at);
        assert_eq!(r.body, received[0].body, "a retry changed the event");
    }
    let event = received[0].json();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"), "{event}");
    assert_eq!(event["type"], "authorization.confirmed", "{event}");
    assert_eq!(
        (
            &event["data"]["authorization_id"],
            &event["data"]["business_ref"],
            &event["data"]["state"]
        ),
        (&json!(id), &json!("WD-HOOK-1"), &json!("confirmed")),
        "{event}"
    );

    // Delivered means done: later passes send nothing more.
    for _ in 0..3 {
        app.clock.advance(Duration::hours(1));
        webhook_worker(&app).run_once().await.unwrap();
    }
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received.iter().filter(|r| r.answered == 200).count(), 1);
}

#[tokio::test]
async fn a_declined_payment_is_told_to_the_system_that_asked_only() {
    let app = app_with_registered(&WANG).await;
    let (mine, theirs) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let scopes = [Scope::PaymentsAuthorize];
    let client = TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &scopes,
        Some(&mine.url),
    )
    .await;
    TestClient::register_with(&app, "loans", KeyKind::Es256, &scopes, Some(&theirs.url)).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let created = internal
        .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-HOOK-2"))
        .await;
    let id = created["id"].as_str().unwrap();
    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };
    assert_eq!(member.decline(id).await.status, 200);

    deliver(&app, 3).await;
    let received = mine.received();
    assert_eq!(received.len(), 1);
    let event = received[0].json();
    assert_eq!(
        (
            &event["type"],
            &event["data"]["authorization_id"],
            &event["data"]["state"]
        ),
        (
            &json!("authorization.declined"),
            &json!(id),
            &json!("declined")
        ),
        "{event}"
    );
    assert!(
        theirs.received().is_empty(),
        "another system learnt of the payment"
    );
}

/// The events of type `kind` in `received`.
fn of_type<'a>(received: &'a [Received], kind: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.json()["type"] == kind)
        .collect()
}

#[tokio::test]
async fn a_password_reset_tells_every_subscribed_system_of_the_reset_and_the_hold() {
    let app = app_with_registered(&WANG).await;
    let (first, second) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let scopes = [Scope::HoldsRead];
    let withdrawals = TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &scopes,
        Some(&first.url),
    )
    .await;
    let loans =
        TestClient::register_with(&app, "loans", KeyKind::Es256, &scopes, Some(&second.url)).await;
    TestClient::register(&app, "quiet", &scopes).await;

    let api = Api::new(&app);
    api.recover_login_password(&WANG, TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    let sent_at = app.clock_now();
    deliver(&app, 3).await;

    for (receiver, client) in [(&first, &withdrawals), (&second, &loans)] {
        let received = receiver.received();
        for r in &received {
            assert_signed(&client.webhook_secret, r, sent_at);
        }
        let holds = of_type(&received, "hold.placed");
        let resets = of_type(&received, "credential.reset");
        assert_eq!((holds.len(), resets.len()), (1, 1), "{}", client.id);
        let hold: Value = holds[0].json();
        assert_eq!(
            (
                &hold["data"]["account_no"],
                &hold["data"]["reason"],
                &hold["data"]["channel"]
            ),
            (&json!(WANG.account), &json!("login_reset"), &json!("app")),
            "{hold}"
        );
        let reset: Value = resets[0].json();
        assert_eq!(
            (&reset["data"]["account_no"], &reset["data"]["secrets"]),
            (&json!(WANG.account), &json!(["login"])),
            "{reset}"
        );
        for r in &received {
            let text = String::from_utf8_lossy(&r.body);
            for private in [
                WANG.id_number,
                WANG.phone,
                NEW_LOGIN_PASSWORD,
                TRANSACTION_PASSWORD,
            ] {
                assert!(!text.contains(private), "{text}");
            }
        }
    }
    // One event, one id, whoever receives it.
    let ids = |r: &Receiver| {
        let mut ids: Vec<String> = r
            .received()
            .iter()
            .map(|e| e.json()["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&first), ids(&second));
}
