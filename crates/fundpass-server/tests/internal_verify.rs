//! Direct verification: the transaction password typed on a business system's own
//! PIN pad, checked by fundpass at once, counted against the member's one counter
//! (shared with the recovery flows) and locked until midnight China time.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{
    Api, LI, STRANGER, TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited, seed,
};
use fundpass_core::clients::Scope;
use fundpass_core::crypto::Field;
use fundpass_core::ports::OutboxStore as _;
use internal_common::{
    AMOUNT_FEN, Internal, PAYEE_ACCOUNT, TestClient, assert_receipt, details, payment,
};
use serde_json::json;
use support::TestApp;
use time::Duration;

const WRONG: &str = "150826";
/// 02:01 UTC is 10:01 in China; the next midnight there is 16:00 UTC.
const MIDNIGHT_IN_CHINA: &str = "2026-11-23T16:00:00Z";

/// An app with WANG registered and a PIN-pad system allowed to pay and read members.
async fn terminal() -> (TestApp, TestClient) {
    let app = app_with_registered(&WANG).await;
    let client = TestClient::register(
        &app,
        "counter-terminal",
        &[Scope::PaymentsAuthorize, Scope::MembersRead],
    )
    .await;
    (app, client)
}

/// The "transaction locked" texts queued for `phone`.
async fn lock_notices(app: &TestApp, phone: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for m in app.store.recent_messages(500).await.unwrap() {
        if m.purpose == "transaction_locked"
            && app.keyring.open(Field::Phone, &m.to).unwrap() == phone
        {
            texts.push(app.keyring.open(Field::Message, &m.body).unwrap());
        }
    }
    texts
}

#[tokio::test]
async fn the_right_transaction_password_on_a_pin_pad_confirms_the_payment_with_a_receipt() {
    let (app, client) = terminal().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    let reply = internal
        .verify(
            &token,
            &payment(WANG.account, AMOUNT_FEN, "POS-0001"),
            TRANSACTION_PASSWORD,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let view = reply.json();
    assert_eq!(
        (&view["state"], &view["mode"], &view["channel"]),
        (&json!("confirmed"), &json!("direct"), &json!("terminal")),
        "{view}"
    );
    assert!(view.get("confirm_url").is_none(), "{view}");
    assert_receipt(
        &internal,
        &view,
        "counter-terminal",
        "terminal",
        app.clock_now(),
    )
    .await;
    let id = view["id"].as_str().unwrap();
    assert_eq!(internal.capture(&token, id).await.status, 200);
}

#[tokio::test]
async fn the_fifth_wrong_transaction_password_locks_until_midnight_and_texts_the_member() {
    let (app, client) = terminal().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "POS-0002");

    for remaining in [4, 3, 2, 1] {
        let reply = internal.verify(&token, &body, WRONG).await;
        reply.assert_error(401, "wrong_transaction_password");
        assert_eq!(
            details(&reply),
            json!({ "remaining": remaining }),
            "{}",
            reply.text
        );
    }
    assert!(lock_notices(&app, WANG.phone).await.is_empty());
    let fifth = internal.verify(&token, &body, WRONG).await;
    fifth.assert_error(423, "transaction_locked");
    assert_eq!(
        details(&fifth)["until"],
        MIDNIGHT_IN_CHINA,
        "{}",
        fifth.text
    );

    // Locked: even the right password is refused, saying until when.
    let right = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    right.assert_error(423, "transaction_locked");
    assert_eq!(details(&right)["until"], MIDNIGHT_IN_CHINA);

    let notices = lock_notices(&app, WANG.phone).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("2026-11-24 00:00"), "{}", notices[0]);

    let standing = internal
        .get(&token, &format!("/internal/v1/members/{}", WANG.account))
        .await;
    assert_eq!(
        (standing.status, standing.json()),
        (
            200,
            json!({
                "account_no": WANG.account, "status": "registered",
                "transaction_password_locked": true,
                "transaction_password_locked_until": MIDNIGHT_IN_CHINA,
                "transaction_password_disabled": false,
            })
        ),
        "{}",
        standing.text
    );

    let events = app.audit_events().await;
    assert_audited(
        &events,
        &["payout.password"],
        &WANG,
        &[TRANSACTION_PASSWORD, WRONG],
    );
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.action == "payout.password")
        .collect();
    assert!(failures.len() >= 5, "{failures:?}");
    for e in &failures {
        assert_eq!(e.actor.id.as_deref(), Some("counter-terminal"), "{e:?}");
        assert_eq!(e.details["business_ref"], "POS-0002", "{e:?}");
    }

    // After midnight in China the right password works again.
    app.clock.advance(Duration::hours(14));
    let token = internal.token(&client).await;
    let reply = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

