//! The member portal's pages, driven over HTTP the way a browser without JavaScript
//! uses them: the whole journey, login and lockout, the home page, languages, the
//! stylesheet and the dev tools.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use fundpass_core::portal::PortalPolicy;
use fundpass_server::state::Mode;
use support::{TestApp, TestOptions};
use web_common::{Browser, CHEN, LOGIN_PASSWORD, STRANGER, ZHANG, blank};

#[tokio::test]
async fn a_member_registers_through_the_pages_then_logs_in_and_sees_the_masked_profile() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let home = browser.get("/home").await;
    assert_eq!(home.status, 200, "{}", home.html);
    for shown in [
        ZHANG.name,
        ZHANG.account,
        "110105********1239",
        "138****5678",
        "居民身份证",
        "注册用户",
        "这是您首次登录",
    ] {
        assert!(home.html.contains(shown), "{shown} missing: {}", home.html);
    }
    assert!(
        !home.html.contains(ZHANG.id_number) && !home.html.contains(ZHANG.phone),
        "{}",
        home.html
    );
    assert!(
        home.html.contains("action=\"/logout\"") && home.html.contains("action=\"/logout-all\"")
    );
    let done = app.sms_to(ZHANG.phone).await;
    assert!(
        done.iter().any(|text| text.contains("成功注册")),
        "a notice follows registration: {done:?}"
    );
}

#[tokio::test]
async fn a_member_can_also_log_in_with_the_account_number() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    app.seed_member(CHEN.account, CHEN.name, CHEN.id_number, CHEN.phone)
        .await;
    browser.register(&CHEN).await;

    let form = browser.get("/login").await;
    let (captcha_id, answer) = browser.solve(&form).await;
    let csrf = form.field("csrf").unwrap();
    let reply = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("by", "account"),
                ("id_type", "resident_id"),
                ("id_number", ""),
                ("account_no", CHEN.account),
                ("password", LOGIN_PASSWORD),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await;
    reply.assert_redirect("/home");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_the_lock_ends() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    browser.register(&ZHANG).await;

    for _ in 0..4 {
        let page = browser.login(&ZHANG, "Wrong7password").await;
        assert!(
            page.html.contains("证件号码/账号或密码错误"),
            "{}",
            page.html
        );
        assert!(
            !page.html.contains("Wrong7password"),
            "the password is never echoed"
        );
        assert!(page.set_cookie("fundpass_session").is_none());
    }
    // 10:00 in Beijing now; locked for 15 minutes.
    let locked = browser.login(&ZHANG, "Wrong7password").await;
    let message = "连续输入错误次数过多，请于 10:15 后再试";
    assert!(locked.html.contains(message), "{}", locked.html);
    let right_but_locked = browser.login(&ZHANG, LOGIN_PASSWORD).await;
    assert!(
        right_but_locked.html.contains(message),
        "{}",
        right_but_locked.html
    );
    assert!(right_but_locked.set_cookie("fundpass_session").is_none());

    app.clock.advance(time::Duration::minutes(15));
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn too_many_logins_from_one_address_are_refused_with_a_new_captcha() {
    let policy = PortalPolicy {
        login_per_ip: 2,
        dev_mode: true,
        ..PortalPolicy::default()
    };
    let app = TestApp::spawn_with(TestOptions {
        mode: Mode::Dev,
        policy,
        face_provider: None,
    })
    .await;
    let browser = Browser::new(&app);
    for _ in 0..2 {
        assert_eq!(browser.login(&STRANGER, "Wrong7password").await.status, 200);
    }
    let form = browser.get("/login").await;
    let (captcha_id, answer) = browser.solve(&form).await;
    let csrf = form.field("csrf").unwrap();
    let limited = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("by", "account"),
                ("account_no", ZHANG.account),
                ("password", "Wrong7password"),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await;
    assert_eq!(limited.status, 429, "{}", limited.html);
    assert!(
        limited
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(limited.html.contains("尝试次数过多"), "{}", limited.html);
    assert_ne!(
        limited.field("captcha_id").unwrap(),
        captcha_id,
        "every failure shows a new captcha"
    );
    assert_eq!(limited.field("account_no").as_deref(), Some(ZHANG.account));
    assert!(
        limited
            .html
            .contains("id=\"by_account\" name=\"by\" value=\"account\" checked")
    );
}

#[tokio::test]
async fn unknown_members_and_wrong_passwords_get_the_same_message() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    browser.register(&ZHANG).await;
    let wrong = browser.login(&ZHANG, "Wrong7password").await;
    let unknown = browser.login(&STRANGER, "Wrong7password").await;
    let blanked = |p: &web_common::Page| blank(&p.html, &["csrf", "captcha_id", "id_number"]);
    assert_eq!(blanked(&wrong), blanked(&unknown));
}

#[tokio::test]
async fn the_home_page_shows_the_previous_login_time_and_address() {
    let app = TestApp::spawn().await;
    let first = Browser::from_ip(&app, "203.0.113.77");
    first.registered_and_logged_in(&ZHANG).await;
    app.clock.advance(time::Duration::minutes(30));

    let second = Browser::from_ip(&app, "198.51.100.23");
    second
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let home = second.get("/home").await;
    assert!(home.html.contains("2026-11-23 10:00"), "{}", home.html);
    assert!(home.html.contains("203.0.113.*"), "{}", home.html);
    assert!(
        !home.html.contains("203.0.113.77"),
        "the full address is never shown"
    );
}

