//! Where the member is logged in, as the app sees it: `GET /api/v1/sessions` lists
//! the live sessions and app tokens (channel, masked address, device, this one
//! marked) and `DELETE /api/v1/sessions/{id}` ends one of the member's own.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;
mod web_common;

use api_common::{Api, LI, LOGIN_PASSWORD, Reply, WANG, app_with_registered};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fundpass_core::crypto::OpaqueToken;
use serde_json::Value;
use support::TestApp;
use time::Duration;
use web_common::{Browser, cookie_value};

const CHROME_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const APP_ON_ANDROID: &str = "fundpass/2.3.0 (Android 14; Pixel 8)";

/// A client that sends `user_agent`, keeps cookies and follows no redirects.
fn client_with(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .unwrap()
}

/// The app on a phone at `ip`.
fn app_at<'a>(app: &'a TestApp, ip: &str) -> Api<'a> {
    Api {
        app,
        client: client_with(APP_ON_ANDROID),
        ip: ip.to_owned(),
    }
}

/// A browser sending `user_agent` from `ip`, logged in as `person` (registered
/// through the API); returns it and its session cookie's value.
async fn browser_logged_in<'a>(
    app: &'a TestApp,
    person: &api_common::Person,
    user_agent: &str,
    ip: &str,
) -> (Browser<'a>, String) {
    let browser = Browser {
        app,
        client: client_with(user_agent),
        ip: ip.to_owned(),
        accept_language: None,
    };
    let page = browser.login(person, LOGIN_PASSWORD).await;
    page.assert_redirect("/home");
    let cookie = cookie_value(&page.set_cookie("fundpass_session").unwrap());
    (browser, cookie)
}

async fn sessions(api: &Api<'_>, token: &str) -> Vec<Value> {
    let reply = api.get_as(token, "/api/v1/sessions").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()["sessions"].as_array().unwrap().clone()
}

async fn end(api: &Api<'_>, token: &str, id: &str) -> Reply {
    let url = api.app.url(&format!("/api/v1/sessions/{id}"));
    api.send(api.client.delete(url).bearer_auth(token)).await
}

fn id_of(session: &Value) -> String {
    session["id"].as_str().unwrap().to_owned()
}

/// The one listed session on channel `channel` (with `device`, when several share it).
fn find<'s>(list: &'s [Value], channel: &str, device: &str) -> &'s Value {
    let found: Vec<_> = list
        .iter()
        .filter(|s| s["channel"] == channel && s["device"] == device)
        .collect();
    assert_eq!(found.len(), 1, "{channel}, {device} in {list:#?}");
    found[0]
}

/// The ways a token could leak: itself, its digest in hex and in base64url.
fn leaks_of(token: &str) -> Vec<String> {
    let digest = OpaqueToken::parse(token).unwrap().digest();
    vec![
        token.to_owned(),
        hex::encode(digest.0),
        URL_SAFE_NO_PAD.encode(digest.0),
    ]
}

