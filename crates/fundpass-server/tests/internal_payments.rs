//! Payment authorisations confirmed by the member: a withdrawal system asks, the
//! member sees this amount to this payee in the app or on the confirm page and
//! approves it with the transaction password (or declines), the system checks the
//! signed receipt offline and captures it exactly once.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;
mod web_common;

use api_common::{
    Api, LI, LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited, seed,
};
use fundpass_core::audit::Outcome;
use fundpass_core::clients::Scope;
use internal_common::{
    AMOUNT_FEN, AMOUNT_TEXT, Internal, MemberApp, PAYEE_ACCOUNT, PAYEE_NAME, PURPOSE, PURPOSE_TEXT,
    TestClient, assert_receipt, payment,
};
use serde_json::{Value, json};
use support::TestApp;
use time::Duration;
use time::format_description::well_known::Rfc3339;
use web_common::Browser;

/// An app with WANG registered, the withdrawal system registered, and its token.
async fn withdrawals() -> (TestApp, TestClient) {
    let app = app_with_registered(&WANG).await;
    let client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    (app, client)
}

fn id_of(view: &Value) -> String {
    view["id"].as_str().unwrap().to_owned()
}

/// Asserts what the business system reads of a freshly created authorisation.
#[track_caller]
fn assert_pending(view: &Value, app: &TestApp) {
    let id = id_of(view);
    assert!(id.starts_with("pa_"), "{view}");
    let expires = app.clock_now() + Duration::minutes(10);
    let expected = [
        ("state", json!("pending")),
        ("mode", json!("confirm")),
        ("account_no", json!(WANG.account)),
        ("amount_fen", json!(AMOUNT_FEN)),
        ("currency", json!("CNY")),
        (
            "payee",
            json!({"name": PAYEE_NAME, "account": PAYEE_ACCOUNT}),
        ),
        ("purpose", json!(PURPOSE)),
        (
            "confirm_url",
            json!(format!("http://127.0.0.1/confirm/{id}")),
        ),
        ("expires_at", json!(expires.format(&Rfc3339).unwrap())),
    ];
    for (name, want) in expected {
        assert_eq!(view[name], want, "{name} in {view}");
    }
    assert!(view.get("receipt").is_none(), "{view}");
}

/// Asserts the confirmed view: no confirm URL any more, the channel, a receipt.
#[track_caller]
fn assert_confirmed(view: &Value, channel: &str) {
    assert_eq!(
        (&view["state"], &view["channel"]),
        (&json!("confirmed"), &json!(channel)),
        "{view}"
    );
    assert!(view.get("confirm_url").is_none(), "{view}");
    assert!(view["decided_at"].is_string(), "{view}");
}

/// Captures `id` once (200, captured) and again (409 already_captured).
async fn assert_captured_once(internal: &Internal<'_>, token: &str, id: &str) {
    let first = internal.capture(token, id).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json()["state"], "captured", "{}", first.text);
    assert!(first.json()["captured_at"].is_string(), "{}", first.text);
    internal
        .capture(token, id)
        .await
        .assert_error(409, "already_captured");
    let read = internal.authorization(token, id).await.json();
    assert_eq!(read["state"], "captured", "{read}");
}

#[tokio::test]
async fn a_withdrawal_confirmed_in_the_app_has_a_receipt_that_verifies_offline_and_is_captured_once()
 {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let created = internal
        .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0001"))
        .await;
    assert_pending(&created, &app);
    let id = id_of(&created);
    let read = internal.authorization(&token, &id).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_pending(&read.json(), &app);

    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };
    let pending = member.pending().await;
    let listed: Vec<_> = pending.iter().filter(|p| p["id"] == json!(id)).collect();
    assert_eq!(listed.len(), 1, "{pending:?}");
    let expected = [
        ("amount_fen", json!(AMOUNT_FEN)),
        ("payee_name", json!(PAYEE_NAME)),
        ("payee_account", json!(PAYEE_ACCOUNT)),
        ("purpose", json!(PURPOSE)),
        ("purpose_text", json!(PURPOSE_TEXT)),
        ("business_ref", json!("WD-2026-0001")),
    ];
    for (name, want) in expected {
        assert_eq!(listed[0][name], want, "{name} in {}", listed[0]);
    }

    let wrong = member.confirm(&id, "150826").await;
    assert_eq!(wrong.code(), "wrong_transaction_password", "{}", wrong.text);
    assert_eq!(
        internal.authorization(&token, &id).await.json()["state"],
        "pending"
    );
    let reply = member.confirm(&id, TRANSACTION_PASSWORD).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"id": id, "state": "confirmed"})),
        "{}",
        reply.text
    );
    assert!(member.pending().await.is_empty());
    member
        .confirm(&id, TRANSACTION_PASSWORD)
        .await
        .assert_error(409, "authorization_decided");

    let view = internal.authorization(&token, &id).await.json();
    assert_confirmed(&view, "app");
    assert_receipt(&internal, &view, "withdrawals", "app", app.clock_now()).await;
    assert_captured_once(&internal, &token, &id).await;
    assert_audited(
        &app.audit_events().await,
        &["payout.create", "payout.confirm", "payout.capture"],
        &WANG,
        &[TRANSACTION_PASSWORD, "150826"],
    );
}

