//! Changing a password the member knows on the portal (`/security/password` and
//! `/security/transaction-password/change`), and the home page's reminder of an old
//! login password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;
mod web_common;

use fundpass_core::clients::Scope;
use fundpass_core::portal::PortalPolicy;
use internal_common::{AMOUNT_FEN, Internal, TestClient, details, payment};
use support::{TestApp, TestOptions};
use time::Duration;
use web_common::{Browser, LOGIN_PASSWORD, Page, TRANSACTION_PASSWORD, ZHANG, cookie_value};

const LOGIN_FORM: &str = "/security/password";
const TRANSACTION_FORM: &str = "/security/transaction-password/change";
const NEW_LOGIN: &str = "Harbor5lantern72";
const WRONG_LOGIN: &str = "Lantern42rivers";
const NEW_TRANSACTION: &str = "581307";
const WRONG_TRANSACTION: &str = "150826";
const REMINDER: &str = "建议您定期更换";

/// Fills in and posts the change form at `path`.
async fn change(browser: &Browser<'_>, path: &str, current: &str, new: &str, again: &str) -> Page {
    let form = browser.get(path).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let csrf = form.field("csrf").unwrap();
    browser
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("current_password", current),
                ("new_password", new),
                ("new_password_again", again),
            ],
        )
        .await
}

/// The session cookie's value in this browser, read from its home page's response
/// to a login (`login`) or a change (`changed`).
fn session_of(page: &Page) -> String {
    cookie_value(
        &page
            .set_cookie("fundpass_session")
            .expect("no session cookie"),
    )
}

/// Whether a browser holding only `token` is logged in.
async fn logged_in(app: &TestApp, token: &str) -> bool {
    let page = app
        .client()
        .get(app.url("/home"))
        .header("cookie", format!("fundpass_session={token}"))
        .send()
        .await
        .unwrap();
    page.status() == 200
}

#[tokio::test]
async fn changing_the_login_password_keeps_this_browser_in_under_a_new_cookie_and_logs_out_the_others()
 {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let old = session_of(&browser.registered_and_logged_in(&ZHANG).await);
    let other = Browser::from_ip(&app, "198.51.100.8");
    other
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let menu = browser.get("/security").await;
    assert!(
        menu.html.contains("href=\"/security/password\""),
        "{}",
        menu.html
    );
    assert!(
        menu.html
            .contains("href=\"/security/transaction-password/change\"")
    );

    let done = change(&browser, LOGIN_FORM, LOGIN_PASSWORD, NEW_LOGIN, NEW_LOGIN).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("您的登录密码已修改"), "{}", done.html);
    let renewed = session_of(&done);
    assert_ne!(renewed, old);
    assert!(!done.html.contains(NEW_LOGIN) && !done.html.contains(LOGIN_PASSWORD));

    assert_eq!(
        browser.get("/home").await.status,
        200,
        "this browser goes on"
    );
    assert!(!logged_in(&app, &old).await, "under the new cookie only");
    other.get("/home").await.assert_redirect("/login");
    let texts = app.sms_to(ZHANG.phone).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("登录密码已于") && t.contains("通过个人网上业务平台修改")),
        "{texts:?}"
    );
    assert_eq!(app.count_rows("member_holds").await, 0, "no hold");
    let events = app.audit_events().await;
    let event = events
        .iter()
        .find(|e| e.action == "password.change.login")
        .expect("audited");
    let text = serde_json::to_string(event).unwrap();
    assert!(
        !text.contains(NEW_LOGIN) && !text.contains(LOGIN_PASSWORD),
        "{text}"
    );

    let again = Browser::from_ip(&app, "198.51.100.9");
    assert_eq!(
        again.login(&ZHANG, LOGIN_PASSWORD).await.status,
        200,
        "refused"
    );
    again
        .login(&ZHANG, NEW_LOGIN)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn a_wrong_current_login_password_shows_the_form_again_and_the_fifth_ends_the_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    for remaining in [4, 3, 2, 1] {
        let wrong = change(&browser, LOGIN_FORM, WRONG_LOGIN, NEW_LOGIN, NEW_LOGIN).await;
        assert_eq!(wrong.status, 200);
        let expected = format!("当前登录密码错误，还可尝试 {remaining} 次");
        assert!(wrong.html.contains(&expected), "{}", wrong.html);
        assert!(wrong.html.contains("name=\"current_password\""));
        assert!(!wrong.html.contains(WRONG_LOGIN) && !wrong.html.contains(NEW_LOGIN));
    }
    let fifth = change(&browser, LOGIN_FORM, WRONG_LOGIN, NEW_LOGIN, NEW_LOGIN).await;
    assert!(fifth.html.contains("账户已锁定至 10:15"), "{}", fifth.html);
    assert!(
        fifth
            .set_cookie("fundpass_session")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "{:?}",
        fifth.set_cookies()
    );
    browser.get("/home").await.assert_redirect("/login");
    let locked = browser.login(&ZHANG, LOGIN_PASSWORD).await;
    assert!(locked.html.contains("10:15"), "{}", locked.html);
}

