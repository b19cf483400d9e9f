//! Login, lockout and sessions through the app's JSON API.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, LI, LOGIN_PASSWORD, STRANGER, WANG, seed};
use serde_json::json;
use support::TestApp;
use time::Duration;

/// An app with WANG registered and LI imported but not registered.
async fn app_with_members() -> TestApp {
    let app = TestApp::spawn().await;
    seed(&app, &WANG).await;
    seed(&app, &LI).await;
    Api::from_ip(&app, "198.51.100.1").register(&WANG).await;
    app
}

#[tokio::test]
async fn unknown_members_wrong_passwords_and_unregistered_members_get_the_same_answer() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let wrong_password = api.login_by_id(WANG.id_number, "Wrong7password").await;
    let unknown_id = api.login_by_id(STRANGER.id_number, "Wrong7password").await;
    let unregistered = api.login_by_id(LI.id_number, "Wrong7password").await;
    let unknown_account = api
        .login_by_account(STRANGER.account, "Wrong7password")
        .await;
    let malformed_id = api.login_by_id("12345", "Wrong7password").await;
    wrong_password.assert_error(401, "invalid_credentials");
    for other in [&unknown_id, &unregistered, &unknown_account, &malformed_id] {
        assert_eq!(
            (other.status, &other.text),
            (wrong_password.status, &wrong_password.text)
        );
    }
    assert!(!wrong_password.text.contains("Wrong7password"));
}

#[tokio::test]
async fn a_member_logs_in_by_account_number_too() {
    let app = app_with_members().await;
    let reply = Api::new(&app)
        .login_by_account(WANG.account, LOGIN_PASSWORD)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_at"], "2026-11-23T14:00:00Z",
        "12 hours at most"
    );
}

/// Five wrong passwords for `id_number`; the last reply.
async fn fail_five_times(api: &Api<'_>, id_number: &str) -> api_common::Reply {
    for _ in 0..4 {
        api.login_by_id(id_number, "Wrong7password")
            .await
            .assert_error(401, "invalid_credentials");
    }
    api.login_by_id(id_number, "Wrong7password").await
}

#[tokio::test]
async fn five_failures_lock_for_fifteen_minutes_even_against_the_right_password() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let locked = fail_five_times(&api, WANG.id_number).await;
    locked.assert_error(423, "locked");
    assert_eq!(
        locked.json()["error"]["details"]["until"],
        "2026-11-23T02:15:00Z"
    );

    let right_password = api.login_by_id(WANG.id_number, LOGIN_PASSWORD).await;
    assert_eq!(
        (right_password.status, &right_password.text),
        (423, &locked.text)
    );

    app.clock.advance(Duration::minutes(14));
    let still = api.login_by_id(WANG.id_number, LOGIN_PASSWORD).await;
    assert_eq!(
        still.text, locked.text,
        "attempts during a lock do not extend it"
    );
    app.clock.advance(Duration::minutes(1));
    let reply = api.login_by_id(WANG.id_number, LOGIN_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn an_unknown_identifier_locks_exactly_like_a_member() {
    let app = app_with_members().await;
    let member = fail_five_times(&Api::from_ip(&app, "198.51.100.7"), WANG.id_number).await;
    let stranger = fail_five_times(&Api::from_ip(&app, "198.51.100.8"), STRANGER.id_number).await;
    member.assert_error(423, "locked");
    assert_eq!(
        (stranger.status, &stranger.text),
        (member.status, &member.text)
    );
}

#[tokio::test]
async fn the_next_lock_lasts_twice_as_long() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let first = fail_five_times(&api, WANG.id_number).await;
    assert_eq!(
        first.json()["error"]["details"]["until"],
        "2026-11-23T02:15:00Z"
    );
    app.clock.advance(Duration::minutes(15));
    let second = fail_five_times(&api, WANG.id_number).await;
    second.assert_error(423, "locked");
    assert_eq!(
        second.json()["error"]["details"]["until"],
        "2026-11-23T02:45:00Z"
    );
    app.clock.advance(Duration::minutes(30));
    assert_eq!(
        api.login_by_id(WANG.id_number, LOGIN_PASSWORD).await.status,
        200
    );
}