#[tokio::test]
async fn wrong_passwords_in_the_recovery_flow_and_on_the_pin_pad_count_together() {
    let (app, client) = terminal().await;
    let api = Api::new(&app);
    let flow = api.forgot_login_flow(&WANG).await;
    for remaining in [4, 3, 2] {
        let reply = api.verify_forgot_login(&flow, WRONG).await;
        reply.assert_error(400, "not_verified");
        assert_eq!(details(&reply)["remaining"], remaining);
    }

    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "POS-0003");
    let fourth = internal.verify(&token, &body, WRONG).await;
    fourth.assert_error(401, "wrong_transaction_password");
    assert_eq!(details(&fourth), json!({ "remaining": 1 }));
    let fifth = internal.verify(&token, &body, WRONG).await;
    fifth.assert_error(423, "transaction_locked");
    assert_eq!(details(&fifth)["until"], MIDNIGHT_IN_CHINA);
    assert_eq!(lock_notices(&app, WANG.phone).await.len(), 1);

    // And the lock holds in the recovery flow too (which answers a locked member as
    // it answers a stranger: not verified).
    let flow = api.forgot_login_flow(&WANG).await;
    api.verify_forgot_login(&flow, TRANSACTION_PASSWORD)
        .await
        .assert_error(400, "not_verified");
}

#[tokio::test]
async fn an_unknown_or_unregistered_account_gets_the_answer_of_a_wrong_password() {
    let (app, client) = terminal().await;
    seed(&app, &LI).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    let wrong = internal
        .verify(
            &token,
            &payment(WANG.account, AMOUNT_FEN, "POS-0004"),
            WRONG,
        )
        .await;
    wrong.assert_error(401, "wrong_transaction_password");
    for person in [&STRANGER, &LI] {
        let reply = internal
            .verify(
                &token,
                &payment(person.account, AMOUNT_FEN, "POS-0004"),
                WRONG,
            )
            .await;
        assert_eq!(
            (reply.status, &reply.text),
            (wrong.status, &wrong.text),
            "{}",
            person.account
        );
    }
}

#[tokio::test]
async fn amounts_above_fifty_thousand_yuan_need_the_members_confirmation_in_fundpass() {
    let (app, client) = terminal().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    let above = internal
        .verify(
            &token,
            &payment(WANG.account, 5_000_001, "POS-0005"),
            TRANSACTION_PASSWORD,
        )
        .await;
    above.assert_error(403, "confirmation_required");
    assert_eq!(details(&above), json!({ "threshold_fen": 5_000_000 }));
    let at = internal
        .verify(
            &token,
            &payment(WANG.account, 5_000_000, "POS-0006"),
            TRANSACTION_PASSWORD,
        )
        .await;
    assert_eq!(at.status, 201, "{}", at.text);
    // The confirmed mode takes the larger amount.
    let created = internal
        .create(
            &token,
            &payment(WANG.account, 5_000_001, "POS-0005"),
            Some("pos-5"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
}

#[tokio::test]
async fn every_payout_audit_event_names_the_client_the_reference_and_the_masked_payee() {
    let (app, client) = terminal().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "POS-0007");

    internal
        .verify(&token, &body, WRONG)
        .await
        .assert_error(401, "wrong_transaction_password");
    let right = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    assert_eq!(right.status, 201, "{}", right.text);
    let id = right.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(internal.capture(&token, &id).await.status, 200);

    let events = app.audit_events().await;
    assert_audited(
        &events,
        &["payout.password", "payout.verify", "payout.capture"],
        &WANG,
        &[TRANSACTION_PASSWORD, WRONG],
    );
    for e in events.iter().filter(|e| e.action.starts_with("payout.")) {
        assert_eq!(e.actor.id.as_deref(), Some("counter-terminal"), "{e:?}");
        assert_eq!(
            (&e.details["business_ref"], &e.details["payee_account"]),
            (&json!("POS-0007"), &json!(PAYEE_ACCOUNT)),
            "{} {:?}: {}",
            e.action,
            e.outcome,
            e.details
        );
    }
}
