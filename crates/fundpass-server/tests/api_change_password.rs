//! Changing a password the member knows from the app (`POST /api/v1/password/login`
//! and `/transaction`): the current one and the new one twice. Wrong current
//! passwords count against the same locks as everywhere else; a change ends every
//! other session and token, keeps this one under a new token, texts the phone on
//! file and is audited, and places no hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{
    Api, LOGIN_PASSWORD, Reply, TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited,
    audit_events,
};
use fundpass_core::audit::Outcome;
use fundpass_core::crypto::Field;
use fundpass_core::ports::OutboxStore as _;
use serde_json::{Value, json};
use support::TestApp;

const LOGIN_PATH: &str = "/api/v1/password/login";
const TRANSACTION_PATH: &str = "/api/v1/password/transaction";
const NEW_LOGIN: &str = "Copper8meadow57";
const WRONG_LOGIN: &str = "Blue7harbor43";
const NEW_TRANSACTION: &str = "581307";
const WRONG_TRANSACTION: &str = "150826";
/// The clock stands at 02:01:01 UTC (10:01 in China): the next midnight there.
const MIDNIGHT_IN_CHINA: &str = "2026-11-23T16:00:00Z";

fn change(current: &str, new: &str, again: &str) -> Value {
    json!({ "current": current, "new": new, "new_again": again })
}

/// The token a successful change returns.
#[track_caller]
fn new_token(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// The texts queued for `phone` with `purpose`.
async fn texts(app: &TestApp, phone: &str, purpose: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in app.store.recent_messages(500).await.unwrap() {
        if m.purpose == purpose && app.keyring.open(Field::Phone, &m.to).unwrap() == phone {
            out.push(app.keyring.open(Field::Message, &m.body).unwrap());
        }
    }
    out
}

/// The reason codes of a `password_policy` refusal.
fn reasons(reply: &Reply) -> Vec<String> {
    reply.assert_error(422, "password_policy");
    reply.json()["error"]["details"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn me(api: &Api<'_>, token: &str) -> u16 {
    api.get_as(token, "/api/v1/me").await.status
}

#[tokio::test]
async fn the_right_current_login_password_changes_it_and_only_this_session_goes_on_under_a_new_token()
 {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let this = api.token_for(&WANG).await;
    let other = api.token_for(&WANG).await;

    let reply = api
        .post_json_as(
            &this,
            LOGIN_PATH,
            change(LOGIN_PASSWORD, NEW_LOGIN, NEW_LOGIN),
        )
        .await;
    let renewed = new_token(&reply);
    assert_eq!(reply.json()["token_type"], "Bearer");
    assert_ne!(renewed, this);

    assert_eq!(me(&api, &renewed).await, 200, "this session goes on");
    assert_eq!(me(&api, &this).await, 401, "under a new token only");
    assert_eq!(me(&api, &other).await, 401, "every other session ended");
    api.login_by_account(WANG.account, LOGIN_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    api.token_for_password(&WANG, NEW_LOGIN).await;

    let notices = texts(&app, WANG.phone, "password_changed").await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("登录密码已于") && notices[0].contains("通过手机APP修改"),
        "{}",
        notices[0]
    );
    assert!(notices[0].contains("12329"), "{}", notices[0]);
    assert_eq!(
        app.count_rows("member_holds").await,
        0,
        "no hold after a change"
    );
    let profile = api.get_as(&renewed, "/api/v1/me").await.json();
    assert_eq!(profile["holds"], json!([]));
    let events = audit_events(&app).await;
    assert_audited(
        &events,
        &["password.change.login"],
        &WANG,
        &[LOGIN_PASSWORD, NEW_LOGIN],
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == "password.change.login" && e.outcome == Outcome::Success)
    );
}

#[tokio::test]
async fn a_wrong_current_login_password_changes_nothing_and_the_session_goes_on() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;

    let wrong = api
        .post_json_as(
            &token,
            LOGIN_PATH,
            change(WRONG_LOGIN, NEW_LOGIN, NEW_LOGIN),
        )
        .await;
    wrong.assert_error(400, "wrong_login_password");
    assert_eq!(wrong.json()["error"]["details"]["remaining"], 4);
    assert!(!wrong.text.contains(WRONG_LOGIN) && !wrong.text.contains(NEW_LOGIN));

    assert_eq!(me(&api, &token).await, 200);
    api.login_by_account(WANG.account, NEW_LOGIN)
        .await
        .assert_error(401, "invalid_credentials");
    assert!(texts(&app, WANG.phone, "password_changed").await.is_empty());
    let events = audit_events(&app).await;
    let failure = events
        .iter()
        .find(|e| e.action == "password.change.login")
        .expect("the failure is audited");
    assert_eq!(failure.details["reason"], "wrong_password");
    assert_audited(
        &events,
        &[],
        &WANG,
        &[WRONG_LOGIN, NEW_LOGIN, LOGIN_PASSWORD],
    );
}

#[tokio::test]
async fn wrong_current_login_passwords_count_with_failed_logins_and_the_lock_ends_every_session() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let other = api.token_for(&WANG).await;
    for _ in 0..2 {
        api.login_by_account(WANG.account, WRONG_LOGIN)
            .await
            .assert_error(401, "invalid_credentials");
    }

    for remaining in [2, 1] {
        let wrong = api
            .post_json_as(
                &token,
                LOGIN_PATH,
                change(WRONG_LOGIN, NEW_LOGIN, NEW_LOGIN),
            )
            .await;
        wrong.assert_error(400, "wrong_login_password");
        assert_eq!(wrong.json()["error"]["details"]["remaining"], remaining);
    }
    let fifth = api
        .post_json_as(
            &token,
            LOGIN_PATH,
            change(WRONG_LOGIN, NEW_LOGIN, NEW_LOGIN),
        )
        .await;
    fifth.assert_error(423, "locked");
    let details = &fifth.json()["error"]["details"];
    assert_eq!(details["until"], "2026-11-23T02:16:01Z", "{details}");
    assert_eq!(details["signed_out"], true);

    assert_eq!(me(&api, &token).await, 401, "the guessing session ended");
    assert_eq!(me(&api, &other).await, 401, "and every other one");
    api.login_by_account(WANG.account, LOGIN_PASSWORD)
        .await
        .assert_error(423, "locked");
}

