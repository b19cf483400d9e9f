//! A reset at the counter: the member is looked up (masked), their original card is
//! checked against the record, a one-time ticket is printed once, and the member
//! sets new secrets on the PIN-pad page with their own document. The ticket is good
//! once, for a day, and closes after five wrong documents. (A new phone on file at
//! the counter: console_phone.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, add_staff, assert_no_identity_in, events_of,
    holds_a_ticket, last_case_id, logs_in, redeemed, registered, texts_with, ticket_on, visit,
    with,
};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::audit::{Channel, Outcome};
use fundpass_core::member::{HoldReason, MemberId};
use fundpass_core::ports::{CaseStore as _, HoldStore as _};
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, CHEN, LOGIN_PASSWORD, Page, ZHANG};

const NOT_VALID: &str = "凭证与该证件不符、已使用或已过期。";

/// A registered ZHANG, a logged-in counter clerk at 10.1.2.3 and ZHANG's console
/// address in the clerk's session (found by looking the document up).
async fn counter_with_member(app: &TestApp) -> (Browser<'_>, MemberId, String) {
    let member = registered(app, &ZHANG).await;
    let staff = add_staff(app, "wang.li", StaffRole::Counter).await;
    let counter = Browser::from_ip(app, "10.1.2.3");
    counter.staff_login(&staff).await;
    let (address, _) = counter.member_page(&ZHANG).await;
    (counter, member, address)
}

/// Opens a case for `scope` and returns the receipt's ticket.
async fn issued(counter: &Browser<'_>, member: &str, scope: &str) -> String {
    let receipt = counter.open_case(member, &visit(&ZHANG, scope)).await;
    assert_eq!(receipt.status, 200, "{}", receipt.html);
    ticket_on(&receipt).expect("no ticket on the receipt")
}

/// The PIN-pad screen beside the counter: a browser with no staff cookie.
fn pin_pad(app: &TestApp) -> Browser<'_> {
    Browser::from_ip(app, "10.1.2.3")
}

#[track_caller]
fn assert_masked(page: &Page) {
    for full in [ZHANG.id_number, ZHANG.phone] {
        assert!(
            !page.html.contains(full),
            "{full} on the page: {}",
            page.html
        );
    }
}

