//! The registration pages, driven over HTTP the way a browser without JavaScript
//! uses them: identify (neutral answer, captcha, format errors, limits), SMS code
//! (wrong codes, resend) and the passwords step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use fundpass_core::credentials::{Lang, PolicyViolation};
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, STRANGER, ZHANG, blank};

#[tokio::test]
async fn the_identify_page_reads_the_same_whether_or_not_the_details_match() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);

    let matching = browser.identify(&ZHANG).await;
    let unknown = browser.identify(&STRANGER).await;
    let wrong_phone = browser
        .identify(&web_common::Person {
            phone: "15022223333",
            ..ZHANG
        })
        .await;

    assert_eq!(matching.status, 200, "{}", matching.html);
    assert!(
        matching
            .html
            .contains("若您填写的信息与中心记录一致，验证码已发送至中心留存手机号")
    );
    assert_ne!(matching.field("flow"), unknown.field("flow"));
    let same = |page: &web_common::Page| blank(&page.html, &["csrf", "flow", "captcha_id"]);
    assert_eq!(same(&matching), same(&unknown));
    assert_eq!(same(&matching), same(&wrong_phone));
    assert_eq!((unknown.status, wrong_phone.status), (200, 200));
    assert_eq!(
        app.sms_to(ZHANG.phone).await.len(),
        1,
        "only the matching member gets a code"
    );
    assert!(app.sms_to(STRANGER.phone).await.is_empty());
}

#[tokio::test]
async fn a_wrong_captcha_shows_a_new_one_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let form = browser.get("/register").await;
    let (captcha_id, answer) = browser.solve(&form).await;
    let wrong = if answer == "22222" { "33333" } else { "22222" };
    let page = browser
        .post(
            "/register",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("name", ZHANG.name),
                ("id_type", "resident_id"),
                ("id_number", ZHANG.id_number),
                ("phone", ZHANG.phone),
                ("captcha_id", &captcha_id),
                ("captcha_answer", wrong),
            ],
        )
        .await;
    assert!(page.html.contains("图形验证码错误"), "{}", page.html);
    assert!(page.html.contains(
        "aria-invalid=\"true\" aria-describedby=\"captcha_answer-hint captcha_answer-error\""
    ));
    let new_id = page.field("captcha_id").unwrap();
    assert_ne!(new_id, captcha_id, "a failed captcha is replaced");
    assert_eq!(page.field("name").as_deref(), Some(ZHANG.name));
    assert!(
        !page.html.contains(&format!("value=\"{wrong}\"")),
        "the answer is not echoed"
    );
    assert!(app.sms_to(ZHANG.phone).await.is_empty());
}

#[tokio::test]
async fn a_mistyped_document_number_is_explained_next_to_the_field() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let mistyped = web_common::Person {
        id_number: "110105199003071230",
        ..ZHANG
    };
    let page = browser.identify(&mistyped).await;
    assert!(
        page.html
            .contains("aria-invalid=\"true\" aria-describedby=\"id_number-error\""),
        "{}",
        page.html
    );
    assert!(page.html.contains("id=\"id_number-error\""));
    assert!(
        page.html.contains("最后一位应为“9”而不是“0”"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("href=\"#id_number\""),
        "the summary links to the field"
    );
    assert!(page.field("flow").is_none(), "no flow was started");
}

#[tokio::test]
async fn a_wrong_code_says_how_many_tries_are_left_and_is_not_echoed() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    let code_page = browser.identify(&ZHANG).await;
    let code = app.last_code_to(ZHANG.phone).await;
    let wrong = if code == "246802" { "246803" } else { "246802" };

    let page = browser.enter_code(&code_page, wrong).await;
    assert!(
        page.html.contains("验证码错误，还可尝试 4 次"),
        "{}",
        page.html
    );
    assert!(page.html.contains("autocomplete=\"one-time-code\""));
    assert!(
        !page.html.contains(wrong),
        "the typed code never comes back"
    );
    assert_eq!(page.field("flow"), code_page.field("flow"));

    let passwords = browser.enter_code(&page, &code).await;
    assert!(
        passwords.html.contains("autocomplete=\"new-password\""),
        "{}",
        passwords.html
    );
}