#[tokio::test]
async fn changing_the_transaction_password_needs_the_current_one_and_texts_the_phone_on_file() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let old = session_of(&browser.registered_and_logged_in(&ZHANG).await);

    let wrong = change(
        &browser,
        TRANSACTION_FORM,
        WRONG_TRANSACTION,
        NEW_TRANSACTION,
        NEW_TRANSACTION,
    )
    .await;
    assert!(
        wrong.html.contains("当前交易密码错误，还可尝试 4 次"),
        "{}",
        wrong.html
    );
    assert!(wrong.set_cookie("fundpass_session").is_none());
    assert!(
        !app.sms_to(ZHANG.phone)
            .await
            .iter()
            .any(|t| t.contains("交易密码已于"))
    );

    let done = change(
        &browser,
        TRANSACTION_FORM,
        TRANSACTION_PASSWORD,
        NEW_TRANSACTION,
        NEW_TRANSACTION,
    )
    .await;
    assert!(done.html.contains("您的交易密码已修改"), "{}", done.html);
    let renewed = session_of(&done);
    assert!(logged_in(&app, &renewed).await && !logged_in(&app, &old).await);
    let texts = app.sms_to(ZHANG.phone).await;
    assert!(
        texts.iter().any(|t| t.contains("交易密码已于")),
        "{texts:?}"
    );
    assert_eq!(app.count_rows("member_holds").await, 0, "no hold");

    // The new one is now the current one.
    let next = change(
        &browser,
        TRANSACTION_FORM,
        NEW_TRANSACTION,
        "629174",
        "629174",
    )
    .await;
    assert!(next.html.contains("您的交易密码已修改"), "{}", next.html);
}

#[tokio::test]
async fn transaction_failures_on_the_page_and_on_a_pin_pad_share_one_counter() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    for _ in 0..3 {
        let wrong = change(
            &browser,
            TRANSACTION_FORM,
            WRONG_TRANSACTION,
            NEW_TRANSACTION,
            NEW_TRANSACTION,
        )
        .await;
        assert!(wrong.html.contains("当前交易密码错误"), "{}", wrong.html);
    }

    let client = TestClient::register(&app, "counter-terminal", &[Scope::PaymentsAuthorize]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let body = payment(ZHANG.account, AMOUNT_FEN, "POS-0101");
    let fourth = internal.verify(&token, &body, WRONG_TRANSACTION).await;
    fourth.assert_error(401, "wrong_transaction_password");
    assert_eq!(details(&fourth)["remaining"], 1, "{}", fourth.text);
    let fifth = internal.verify(&token, &body, WRONG_TRANSACTION).await;
    fifth.assert_error(423, "transaction_locked");

    let locked = change(
        &browser,
        TRANSACTION_FORM,
        TRANSACTION_PASSWORD,
        NEW_TRANSACTION,
        NEW_TRANSACTION,
    )
    .await;
    assert!(
        locked.html.contains("已锁定至当日 24 时"),
        "{}",
        locked.html
    );
    assert_eq!(
        browser.get("/home").await.status,
        200,
        "the session goes on"
    );
}

#[tokio::test]
async fn every_broken_rule_is_shown_and_a_recent_password_is_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let refused = change(&browser, LOGIN_FORM, LOGIN_PASSWORD, "abc", "abd").await;
    let mismatch = "两次输入的登录密码不一致";
    for message in ["密码至少需要 8 个字符。", "密码需要包含数字。", mismatch] {
        assert!(
            refused.html.contains(message),
            "{message}: {}",
            refused.html
        );
    }
    let sequence = change(&browser, LOGIN_FORM, LOGIN_PASSWORD, "abcdefgh", "abcdefgh").await;
    for message in ["密码需要包含数字。", "密码不能包含 6 位或以上的连续字母"]
    {
        assert!(
            sequence.html.contains(message),
            "{message}: {}",
            sequence.html
        );
    }
    assert!(!sequence.html.contains(mismatch));
    let same = change(
        &browser,
        LOGIN_FORM,
        LOGIN_PASSWORD,
        LOGIN_PASSWORD,
        LOGIN_PASSWORD,
    )
    .await;
    assert!(
        same.html.contains("新密码不能与当前密码相同"),
        "{}",
        same.html
    );
    let transaction = change(
        &browser,
        TRANSACTION_FORM,
        TRANSACTION_PASSWORD,
        "111111",
        "111111",
    )
    .await;
    let all_same = "交易密码不能是 6 位相同的数字。";
    assert!(transaction.html.contains(all_same), "{}", transaction.html);
    assert!(transaction.set_cookie("fundpass_session").is_none());

    let first = change(&browser, LOGIN_FORM, LOGIN_PASSWORD, NEW_LOGIN, NEW_LOGIN).await;
    assert!(first.html.contains("您的登录密码已修改"), "{}", first.html);
    let back = change(
        &browser,
        LOGIN_FORM,
        NEW_LOGIN,
        LOGIN_PASSWORD,
        LOGIN_PASSWORD,
    )
    .await;
    assert!(back.html.contains("新密码不能与最近 2 次"), "{}", back.html);
}