#[tokio::test]
async fn a_login_names_exactly_one_identifier() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let (captcha_id, captcha_answer) = api.captcha().await;
    let both = json!({
        "id_type": "resident_id", "id_number": WANG.id_number, "account_no": WANG.account,
        "password": LOGIN_PASSWORD, "captcha_id": captcha_id, "captcha_answer": captcha_answer,
    });
    let reply = api.post("/api/v1/login", both).await;
    reply.assert_error(400, "bad_identifier");
    assert_eq!(reply.json()["error"]["details"]["reason"], "both");
    let neither = json!({ "password": LOGIN_PASSWORD, "captcha_id": captcha_id, "captcha_answer": captcha_answer });
    api.post("/api/v1/login", neither)
        .await
        .assert_error(400, "bad_identifier");
}

#[tokio::test]
async fn a_wrong_captcha_refuses_the_login_without_counting_a_failure() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    for _ in 0..6 {
        let (captcha_id, _) = api.captcha().await;
        let body = json!({ "account_no": WANG.account, "password": "Wrong7password",
                           "captcha_id": captcha_id, "captcha_answer": "nope" });
        api.post("/api/v1/login", body)
            .await
            .assert_error(400, "captcha_wrong");
    }
    assert_eq!(
        api.login_by_account(WANG.account, LOGIN_PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_token_ends_after_fifteen_idle_minutes() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(api.get_as(&token, "/api/v1/me").await.status, 200);
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        api.get_as(&token, "/api/v1/me").await.status,
        200,
        "use keeps it alive"
    );
    app.clock.advance(Duration::minutes(16));
    let reply = api.get_as(&token, "/api/v1/me").await;
    reply.assert_error(401, "unauthorized");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_token_ends_after_twelve_hours_however_busy() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    for _ in 0..71 {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(api.get_as(&token, "/api/v1/me").await.status, 200);
    }
    app.clock.advance(Duration::minutes(10));
    api.get_as(&token, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_token() {
    let app = app_with_members().await;
    let (phone, tablet) = (
        Api::from_ip(&app, "198.51.100.20"),
        Api::from_ip(&app, "198.51.100.21"),
    );
    let first = phone.token_for(&WANG).await;
    let second = tablet.token_for(&WANG).await;
    assert_eq!(
        phone.post_as(&first, "/api/v1/logout-all").await.status,
        204
    );
    phone
        .get_as(&first, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    tablet
        .get_as(&second, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    tablet
        .post_as(&second, "/api/v1/logout")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn logging_out_ends_only_this_token() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let first = api.token_for(&WANG).await;
    let second = api.token_for(&WANG).await;
    assert_eq!(api.post_as(&first, "/api/v1/logout").await.status, 204);
    api.get_as(&first, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(api.get_as(&second, "/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn the_profile_shows_when_and_where_the_previous_login_was() {
    let app = app_with_members().await;
    let earlier = Api::from_ip(&app, "198.51.100.30");
    earlier.token_for(&WANG).await;
    app.clock.advance(Duration::minutes(5));
    let now = Api::from_ip(&app, "198.51.100.31");
    let token = now.token_for(&WANG).await;
    let profile = now.get_as(&token, "/api/v1/me").await.json();
    assert_eq!(
        profile["last_login"],
        json!({ "at": "2026-11-23T02:00:00Z", "ip": "198.51.100.*" }),
        "the address is masked as on the sessions page"
    );
}

#[tokio::test]
async fn missing_made_up_and_cookie_tokens_are_all_unauthorized() {
    let app = app_with_members().await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let bare = api.send(api.client.get(app.url("/api/v1/me"))).await;
    bare.assert_error(401, "unauthorized");
    api.get_as(&"x".repeat(43), "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    api.get_as("not a token", "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    let cookie = format!("fundpass_session={token}; __Host-fundpass_session={token}");
    let by_cookie = api
        .send(
            api.client
                .get(app.url("/api/v1/me"))
                .header("cookie", cookie),
        )
        .await;
    assert_eq!(
        (by_cookie.status, &by_cookie.text),
        (bare.status, &bare.text),
        "cookies are not API auth"
    );
}
