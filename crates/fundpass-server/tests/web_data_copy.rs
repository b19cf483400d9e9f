//! A copy of one's personal information on the portal (`/security/my-data`): a form
//! asking for the login password, whose answer is the download itself. The full
//! document number and phone are in the download only, never on a page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod web_common;

use serde_json::Value;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, Page, ZHANG};

const FORM: &str = "/security/my-data";
const WRONG_LOGIN: &str = "Lantern42rivers";
const ACTION: &str = "member.data_copy";

/// Fills in and posts the form with `password`.
async fn request_copy(browser: &Browser<'_>, password: &str) -> Page {
    let form = browser.get(FORM).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let csrf = form.field("csrf").unwrap();
    browser
        .post(FORM, &[("csrf", &csrf), ("password", password)])
        .await
}

/// `page` is no download and shows neither the full document number nor the phone.
#[track_caller]
fn not_a_copy(page: &Page) {
    assert!(page.header("content-disposition").is_none(), "{page:?}");
    assert!(
        !page.html.contains(ZHANG.id_number) && !page.html.contains(ZHANG.phone),
        "{}",
        page.html
    );
}

/// Whether a copy was given (audited as one).
async fn copies_given(app: &TestApp) -> usize {
    app.audit_events()
        .await
        .iter()
        .filter(|e| e.action == ACTION && e.outcome == fundpass_core::audit::Outcome::Success)
        .count()
}

#[tokio::test]
async fn the_form_page_asks_for_the_login_password_and_never_shows_the_full_document_or_phone() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let menu = browser.get("/security").await;
    assert!(
        menu.html.contains("href=\"/security/my-data\""),
        "{}",
        menu.html
    );

    let form = browser.get(FORM).await;
    assert_eq!(form.status, 200);
    assert!(form.html.contains("name=\"password\""), "{}", form.html);
    assert!(form.field("csrf").is_some());
    not_a_copy(&form);
    let refused = request_copy(&browser, WRONG_LOGIN).await;
    not_a_copy(&refused);
    assert!(refused.html.contains("name=\"password\""));
    assert!(!refused.html.contains(WRONG_LOGIN));
}

#[tokio::test]
async fn without_the_password_or_with_a_wrong_one_nothing_is_downloaded_and_the_fifth_locks_and_ends_the_session()
 {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let empty = request_copy(&browser, "").await;
    assert_eq!(empty.status, 200, "{}", empty.html);
    assert!(empty.html.contains("再错 4 次"), "{}", empty.html);
    not_a_copy(&empty);
    for remaining in [3, 2, 1] {
        let wrong = request_copy(&browser, WRONG_LOGIN).await;
        let expected = format!("再错 {remaining} 次");
        assert!(wrong.html.contains(&expected), "{}", wrong.html);
        not_a_copy(&wrong);
    }
    let fifth = request_copy(&browser, WRONG_LOGIN).await;
    not_a_copy(&fifth);
    assert!(fifth.html.contains("账户已锁定至 10:15"), "{}", fifth.html);
    assert!(
        fifth
            .set_cookie("fundpass_session")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "{:?}",
        fifth.set_cookies()
    );
    browser.get("/home").await.assert_redirect("/login");
    let again = Browser::from_ip(&app, "198.51.100.9");
    let locked = again.login(&ZHANG, LOGIN_PASSWORD).await;
    assert_eq!(locked.status, 200, "the login page refuses");
    assert!(locked.html.contains("请于 10:15 后再试"), "{}", locked.html);
    assert_eq!(copies_given(&app).await, 0);
}

#[tokio::test]
async fn the_right_password_downloads_the_complete_copy_with_the_full_document_and_phone() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;

    let download = request_copy(&browser, LOGIN_PASSWORD).await;
    assert_eq!(download.status, 200, "{}", download.html);
    let disposition = download.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"fundpass-my-data-"),
        "{disposition}"
    );
    assert_eq!(download.header("cache-control"), Some("no-store"));
    let doc: Value = serde_json::from_str(&download.html).unwrap();
    assert_eq!(doc["name"], ZHANG.name);
    assert_eq!(doc["id_type"], "resident_id");
    assert_eq!(doc["id_number"], ZHANG.id_number);
    assert_eq!(doc["phone"], ZHANG.phone);
    assert_eq!(doc["account_no"], ZHANG.account);
    assert_eq!(doc["status"], "registered");
    for field in [
        "registered_at",
        "login_password_set_at",
        "imported_at",
        "exported_at",
    ] {
        assert!(doc[field].is_string(), "{field} in {doc}");
    }
    assert!(doc["security_questions"].is_array());
    assert!(doc["holds"].is_array());
    assert!(
        doc["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["current"] == true && s["channel"] == "web"),
        "{doc}"
    );
    assert_eq!(
        browser.get("/home").await.status,
        200,
        "the session goes on"
    );
}

#[tokio::test]
async fn the_copy_is_audited_without_the_document_or_phone_and_texted_to_the_phone_on_file() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    assert_eq!(request_copy(&browser, LOGIN_PASSWORD).await.status, 200);

    assert_eq!(copies_given(&app).await, 1);
    for event in app.audit_events().await {
        let text = serde_json::to_string(&event).unwrap();
        for leak in [ZHANG.id_number, ZHANG.phone, LOGIN_PASSWORD] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
    let texts = app.sms_to(ZHANG.phone).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("下载了个人信息副本") && t.contains("12329")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_copy_request_without_the_csrf_token_is_refused_and_counts_nothing() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let anonymous = Browser::new(&app)
        .get("/login")
        .await
        .field("csrf")
        .unwrap();

    for csrf in ["", "x", anonymous.as_str()] {
        let refused = browser
            .post(FORM, &[("csrf", csrf), ("password", LOGIN_PASSWORD)])
            .await;
        assert_eq!(refused.status, 403, "{}", refused.html);
        not_a_copy(&refused);
    }
    let missing = browser.post(FORM, &[("password", LOGIN_PASSWORD)]).await;
    assert_eq!(missing.status, 403, "{}", missing.html);
    not_a_copy(&missing);
    assert_eq!(copies_given(&app).await, 0);
    assert!(
        !app.audit_events().await.iter().any(|e| e.action == ACTION),
        "nothing checked, nothing counted"
    );
    assert!(
        !app.sms_to(ZHANG.phone)
            .await
            .iter()
            .any(|t| t.contains("个人信息副本"))
    );
}
