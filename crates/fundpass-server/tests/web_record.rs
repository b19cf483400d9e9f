//! The member's security record page, `/security/record`: a counter reset shows with
//! the branch's name and never the clerk's, a supervisor's reveal of the full document
//! shows, and the page shows no full document, phone or address.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, add_staff, registered, ticket_on, visit,
};
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, Page, ZHANG};

/// ZHANG's record page, logged in from a fresh browser with `password`.
async fn record_page<'a>(app: &'a TestApp, password: &str, query: &str) -> (Browser<'a>, Page) {
    let browser = Browser::from_ip(app, "198.51.100.20");
    let login = browser.login(&ZHANG, password).await;
    assert_eq!(login.location(), Some("/home"), "{}", login.html);
    let page = browser.get(&format!("/security/record{query}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    (browser, page)
}

#[track_caller]
fn assert_nothing_full(page: &Page) {
    for full in [
        ZHANG.id_number,
        ZHANG.phone,
        "198.51.100.20",
        "198.51.100.1",
        "10.1.2.3",
    ] {
        assert!(
            !page.html.contains(full),
            "{full} on the page: {}",
            page.html
        );
    }
}

#[tokio::test]
async fn a_counter_reset_shows_on_the_record_with_the_branch_and_no_staff_name() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let counter = Browser::from_ip(&app, "10.1.2.3");
    counter.staff_login(&staff).await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let receipt = counter.open_case(&at, &visit(&ZHANG, "both")).await;
    let ticket = ticket_on(&receipt).expect("no ticket on the receipt");
    let pad = Browser::from_ip(&app, "10.1.2.3");
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    pad.new_secrets(
        "/counter/pinpad",
        &checked,
        NEW_LOGIN_PASSWORD,
        NEW_TRANSACTION_PASSWORD,
    )
    .await;

    let (_, page) = record_page(&app, NEW_LOGIN_PASSWORD, "").await;
    assert!(page.html.contains("柜台 (东城管理部)"), "{}", page.html);
    assert!(page.html.contains("工作人员操作"), "{}", page.html);
    assert!(page.html.contains("找回密码"), "{}", page.html);
    assert!(page.html.contains("工作人员岗位: 柜台"), "{}", page.html);
    for name in ["wang.li", "测试wang.li"] {
        assert!(
            !page.html.contains(name),
            "{name} on the page: {}",
            page.html
        );
    }
    assert_nothing_full(&page);
}

#[tokio::test]
async fn a_supervisors_reveal_shows_on_the_record() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let staff = add_staff(&app, "zhou.min", StaffRole::Supervisor).await;
    let supervisor = Browser::from_ip(&app, "10.1.9.9");
    supervisor.staff_login(&staff).await;
    let (at, page) = supervisor.member_page(&ZHANG).await;
    let reveal = format!("/staff/members/{at}/reveal");
    // The audited reveal shows both numbers to the supervisor by design.
    app.allow_full_identity_on("POST", &reveal);
    let shown = supervisor
        .staff_post(
            &page,
            &reveal,
            &[("reason", "核对柜台业务 F-2026-0001".to_owned())],
        )
        .await;
    assert!(shown.html.contains(ZHANG.id_number), "{}", shown.html);

    let (_, page) = record_page(&app, LOGIN_PASSWORD, "?kind=staff_reveal").await;
    assert!(
        page.html.contains("工作人员查看完整证件号或手机号"),
        "{}",
        page.html
    );
    assert!(page.html.contains("工作人员岗位: 主管"), "{}", page.html);
    assert!(!page.html.contains("zhou.min"), "{}", page.html);
    assert_eq!(
        page.html.matches("<tr id=\"event-").count(),
        1,
        "{}",
        page.html
    );
    assert_nothing_full(&page);
}

#[tokio::test]
async fn the_record_page_filters_by_kind_and_pages_to_older_events() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    for i in 0..30 {
        app.clock.advance(time::Duration::minutes(10));
        let browser = Browser::from_ip(&app, &format!("198.51.100.{}", 100 + i));
        browser.login(&ZHANG, "Wrong7password1").await;
        let ok = browser.login(&ZHANG, LOGIN_PASSWORD).await;
        assert_eq!(ok.location(), Some("/home"), "{}", ok.html);
    }
    let (browser, first) = record_page(&app, LOGIN_PASSWORD, "").await;
    assert_eq!(
        first.html.matches("<tr id=\"event-").count(),
        50,
        "{}",
        first.html
    );
    let older = first
        .html
        .split("href=\"/security/record?before=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an older link")
        .to_owned();
    let second = browser
        .get(&format!("/security/record?before={older}"))
        .await;
    assert!(second.html.contains("登录"), "{}", second.html);
    assert!(
        !second.html.contains("?before="),
        "the last page: {}",
        second.html
    );
    let total = first.html.matches("<tr id=\"event-").count()
        + second.html.matches("<tr id=\"event-").count();
    assert!(
        total > 60,
        "30 failed and 31 good logins and the registration: {total}"
    );

    let failed = browser.get("/security/record?kind=login_failed").await;
    assert_eq!(
        failed.html.matches("<tr id=\"event-").count(),
        30,
        "{}",
        failed.html
    );
    assert!(
        failed
            .html
            .contains("<option value=\"login_failed\" selected>")
    );
    assert_nothing_full(&failed);
}
