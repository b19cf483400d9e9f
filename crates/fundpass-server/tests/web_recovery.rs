//! Getting forgotten passwords back through the pages, the way a browser without
//! JavaScript does it: the login password anonymously with the transaction password,
//! the transaction password while logged in with a code sent to the phone on file;
//! the notice and the hold a reset leaves. (Security questions: web_security_questions.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use support::TestApp;
use web_common::{
    Browser, CHEN, LOGIN_PASSWORD, Page, Person, STRANGER, TRANSACTION_PASSWORD, ZHANG, blank,
    cookie_value,
};

const NEW_LOGIN_PASSWORD: &str = "Harbour77sunrise";
const NEW_TRANSACTION_PASSWORD: &str = "503718";
const WRONG_TRANSACTION_PASSWORD: &str = "615204";

/// Registers and logs ZHANG in, then lets a minute pass: the registration code went
/// to the same phone, and a phone gets at most one text a minute.
async fn registered_a_minute_ago(browser: &Browser<'_>) -> Page {
    let login = browser.registered_and_logged_in(&ZHANG).await;
    browser.app.clock.advance(time::Duration::seconds(61));
    login
}

/// A code other than `code`.
fn other_than(code: &str) -> &'static str {
    if code == "246802" { "246803" } else { "246802" }
}

/// Where `/home` sends a browser presenting only this session token.
async fn home_with_token(app: &TestApp, token: &str) -> (u16, String) {
    let reply = app
        .client()
        .get(app.url("/home"))
        .header("cookie", format!("fundpass_session={token}"))
        .send()
        .await
        .unwrap();
    let location = reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (reply.status().as_u16(), location)
}

