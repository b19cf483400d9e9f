//! SMS codes of the registration flow through the app's JSON API: expiry, single
//! use, wrong codes, resends, per-phone limits and parallel submissions.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, seed};
use serde_json::json;
use support::TestApp;
use time::Duration;

#[tokio::test]
async fn a_code_expires_after_five_minutes() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let code = app.last_code_to(WANG.phone).await;
    app.clock.advance(Duration::minutes(5));
    api.submit_code(&flow, &code)
        .await
        .assert_error(400, "code_expired");
}

#[tokio::test]
async fn a_used_code_cannot_be_used_again() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let code = app.last_code_to(WANG.phone).await;
    assert_eq!(api.submit_code(&flow, &code).await.status, 200);
    api.submit_code(&flow, &code)
        .await
        .assert_error(409, "wrong_step");
    assert_eq!(
        api.complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
            .await
            .status,
        200
    );
    api.submit_code(&flow, &code)
        .await
        .assert_error(409, "wrong_step");
    api.complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
        .await
        .assert_error(409, "wrong_step");
}

/// A six-digit code that is not `code`.
fn other_than(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn five_wrong_codes_kill_the_flow_and_the_right_code_stops_working() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let code = app.last_code_to(WANG.phone).await;
    for remaining in (1..=4).rev() {
        let reply = api.submit_code(&flow, &other_than(&code)).await;
        reply.assert_error(400, "wrong_code");
        assert_eq!(reply.json()["error"]["details"]["remaining"], remaining);
    }
    api.submit_code(&flow, &other_than(&code))
        .await
        .assert_error(410, "flow_dead");
    api.submit_code(&flow, &code)
        .await
        .assert_error(410, "flow_dead");
}

#[tokio::test]
async fn a_resend_replaces_the_code_but_keeps_the_count_of_wrong_codes() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let first = app.last_code_to(WANG.phone).await;
    for _ in 0..4 {
        api.submit_code(&flow, &other_than(&first))
            .await
            .assert_error(400, "wrong_code");
    }
    app.clock.advance(Duration::seconds(60));
    let resent = api
        .post("/api/v1/registration/resend", json!({ "flow_id": flow }))
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    assert_eq!(resent.json()["resend_after"], "2026-11-23T02:02:00Z");
    let second = app.last_code_to(WANG.phone).await;
    assert_eq!(app.sms_to(WANG.phone).await.len(), 2);
    if first != second {
        // The first code no longer works: that is the fifth wrong code.
        api.submit_code(&flow, &first)
            .await
            .assert_error(410, "flow_dead");
    } else {
        api.submit_code(&flow, &other_than(&second))
            .await
            .assert_error(410, "flow_dead");
    }
    api.submit_code(&flow, &second)
        .await
        .assert_error(410, "flow_dead");
}

#[tokio::test]
async fn an_old_code_stops_working_after_a_resend() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let first = app.last_code_to(WANG.phone).await;
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        api.post("/api/v1/registration/resend", json!({ "flow_id": flow }))
            .await
            .status,
        202
    );
    let second = app.last_code_to(WANG.phone).await;
    if first != second {
        api.submit_code(&flow, &first)
            .await
            .assert_error(400, "wrong_code");
    }
    assert_eq!(api.submit_code(&flow, &second).await.status, 200);
}

#[tokio::test]
async fn a_resend_within_sixty_seconds_is_refused_with_retry_after() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    app.clock.advance(Duration::seconds(45));
    let reply = api
        .post("/api/v1/registration/resend", json!({ "flow_id": flow }))
        .await;
    reply.assert_error(429, "resend_too_soon");
    assert_eq!(reply.header("retry-after"), Some("15"));
    assert_eq!(app.sms_to(WANG.phone).await.len(), 1);
}

#[tokio::test]
async fn the_eleventh_code_for_one_phone_in_a_day_is_refused() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    for _ in 0..10 {
        let reply = api.start_registration(&WANG).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        app.clock.advance(Duration::seconds(61));
    }
    let reply = api.start_registration(&WANG).await;
    reply.assert_error(429, "rate_limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 60, "the daily cap, not the cooldown: {retry}");
    assert_eq!(app.sms_to(WANG.phone).await.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_submissions_of_one_code_succeed_exactly_once() {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let flow = api.flow_for(&WANG).await;
    let code = app.last_code_to(WANG.phone).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, url) = (app.client(), app.url("/api/v1/registration/code"));
        let body = json!({ "flow_id": flow, "code": code });
        tasks.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let replies = tasks.join_all().await;
    assert_eq!(
        replies.iter().filter(|(status, _)| *status == 200).count(),
        1,
        "{replies:?}"
    );
    for (status, body) in replies.iter().filter(|(status, _)| *status != 200) {
        let code = body["error"]["code"].as_str().unwrap();
        assert!(
            *status == 409 && ["conflict", "wrong_step"].contains(&code),
            "{status} {body}"
        );
    }
}