#[tokio::test]
async fn two_browsers_and_an_app_token_are_listed_with_their_channels_devices_and_masked_addresses()
{
    let app = app_with_registered(&WANG).await;
    let (_, chrome) = browser_logged_in(&app, &WANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let (_, safari) = browser_logged_in(&app, &WANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let phone = app_at(&app, "203.0.113.10");
    let token = phone.token_for(&WANG).await;

    let reply = phone.get_as(&token, "/api/v1/sessions").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let list = reply.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "{list:#?}");

    let mine = find(&list, "app", "fundpass app on Android");
    assert_eq!(mine["current"], true);
    assert_eq!(mine["address"], "203.0.113.*");
    assert_eq!(list[0], *mine, "this session comes first");
    let windows = find(&list, "web", "Chrome on Windows");
    assert_eq!(windows["current"], false);
    assert_eq!(windows["address"], "198.51.100.*");
    let iphone = find(&list, "web", "Safari on iOS");
    assert_eq!(iphone["current"], false);
    assert_eq!(iphone["address"], "192.0.2.*");
    for s in &list {
        assert_eq!(s["started_at"], "2026-11-23T02:01:01Z", "{s}");
        assert_eq!(s["last_active_at"], "2026-11-23T02:01:01Z", "{s}");
        assert_eq!(id_of(s).len(), 22, "{s}");
    }
    let ids: std::collections::BTreeSet<_> = list.iter().map(id_of).collect();
    assert_eq!(ids.len(), 3, "every session has its own id");

    for full in ["198.51.100.7", "192.0.2.44", "203.0.113.10"] {
        assert!(!reply.text.contains(full), "{full} in {}", reply.text);
    }
    for secret in [&token, &chrome, &safari]
        .into_iter()
        .flat_map(|t| leaks_of(t))
    {
        assert!(!reply.text.contains(&secret), "{secret} in {}", reply.text);
    }
}

#[tokio::test]
async fn ending_the_app_token_by_its_id_stops_it_while_the_others_keep_working() {
    let app = app_with_registered(&WANG).await;
    let (browser, _) = browser_logged_in(&app, &WANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let phone = app_at(&app, "203.0.113.10");
    let old_phone = phone.token_for(&WANG).await;
    let tablet = Api::from_ip(&app, "203.0.113.20");
    let current = tablet.token_for(&WANG).await;

    let list = sessions(&tablet, &current).await;
    let target = id_of(find(&list, "app", "fundpass app on Android"));
    let reply = end(&tablet, &current, &target).await;
    assert_eq!(reply.status, 204, "{}", reply.text);

    phone
        .get_as(&old_phone, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(tablet.get_as(&current, "/api/v1/me").await.status, 200);
    assert_eq!(browser.get("/home").await.status, 200);
    let left = sessions(&tablet, &current).await;
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(left.iter().all(|s| id_of(s) != target));

    let events = app.audit_events().await;
    let ended: Vec<_> = events
        .iter()
        .filter(|e| e.action == "session.end")
        .collect();
    assert_eq!(ended.len(), 1, "{events:#?}");
    assert_eq!(ended[0].details["session"], target.as_str());
    let text = serde_json::to_string(ended[0]).unwrap();
    for secret in leaks_of(&old_phone).iter().chain(&leaks_of(&current)) {
        assert!(!text.contains(secret.as_str()), "{secret} in {text}");
    }

    end(&tablet, &current, &target)
        .await
        .assert_error(404, "session_not_found");
}

#[tokio::test]
async fn another_member_cannot_end_my_session_and_it_keeps_working() {
    let app = app_with_registered(&WANG).await;
    api_common::seed(&app, &LI).await;
    Api::from_ip(&app, "203.0.113.2").register(&LI).await;
    let mine = Api::new(&app);
    let my_token = mine.token_for(&WANG).await;
    let theirs = Api::from_ip(&app, "203.0.113.66");
    let their_token = theirs.token_for(&LI).await;

    let my_id = id_of(&sessions(&mine, &my_token).await[0]);
    end(&theirs, &their_token, &my_id)
        .await
        .assert_error(404, "session_not_found");
    for not_an_id in ["AAAAAAAAAAAAAAAAAAAAAA", my_token.as_str()] {
        end(&theirs, &their_token, not_an_id)
            .await
            .assert_error(404, "session_not_found");
    }
    end(&mine, &my_token, &my_token)
        .await
        .assert_error(404, "session_not_found");

    assert_eq!(mine.get_as(&my_token, "/api/v1/me").await.status, 200);
    assert_eq!(sessions(&mine, &my_token).await.len(), 1);
    assert!(
        !app.audit_events()
            .await
            .iter()
            .any(|e| e.action == "session.end"),
        "nothing was ended"
    );
}

#[tokio::test]
async fn a_face_login_token_is_listed_on_its_own_channel_and_can_be_ended() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let face = api.face_login(&WANG).await;
    let token = api.token_for(&WANG).await;

    let list = sessions(&api, &token).await;
    assert_eq!(list.len(), 2, "{list:#?}");
    let face_session = list.iter().find(|s| s["channel"] == "face_login").unwrap();
    assert_eq!(face_session["current"], false);
    api.get_as(&face, "/api/v1/sessions")
        .await
        .assert_error(403, "recovery_session_only");

    let reply = end(&api, &token, &id_of(face_session)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    api.start_forgot_transaction(&face, &WANG)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn ending_the_current_token_logs_it_out() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let list = sessions(&api, &token).await;
    assert_eq!(list[0]["current"], true);

    let reply = end(&api, &token, &id_of(&list[0])).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    api.get_as(&token, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    let ended = app
        .audit_events()
        .await
        .into_iter()
        .find(|e| e.action == "session.end")
        .unwrap();
    assert_eq!(ended.details["current"], true);
}

#[tokio::test]
async fn revoked_idle_and_expired_sessions_are_neither_listed_nor_endable() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let logged_out = api.token_for(&WANG).await;
    let idle = app_at(&app, "203.0.113.30").token_for(&WANG).await;
    let active = Api::from_ip(&app, "203.0.113.40").token_for(&WANG).await;
    let face = api.face_login(&WANG).await;
    let idle_id = id_of(find(
        &sessions(&api, &active).await,
        "app",
        "fundpass app on Android",
    ));
    assert_eq!(api.post_as(&logged_out, "/api/v1/logout").await.status, 204);

    app.clock.advance(Duration::minutes(10));
    assert_eq!(api.get_as(&active, "/api/v1/me").await.status, 200);
    // Used ten minutes in, the face-login token still ends 15 minutes after it began.
    let started = api.start_forgot_transaction(&face, &WANG).await;
    assert_eq!(started.status, 201, "{}", started.text);
    app.clock.advance(Duration::minutes(6));
    let list = sessions(&api, &active).await;
    assert_eq!(list.len(), 1, "only the session in use is live: {list:#?}");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["last_active_at"], "2026-11-23T02:17:01Z");

    end(&api, &active, &idle_id)
        .await
        .assert_error(404, "session_not_found");
    api.get_as(&idle, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
}
