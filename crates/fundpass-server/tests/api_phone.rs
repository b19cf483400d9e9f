//! Changing the phone on file in the app (`POST /api/v1/phone`): only with the token
//! of a face verification login and the transaction password. The old phone is
//! told, a 72-hour hold follows, every session ends, and codes and notices go to the
//! new phone from then on. (The counter's phone change: console_counter.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{
    Api, LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited,
    audit_events,
};
use serde_json::{Value, json};
use time::Duration;

const NEW_PHONE: &str = "13600001234";
const WRONG_TRANSACTION_PASSWORD: &str = "615204";

fn change_to(phone: &str, transaction_password: &str) -> Value {
    json!({
        "transaction_password": transaction_password,
        "new_phone": phone,
        "new_phone_again": phone,
    })
}

#[tokio::test]
async fn a_password_login_cannot_change_the_phone() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;

    api.post_json_as(
        &token,
        "/api/v1/phone",
        change_to(NEW_PHONE, TRANSACTION_PASSWORD),
    )
    .await
    .assert_error(403, "face_login_required");
    api.post_json_as(
        &token,
        "/api/v1/phone",
        change_to(NEW_PHONE, WRONG_TRANSACTION_PASSWORD),
    )
    .await
    .assert_error(403, "face_login_required");
    api.post_json_as(
        "garbage",
        "/api/v1/phone",
        change_to(NEW_PHONE, TRANSACTION_PASSWORD),
    )
    .await
    .assert_error(401, "unauthorized");

    let me = api.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "the session goes on: {}", me.text);
    assert_eq!(me.json()["holds"], json!([]));
    assert!(app.sms_to(NEW_PHONE).await.is_empty());
    assert_eq!(
        app.sms_to(WANG.phone).await.len(),
        2,
        "registration texts only"
    );
}

#[tokio::test]
async fn a_face_login_and_the_transaction_password_move_the_phone_and_its_texts() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let password_token = api.token_for(&WANG).await;
    let face_token = api.face_login(&WANG).await;

    let wrong = api
        .post_json_as(
            &face_token,
            "/api/v1/phone",
            change_to(NEW_PHONE, WRONG_TRANSACTION_PASSWORD),
        )
        .await;
    wrong.assert_error(400, "wrong_transaction_password");
    assert_eq!(wrong.json()["error"]["details"]["remaining"], 4);
    api.post_json_as(
        &face_token,
        "/api/v1/phone",
        change_to(WANG.phone, TRANSACTION_PASSWORD),
    )
    .await
    .assert_error(400, "same_phone");
    assert!(app.sms_to(NEW_PHONE).await.is_empty());

    let done = api
        .post_json_as(
            &face_token,
            "/api/v1/phone",
            change_to(NEW_PHONE, TRANSACTION_PASSWORD),
        )
        .await;
    assert_eq!(done.status, 204, "{}", done.text);
    let told: Vec<String> = app
        .sms_to(WANG.phone)
        .await
        .into_iter()
        .filter(|t| t.contains("通过手机APP变更为136****1234"))
        .collect();
    assert_eq!(told.len(), 1, "the old phone is told once");
    assert!(app.sms_to(NEW_PHONE).await.is_empty());
    for token in [&password_token, &face_token] {
        api.get_as(token, "/api/v1/me")
            .await
            .assert_error(401, "unauthorized");
    }

    let token = api.token_for(&WANG).await;
    let me = api.get_as(&token, "/api/v1/me").await;
    let holds = me.json()["holds"].clone();
    assert_eq!(holds.as_array().unwrap().len(), 1, "{holds}");
    assert_eq!(holds[0]["reason"], "phone_change");
    let until = time::OffsetDateTime::parse(
        holds[0]["until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(until - app.clock_now(), Duration::hours(72));

    // Recovery codes now go to the new phone; the old one names nobody.
    let flow = api.forgot_transaction_flow(&token, &WANG).await;
    let sent = api.request_recovery_code(&token, &flow, NEW_PHONE).await;
    assert_eq!(sent.status, 202, "{}", sent.text);
    assert_eq!(app.last_code_to(NEW_PHONE).await.len(), 6);
    let old_texts = app.sms_to(WANG.phone).await.len();

    // A registration attempt with the new phone is told to the new phone.
    app.clock.advance(Duration::seconds(61));
    let new_person = api_common::Person {
        phone: NEW_PHONE,
        ..WANG
    };
    let started = api.start_registration(&new_person).await;
    assert_eq!(started.status, 202, "{}", started.text);
    let attempts = app
        .sms_to(NEW_PHONE)
        .await
        .into_iter()
        .filter(|t| t.contains("您已是注册用户"))
        .count();
    assert_eq!(attempts, 1);
    api.start_registration(&WANG).await;
    assert_eq!(
        app.sms_to(WANG.phone).await.len(),
        old_texts,
        "nothing to the old phone"
    );

    assert_audited(
        &audit_events(&app).await,
        &["phone.change"],
        &WANG,
        &[
            NEW_PHONE,
            TRANSACTION_PASSWORD,
            WRONG_TRANSACTION_PASSWORD,
            LOGIN_PASSWORD,
        ],
    );
}