#[tokio::test]
async fn a_forgotten_login_password_is_reset_with_the_transaction_password() {
    let app = TestApp::spawn().await;
    let elsewhere = Browser::from_ip(&app, "203.0.113.9");
    let login = elsewhere.registered_and_logged_in(&ZHANG).await;
    let old_token = cookie_value(&login.set_cookie("fundpass_session").unwrap());

    let browser = Browser::new(&app);
    let login_page = browser.get("/login").await;
    assert!(
        login_page
            .html
            .contains("<a href=\"/forgot-password\">忘记密码</a>"),
        "{}",
        login_page.html
    );
    let verify = browser.forgot_identify(&ZHANG).await;
    assert!(
        verify.html.contains(
            "type=\"password\" inputmode=\"numeric\" autocomplete=\"off\" maxlength=\"6\""
        ),
        "{}",
        verify.html
    );
    let new = browser.forgot_verify(&verify, TRANSACTION_PASSWORD).await;
    assert!(
        new.html.contains("name=\"new_password_again\"")
            && new.html.contains("autocomplete=\"new-password\""),
        "{}",
        new.html
    );
    let done = browser.forgot_new(&new, [NEW_LOGIN_PASSWORD; 2]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    for shown in ["登录密码已重置", "登录均已退出", "href=\"/login\""] {
        assert!(done.html.contains(shown), "{shown} missing: {}", done.html);
    }
    assert!(!done.html.contains(NEW_LOGIN_PASSWORD));

    assert_eq!(
        home_with_token(&app, &old_token).await,
        (303, "/login".to_owned()),
        "the session opened before the reset has ended"
    );
    let old = browser.login(&ZHANG, LOGIN_PASSWORD).await;
    assert!(old.html.contains("证件号码/账号或密码错误"), "{}", old.html);
    browser
        .login(&ZHANG, NEW_LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn a_reset_sends_a_notice_and_leaves_a_hold_shown_on_the_home_page() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    assert!(
        browser
            .get("/home")
            .await
            .html
            .contains("您的账户当前不在保护期内")
    );

    let verify = browser.forgot_identify(&ZHANG).await;
    let new = browser.forgot_verify(&verify, TRANSACTION_PASSWORD).await;
    let done = browser.forgot_new(&new, [NEW_LOGIN_PASSWORD; 2]).await;
    assert!(
        done.set_cookie("fundpass_session")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "this browser's session cookie is removed"
    );
    let notice = app.sms_to(ZHANG.phone).await;
    assert!(
        notice
            .iter()
            .any(|t| t.contains("您的登录密码已于") && t.contains("重置")),
        "{notice:?}"
    );

    browser
        .login(&ZHANG, NEW_LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let home = browser.get("/home").await;
    for shown in [
        "登录密码重置",
        "2026-11-23 10:00",
        "个人网上业务平台",
        "2026-11-24 10:00",
        "href=\"/security\"",
    ] {
        assert!(home.html.contains(shown), "{shown} missing: {}", home.html);
    }
    let menu = browser.get("/security").await;
    assert!(menu.html.contains("登录密码重置"), "{}", menu.html);
}

#[tokio::test]
async fn the_forgotten_password_journey_reads_the_same_whether_or_not_the_member_exists() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    app.seed(&ZHANG).await;
    browser.register(&ZHANG).await;

    let known = browser.forgot_identify(&ZHANG).await;
    let unknown = browser.forgot_identify(&STRANGER).await;
    let wrong_name = browser
        .forgot_identify(&Person {
            name: "张卫",
            ..ZHANG
        })
        .await;
    assert_eq!(
        (known.status, unknown.status, wrong_name.status),
        (200, 200, 200)
    );
    assert!(known.field("flow").is_some());
    assert_ne!(known.field("flow"), unknown.field("flow"));
    let same = |page: &Page| blank(&page.html, &["csrf", "flow", "captcha_id"]);
    assert_eq!(same(&known), same(&unknown));
    assert_eq!(same(&known), same(&wrong_name));

    // A wrong answer reads the same too.
    let known = browser
        .forgot_verify(&known, WRONG_TRANSACTION_PASSWORD)
        .await;
    let unknown = browser
        .forgot_verify(&unknown, WRONG_TRANSACTION_PASSWORD)
        .await;
    assert_eq!(same(&known), same(&unknown));
}

#[tokio::test]
async fn a_wrong_transaction_password_is_refused_without_naming_it_and_the_fifth_locks_until_midnight()
 {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    app.seed(&ZHANG).await;
    browser.register(&ZHANG).await;

    let verify = browser.forgot_identify(&ZHANG).await;
    for remaining in (1..=4).rev() {
        let page = browser
            .forgot_verify(&verify, WRONG_TRANSACTION_PASSWORD)
            .await;
        let message = format!("您填写的信息未能通过核验，还可尝试 {remaining} 次");
        assert!(page.html.contains(&message), "{}", page.html);
        assert!(
            !page.html.contains("交易密码错误")
                && !page.html.contains("id=\"transaction_password-error\"")
                && !page.html.contains("aria-invalid"),
            "the message does not say which detail was wrong: {}",
            page.html
        );
        assert!(!page.html.contains(WRONG_TRANSACTION_PASSWORD));
        assert_eq!(page.field("flow"), verify.field("flow"));
    }
    let locked = browser
        .forgot_verify(&verify, WRONG_TRANSACTION_PASSWORD)
        .await;
    let message = "已锁定至当日 24 时（2026-11-24 00:00）";
    assert!(locked.html.contains(message), "{}", locked.html);

    let again = browser.forgot_identify(&ZHANG).await;
    let right_but_locked = browser.forgot_verify(&again, TRANSACTION_PASSWORD).await;
    assert!(
        right_but_locked.html.contains(message),
        "{}",
        right_but_locked.html
    );
    assert!(!right_but_locked.html.contains("name=\"new_password\""));

    // After midnight five more wrong ones disable it: only the app or a counter helps.
    app.clock.advance(time::Duration::hours(14));
    let verify = browser.forgot_identify(&ZHANG).await;
    let mut page = browser
        .forgot_verify(&verify, WRONG_TRANSACTION_PASSWORD)
        .await;
    for _ in 0..4 {
        page = browser
            .forgot_verify(&verify, WRONG_TRANSACTION_PASSWORD)
            .await;
    }
    assert!(
        page.html.contains("人脸识别") && page.html.contains("柜台"),
        "{}",
        page.html
    );
    assert!(page.field("flow").is_none(), "no form is offered any more");
}

#[tokio::test]
async fn a_logged_in_member_recovers_the_transaction_password_with_a_code_to_the_phone_on_file() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let login = registered_a_minute_ago(&browser).await;
    let token = cookie_value(&login.set_cookie("fundpass_session").unwrap());
    let home = browser.get("/home").await;
    assert!(home.html.contains("href=\"/security\""), "{}", home.html);
    let menu = browser.get("/security").await;
    assert!(
        menu.html
            .contains("href=\"/security/transaction-password\"")
            && menu.html.contains("href=\"/security/questions\""),
        "{}",
        menu.html
    );

    let phone_page = browser.transaction_identify(&ZHANG).await;
    assert!(
        phone_page.html.contains("138****5678"),
        "{}",
        phone_page.html
    );
    assert!(phone_page.html.contains("获取短信验证码"));

    let wrong = browser.transaction_phone(&phone_page, "13812345670").await;
    assert!(
        wrong
            .html
            .contains("该号码与中心留存的手机号不一致，还可尝试 4 次"),
        "{}",
        wrong.html
    );
    assert!(
        wrong
            .html
            .contains("aria-invalid=\"true\" aria-describedby=\"phone-hint phone-error\"")
    );
    assert!(
        !wrong.html.contains("13812345670"),
        "the typed number is not echoed"
    );
    assert!(
        app.sms_to(ZHANG.phone)
            .await
            .iter()
            .all(|t| !t.contains("找回交易密码"))
    );

    let code_page = browser.transaction_phone(&wrong, ZHANG.phone).await;
    assert!(
        code_page.html.contains("验证码已发送至 138****5678"),
        "{}",
        code_page.html
    );
    let code = app.last_code_to(ZHANG.phone).await;
    let bad = browser
        .transaction_code(&code_page, other_than(&code))
        .await;
    // The wrong phone number counted against the same five tries.
    assert!(
        bad.html.contains("验证码错误，还可尝试 3 次"),
        "{}",
        bad.html
    );
    let new = browser.transaction_code(&bad, &code).await;
    assert!(
        new.html
            .contains("inputmode=\"numeric\" autocomplete=\"new-password\" maxlength=\"6\""),
        "{}",
        new.html
    );
    let mismatch = browser
        .transaction_new(&new, [NEW_TRANSACTION_PASSWORD, "503719"])
        .await;
    assert!(
        mismatch.html.contains("两次输入的交易密码不一致")
            && !mismatch.html.contains(NEW_TRANSACTION_PASSWORD),
        "{}",
        mismatch.html
    );
    let done = browser
        .transaction_new(&mismatch, [NEW_TRANSACTION_PASSWORD; 2])
        .await;
    assert!(
        done.html.contains("交易密码已重置") && done.html.contains("href=\"/login\""),
        "{}",
        done.html
    );
    for page in [
        &phone_page,
        &wrong,
        &code_page,
        &bad,
        &new,
        &mismatch,
        &done,
    ] {
        assert!(!page.html.contains(ZHANG.phone), "{}", page.html);
    }

    browser.get("/home").await.assert_redirect("/login");
    assert_eq!(
        home_with_token(&app, &token).await,
        (303, "/login".to_owned())
    );
    let notice = app.sms_to(ZHANG.phone).await;
    assert!(
        notice
            .iter()
            .any(|t| t.contains("您的交易密码已于") && t.contains("重置")),
        "{notice:?}"
    );

    // The new transaction password is the one that now proves who the member is.
    let verify = browser.forgot_identify(&ZHANG).await;
    let old = browser.forgot_verify(&verify, TRANSACTION_PASSWORD).await;
    assert!(old.html.contains("未能通过核验"), "{}", old.html);
    let accepted = browser
        .forgot_verify(&verify, NEW_TRANSACTION_PASSWORD)
        .await;
    assert!(
        accepted.html.contains("name=\"new_password\""),
        "{}",
        accepted.html
    );
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    assert!(browser.get("/home").await.html.contains("交易密码重置"));
}

#[tokio::test]
async fn another_members_details_are_refused_as_not_the_logged_in_account() {
    let app = TestApp::spawn().await;
    app.seed(&CHEN).await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let page = browser.transaction_identify(&CHEN).await;
    assert!(
        page.html
            .contains("您填写的姓名和证件与当前登录的账户不一致"),
        "{}",
        page.html
    );
    assert!(page.field("flow").is_none());
    assert!(!page.html.contains("139****4321"), "{}", page.html);
    assert_eq!(page.field("id_number").as_deref(), Some(CHEN.id_number));
}

#[tokio::test]
async fn a_resent_code_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    registered_a_minute_ago(&browser).await;
    let phone_page = browser.transaction_identify(&ZHANG).await;
    let code_page = browser.transaction_phone(&phone_page, ZHANG.phone).await;
    let first = app.last_code_to(ZHANG.phone).await;

    let too_soon = browser.transaction_resend(&code_page).await;
    assert!(too_soon.html.contains("秒后再获取"), "{}", too_soon.html);
    app.clock.advance(time::Duration::seconds(61));
    let resent = browser.transaction_resend(&code_page).await;
    assert!(resent.html.contains("新的验证码已发送"), "{}", resent.html);
    let second = app.last_code_to(ZHANG.phone).await;
    let codes = app
        .sms_to(ZHANG.phone)
        .await
        .into_iter()
        .filter(|t| t.contains("找回交易密码"))
        .count();
    assert_eq!(codes, 2);

    if first != second {
        let old = browser.transaction_code(&resent, &first).await;
        assert!(old.html.contains("验证码错误"), "{}", old.html);
    }
    let new = browser.transaction_code(&resent, &second).await;
    assert!(new.html.contains("name=\"new_password\""), "{}", new.html);
}

