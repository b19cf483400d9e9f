//! Registration through the app's JSON API: the whole journey, neutral answers,
//! input checks and password rules (codes and their limits: `api_sms_codes.rs`).

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, LI, LOGIN_PASSWORD, STRANGER, TRANSACTION_PASSWORD, WANG, seed};
use serde_json::json;
use support::TestApp;
use time::Duration;

#[tokio::test]
async fn a_member_registers_logs_in_sees_masked_data_and_logs_out() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);

    let started = api.start_registration(&WANG).await;
    assert_eq!(started.status, 202, "{}", started.text);
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let flow = started.json()["flow_id"].as_str().unwrap().to_owned();
    let code = app.last_code_to(WANG.phone).await;
    let reply = api.submit_code(&flow, &code).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"next": "set_passwords"}))
    );
    let reply = api
        .complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
        .await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"status": "registered"}))
    );
    assert!(
        // Sent in the same instant as the code, so look at every text.
        app.sms_to(WANG.phone)
            .await
            .iter()
            .any(|t| t.contains("成功注册")),
        "a notice follows registration"
    );

    let login = api.login_by_id(WANG.id_number, LOGIN_PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let body = login.json();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 22, "at least 128 bits");

    let me = api.get_as(token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let profile = me.json();
    assert_eq!(profile["account_no"], WANG.account);
    assert_eq!(profile["id_type"], "resident_id");
    assert_eq!(profile["id_number_masked"], "110105********1239");
    assert_eq!(profile["phone_masked"], "138****5678");
    assert_eq!(profile["status"], "registered");
    assert_eq!(
        profile["last_login"],
        serde_json::Value::Null,
        "this is the first login"
    );
    assert!(
        !me.text.contains(WANG.id_number) && !me.text.contains(WANG.phone),
        "{}",
        me.text
    );

    let out = api.post_as(token, "/api/v1/logout").await;
    assert_eq!(out.status, 204, "{}", out.text);
    api.get_as(token, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_start_answers_the_same_for_members_and_strangers_and_texts_only_the_member() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let member = Api::from_ip(&app, "203.0.113.1")
        .start_registration(&WANG)
        .await;
    let stranger = Api::from_ip(&app, "203.0.113.2")
        .start_registration(&STRANGER)
        .await;

    assert_eq!((member.status, stranger.status), (202, 202));
    let without_flow = |reply: &api_common::Reply| {
        let flow = reply.json()["flow_id"].as_str().unwrap().to_owned();
        assert_eq!(flow.len(), 43);
        reply.text.replace(&flow, "FLOW")
    };
    assert_eq!(without_flow(&member), without_flow(&stranger));
    assert_eq!(
        member.header("content-length"),
        stranger.header("content-length")
    );
    let body = member.json();
    assert_eq!(
        body["message"],
        "If these details match our records, a code has been sent to the phone on file."
    );
    assert_eq!(body["code_expires_at"], "2026-11-23T02:05:00Z");
    assert_eq!(body["resend_after"], "2026-11-23T02:01:00Z");

    assert_eq!(app.sms_to(WANG.phone).await.len(), 1);
    assert!(
        app.sms_to(STRANGER.phone).await.is_empty(),
        "nobody matched, nothing is sent"
    );
}

#[tokio::test]
async fn a_wrong_phone_for_a_real_member_gets_the_neutral_answer_and_no_text() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let wrong_phone = api_common::Person {
        phone: "13900001111",
        ..WANG
    };
    let reply = Api::new(&app).start_registration(&wrong_phone).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert!(app.sms_to(WANG.phone).await.is_empty());
    assert!(app.sms_to(wrong_phone.phone).await.is_empty());
}