#[tokio::test]
async fn too_many_wrong_codes_close_the_registration_with_a_way_to_start_again() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    let code_page = browser.identify(&ZHANG).await;
    let code = app.last_code_to(ZHANG.phone).await;
    let wrong = if code == "246802" { "246803" } else { "246802" };
    let mut page = browser.enter_code(&code_page, wrong).await;
    for _ in 0..4 {
        page = browser.enter_code(&code_page, wrong).await;
    }
    assert!(page.html.contains("本次注册已关闭"), "{}", page.html);
    assert!(page.html.contains("href=\"/register\""));
    assert!(page.field("flow").is_none(), "a dead flow offers no form");
    let after = browser.enter_code(&code_page, &code).await;
    assert!(
        after.html.contains("本次注册已关闭"),
        "even the right code is refused now: {}",
        after.html
    );
}

#[tokio::test]
async fn a_resend_replaces_the_code_after_the_cooldown() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    let code_page = browser.identify(&ZHANG).await;
    let first = app.last_code_to(ZHANG.phone).await;
    let too_soon = browser.resend(&code_page).await;
    assert!(too_soon.html.contains("秒后再获取"), "{}", too_soon.html);
    app.clock.advance(time::Duration::seconds(61));
    let resent = browser.resend(&code_page).await;
    assert!(resent.html.contains("新的验证码已发送"), "{}", resent.html);
    let second = app.last_code_to(ZHANG.phone).await;
    assert_eq!(app.sms_to(ZHANG.phone).await.len(), 2);

    if first != second {
        let old = browser.enter_code(&resent, &first).await;
        assert!(
            old.html.contains("验证码错误"),
            "the old code stopped working: {}",
            old.html
        );
    }
    let passwords = browser.enter_code(&resent, &second).await;
    assert!(
        passwords.html.contains("name=\"transaction_password\""),
        "{}",
        passwords.html
    );
}

#[tokio::test]
async fn password_rules_are_listed_next_to_each_field_and_nothing_typed_comes_back() {
    let app = TestApp::spawn().await;
    app.seed_member(ZHANG.account, ZHANG.name, ZHANG.id_number, ZHANG.phone)
        .await;
    let browser = Browser::new(&app);
    let code_page = browser.identify(&ZHANG).await;
    let passwords = browser
        .enter_code(&code_page, &app.last_code_to(ZHANG.phone).await)
        .await;

    let page = browser
        .set_passwords(&passwords, ["abc12", "abc13"], ["777777", "777778"])
        .await;
    let short = PolicyViolation::TooShort { min: 8 }.message(Lang::Zh);
    let same_digit = PolicyViolation::AllSameDigit.message(Lang::Zh);
    for expected in [
        short.as_str(),
        "两次输入的登录密码不一致",
        same_digit.as_str(),
        "两次输入的交易密码不一致",
    ] {
        assert!(
            page.html.contains(expected),
            "{expected} missing: {}",
            page.html
        );
    }
    for field in [
        "login_password",
        "login_password_again",
        "transaction_password",
        "transaction_password_again",
    ] {
        assert!(
            page.html.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
    }
    assert!(
        page.html
            .contains("aria-describedby=\"login_password-hint login_password-error\"")
    );
    for typed in ["abc12", "abc13", "777777", "777778"] {
        assert!(!page.html.contains(typed), "{typed} was echoed");
    }
    assert!(
        page.html
            .contains("inputmode=\"numeric\" autocomplete=\"new-password\"")
    );

    let done = browser
        .set_passwords(
            &page,
            [LOGIN_PASSWORD, LOGIN_PASSWORD],
            [web_common::TRANSACTION_PASSWORD; 2],
        )
        .await;
    assert!(
        done.html.contains("注册成功，请使用新密码登录"),
        "{}",
        done.html
    );
}

#[tokio::test]
async fn asking_for_codes_too_often_is_refused_with_a_time_to_retry() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    assert_eq!(browser.identify(&STRANGER).await.status, 200);
    let again = browser.identify(&STRANGER).await;
    assert_eq!(again.status, 429, "{}", again.html);
    assert_eq!(again.header("retry-after"), Some("60"));
    assert!(
        again.html.contains("获取验证码过于频繁，请于 10:01 后再试"),
        "{}",
        again.html
    );
    assert!(again.field("flow").is_none() && again.field("captcha_id").is_some());
}