#[tokio::test]
async fn the_right_current_transaction_password_changes_it_and_only_this_session_goes_on() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let this = api.token_for(&WANG).await;
    let other = api.token_for(&WANG).await;

    let reply = api
        .post_json_as(
            &this,
            TRANSACTION_PATH,
            change(TRANSACTION_PASSWORD, NEW_TRANSACTION, NEW_TRANSACTION),
        )
        .await;
    let renewed = new_token(&reply);
    assert_eq!(me(&api, &renewed).await, 200);
    assert_eq!(me(&api, &this).await, 401);
    assert_eq!(me(&api, &other).await, 401);

    // The old one no longer proves anything; the new one does.
    let flow = api.forgot_login_flow(&WANG).await;
    api.verify_forgot_login(&flow, TRANSACTION_PASSWORD)
        .await
        .assert_error(400, "not_verified");
    let proof = api.verify_forgot_login(&flow, NEW_TRANSACTION).await;
    assert_eq!(proof.status, 200, "{}", proof.text);

    let notices = texts(&app, WANG.phone, "password_changed").await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("交易密码已于"), "{}", notices[0]);
    assert_eq!(
        app.count_rows("member_holds").await,
        0,
        "no hold after a change"
    );
    assert_audited(
        &audit_events(&app).await,
        &["password.change.transaction"],
        &WANG,
        &[TRANSACTION_PASSWORD, NEW_TRANSACTION],
    );
}

#[tokio::test]
async fn transaction_failures_here_and_in_the_recovery_proof_share_one_counter_that_locks_until_midnight()
 {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let flow = api.forgot_login_flow(&WANG).await;
    for _ in 0..2 {
        api.verify_forgot_login(&flow, WRONG_TRANSACTION)
            .await
            .assert_error(400, "not_verified");
    }

    let body = change(WRONG_TRANSACTION, NEW_TRANSACTION, NEW_TRANSACTION);
    for remaining in [2, 1] {
        let wrong = api
            .post_json_as(&token, TRANSACTION_PATH, body.clone())
            .await;
        wrong.assert_error(400, "wrong_transaction_password");
        assert_eq!(wrong.json()["error"]["details"]["remaining"], remaining);
    }
    assert!(
        texts(&app, WANG.phone, "transaction_locked")
            .await
            .is_empty()
    );
    let fifth = api.post_json_as(&token, TRANSACTION_PATH, body).await;
    fifth.assert_error(423, "transaction_locked");
    assert_eq!(fifth.json()["error"]["details"]["until"], MIDNIGHT_IN_CHINA);
    assert_eq!(texts(&app, WANG.phone, "transaction_locked").await.len(), 1);

    // Locked: the right one is refused too, and the session is not ended.
    let right = change(TRANSACTION_PASSWORD, NEW_TRANSACTION, NEW_TRANSACTION);
    api.post_json_as(&token, TRANSACTION_PATH, right)
        .await
        .assert_error(423, "transaction_locked");
    assert_eq!(me(&api, &token).await, 200);
    assert!(texts(&app, WANG.phone, "password_changed").await.is_empty());
}