#[tokio::test]
async fn a_counter_ticket_is_redeemed_once_on_the_pin_pad() {
    let app = TestApp::spawn().await;
    let (counter, member, at) = counter_with_member(&app).await;

    let (found, page) = counter.member_page(&ZHANG).await;
    assert_eq!(found, at);
    assert!(at.starts_with(&format!("{}-", member.0)), "{at}");
    assert!(page.html.contains("138****5678") && page.html.contains("110105********1239"));
    assert_masked(&page);

    let receipt = counter.open_case(&at, &visit(&ZHANG, "both")).await;
    assert_eq!(receipt.status, 200, "{}", receipt.html);
    let ticket = ticket_on(&receipt).expect("no ticket on the receipt");
    assert_masked(&receipt);
    let case = last_case_id(&app).await;
    let case_page = counter.get(&format!("/staff/cases/{case}")).await;
    assert_eq!(case_page.status, 200, "{}", case_page.html);
    assert!(case_page.html.contains("已出具凭证"), "{}", case_page.html);
    assert_masked(&case_page);
    assert!(!case_page.html.contains(&ticket) && !holds_a_ticket(&case_page.html));
    assert_eq!(
        texts_with(&app, ZHANG.phone, "柜台为您办理了登录密码和交易密码重置").await,
        1
    );
    let texts = app.sms_to(ZHANG.phone).await;
    assert!(
        !texts.iter().any(|t| holds_a_ticket(t)),
        "the ticket was not asked to be texted: {texts:?}"
    );

    // The PIN pad is a member page: no staff cookie, no staff bar, none set.
    let pad = pin_pad(&app);
    let form = pad.get("/counter/pinpad").await;
    assert!(!form.html.contains("staff-bar") && !form.html.contains("wang.li"));
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(
        checked.html.contains("name=\"login_password\"")
            && checked.html.contains("name=\"transaction_password\""),
        "{}",
        checked.html
    );
    let done = pad
        .new_secrets(
            "/counter/pinpad",
            &checked,
            NEW_LOGIN_PASSWORD,
            NEW_TRANSACTION_PASSWORD,
        )
        .await;
    assert!(redeemed(&done), "{}", done.html);
    for page in [&form, &checked, &done] {
        assert!(page.set_cookie("fundpass_staff").is_none());
    }
    let in_staff_browser = counter.get("/counter/pinpad").await;
    assert!(!in_staff_browser.html.contains("staff-bar"));
    assert!(in_staff_browser.set_cookie("fundpass_staff").is_none());

    assert!(!logs_in(&app, &ZHANG, LOGIN_PASSWORD).await);
    assert!(logs_in(&app, &ZHANG, NEW_LOGIN_PASSWORD).await);
    let mut holds: Vec<_> = app
        .store
        .active_holds(member, app.clock_now())
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.reason, h.channel))
        .collect();
    holds.sort_by_key(|(r, _)| r.code());
    assert_eq!(
        holds,
        [
            (HoldReason::LoginReset, Channel::Counter),
            (HoldReason::TransactionReset, Channel::Counter)
        ]
    );
    assert_eq!(
        texts_with(&app, ZHANG.phone, "通过柜台重置，所有已登录的设备已退出").await,
        1
    );
    assert_eq!(
        texts_with(&app, ZHANG.phone, "您的登录密码和交易密码已于").await,
        1
    );

    let again = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(again.html.contains(NOT_VALID), "{}", again.html);
    let case_page = counter.get(&format!("/staff/cases/{case}")).await;
    assert!(case_page.html.contains("凭证已使用"), "{}", case_page.html);
    for page in [&receipt, &case_page] {
        for secret in [NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD] {
            assert!(!page.html.contains(secret));
        }
    }
    assert!(!case_page.html.contains(&ticket));

    let events = app.audit_events().await;
    for action in [
        "staff.look_up_member",
        "counter.open_case",
        "counter.issue_ticket",
        "recovery.ticket.check",
        "recovery.ticket.redeem",
    ] {
        assert!(
            events_of(&events, action)
                .iter()
                .any(|e| e.outcome == Outcome::Success && e.member_id == Some(member)),
            "no successful {action}"
        );
    }
    assert_no_identity_in(&events, &ZHANG);
    for event in &events {
        let text = serde_json::to_string(event).unwrap();
        for secret in [&ticket, NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn the_card_must_be_the_members_own_and_still_good() {
    let app = TestApp::spawn().await;
    let (counter, _, at) = counter_with_member(&app).await;
    let texts_before = app.sms_to(ZHANG.phone).await.len();

    let someone_else = with(visit(&ZHANG, "login"), "card_id_number", CHEN.id_number);
    let refused = counter.open_case(&at, &someone_else).await;
    assert!(
        refused.html.contains("证件原件与记录不一致，请停止办理。"),
        "{}",
        refused.html
    );
    let expired = with(visit(&ZHANG, "login"), "card_expiry", "2026-11-22");
    let refused_too = counter.open_case(&at, &expired).await;
    assert!(
        refused_too.html.contains("证件已过期，不能受理。"),
        "{}",
        refused_too.html
    );
    for page in [&refused, &refused_too] {
        assert!(ticket_on(page).is_none() && !holds_a_ticket(&page.html));
    }
    assert_eq!(app.count_rows("assisted_cases").await, 0);
    assert_eq!(app.sms_to(ZHANG.phone).await.len(), texts_before);
    let events = app.audit_events().await;
    let reasons: Vec<_> = events_of(&events, "counter.open_case")
        .iter()
        .map(|e| (e.outcome, e.details["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        reasons,
        [
            (Outcome::Failure, "card_mismatch".to_owned()),
            (Outcome::Failure, "card_expired".to_owned())
        ]
    );

    // The same visit with the right, long-term card goes through.
    let long_term = with(
        with(visit(&ZHANG, "login"), "card_expiry", ""),
        "card_long_term",
        "1",
    );
    let page = counter.get(&format!("/staff/members/{at}")).await;
    let form = with(long_term, "send_sms", "1");
    let receipt = counter.post_counter_form(&page, &at, &form).await;
    let ticket = ticket_on(&receipt).expect("no ticket on the receipt");
    assert!(receipt.html.contains("长期"), "{}", receipt.html);
    assert!(
        receipt.html.contains("凭证已同时以短信发送到预留手机号。"),
        "{}",
        receipt.html
    );
    assert_eq!(
        texts_with(&app, ZHANG.phone, &ticket).await,
        1,
        "texted as asked"
    );
    // A reload posts the same form again: the case it opened, and no second ticket.
    let reload = counter.post_counter_form(&page, &at, &form).await;
    assert_eq!(reload.status, 303, "{}", reload.html);
    let case_page = counter.follow(reload).await;
    assert!(case_page.html.contains("已出具凭证"), "{}", case_page.html);
    assert!(!case_page.html.contains(&ticket) && ticket_on(&case_page).is_none());
    assert_eq!(app.count_rows("assisted_cases").await, 1);
    assert_eq!(texts_with(&app, ZHANG.phone, "重置凭证为").await, 1);
}

#[tokio::test]
async fn five_wrong_documents_close_a_ticket() {
    let app = TestApp::spawn().await;
    let (counter, _, at) = counter_with_member(&app).await;
    let ticket = issued(&counter, &at, "login").await;
    let case = last_case_id(&app).await;
    let pad = pin_pad(&app);

    for _ in 0..4 {
        let wrong = pad.check_ticket("/counter/pinpad", &ticket, &CHEN).await;
        assert!(wrong.html.contains(NOT_VALID), "{}", wrong.html);
    }
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(
        checked.html.contains("name=\"login_password\"")
            && !checked.html.contains("name=\"transaction_password\""),
        "a login-only ticket: {}",
        checked.html
    );
    let fifth = pad.check_ticket("/counter/pinpad", &ticket, &CHEN).await;
    assert!(fifth.html.contains(NOT_VALID), "{}", fifth.html);
    let stored = app.store.case_by_id(&case).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.wrong_tries), (CaseStatus::Closed, 5));

    let right = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(right.html.contains(NOT_VALID), "{}", right.html);
    let late = pad
        .new_secrets("/counter/pinpad", &checked, NEW_LOGIN_PASSWORD, "")
        .await;
    assert!(!redeemed(&late), "{}", late.html);
    assert!(
        late.html.contains("此步骤已过期，请重新输入凭证。"),
        "{}",
        late.html
    );
    assert!(logs_in(&app, &ZHANG, LOGIN_PASSWORD).await);
}

#[tokio::test]
async fn a_counter_ticket_runs_out_after_a_day() {
    let app = TestApp::spawn().await;
    let (counter, _, at) = counter_with_member(&app).await;
    let ticket = issued(&counter, &at, "transaction").await;
    let pad = pin_pad(&app);

    app.clock
        .advance(time::Duration::hours(24) - time::Duration::minutes(1));
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(
        checked.html.contains("name=\"transaction_password\"")
            && !checked.html.contains("name=\"login_password\""),
        "{}",
        checked.html
    );
    app.clock.advance(time::Duration::minutes(1));
    let late = pad
        .new_secrets("/counter/pinpad", &checked, "", NEW_TRANSACTION_PASSWORD)
        .await;
    assert!(!redeemed(&late), "{}", late.html);
    let expired = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(expired.html.contains(NOT_VALID), "{}", expired.html);
    let online = Browser::new(&app)
        .check_ticket("/ticket", &ticket, &ZHANG)
        .await;
    assert!(online.html.contains(NOT_VALID), "{}", online.html);
}

#[tokio::test]
async fn new_secrets_that_break_the_rules_are_refused_and_never_shown_back() {
    let app = TestApp::spawn().await;
    let (counter, _, at) = counter_with_member(&app).await;
    let ticket = issued(&counter, &at, "transaction").await;
    let pad = pin_pad(&app);
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;

    let weak = pad
        .new_secrets("/counter/pinpad", &checked, "", "900307")
        .await;
    assert!(!redeemed(&weak), "{}", weak.html);
    assert!(
        weak.html.contains("id=\"transaction_password-error\""),
        "{}",
        weak.html
    );
    assert!(
        !weak.html.contains("900307"),
        "the typed secret is not shown back: {}",
        weak.html
    );
    let done = pad
        .new_secrets("/counter/pinpad", &weak, "", NEW_TRANSACTION_PASSWORD)
        .await;
    assert!(
        redeemed(&done),
        "the same redemption goes on: {}",
        done.html
    );
}