#[tokio::test]
async fn a_registered_member_gets_the_neutral_answer_and_a_warning_text() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    seed(&app, &LI).await;
    Api::from_ip(&app, "203.0.113.1").register(&WANG).await;
    app.clock.advance(Duration::minutes(2));

    let again = Api::from_ip(&app, "203.0.113.2")
        .start_registration(&WANG)
        .await;
    let ordinary = Api::from_ip(&app, "203.0.113.3")
        .start_registration(&LI)
        .await;
    let without_flow = |reply: &api_common::Reply| {
        let flow = reply.json()["flow_id"].as_str().unwrap().to_owned();
        reply.text.replace(&flow, "FLOW")
    };
    assert_eq!((again.status, ordinary.status), (202, 202));
    assert_eq!(without_flow(&again), without_flow(&ordinary));
    let texts = app.sms_to(WANG.phone).await;
    assert!(texts[0].contains("尝试用您的身份信息注册"), "{texts:?}");
    let chars: Vec<char> = texts[0].chars().collect();
    assert!(
        !chars.windows(6).any(|w| w.iter().all(char::is_ascii_digit)),
        "no code in a warning: {texts:?}"
    );
}

#[tokio::test]
async fn a_malformed_id_number_is_named_without_being_echoed() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let bad = api_common::Person {
        id_number: "110105199003071238",
        ..WANG
    };
    let reply = api.start_registration(&bad).await;
    reply.assert_error(400, "bad_id_number");
    assert_eq!(
        reply.json()["error"]["details"]["reason"],
        "bad_check_digit"
    );
    assert!(
        !reply.text.contains(bad.id_number) && !reply.text.contains("11010519900307"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_malformed_phone_and_an_empty_name_have_their_own_codes() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let reply = api
        .start_registration(&api_common::Person {
            phone: "0101234567",
            ..WANG
        })
        .await;
    reply.assert_error(400, "bad_phone");
    assert_eq!(reply.json()["error"]["details"]["reason"], "bad_length");
    api.start_registration(&api_common::Person { name: "  ", ..WANG })
        .await
        .assert_error(400, "bad_name");
}

#[tokio::test]
async fn a_wrong_or_reused_captcha_is_refused_before_anything_is_sent() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let (captcha_id, answer) = api.captcha().await;
    let body = |answer: &str| {
        json!({"name": WANG.name, "id_type": "resident_id", "id_number": WANG.id_number,
               "phone": WANG.phone, "captcha_id": captcha_id, "captcha_answer": answer})
    };
    let wrong = format!("{answer}x");
    api.post("/api/v1/registration", body(&wrong))
        .await
        .assert_error(400, "captcha_wrong");
    api.post("/api/v1/registration", body(&answer))
        .await
        .assert_error(400, "captcha_expired");
    assert!(app.sms_to(WANG.phone).await.is_empty());
}

#[tokio::test]
async fn weak_passwords_are_refused_with_every_reason() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let code = app.last_code_to(WANG.phone).await;
    assert_eq!(api.submit_code(&flow, &code).await.status, 200);

    let body = json!({
        "flow_id": flow, "login_password": "12345678", "login_password_confirm": "12345678",
        "transaction_password": "123456", "transaction_password_confirm": "654321",
    });
    let reply = api.post("/api/v1/registration/complete", body).await;
    reply.assert_error(422, "password_policy");
    let details = &reply.json()["error"]["details"];
    let codes = |key: &str| -> Vec<String> {
        details[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        !codes("login").is_empty() && !codes("transaction").is_empty(),
        "{details}"
    );
    assert!(
        codes("login").contains(&"needs_letter".to_owned()),
        "{details}"
    );
    assert!(
        codes("transaction").contains(&"digit_run".to_owned()),
        "{details}"
    );
    assert!(
        details["login"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(details["login_mismatch"], false);
    assert_eq!(details["transaction_mismatch"], true);
    assert!(
        !reply.text.contains("12345678"),
        "passwords are not echoed: {}",
        reply.text
    );

    let fixed = api
        .complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
        .await;
    assert_eq!(
        fixed.status, 200,
        "the flow survives a refused password: {}",
        fixed.text
    );
}

#[tokio::test]
async fn an_unknown_flow_is_not_found() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let made_up = "A".repeat(43);
    api.submit_code(&made_up, "123456")
        .await
        .assert_error(404, "unknown_flow");
    api.post("/api/v1/registration/resend", json!({ "flow_id": "short" }))
        .await
        .assert_error(404, "unknown_flow");
}
