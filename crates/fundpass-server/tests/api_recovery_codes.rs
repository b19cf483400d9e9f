//! The code step of the forgotten-transaction-password recovery through the app's
//! JSON API: expiry, single use, resends, wrong codes counted per flow and per member,
//! the phone on file, whose flow it is, and parallel submissions.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, LI, WANG, app_with_registered, seed};
use serde_json::json;
use time::Duration;

/// A code other than `code`.
fn other_than(code: &str) -> String {
    let first = if code.starts_with('1') { '2' } else { '1' };
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn a_recovery_code_expires_after_five_minutes() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    app.clock.advance(Duration::minutes(5));
    api.submit_recovery_code(&token, &flow, &code)
        .await
        .assert_error(400, "code_expired");
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    let reply = api.submit_recovery_code(&token, &flow, &code).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    api.submit_recovery_code(&token, &flow, &code)
        .await
        .assert_error(409, "wrong_step");
}

#[tokio::test]
async fn a_resend_makes_the_old_code_stop_working() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, old) = api.flow_with_code(&token, &WANG).await;
    api.resend_recovery_code(&token, &flow)
        .await
        .assert_error(429, "resend_too_soon");
    app.clock.advance(Duration::seconds(61));
    let reply = api.resend_recovery_code(&token, &flow).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    let new = app.last_code_to(WANG.phone).await;
    assert_ne!(old, new);
    api.submit_recovery_code(&token, &flow, &old)
        .await
        .assert_error(400, "wrong_code");
    let reply = api.submit_recovery_code(&token, &flow, &new).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn five_wrong_codes_kill_the_flow_and_a_new_flow_does_not_reset_the_count() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    for remaining in [4, 3, 2, 1] {
        let reply = api
            .submit_recovery_code(&token, &flow, &other_than(&code))
            .await;
        reply.assert_error(400, "wrong_code");
        assert_eq!(reply.json()["error"]["details"]["remaining"], remaining);
    }
    api.submit_recovery_code(&token, &flow, &other_than(&code))
        .await
        .assert_error(410, "flow_dead");
    api.submit_recovery_code(&token, &flow, &code)
        .await
        .assert_error(423, "codes_locked");

    // A new flow gets no new code while the member's counter is locked: nothing is
    // sent at all.
    app.clock.advance(Duration::seconds(61));
    let sent_before = app.sms_to(WANG.phone).await.len();
    let flow = api.forgot_transaction_flow(&token, &WANG).await;
    let reply = api.request_recovery_code(&token, &flow, WANG.phone).await;
    reply.assert_error(423, "codes_locked");
    assert_eq!(
        reply.json()["error"]["details"]["until"],
        "2026-11-23T02:16:01Z"
    );
    assert_eq!(app.sms_to(WANG.phone).await.len(), sent_before);
}

#[tokio::test]
async fn wrong_codes_in_an_earlier_flow_count_in_the_next() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    for _ in 0..4 {
        api.submit_recovery_code(&token, &flow, &other_than(&code))
            .await
            .assert_error(400, "wrong_code");
    }
    app.clock.advance(Duration::seconds(61));
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    api.submit_recovery_code(&token, &flow, &other_than(&code))
        .await
        .assert_error(423, "codes_locked");
    api.submit_recovery_code(&token, &flow, &code)
        .await
        .assert_error(423, "codes_locked");
}

#[tokio::test]
async fn a_phone_other_than_the_one_on_file_is_refused_and_nothing_is_sent() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let before = app.sms_to(WANG.phone).await.len();
    let flow = api.forgot_transaction_flow(&token, &WANG).await;
    let reply = api
        .request_recovery_code(&token, &flow, "13900001111")
        .await;
    reply.assert_error(400, "not_verified");
    assert_eq!(reply.json()["error"]["details"]["remaining"], 4);
    api.request_recovery_code(&token, &flow, "12345")
        .await
        .assert_error(400, "bad_phone");
    assert_eq!(app.sms_to(WANG.phone).await.len(), before);
    assert!(app.sms_to("13900001111").await.is_empty());
    let reply = api.request_recovery_code(&token, &flow, WANG.phone).await;
    assert_eq!(
        reply.status, 202,
        "the right phone still works: {}",
        reply.text
    );
}

#[tokio::test]
async fn only_the_logged_in_members_own_details_and_flows_are_accepted() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    Api::from_ip(&app, "203.0.113.2").register(&LI).await;
    app.clock.advance(Duration::seconds(61));
    let api = Api::new(&app);
    let wang = api.token_for(&WANG).await;
    let li = api.token_for(&LI).await;

    api.start_forgot_transaction(&wang, &LI)
        .await
        .assert_error(403, "not_your_account");
    let wrong_name = api_common::Person {
        name: "王大明",
        ..WANG
    };
    api.start_forgot_transaction(&wang, &wrong_name)
        .await
        .assert_error(403, "not_your_account");
    api.start_forgot_transaction("made-up-token", &WANG)
        .await
        .assert_error(401, "unauthorized");

    let flow = api.forgot_transaction_flow(&wang, &WANG).await;
    api.request_recovery_code(&li, &flow, LI.phone)
        .await
        .assert_error(404, "unknown_flow");
    api.request_recovery_code(&wang, "no-such-flow", WANG.phone)
        .await
        .assert_error(404, "unknown_flow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_submissions_of_one_recovery_code_succeed_exactly_once() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, url) = (app.client(), app.url("/api/v1/recovery/transaction/code"));
        let (token, body) = (token.clone(), json!({ "flow": flow, "code": code }));
        tasks.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let replies = tasks.join_all().await;
    let successes = replies.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{replies:?}");
    for (status, body) in replies.iter().filter(|(status, _)| *status != 200) {
        let code = body["error"]["code"].as_str().unwrap();
        assert!(
            *status == 409 && ["conflict", "wrong_step"].contains(&code),
            "{status} {body}"
        );
    }
}

#[tokio::test]
async fn wrong_phone_numbers_count_across_flows_and_then_nothing_is_sent() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let sent_before = app.sms_to(WANG.phone).await.len();
    let mut locked = None;
    for attempt in 1..=5 {
        // A fresh flow each time: restarting buys no new guesses at the number.
        let flow = api.forgot_transaction_flow(&token, &WANG).await;
        let reply = api
            .request_recovery_code(&token, &flow, "13911112222")
            .await;
        if attempt < 5 {
            reply.assert_error(400, "not_verified");
        } else {
            reply.assert_error(423, "codes_locked");
            locked = Some(reply);
        }
    }
    assert!(locked.is_some());
    let flow = api.forgot_transaction_flow(&token, &WANG).await;
    api.request_recovery_code(&token, &flow, WANG.phone)
        .await
        .assert_error(423, "codes_locked");
    assert_eq!(
        app.sms_to(WANG.phone).await.len(),
        sent_before,
        "no code went out"
    );
}
