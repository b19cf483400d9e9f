//! A new phone on file at the counter, after the in-person check: the old phone is
//! told, a 72-hour hold follows, every session ends, and codes go to the new phone.
//! (The phone change in the app: api_phone.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    add_staff, assert_no_identity_in, last_case_id, registered, texts_with, ticket_on, visit, with,
};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::member::HoldReason;
use fundpass_core::ports::{CaseStore as _, HoldStore as _};
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, ZHANG};

const NEW_PHONE: &str = "13900001111";

/// The counter form for a phone change alone, the new number typed as `first` and
/// `again`.
fn new_phone(first: &str, again: &str) -> Vec<(&'static str, String)> {
    with(
        with(visit(&ZHANG, ""), "new_phone", first),
        "new_phone_again",
        again,
    )
}

#[tokio::test]
async fn a_phone_changed_at_the_counter_tells_the_old_phone_and_places_a_hold() {
    let app = TestApp::spawn().await;
    let member = registered(&app, &ZHANG).await;
    let counter = Browser::from_ip(&app, "10.1.2.3");
    counter
        .staff_login(&add_staff(&app, "wang.li", StaffRole::Counter).await)
        .await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let member_browser = Browser::from_ip(&app, "198.51.100.20");
    member_browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");

    let typo = counter
        .open_case(&at, &new_phone(NEW_PHONE, "13900001112"))
        .await;
    assert!(
        typo.html.contains("两次输入的新手机号不一致。"),
        "{}",
        typo.html
    );
    let same = counter
        .open_case(&at, &new_phone(ZHANG.phone, ZHANG.phone))
        .await;
    assert!(
        same.html.contains("该号码已是预留手机号。"),
        "{}",
        same.html
    );
    assert_eq!(app.count_rows("assisted_cases").await, 0);

    let receipt = counter
        .open_case(&at, &new_phone(NEW_PHONE, NEW_PHONE))
        .await;
    assert!(
        receipt.html.contains("预留手机号已变更，已通知原手机号。"),
        "{}",
        receipt.html
    );
    assert!(ticket_on(&receipt).is_none() && !receipt.html.contains(NEW_PHONE));
    assert_eq!(
        texts_with(&app, ZHANG.phone, "通过柜台变更为139****1111").await,
        1,
        "the old phone is told"
    );
    assert!(app.sms_to(NEW_PHONE).await.is_empty());
    let holds = app
        .store
        .active_holds(member, app.clock_now())
        .await
        .unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(
        (holds[0].reason, holds[0].until - holds[0].created_at),
        (HoldReason::PhoneChange, time::Duration::hours(72))
    );
    member_browser.get("/home").await.assert_redirect("/login");
    let (_, page) = counter.member_page(&ZHANG).await;
    assert!(page.html.contains("139****1111"), "{}", page.html);
    let case = app.store.case_by_id(&last_case_id(&app).await).await;
    assert_eq!(case.unwrap().unwrap().status, CaseStatus::Closed);

    // The member's next code goes to the new phone.
    member_browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let phone_step = member_browser.transaction_identify(&ZHANG).await;
    let sent = member_browser
        .transaction_phone(&phone_step, NEW_PHONE)
        .await;
    assert!(sent.html.contains("验证码已发送"), "{}", sent.html);
    assert_eq!(app.last_code_to(NEW_PHONE).await.len(), 6);

    let events = app.audit_events().await;
    assert_no_identity_in(&events, &ZHANG);
    for event in &events {
        let text = serde_json::to_string(event).unwrap();
        assert!(!text.contains(NEW_PHONE), "{text}");
    }
}