#[tokio::test]
async fn every_recovery_form_refuses_a_missing_or_forged_token() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    registered_a_minute_ago(&browser).await;
    let anon = browser.get("/forgot-password").await;
    let anon_token = anon.field("csrf").unwrap();
    let phone_page = browser.transaction_identify(&ZHANG).await;
    let session_token = phone_page.field("csrf").unwrap();
    assert_ne!(anon_token, session_token);
    let flow = phone_page.field("flow").unwrap();
    let sent_before = app.sms_to(ZHANG.phone).await.len();

    let fields = [
        ("flow", flow.as_str()),
        ("phone", ZHANG.phone),
        ("name", ZHANG.name),
        ("id_type", "resident_id"),
        ("id_number", ZHANG.id_number),
        ("question", "first_school"),
        ("answer", "x"),
    ];
    let forged = "x".repeat(43);
    let anonymous = [
        "/forgot-password",
        "/forgot-password/verify",
        "/forgot-password/new",
    ];
    let logged_in = [
        "/security/transaction-password",
        "/security/transaction-password/phone",
        "/security/transaction-password/code",
        "/security/transaction-password/resend",
        "/security/transaction-password/new",
        "/security/questions",
    ];
    for path in anonymous.iter().chain(&logged_in) {
        let missing = browser.post(path, &fields).await;
        assert_eq!(missing.status, 403, "{path}: {}", missing.html);
        let mut with_forged = fields.to_vec();
        with_forged.push(("csrf", &forged));
        assert_eq!(browser.post(path, &with_forged).await.status, 403, "{path}");
    }
    for path in logged_in {
        // The anonymous token is not the session's.
        let mut with_anon = fields.to_vec();
        with_anon.push(("csrf", &anon_token));
        assert_eq!(browser.post(path, &with_anon).await.status, 403, "{path}");
        let mut with_session = fields.to_vec();
        with_session.push(("csrf", &session_token));
        let foreign = browser
            .post_with(path, &with_session, &[("origin", "https://evil.example")])
            .await;
        assert_eq!(foreign.status, 403, "{path}");
    }
    assert_eq!(
        app.sms_to(ZHANG.phone).await.len(),
        sent_before,
        "no code and no notice was sent"
    );
    let still = browser.transaction_phone(&phone_page, ZHANG.phone).await;
    assert!(still.html.contains("验证码已发送"), "{}", still.html);
}

#[tokio::test]
async fn recovery_pages_are_in_english_when_asked() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    browser.accept_language = Some("en");
    let page = browser.get("/forgot-password").await;
    assert!(
        page.html.contains("Recover your login password") && !page.html.contains("找回登录密码"),
        "{}",
        page.html
    );
    let login = browser.get("/login").await;
    assert!(login.html.contains("Forgotten your password?"));
    assert_eq!(
        browser.get("/security").await.location(),
        Some("/login"),
        "the security menu is for logged-in members"
    );
}