#[tokio::test]
async fn the_root_sends_members_home_and_everyone_else_to_login() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.get("/").await.assert_redirect("/login");
    browser.registered_and_logged_in(&ZHANG).await;
    browser.get("/").await.assert_redirect("/home");
    browser
        .get("/register/code")
        .await
        .assert_redirect("/register");
}

#[tokio::test]
async fn pages_are_in_simplified_chinese_unless_the_browser_asks_for_english() {
    let app = TestApp::spawn().await;
    let chinese = Browser::new(&app).get("/login").await;
    assert!(chinese.html.contains("<html lang=\"zh-CN\">") && chinese.html.contains("登录密码"));

    let mut browser = Browser::new(&app);
    browser.accept_language = Some("en-GB,en;q=0.9,zh;q=0.5");
    let english = browser.get("/login").await;
    assert!(
        english.html.contains("<html lang=\"en\">"),
        "{}",
        english.html
    );
    for text in ["Login password", "Image code", "Development mode"] {
        assert!(english.html.contains(text), "{text} missing");
    }
    assert!(!english.html.contains("登录密码"));
}

#[tokio::test]
async fn the_language_switch_remembers_the_choice_and_returns_to_the_page() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let page = browser.get("/register").await;
    let csrf = page.field("csrf").unwrap();
    assert_eq!(page.field("back").as_deref(), Some("/register"));

    let switched = browser
        .post(
            "/lang",
            &[("csrf", &csrf), ("lang", "en"), ("back", "/register")],
        )
        .await;
    switched.assert_redirect("/register");
    assert!(
        switched
            .set_cookie("fundpass_lang")
            .unwrap()
            .starts_with("fundpass_lang=en;")
    );
    let english = browser.get("/register").await;
    assert!(
        english.html.contains("Register for online services"),
        "{}",
        english.html
    );

    let offsite = browser
        .post(
            "/lang",
            &[
                ("csrf", &csrf),
                ("lang", "zh-CN"),
                ("back", "//evil.example/"),
            ],
        )
        .await;
    offsite.assert_redirect("/");
    let forged = browser
        .post(
            "/lang",
            &[("csrf", "forged"), ("lang", "zh-CN"), ("back", "/")],
        )
        .await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn every_page_carries_the_dev_banner_and_the_stylesheet() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    for path in ["/login", "/register", "/dev/outbox"] {
        let page = browser.get(path).await;
        assert!(page.html.contains("开发模式：短信不会真正发送"), "{path}");
        assert!(page.html.contains("href=\"/dev/outbox\""), "{path}");
        assert!(
            page.html
                .contains("<link rel=\"stylesheet\" href=\"/static/fundpass.css\">"),
            "{path}"
        );
        assert!(
            !page.html.contains("style=") && !page.html.contains("<script"),
            "{path}: CSP allows neither"
        );
    }
    let css = browser.get("/static/fundpass.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.header("cache-control").unwrap().contains("max-age"));
}

#[tokio::test]
async fn the_dev_outbox_shows_texts_masked_in_html_and_in_full_as_json() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    browser.identify(&ZHANG).await;
    let code = app.last_code_to(ZHANG.phone).await;

    let html = browser.get("/dev/outbox").await;
    assert_eq!(html.status, 200);
    assert!(
        html.html.contains("138****5678") && html.html.contains(&code),
        "{}",
        html.html
    );
    assert!(!html.html.contains(ZHANG.phone));
    assert_eq!(html.header("cache-control"), Some("no-store"));

    // The dev-mode outbox stands in for the phones the texts go to, in full by design
    // (a production server answers it 404).
    app.allow_full_identity_on("GET", "/dev/outbox.json");
    let json: serde_json::Value =
        serde_json::from_str(&browser.get("/dev/outbox.json").await.html).unwrap();
    let first = &json[0];
    assert_eq!(first["to"], ZHANG.phone);
    assert_eq!(first["purpose"], "registration_code");
    assert!(first["text"].as_str().unwrap().contains(&code));
    assert_eq!(first["delivered"], false);
    assert!(
        first["id"].is_string()
            && first["created_at"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-23T02:00")
    );
}

#[tokio::test]
async fn the_dev_captcha_helper_gives_the_answer_of_a_live_captcha_only() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let (id, answer) = browser.solve(&page).await;
    let reply = browser.get(&format!("/dev/captcha/{id}")).await;
    assert_eq!(reply.status, 200);
    let json: serde_json::Value = serde_json::from_str(&reply.html).unwrap();
    assert_eq!(json["answer"], answer);
    assert!(
        page.html.contains("src=\"data:image/png;base64,"),
        "the image is inline"
    );
    assert!(page.html.contains("autocomplete=\"off\""));
    assert_eq!(browser.get("/dev/captcha/unknown").await.status, 404);
}

#[tokio::test]
async fn the_qualification_page_shows_the_due_date_and_says_where_to_check() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let page = browser.get("/qualification").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("id=\"not-entitled\""), "{}", page.html);
    let home = browser.get("/home").await;
    assert!(
        home.html.contains("href=\"/qualification\""),
        "{}",
        home.html
    );

    let due = app.china_today() + time::Duration::days(20);
    app.entitle(&ZHANG, due, None).await;
    let page = browser.get("/qualification").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html
            .contains(&format!("<dd id=\"own-due\">{due}</dd>")),
        "{}",
        page.html
    );
    assert!(page.html.contains("已认证"), "{}", page.html);
    assert!(page.html.contains("手机APP"), "{}", page.html);
    assert!(!page.html.contains(ZHANG.id_number), "{}", page.html);

    // Logged out, the page sends the member to the login.
    let stranger = Browser::new(&app);
    stranger
        .get("/qualification")
        .await
        .assert_redirect("/login");
}
