//! Security questions through the pages: set and listed without their answers, and
//! every kind of bad input explained next to the row it is about.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use support::TestApp;
use web_common::{Browser, ZHANG};

#[tokio::test]
async fn security_questions_are_set_and_listed_without_their_answers() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let empty = browser.get("/security/questions").await;
    assert!(empty.html.contains("您尚未设置安全问题"), "{}", empty.html);
    assert!(
        empty.html.contains("从不单独"),
        "the page says what they are for"
    );

    let saved = browser
        .set_questions(&[
            ("first_school", "Beijing No. 4 Middle School"),
            ("", ""),
            ("first_street", "Nanluoguxiang"),
        ])
        .await;
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert!(saved.html.contains("安全问题已保存"), "{}", saved.html);
    let listed = browser.get("/security/questions").await;
    for page in [&saved, &listed] {
        for shown in [
            "您就读的第一所学校叫什么名字？",
            "您小时候住的街道叫什么名字？",
        ] {
            assert!(
                page.html.contains(&format!("<li>{shown}</li>")),
                "{}",
                page.html
            );
        }
        for answer in ["Beijing No. 4", "Nanluoguxiang", "nanluoguxiang"] {
            assert!(!page.html.contains(answer), "{answer} shown");
        }
    }
    assert!(
        !listed
            .html
            .contains("<li>您童年最好的朋友叫什么名字？</li>")
    );
    assert!(
        listed
            .html
            .contains("<option value=\"first_street\" selected>"),
        "the form starts from the questions set: {}",
        listed.html
    );
    let notice = app.sms_to(ZHANG.phone).await;
    assert!(
        notice.iter().any(|t| t.contains("您的安全问题已于")),
        "{notice:?}"
    );
}

#[tokio::test]
async fn bad_security_questions_get_a_specific_message_next_to_the_row() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let four = browser
        .set_questions(&[
            ("first_school", "a"),
            ("childhood_friend", "b"),
            ("first_employer", "c"),
            ("first_street", "d"),
        ])
        .await;
    assert!(four.html.contains("请选择 1 至 3 个问题"), "{}", four.html);

    let repeated = browser
        .set_questions(&[
            ("first_school", "Secret one"),
            ("first_school", "Secret two"),
        ])
        .await;
    assert!(
        repeated.html.contains("同一个问题只能选择一次"),
        "{}",
        repeated.html
    );
    assert!(
        repeated.html.contains("id=\"question_2-error\"")
            && repeated.html.contains("href=\"#question_2\""),
        "{}",
        repeated.html
    );
    assert!(!repeated.html.contains("Secret one") && !repeated.html.contains("Secret two"));
    assert!(
        repeated
            .html
            .contains("<option value=\"first_school\" selected>"),
        "the choices are kept: {}",
        repeated.html
    );

    let empty_answer = browser
        .set_questions(&[("first_school", "Secret one"), ("first_employer", " ,. ")])
        .await;
    assert!(
        empty_answer.html.contains("请填写这个问题的答案")
            && empty_answer
                .html
                .contains("aria-invalid=\"true\" aria-describedby=\"answer_2-error\""),
        "{}",
        empty_answer.html
    );

    let no_question = browser.set_questions(&[("", "Secret one")]).await;
    assert!(
        no_question.html.contains("请为这个答案选择一个问题")
            && no_question.html.contains("id=\"question_1-error\""),
        "{}",
        no_question.html
    );
    assert!(
        browser
            .get("/security/questions")
            .await
            .html
            .contains("您尚未设置安全问题"),
        "nothing was saved"
    );
}