#[tokio::test]
async fn the_change_forms_refuse_posts_without_the_session_token_or_from_another_site() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let anonymous = Browser::from_ip(&app, "198.51.100.20");
    let anonymous_token = anonymous.get("/login").await.field("csrf").unwrap();

    for (path, current, new) in [
        (LOGIN_FORM, LOGIN_PASSWORD, NEW_LOGIN),
        (TRANSACTION_FORM, TRANSACTION_PASSWORD, NEW_TRANSACTION),
    ] {
        let csrf = browser.get(path).await.field("csrf").unwrap();
        let fields = |token: &str| {
            vec![
                ("csrf", token.to_owned()),
                ("current_password", current.to_owned()),
                ("new_password", new.to_owned()),
                ("new_password_again", new.to_owned()),
            ]
        };
        for token in ["", anonymous_token.as_str()] {
            let pairs = fields(token);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = browser.post(path, &pairs).await;
            assert_eq!(refused.status, 403, "{path}: {}", refused.html);
        }
        let pairs = fields(&csrf);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let foreign = browser
            .post_with(path, &pairs, &[("origin", "https://evil.example")])
            .await;
        assert_eq!(foreign.status, 403, "{path}: {}", foreign.html);
        assert!(foreign.set_cookie("fundpass_session").is_none());
    }
    assert_eq!(browser.get("/home").await.status, 200, "still logged in");
    assert!(
        app.audit_events()
            .await
            .iter()
            .all(|e| !e.action.starts_with("password.change"))
    );
    let again = Browser::from_ip(&app, "198.51.100.21");
    again
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn a_login_password_a_year_old_is_gently_pointed_out_on_the_home_page_and_not_before() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    assert!(!browser.get("/home").await.html.contains(REMINDER));

    app.clock.advance(Duration::days(364));
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let early = browser.get("/home").await;
    assert!(!early.html.contains(REMINDER), "{}", early.html);

    app.clock.advance(Duration::days(1));
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let due = browser.get("/home").await;
    assert!(
        due.html
            .contains("您的登录密码自 2026-11-23 10:00 起未曾修改"),
        "{}",
        due.html
    );
    assert!(due.html.contains("href=\"/security/password\""));
    assert!(
        due.html.contains("name=\"csrf\""),
        "the home page works as before"
    );

    let done = change(&browser, LOGIN_FORM, LOGIN_PASSWORD, NEW_LOGIN, NEW_LOGIN).await;
    assert!(done.html.contains("您的登录密码已修改"), "{}", done.html);
    assert!(!browser.get("/home").await.html.contains(REMINDER));
}

#[tokio::test]
async fn the_reminder_follows_the_configured_age_and_zero_turns_it_off() {
    for (age, shown) in [(Duration::days(30), true), (Duration::ZERO, false)] {
        let app = TestApp::spawn_with(TestOptions {
            policy: PortalPolicy {
                dev_mode: true,
                password_reminder: age,
                ..PortalPolicy::default()
            },
            ..TestOptions::default()
        })
        .await;
        let browser = Browser::new(&app);
        browser.registered_and_logged_in(&ZHANG).await;
        app.clock.advance(Duration::days(29));
        browser
            .login(&ZHANG, LOGIN_PASSWORD)
            .await
            .assert_redirect("/home");
        assert!(!browser.get("/home").await.html.contains(REMINDER), "{age}");

        app.clock.advance(Duration::days(1000));
        browser
            .login(&ZHANG, LOGIN_PASSWORD)
            .await
            .assert_redirect("/home");
        let home = browser.get("/home").await;
        assert_eq!(home.html.contains(REMINDER), shown, "{age}: {}", home.html);
    }
}