#[tokio::test]
async fn every_rule_a_new_password_breaks_is_listed_and_nothing_changes() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;

    let login = api
        .post_json_as(&token, LOGIN_PATH, change(LOGIN_PASSWORD, "abc", "abd"))
        .await;
    let codes = reasons(&login);
    assert!(
        codes.contains(&"too_short".to_owned()) && codes.contains(&"needs_digit".to_owned()),
        "{codes:?}"
    );
    assert_eq!(login.json()["error"]["details"]["mismatch"], true);
    let transaction = api
        .post_json_as(
            &token,
            TRANSACTION_PATH,
            change(TRANSACTION_PASSWORD, "123456", "123456"),
        )
        .await;
    assert_eq!(reasons(&transaction), ["digit_run"]);
    assert_eq!(transaction.json()["error"]["details"]["mismatch"], false);
    let mismatch = api
        .post_json_as(
            &token,
            TRANSACTION_PATH,
            change(TRANSACTION_PASSWORD, NEW_TRANSACTION, "581308"),
        )
        .await;
    assert!(reasons(&mismatch).is_empty());
    assert_eq!(mismatch.json()["error"]["details"]["mismatch"], true);

    assert_eq!(me(&api, &token).await, 200);
    api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    let events = audit_events(&app).await;
    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e.action.starts_with("password.change."))
        .map(|e| &e.details)
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[1]["reasons"], json!(["digit_run"]));
    assert_audited(
        &events,
        &[],
        &WANG,
        &["123456", NEW_TRANSACTION, LOGIN_PASSWORD],
    );
}

#[tokio::test]
async fn none_of_the_last_five_login_passwords_may_come_back() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let mut token = api.token_for(&WANG).await;
    api.post_json_as(
        &token,
        LOGIN_PATH,
        change(LOGIN_PASSWORD, LOGIN_PASSWORD, LOGIN_PASSWORD),
    )
    .await
    .assert_error(422, "password_policy");

    let chain = [
        LOGIN_PASSWORD,
        "Copper8meadow57",
        "Silver3canyon64",
        "Amber6forest29",
        "Violet2harbor83",
        "Walnut9prairie15",
    ];
    for pair in chain.windows(2) {
        let reply = api
            .post_json_as(&token, LOGIN_PATH, change(pair[0], pair[1], pair[1]))
            .await;
        token = new_token(&reply);
    }
    let current = chain[5];
    let recent = api
        .post_json_as(&token, LOGIN_PATH, change(current, chain[1], chain[1]))
        .await;
    assert_eq!(reasons(&recent), ["reused"]);
    let sixth_back = api
        .post_json_as(&token, LOGIN_PATH, change(current, chain[0], chain[0]))
        .await;
    new_token(&sixth_back);
}

#[tokio::test]
async fn a_face_login_or_no_token_cannot_change_a_password() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let face = api.face_login(&WANG).await;
    let bodies = [
        (LOGIN_PATH, change(LOGIN_PASSWORD, NEW_LOGIN, NEW_LOGIN)),
        (
            TRANSACTION_PATH,
            change(TRANSACTION_PASSWORD, NEW_TRANSACTION, NEW_TRANSACTION),
        ),
    ];
    for (path, body) in bodies {
        api.post_json_as(&face, path, body.clone())
            .await
            .assert_error(403, "recovery_session_only");
        api.post(path, body).await.assert_error(401, "unauthorized");
    }
    api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    assert!(texts(&app, WANG.phone, "password_changed").await.is_empty());
}
