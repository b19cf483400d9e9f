//! The sessions page as a member meets it: every live login in browsers and the app,
//! masked, this one marked, each with a button that ends it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;
mod web_common;

use api_common::Api;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fundpass_core::crypto::OpaqueToken;
use support::TestApp;
use time::Duration;
use web_common::{Browser, CHEN, LOGIN_PASSWORD, Page, ZHANG, cookie_value};

const CHROME_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const APP_ON_ANDROID: &str = "fundpass/2.3.0 (Android 14; Pixel 8)";

fn client_with(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .unwrap()
}

/// A logged-in browser and the value of its session cookie.
struct Logged<'a> {
    browser: Browser<'a>,
    cookie: String,
}

/// `person` (registered) logs in from a browser sending `user_agent` from `ip`.
async fn log_in<'a>(
    app: &'a TestApp,
    person: &web_common::Person,
    user_agent: &str,
    ip: &str,
) -> Logged<'a> {
    let browser = Browser {
        app,
        client: client_with(user_agent),
        ip: ip.to_owned(),
        accept_language: None,
    };
    let page = browser.login(person, LOGIN_PASSWORD).await;
    page.assert_redirect("/home");
    let cookie = cookie_value(&page.set_cookie("fundpass_session").unwrap());
    Logged { browser, cookie }
}

/// An app with ZHANG registered through the pages.
async fn registered() -> TestApp {
    let app = TestApp::spawn().await;
    app.seed(&ZHANG).await;
    Browser::from_ip(&app, "192.0.2.1").register(&ZHANG).await;
    app
}

/// ZHANG's app token, from an Android phone at 203.0.113.10.
async fn app_token(app: &TestApp) -> String {
    let phone = Api {
        app,
        client: client_with(APP_ON_ANDROID),
        ip: "203.0.113.10".into(),
    };
    let reply = phone.login_by_account(ZHANG.account, LOGIN_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// The `<li>` of the session whose heading starts with `device`.
fn item<'p>(page: &'p Page, device: &str) -> &'p str {
    let items: Vec<&str> = page
        .html
        .split("<li>")
        .skip(1)
        .filter(|li| li.contains(&format!("\">{device}")))
        .collect();
    assert_eq!(items.len(), 1, "{device} in {}", page.html);
    items[0].split("</li>").next().unwrap()
}

