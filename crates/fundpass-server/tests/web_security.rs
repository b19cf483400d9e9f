//! The portal's defences as a browser meets them: CSRF tokens and origin checks,
//! session cookie attributes, session rotation, logout, expiry, caching.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use fundpass_core::portal::PortalPolicy;
use fundpass_server::state::Mode;
use support::{TestApp, TestOptions};
use web_common::{Browser, LOGIN_PASSWORD, Page, ZHANG, cookie_value};

fn without(form: &[(&'static str, String)], name: &str) -> Vec<(&'static str, String)> {
    form.iter().filter(|(k, _)| *k != name).cloned().collect()
}

async fn post(
    browser: &Browser<'_>,
    path: &str,
    form: &[(&'static str, String)],
    headers: &[(&str, &str)],
) -> Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post_with(path, &pairs, headers).await
}

async fn registered(app: &TestApp) {
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    Browser::from_ip(app, "192.0.2.1").register(&ZHANG).await;
}

#[tokio::test]
async fn a_login_without_the_csrf_token_is_refused_and_logs_nobody_in() {
    let app = TestApp::spawn().await;
    registered(&app).await;
    let browser = Browser::new(&app);
    let form = browser.login_form(&ZHANG).await;

    let refused = post(&browser, "/login", &without(&form, "csrf"), &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(refused.set_cookie("fundpass_session").is_none());
    let wrong = post(
        &browser,
        "/login",
        &[without(&form, "csrf"), vec![("csrf", "x".repeat(43))]].concat(),
        &[],
    )
    .await;
    assert_eq!(wrong.status, 403);
    browser.get("/home").await.assert_redirect("/login");

    // The captcha was not used up by the refused posts: the same form still works.
    post(&browser, "/login", &form, &[])
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn a_registration_without_the_csrf_token_sends_no_code() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    let page = browser.get("/register").await;
    let (captcha_id, answer) = browser.solve(&page).await;
    let refused = browser
        .post(
            "/register",
            &[
                ("name", ZHANG.name),
                ("id_type", "resident_id"),
                ("id_number", ZHANG.id_number),
                ("phone", ZHANG.phone),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(app.sms_to(ZHANG.phone).await.is_empty());
}

#[tokio::test]
async fn a_token_from_another_browser_is_refused() {
    let app = TestApp::spawn().await;
    registered(&app).await;
    let victim = Browser::new(&app);
    let attacker = Browser::new(&app);
    let attacker_form = attacker.login_form(&ZHANG).await;
    victim.get("/login").await; // the victim has a token of their own
    let refused = post(&victim, "/login", &attacker_form, &[]).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_post_from_another_site_is_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    registered(&app).await;
    let browser = Browser::new(&app);
    let form = browser.login_form(&ZHANG).await;

    let foreign = post(
        &browser,
        "/login",
        &form,
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.html);
    let cross_site = post(
        &browser,
        "/login",
        &form,
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(cross_site.status, 403);
    assert!(
        foreign.set_cookie("fundpass_session").is_none()
            && cross_site.set_cookie("fundpass_session").is_none()
    );
    browser.get("/home").await.assert_redirect("/login");

    let own_origin = format!("http://{}", app.addr);
    let same = post(
        &browser,
        "/login",
        &form,
        &[("origin", &own_origin), ("sec-fetch-site", "same-origin")],
    )
    .await;
    same.assert_redirect("/home");
}

#[tokio::test]
async fn logging_out_needs_the_session_token() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let anonymous_token = browser.get("/login").await.field("csrf").unwrap();

    for csrf in ["", anonymous_token.as_str()] {
        let refused = browser.post("/logout-all", &[("csrf", csrf)]).await;
        assert_eq!(refused.status, 403, "{}", refused.html);
    }
    assert_eq!(browser.get("/home").await.status, 200, "still logged in");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_host_only_and_new_at_every_login() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let first = browser.registered_and_logged_in(&ZHANG).await;
    let cookie = first.set_cookie("fundpass_session").unwrap();
    let attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    assert_eq!(
        attributes,
        ["Path=/", "HttpOnly", "SameSite=Lax"],
        "{cookie}"
    );
    let csrf_cookie = browser.get("/register").await;
    assert!(
        csrf_cookie.set_cookie("fundpass_csrf").is_none(),
        "the token cookie was set once"
    );

    let second = browser.login(&ZHANG, LOGIN_PASSWORD).await;
    second.assert_redirect("/home");
    let (old, new) = (
        cookie_value(&cookie),
        cookie_value(&second.set_cookie("fundpass_session").unwrap()),
    );
    assert_ne!(old, new, "a login always makes a new session id");
    assert_eq!(old.len(), 43);
    let replay = Browser::new(&app);
    let page = replay
        .client
        .get(app.url("/home"))
        .header("cookie", format!("fundpass_session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        303,
        "the session this browser had before is ended"
    );
}

#[tokio::test]
async fn production_cookies_are_host_prefixed_and_secure_and_dev_tools_are_gone() {
    let options = TestOptions {
        mode: Mode::Production,
        policy: PortalPolicy {
            dev_mode: true,
            ..PortalPolicy::default()
        },
        face_provider: None,
    };
    let app = TestApp::spawn_with(options).await;
    let browser = Browser::new(&app);
    let page = browser.get("/login").await;
    assert!(
        !page.html.contains("开发模式"),
        "no dev banner in production"
    );
    let csrf = page.set_cookie("__Host-fundpass_csrf").unwrap();
    assert!(
        csrf.ends_with("; Path=/; HttpOnly; SameSite=Strict; Secure"),
        "{csrf}"
    );

    let login = browser.registered_and_logged_in(&ZHANG).await;
    let session = login.set_cookie("__Host-fundpass_session").unwrap();
    assert!(
        session.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure"),
        "{session}"
    );
    assert!(!session.contains("Domain"));
    assert_eq!(browser.get("/home").await.status, 200);

    for path in ["/dev/outbox", "/dev/outbox.json", "/dev/captcha/anything"] {
        assert_eq!(browser.get(path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn after_logout_home_redirects_to_login_and_the_old_cookie_is_dead() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let login = browser.registered_and_logged_in(&ZHANG).await;
    let token = cookie_value(&login.set_cookie("fundpass_session").unwrap());
    let home = browser.get("/home").await;

    let out = browser
        .post("/logout", &[("csrf", &home.field("csrf").unwrap())])
        .await;
    out.assert_redirect("/login");
    assert!(
        out.set_cookie("fundpass_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    browser.get("/home").await.assert_redirect("/login");

    let replay = Browser::new(&app)
        .client
        .get(app.url("/home"))
        .header("cookie", format!("fundpass_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert_eq!(replay.headers()["location"], "/login");
}

#[tokio::test]
async fn logging_out_everywhere_ends_the_other_browsers_session_too() {
    let app = TestApp::spawn().await;
    let laptop = Browser::from_ip(&app, "198.51.100.1");
    laptop.registered_and_logged_in(&ZHANG).await;
    let phone = Browser::from_ip(&app, "198.51.100.2");
    phone
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    assert_eq!(phone.get("/home").await.status, 200);

    let home = laptop.get("/home").await;
    laptop
        .post("/logout-all", &[("csrf", &home.field("csrf").unwrap())])
        .await
        .assert_redirect("/login");
    phone.get("/home").await.assert_redirect("/login");
    laptop.get("/home").await.assert_redirect("/login");
}

#[tokio::test]
async fn an_idle_session_ends_after_fifteen_minutes_but_use_keeps_it_alive() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    app.clock.advance(time::Duration::minutes(10));
    assert_eq!(browser.get("/home").await.status, 200);
    app.clock.advance(time::Duration::minutes(10));
    assert_eq!(
        browser.get("/home").await.status,
        200,
        "the visit ten minutes ago counts"
    );
    app.clock.advance(time::Duration::minutes(16));
    browser.get("/home").await.assert_redirect("/login");
}

#[tokio::test]
async fn personal_pages_and_form_results_are_never_cached() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let login = browser.registered_and_logged_in(&ZHANG).await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
    for path in ["/home", "/login", "/register"] {
        let page = browser.get(path).await;
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    let failed = browser.login(&ZHANG, "Wrong7password").await;
    assert_eq!(failed.header("cache-control"), Some("no-store"));
    let refused = browser.post("/logout", &[("csrf", "nope")]).await;
    assert_eq!(
        (refused.status, refused.header("cache-control")),
        (403, Some("no-store"))
    );
}
