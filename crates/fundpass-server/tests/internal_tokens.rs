//! Business systems at the internal API's door: access tokens for signed client
//! assertions (RFC 7523), every way an assertion is refused, tokens that end, and
//! the scope each call needs.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{Reply, TRANSACTION_PASSWORD};
use fundpass_core::audit::Outcome;
use fundpass_core::clients::Scope;
use internal_common::{ClientKey, Internal, KeyKind, TestClient, details, payment};
use serde_json::json;
use support::TestApp;
use time::Duration;

/// A path that needs a valid token and answers 404 once it has one.
const UNKNOWN_AUTHORIZATION: &str = "/internal/v1/authorizations/pa_nobody";

/// Asserts an RFC 6749 §5.2 `invalid_client` refusal.
#[track_caller]
fn assert_invalid_client(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (401, json!("invalid_client")),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_registered_client_gets_a_five_minute_token_for_a_signed_assertion() {
    let app = TestApp::spawn().await;
    let client = TestClient::register(
        &app,
        "withdrawals",
        &[Scope::PaymentsAuthorize, Scope::HoldsRead],
    )
    .await;
    let internal = Internal::new(&app);

    let reply = internal.ask_token(&client.assertion(&app), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        (&body["token_type"], &body["expires_in"], &body["scope"]),
        (
            &json!("Bearer"),
            &json!(300),
            &json!("payments:authorize holds:read")
        )
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 43, "{token}");
    internal
        .get(token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");

    // A token asked for one scope carries only that one.
    let reply = internal
        .ask_token(&client.assertion(&app), Some("holds:read"))
        .await;
    assert_eq!(
        (reply.status, reply.json()["scope"].clone()),
        (200, json!("holds:read"))
    );
}

#[tokio::test]
async fn a_client_with_a_p256_key_gets_a_token_for_an_es256_assertion() {
    let app = TestApp::spawn().await;
    let client = TestClient::register_with(
        &app,
        "loans",
        KeyKind::Es256,
        &[Scope::PaymentsAuthorize],
        None,
    )
    .await;
    let internal = Internal::new(&app);

    let reply = internal.ask_token(&client.assertion(&app), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    internal
        .get(&token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");

    // The same claims signed by another P-256 key are refused.
    let stranger = ClientKey::generate(KeyKind::Es256);
    assert_invalid_client(
        &internal
            .ask_token(&stranger.sign(&client.claims(&app)), None)
            .await,
    );
    // And an EdDSA assertion for a client registered with an ES256 key.
    let ed = ClientKey::generate(KeyKind::Ed25519);
    assert_invalid_client(
        &internal
            .ask_token(&ed.sign(&client.claims(&app)), None)
            .await,
    );
}

#[tokio::test]
async fn assertions_with_a_wrong_key_a_used_jti_a_stale_or_long_exp_or_a_wrong_audience_are_refused()
 {
    let app = TestApp::spawn().await;
    let client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let now = app.clock_now().unix_timestamp();

    let stranger = ClientKey::generate(KeyKind::Ed25519);
    let wrong_key = stranger.sign(&client.claims(&app));
    let replayed = client.assertion(&app);
    let stale = client.assertion_with(&app, |c| {
        c["iat"] = json!(now - 400);
        c["exp"] = json!(now - 100);
    });
    let too_long = client.assertion_with(&app, |c| c["exp"] = json!(now + 10 * 60));
    let wrong_audience = client.assertion_with(&app, |c| {
        c["aud"] = json!("https://elsewhere.example/oauth/token")
    });

    assert_invalid_client(&internal.ask_token(&wrong_key, None).await);
    assert_eq!(internal.ask_token(&replayed, None).await.status, 200);
    assert_invalid_client(&internal.ask_token(&replayed, None).await);
    assert_invalid_client(&internal.ask_token(&stale, None).await);
    assert_invalid_client(&internal.ask_token(&too_long, None).await);
    assert_invalid_client(&internal.ask_token(&wrong_audience, None).await);

    // Each refusal is audited with its reason and without the assertion's text.
    let events = app.audit_events().await;
    let refusals: Vec<_> = events
        .iter()
        .filter(|e| e.action == "client.token" && e.outcome == Outcome::Denied)
        .collect();
    let reasons: Vec<_> = refusals
        .iter()
        .map(|e| e.details["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!("bad_signature"),
            json!("replayed"),
            json!("expired"),
            json!("too_long"),
            json!("wrong_audience"),
        ]
    );
    for event in &events {
        let text = serde_json::to_string(event).unwrap();
        for assertion in [&wrong_key, &replayed, &stale, &too_long, &wrong_audience] {
            for part in assertion.split('.') {
                assert!(!text.contains(part), "assertion text in {text}");
            }
        }
    }
    assert!(
        refusals
            .iter()
            .all(|e| e.actor.id.as_deref() == Some("withdrawals"))
    );
}

#[tokio::test]
async fn a_scope_the_client_lacks_is_refused_as_invalid_scope() {
    let app = TestApp::spawn().await;
    let client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);

    for asked in ["payments:authorize members:read", "admin"] {
        let reply = internal
            .ask_token(&client.assertion(&app), Some(asked))
            .await;
        assert_eq!(
            (reply.status, reply.json()["error"].clone()),
            (400, json!("invalid_scope")),
            "{asked}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn a_disabled_clients_token_stops_working_at_once_and_it_gets_no_new_one() {
    let app = TestApp::spawn().await;
    let mut client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    internal
        .get(&token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");

    client.disable(&app).await;

    let reply = internal.get(&token, UNKNOWN_AUTHORIZATION).await;
    reply.assert_error(401, "invalid_token");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_invalid_client(&internal.ask_token(&client.assertion(&app), None).await);
    let reasons: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "client.token" && e.outcome == Outcome::Denied)
        .map(|e| e.details["reason"].clone())
        .collect();
    assert_eq!(reasons, [json!("disabled_client")]);
}

#[tokio::test]
async fn an_access_token_ends_after_five_minutes() {
    let app = TestApp::spawn().await;
    let client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    app.clock.advance(Duration::seconds(299));
    internal
        .get(&token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");
    app.clock.advance(Duration::seconds(61));
    internal
        .get(&token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(401, "invalid_token");
    for garbage in ["", "not-a-token", "Zm9vYmFy"] {
        internal
            .get(garbage, UNKNOWN_AUTHORIZATION)
            .await
            .assert_error(401, "invalid_token");
    }
}

/// Asserts a 403 `insufficient_scope` naming `scope`.
#[track_caller]
fn assert_needs(reply: &Reply, scope: &str) {
    reply.assert_error(403, "insufficient_scope");
    assert_eq!(details(reply), json!({ "scope": scope }), "{}", reply.text);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
}

/// Every payments call with `token`, each with a body that would otherwise pass.
async fn every_payments_call(internal: &Internal<'_>, token: &str) -> Vec<Reply> {
    let body = payment("100200300401", 10_000, "WD-SCOPE-1");
    vec![
        internal.create(token, &body, Some("scope-1")).await,
        internal.verify(token, &body, TRANSACTION_PASSWORD).await,
        internal.authorization(token, "pa_nobody").await,
        internal.capture(token, "pa_nobody").await,
    ]
}

#[tokio::test]
async fn a_call_needing_a_scope_the_token_lacks_is_refused_naming_the_scope() {
    let app = TestApp::spawn().await;
    let internal = Internal::new(&app);
    let introspector = TestClient::register(&app, "gateway", &[Scope::TokensIntrospect]).await;
    let payer = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let narrow = internal.token(&introspector).await;
    let paying = internal.token(&payer).await;

    for reply in every_payments_call(&internal, &narrow).await {
        assert_needs(&reply, "payments:authorize");
    }
    assert_needs(
        &internal
            .get(&paying, "/internal/v1/members/100200300401/holds")
            .await,
        "holds:read",
    );
    assert_needs(
        &internal
            .get(&paying, "/internal/v1/members/100200300401")
            .await,
        "members:read",
    );
    assert_needs(
        &internal.introspect(&paying, "sometoken").await,
        "tokens:introspect",
    );
    // The introspector's own scope works.
    assert_eq!(
        internal.introspect(&narrow, "sometoken").await.json(),
        json!({"active": false})
    );
}

#[tokio::test]
async fn a_token_asked_for_fewer_scopes_than_the_client_holds_carries_only_those() {
    let app = TestApp::spawn().await;
    let internal = Internal::new(&app);
    let client = TestClient::register(&app, "withdrawals", &Scope::ALL).await;
    let holds_only = internal.token_with_scope(&client, Some("holds:read")).await;

    for reply in every_payments_call(&internal, &holds_only).await {
        assert_needs(&reply, "payments:authorize");
    }
    assert_needs(
        &internal
            .get(&holds_only, "/internal/v1/members/100200300401")
            .await,
        "members:read",
    );
    assert_needs(
        &internal.introspect(&holds_only, "sometoken").await,
        "tokens:introspect",
    );
    // Holds are readable (and the member is simply unknown here).
    internal
        .get(&holds_only, "/internal/v1/members/100200300401/holds")
        .await
        .assert_error(404, "unknown_member");
}

#[tokio::test]
async fn a_client_over_its_rate_limit_is_told_when_to_come_back() {
    let mut options = support::TestOptions::default();
    options.policy.clients.calls_per_minute = 3;
    let app = TestApp::spawn_with(options).await;
    let client = TestClient::register(&app, "withdrawals", &[Scope::PaymentsAuthorize]).await;
    let other = TestClient::register(&app, "loans", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    for _ in 0..3 {
        internal
            .get(&token, UNKNOWN_AUTHORIZATION)
            .await
            .assert_error(404, "not_found");
    }
    let limited = internal.get(&token, UNKNOWN_AUTHORIZATION).await;
    limited.assert_error(429, "rate_limited");
    let retry_after: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another client is not slowed by this one.
    let theirs = internal.token(&other).await;
    internal
        .get(&theirs, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");

    app.clock.advance(Duration::seconds(retry_after));
    internal
        .get(&token, UNKNOWN_AUTHORIZATION)
        .await
        .assert_error(404, "not_found");
}