/// The id in the end form of a session's `<li>`.
fn end_path(li: &str) -> String {
    let start = li.find("action=\"/sessions/").unwrap() + "action=\"".len();
    li[start..].split('"').next().unwrap().to_owned()
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
async fn the_page_lists_two_browsers_and_the_app_masked_with_this_one_marked() {
    let app = registered().await;
    let mut windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let iphone = log_in(&app, &ZHANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let _token = app_token(&app).await;

    let home = windows.browser.get("/home").await;
    assert!(home.html.contains("href=\"/sessions\""), "{}", home.html);
    windows.browser.accept_language = Some("en");
    let page = windows.browser.get("/sessions").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.html.matches("<li>").count(), 3, "{}", page.html);

    let this = item(&page, "Chrome on Windows");
    assert!(this.contains("(this session)"), "{this}");
    assert!(
        this.contains("Website") && this.contains("198.51.100.*"),
        "{this}"
    );
    let other = item(&page, "Safari on iOS");
    assert!(!other.contains("this session"), "{other}");
    assert!(
        other.contains("Website") && other.contains("192.0.2.*"),
        "{other}"
    );
    let phone = item(&page, "fundpass app on Android");
    assert!(!phone.contains("this session"), "{phone}");
    assert!(
        phone.contains("Mobile app") && phone.contains("203.0.113.*"),
        "{phone}"
    );
    assert_eq!(page.html.matches("(this session)").count(), 1);
    assert!(this.contains("2026-11-23 10:00"), "China time: {this}");

    // In Chinese, as the other browser sees it.
    let zh = iphone.browser.get("/sessions").await;
    assert!(zh.html.contains("iOS 上的 Safari"), "{}", zh.html);
    assert!(zh.html.contains("Windows 上的 Chrome"), "{}", zh.html);
    assert!(zh.html.contains("Android 上的公积金 App"), "{}", zh.html);
}

#[tokio::test]
async fn ending_another_login_on_the_page_logs_that_browser_out_and_keeps_this_one() {
    let app = registered().await;
    let windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let iphone = log_in(&app, &ZHANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let token = app_token(&app).await;
    let api = Api::new(&app);

    let page = windows.browser.get("/sessions").await;
    let csrf = page.field("csrf").unwrap();
    let ended = windows
        .browser
        .post(
            &end_path(item(&page, "iOS 上的 Safari")),
            &[("csrf", &csrf)],
        )
        .await;
    ended.assert_redirect("/sessions?ended");
    iphone.browser.get("/home").await.assert_redirect("/login");

    let after = windows.browser.get("/sessions?ended").await;
    assert!(after.html.contains("该登录已结束"), "{}", after.html);
    assert_eq!(after.html.matches("<li>").count(), 2, "{}", after.html);
    assert!(!after.html.contains("iOS 上的 Safari"), "{}", after.html);
    assert_eq!(api.get_as(&token, "/api/v1/me").await.status, 200);

    let ended = windows
        .browser
        .post(
            &end_path(item(&after, "Android 上的公积金 App")),
            &[("csrf", &csrf)],
        )
        .await;
    ended.assert_redirect("/sessions?ended");
    api.get_as(&token, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(windows.browser.get("/home").await.status, 200);
}

#[tokio::test]
async fn ending_this_login_on_the_page_logs_out() {
    let app = registered().await;
    let windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let page = windows.browser.get("/sessions").await;
    let this = item(&page, "Windows 上的 Chrome");
    assert!(this.contains("本次登录"), "{this}");

    let csrf = page.field("csrf").unwrap();
    let out = windows
        .browser
        .post(&end_path(this), &[("csrf", &csrf)])
        .await;
    out.assert_redirect("/login");
    let cleared = out.set_cookie("fundpass_session").unwrap();
    assert!(cookie_value(&cleared).is_empty(), "{cleared}");
    windows.browser.get("/home").await.assert_redirect("/login");
    // The old cookie, replayed, opens nothing either.
    let replay = app
        .client()
        .get(app.url("/home"))
        .header("cookie", format!("fundpass_session={}", windows.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
}

#[tokio::test]
async fn the_end_form_without_the_csrf_token_or_from_another_site_is_refused_and_ends_nothing() {
    let app = registered().await;
    let windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let iphone = log_in(&app, &ZHANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let page = windows.browser.get("/sessions").await;
    let path = end_path(item(&page, "iOS 上的 Safari"));
    let csrf = page.field("csrf").unwrap();

    let missing = windows.browser.post(&path, &[]).await;
    assert_eq!(missing.status, 403, "{}", missing.html);
    let wrong = windows
        .browser
        .post(&path, &[("csrf", &"x".repeat(43))])
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.html);
    let foreign = windows
        .browser
        .post_with(
            &path,
            &[("csrf", &csrf)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(foreign.status, 403, "{}", foreign.html);
    // The other browser's own token is not this session's.
    let theirs = iphone.browser.get("/sessions").await.field("csrf").unwrap();
    let crossed = windows.browser.post(&path, &[("csrf", &theirs)]).await;
    assert_eq!(crossed.status, 403, "{}", crossed.html);

    assert_eq!(iphone.browser.get("/home").await.status, 200);
    assert!(
        !app.audit_events()
            .await
            .iter()
            .any(|e| e.action == "session.end")
    );
}

#[tokio::test]
async fn another_member_cannot_end_my_login_from_the_page() {
    let app = registered().await;
    app.seed(&CHEN).await;
    Browser::from_ip(&app, "192.0.2.2").register(&CHEN).await;
    let mine = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let theirs = log_in(&app, &CHEN, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let my_path = end_path(item(
        &mine.browser.get("/sessions").await,
        "Windows 上的 Chrome",
    ));

    let page = theirs.browser.get("/sessions").await;
    let csrf = page.field("csrf").unwrap();
    let refused = theirs.browser.post(&my_path, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 404, "{}", refused.html);
    let unknown = theirs
        .browser
        .post("/sessions/AAAAAAAAAAAAAAAAAAAAAA/end", &[("csrf", &csrf)])
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.html);

    assert_eq!(mine.browser.get("/home").await.status, 200);
    assert_eq!(theirs.browser.get("/home").await.status, 200);
}

#[tokio::test]
async fn the_sessions_pages_show_no_full_address_token_or_digest() {
    let app = registered().await;
    let windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let iphone = log_in(&app, &ZHANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let token = app_token(&app).await;

    let mut pages = vec![
        windows.browser.get("/sessions").await,
        iphone.browser.get("/sessions").await,
    ];
    let csrf = pages[0].field("csrf").unwrap();
    let path = end_path(item(&pages[0], "Android 上的公积金 App"));
    pages.push(windows.browser.post(&path, &[("csrf", &csrf)]).await);
    pages.push(windows.browser.get("/sessions?ended").await);
    pages.push(
        windows
            .browser
            .post("/sessions/nothing/end", &[("csrf", &csrf)])
            .await,
    );

    let secrets: Vec<String> = [&windows.cookie, &iphone.cookie, &token]
        .into_iter()
        .flat_map(|t| leaks_of(t))
        .chain(["198.51.100.7", "192.0.2.44", "203.0.113.10"].map(String::from))
        .collect();
    for page in &pages {
        for secret in &secrets {
            assert!(
                !page.html.contains(secret.as_str()),
                "{secret} in {}",
                page.html
            );
        }
    }
}

#[tokio::test]
async fn revoked_and_idle_logins_are_not_listed() {
    let app = registered().await;
    let windows = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.7").await;
    let iphone = log_in(&app, &ZHANG, SAFARI_ON_IPHONE, "192.0.2.44").await;
    let _idle = app_token(&app).await;
    let gone = log_in(&app, &ZHANG, CHROME_ON_WINDOWS, "198.51.100.8").await;
    let csrf = gone.browser.get("/home").await.field("csrf").unwrap();
    gone.browser
        .post("/logout", &[("csrf", &csrf)])
        .await
        .assert_redirect("/login");
    assert_eq!(
        windows
            .browser
            .get("/sessions")
            .await
            .html
            .matches("<li>")
            .count(),
        3,
        "the logged-out one is not listed"
    );

    app.clock.advance(Duration::minutes(10));
    assert_eq!(iphone.browser.get("/home").await.status, 200);
    app.clock.advance(Duration::minutes(6));
    // The Windows browser was idle 16 minutes: it is logged out, and so is the app.
    windows
        .browser
        .get("/sessions")
        .await
        .assert_redirect("/login");
    let page = iphone.browser.get("/sessions").await;
    assert_eq!(page.html.matches("<li>").count(), 1, "{}", page.html);
    assert!(item(&page, "iOS 上的 Safari").contains("本次登录"));
}