#[tokio::test]
async fn a_withdrawal_confirmed_on_the_web_page_is_verified_offline_and_captured_once() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let created = internal
        .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0002"))
        .await;
    let id = id_of(&created);
    let path = format!("/confirm/{id}");
    assert_eq!(
        created["confirm_url"],
        json!(format!("http://127.0.0.1{path}"))
    );

    let browser = Browser::new(&app);
    browser
        .login(&WANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let home = browser.get("/home").await;
    assert!(
        home.html.contains(AMOUNT_TEXT) && home.html.contains(PAYEE_NAME),
        "{}",
        home.html
    );
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    for shown in [
        AMOUNT_TEXT,
        PAYEE_NAME,
        PAYEE_ACCOUNT,
        PURPOSE_TEXT,
        "WD-2026-0002",
    ] {
        assert!(
            page.html.contains(shown),
            "{shown} not on the page: {}",
            page.html
        );
    }
    let csrf = page.field("csrf").unwrap();

    // A forged form (no valid CSRF token) decides nothing.
    let forged = browser
        .post(
            &path,
            &[
                ("csrf", "forged"),
                ("transaction_password", TRANSACTION_PASSWORD),
                ("decision", "confirm"),
            ],
        )
        .await;
    assert_ne!(forged.status, 303, "{}", forged.html);
    assert_eq!(
        internal.authorization(&token, &id).await.json()["state"],
        "pending"
    );

    let done = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("transaction_password", TRANSACTION_PASSWORD),
                ("decision", "confirm"),
            ],
        )
        .await;
    done.assert_redirect(&path);
    let after = browser.get(&path).await;
    assert_eq!(after.status, 200, "{}", after.html);
    assert!(
        !after.html.contains("name=\"transaction_password\""),
        "{}",
        after.html
    );

    let view = internal.authorization(&token, &id).await.json();
    assert_confirmed(&view, "web");
    assert_receipt(&internal, &view, "withdrawals", "web", app.clock_now()).await;
    assert_captured_once(&internal, &token, &id).await;
}

#[tokio::test]
async fn a_member_posting_a_decision_for_an_unknown_payment_is_told_it_is_not_found() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let id = id_of(
        &internal
            .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0009"))
            .await,
    );
    let browser = Browser::new(&app);
    browser
        .login(&WANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let csrf = browser
        .get(&format!("/confirm/{id}"))
        .await
        .field("csrf")
        .unwrap();

    let page = browser.get("/confirm/pa_nobody").await;
    assert_eq!(page.status, 404, "{}", page.html);
    let form = [
        ("csrf", csrf.as_str()),
        ("transaction_password", TRANSACTION_PASSWORD),
        ("decision", "confirm"),
    ];
    let reply = browser.post("/confirm/pa_nobody", &form).await;
    assert_eq!(reply.status, 404, "{}", reply.html);
    let form = [
        ("csrf", csrf.as_str()),
        ("transaction_password", ""),
        ("decision", "decline"),
    ];
    let reply = browser.post("/confirm/pa_nobody", &form).await;
    assert_eq!(reply.status, 404, "{}", reply.html);
}

#[tokio::test]
async fn a_declined_withdrawal_cannot_be_captured() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let id = id_of(
        &internal
            .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0003"))
            .await,
    );
    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };

    let reply = member.decline(&id).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"id": id, "state": "declined"})),
        "{}",
        reply.text
    );
    let view = internal.authorization(&token, &id).await.json();
    assert_eq!(
        (&view["state"], &view["channel"]),
        (&json!("declined"), &json!("app")),
        "{view}"
    );
    assert!(view.get("receipt").is_none(), "{view}");
    internal
        .capture(&token, &id)
        .await
        .assert_error(409, "authorization_declined");
    member
        .confirm(&id, TRANSACTION_PASSWORD)
        .await
        .assert_error(409, "authorization_decided");
}

#[tokio::test]
async fn a_withdrawal_left_pending_past_ten_minutes_expires() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let id = id_of(
        &internal
            .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0004"))
            .await,
    );
    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };

    app.clock.advance(Duration::minutes(10));
    let token = internal.token(&client).await;
    assert_eq!(
        internal.authorization(&token, &id).await.json()["state"],
        "expired"
    );
    internal
        .capture(&token, &id)
        .await
        .assert_error(409, "authorization_expired");
    assert!(member.pending().await.is_empty());
    member
        .confirm(&id, TRANSACTION_PASSWORD)
        .await
        .assert_error(410, "authorization_expired");
}

#[tokio::test]
async fn a_confirmed_withdrawal_not_captured_within_ten_minutes_expires() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "WD-2026-0005");
    let confirmed = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.text);
    let id = id_of(&confirmed.json());

    app.clock.advance(Duration::minutes(10));
    let token = internal.token(&client).await;
    internal
        .capture(&token, &id)
        .await
        .assert_error(409, "authorization_expired");
}

