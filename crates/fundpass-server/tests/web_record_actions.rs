//! The security record's actions on the web: "this was not me" (a confirm page, then
//! every session ends, payouts are held, the phone is texted the hotline) and the
//! downloads and printable page, each form behind the session's CSRF token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use fundpass_core::crypto::PublicKey;
use fundpass_core::member::HoldReason;
use fundpass_core::record::verify;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, ZHANG};

/// The first "this was not me" link on the record page.
fn not_me_link(html: &str) -> Option<String> {
    let at = html.find("/not-me\"")?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    Some(html[start..at + "/not-me".len()].to_owned())
}

fn keys(app: &TestApp) -> Vec<(String, PublicKey)> {
    app.keyring
        .receipt_keys()
        .into_iter()
        .map(|(id, key)| (id.as_str().to_owned(), key))
        .collect()
}

#[tokio::test]
async fn not_me_on_a_login_ends_every_session_and_holds_payouts() {
    let app = TestApp::spawn().await;
    let browser = Browser::from_ip(&app, "198.51.100.7");
    browser.registered_and_logged_in(&ZHANG).await;
    let laptop = Browser::from_ip(&app, "192.0.2.44");
    laptop
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");

    let record = browser.get("/security/record").await;
    let link = not_me_link(&record.html).expect("a login with a not-me link");
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    let csrf = confirm.field("csrf").unwrap();

    // Without the token, or with another session's, nothing happens.
    assert_eq!(browser.post(&link, &[]).await.status, 403);
    let theirs = laptop.get("/security/record").await.field("csrf").unwrap();
    assert_eq!(browser.post(&link, &[("csrf", &theirs)]).await.status, 403);
    assert_eq!(laptop.get("/home").await.status, 200);
    assert!(
        !app.audit_events()
            .await
            .iter()
            .any(|e| e.action == "member.not_me")
    );

    let texts_before = app.sms_to(ZHANG.phone).await.len();
    let done = browser.post(&link, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("12329"), "{}", done.html);
    assert!(
        done.set_cookies().iter().any(|c| c.contains("Max-Age=0")),
        "the session cookie is cleared: {:?}",
        done.set_cookies()
    );
    for b in [&browser, &laptop] {
        b.get("/home").await.assert_redirect("/login");
    }
    let texts = app.sms_to(ZHANG.phone).await;
    assert_eq!(texts.len(), texts_before + 1);
    let holds = app.active_holds_of(ZHANG.account).await;
    assert!(
        holds
            .iter()
            .any(|h| h.reason == HoldReason::ReportedByMember)
    );

    // Back in, the home page shows the hold and the record shows the report.
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let home = browser.get("/home").await;
    assert!(
        home.html.contains("报告了非本人操作") || home.html.contains("not yours"),
        "{}",
        home.html
    );
    let record = browser.get("/security/record?kind=not_me").await;
    assert!(record.html.contains("报告非本人操作"), "{}", record.html);
    // A failed login or another kind cannot be reported: no link, and the page 404s.
    let failed = browser.get("/security/record?kind=login_failed").await;
    assert!(not_me_link(&failed.html).is_none());
}

#[tokio::test]
async fn downloads_need_the_csrf_token_and_verify_and_the_print_page_carries_the_integrity_value() {
    let app = TestApp::spawn().await;
    let browser = Browser::from_ip(&app, "198.51.100.7");
    browser.registered_and_logged_in(&ZHANG).await;
    let record = browser.get("/security/record").await;
    let csrf = record.field("csrf").unwrap();

    let refused = browser
        .post("/security/record/download?format=json", &[])
        .await;
    assert_eq!(refused.status, 403);
    let json = browser
        .post("/security/record/download?format=json", &[("csrf", &csrf)])
        .await;
    assert_eq!(json.status, 200, "{}", json.html);
    assert!(
        json.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let ok = verify(json.html.as_bytes(), &keys(&app)).unwrap();
    assert_eq!(ok.account_no, ZHANG.account);
    let mut edited = json.html.clone().into_bytes();
    let at = edited.len() / 3;
    edited[at] = if edited[at] == b'1' { b'2' } else { b'1' };
    assert!(verify(&edited, &keys(&app)).is_err());

    let csv = browser
        .post("/security/record/download?format=csv", &[("csrf", &csrf)])
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.html.contains("登录"), "{}", csv.html);
    assert!(
        csv.html
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("integrity,")
    );

    let print = browser.get("/security/record/print").await;
    assert_eq!(print.status, 200, "{}", print.html);
    assert!(print.html.contains(ZHANG.account));
    let code_start = print.html.find("<code>").unwrap() + "<code>".len();
    let code_end = print.html[code_start..].find("</code>").unwrap() + code_start;
    assert_eq!(
        print.html[code_start..code_end].split('.').count(),
        3,
        "a compact JWS"
    );

    let bad = browser
        .post("/security/record/download?format=xlsx", &[("csrf", &csrf)])
        .await;
    assert_eq!(bad.status, 404);
}