#[tokio::test]
async fn a_pending_withdrawal_cannot_be_captured_and_another_system_cannot_touch_it() {
    let (app, client) = withdrawals().await;
    let loans = TestClient::register(&app, "loans", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let other = internal.token(&loans).await;
    let id = id_of(
        &internal
            .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0006"))
            .await,
    );

    internal
        .capture(&token, &id)
        .await
        .assert_error(409, "not_confirmed");
    internal
        .authorization(&other, &id)
        .await
        .assert_error(403, "foreign_authorization");
    internal
        .capture(&other, &id)
        .await
        .assert_error(403, "foreign_authorization");
    internal
        .authorization(&token, "pa_nobody")
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        internal.authorization(&token, &id).await.json()["state"],
        "pending"
    );
    let denied = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "payout.capture" && e.outcome == Outcome::Denied)
        .count();
    assert!(denied >= 1, "the refused capture is not audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_captures_of_one_authorization_capture_it_exactly_once() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "WD-2026-0007");
    let confirmed = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.text);
    let id = id_of(&confirmed.json());

    let url = app.url(&format!("/internal/v1/authorizations/{id}/capture"));
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tasks.spawn(async move {
            let response = http.post(url).bearer_auth(token).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.unwrap());
    }
    let captured = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"]["code"] == "already_captured")
        .count();
    assert_eq!((captured, refused), (1, 49), "{answers:?}");
    let successes = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "payout.capture" && e.outcome == Outcome::Success)
        .count();
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_same_authorization() {
    let (app, client) = withdrawals().await;
    let loans = TestClient::register(&app, "loans", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "WD-2026-0008");

    let first = internal.create(&token, &body, Some("order-8")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = internal.create(&token, &body, Some("order-8")).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(id_of(&again.json()), id_of(&first.json()));
    assert_eq!(again.json()["created_at"], first.json()["created_at"]);

    let mut changed = body.clone();
    changed["amount_fen"] = json!(AMOUNT_FEN + 100);
    internal
        .create(&token, &changed, Some("order-8"))
        .await
        .assert_error(422, "idempotency_key_reused");
    internal
        .create(&token, &body, None)
        .await
        .assert_error(400, "bad_idempotency_key");
    internal
        .create(&token, &body, Some(&"k".repeat(129)))
        .await
        .assert_error(400, "bad_idempotency_key");

    let other_key = internal.create(&token, &body, Some("order-9")).await;
    assert_eq!(other_key.status, 201, "{}", other_key.text);
    assert_ne!(id_of(&other_key.json()), id_of(&first.json()));
    // Keys belong to each business system: another one's "order-8" is its own.
    let other_token = internal.token(&loans).await;
    let theirs = internal.create(&other_token, &body, Some("order-8")).await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    assert_ne!(id_of(&theirs.json()), id_of(&first.json()));

    let api = Api::new(&app);
    let member = MemberApp {
        api: &api,
        token: api.token_for(&WANG).await,
    };
    assert_eq!(member.pending().await.len(), 3);
}

#[tokio::test]
async fn an_eleventh_authorization_for_one_member_within_an_hour_is_refused() {
    let (app, client) = withdrawals().await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    for n in 0..10 {
        let body = payment(WANG.account, AMOUNT_FEN, &format!("WD-LIMIT-{n}"));
        internal.created(&token, &body).await;
    }
    let body = payment(WANG.account, AMOUNT_FEN, "WD-LIMIT-10");
    let limited = internal.create(&token, &body, Some("limit-10")).await;
    limited.assert_error(429, "rate_limited");
    assert!(
        limited.header("retry-after").is_some(),
        "{:?}",
        limited.headers
    );
    let pin_pad = internal.verify(&token, &body, TRANSACTION_PASSWORD).await;
    pin_pad.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn only_the_member_with_a_full_login_can_see_or_confirm_their_payment() {
    let (app, client) = withdrawals().await;
    seed(&app, &LI).await;
    let api = Api::new(&app);
    api.register(&LI).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let id = id_of(
        &internal
            .created(&token, &payment(WANG.account, AMOUNT_FEN, "WD-2026-0010"))
            .await,
    );

    let li = MemberApp {
        api: &api,
        token: api.token_for(&LI).await,
    };
    assert!(li.pending().await.is_empty());
    li.confirm(&id, TRANSACTION_PASSWORD)
        .await
        .assert_error(404, "authorization_not_found");
    li.decline(&id)
        .await
        .assert_error(404, "authorization_not_found");

    let face = api.face_login(&WANG).await;
    let recovery_only = MemberApp {
        api: &api,
        token: face,
    };
    recovery_only
        .confirm(&id, TRANSACTION_PASSWORD)
        .await
        .assert_error(403, "recovery_session_only");
    assert_eq!(
        internal.authorization(&token, &id).await.json()["state"],
        "pending"
    );
}
