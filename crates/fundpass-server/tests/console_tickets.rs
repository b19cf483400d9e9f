//! How many tickets a member may hold and who may let one out: a new ticket closes
//! the member's older ones, an approval is good for a day and for the risks it saw,
//! two accounts of one person are one pair of eyes, and the hotline sends a member
//! with a recent reset to a counter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{Staff, add_staff, add_staff_holding, redeemed, registered, ticket_on, visit};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::ports::CaseStore as _;
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, CHEN, Page, ZHANG};

const NOT_VALID: &str = "凭证与该证件不符、已使用或已过期。";

async fn logged_in<'a>(app: &'a TestApp, ip: &str, staff: &Staff) -> Browser<'a> {
    let browser = Browser::from_ip(app, ip);
    browser.staff_login(staff).await;
    browser
}

async fn post(browser: &Browser<'_>, path: &str, fields: &[(&str, String)]) -> Page {
    let page = browser.get("/staff").await;
    browser.staff_post(&page, path, fields).await
}

/// Opens a case for ZHANG that waits for a supervisor (a second reset within 30
/// days); its id.
async fn waiting_case(app: &TestApp, counter: &Browser<'_>) -> String {
    let (at, _) = counter.member_page(&ZHANG).await;
    let first = counter.open_case(&at, &visit(&ZHANG, "login")).await;
    let ticket = ticket_on(&first).expect("the first reset needs no approval");
    let pad = Browser::from_ip(app, "10.1.7.7");
    assert!(redeemed(
        &pad.redeem("/counter/pinpad", &ticket, &ZHANG).await
    ));
    let (at, _) = counter.member_page(&ZHANG).await;
    let opened = counter.open_case(&at, &visit(&ZHANG, "login")).await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    let case = opened
        .location()
        .unwrap()
        .strip_prefix("/staff/cases/")
        .unwrap();
    case.to_owned()
}

#[tokio::test]
async fn a_new_ticket_closes_the_members_older_one() {
    let app = TestApp::spawn().await;
    let member = registered(&app, &ZHANG).await;
    let clerk = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let other = add_staff(&app, "li.na", StaffRole::Counter).await;
    let (first_desk, second_desk) = (
        logged_in(&app, "10.1.2.3", &clerk).await,
        logged_in(&app, "10.1.2.4", &other).await,
    );
    // Two counters open a low-risk case for the same member side by side.
    let (at, _) = first_desk.member_page(&ZHANG).await;
    let first = ticket_on(&first_desk.open_case(&at, &visit(&ZHANG, "login")).await).unwrap();
    let (at, _) = second_desk.member_page(&ZHANG).await;
    let second = ticket_on(&second_desk.open_case(&at, &visit(&ZHANG, "login")).await).unwrap();

    let pad = Browser::from_ip(&app, "10.1.7.7");
    let old = pad.check_ticket("/counter/pinpad", &first, &ZHANG).await;
    assert!(old.html.contains(NOT_VALID), "{}", old.html);
    assert!(redeemed(
        &pad.redeem("/counter/pinpad", &second, &ZHANG).await
    ));
    let closed = app.store.issued_cases_of(member).await.unwrap();
    assert!(closed.is_empty(), "no ticket is out any more: {closed:?}");
}

#[tokio::test]
async fn an_approval_older_than_a_day_goes_back_to_a_supervisor() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let clerk = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let boss = add_staff(&app, "zhou.min", StaffRole::Supervisor).await;
    let counter = logged_in(&app, "10.1.2.3", &clerk).await;
    let case = waiting_case(&app, &counter).await;
    let supervisor = logged_in(&app, "10.1.9.9", &boss).await;
    post(
        &supervisor,
        &format!("/staff/cases/{case}/decide"),
        &[("decision", "approve".to_owned())],
    )
    .await
    .assert_redirect("/staff/approvals");

    app.clock.advance(time::Duration::hours(25));
    let counter = logged_in(&app, "10.1.2.3", &clerk).await;
    let issue = post(&counter, &format!("/staff/cases/{case}/issue"), &[]).await;
    issue.assert_redirect(&format!("/staff/cases/{case}"));
    assert!(ticket_on(&issue).is_none());
    let stored = app.store.case_by_id(&case).await.unwrap().unwrap();
    assert_eq!(stored.status, CaseStatus::AwaitingApproval);
    assert_eq!(stored.approved_by, None);
}

#[tokio::test]
async fn one_person_with_a_counter_and_a_supervisor_account_cannot_approve_their_case() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    registered(&app, &CHEN).await;
    // Both accounts belong to the holder of CHEN's document.
    let clerk = add_staff_holding(&app, "wang.li", StaffRole::Counter, Some(&CHEN)).await;
    let same = add_staff_holding(&app, "wang.boss", StaffRole::Supervisor, Some(&CHEN)).await;
    let counter = logged_in(&app, "10.1.2.3", &clerk).await;
    let case = waiting_case(&app, &counter).await;
    let supervisor = logged_in(&app, "10.1.9.9", &same).await;
    let refused = post(
        &supervisor,
        &format!("/staff/cases/{case}/decide"),
        &[("decision", "approve".to_owned())],
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(refused.html.contains("业务须由受理人以外的人员审批。"));
    let stored = app.store.case_by_id(&case).await.unwrap().unwrap();
    assert_eq!(stored.status, CaseStatus::AwaitingApproval);
}

#[tokio::test]
async fn the_hotline_sends_a_member_with_a_recent_reset_to_a_counter() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let clerk = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let counter = logged_in(&app, "10.1.2.3", &clerk).await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let ticket = ticket_on(&counter.open_case(&at, &visit(&ZHANG, "login")).await).unwrap();
    let pad = Browser::from_ip(&app, "10.1.7.7");
    assert!(redeemed(
        &pad.redeem("/counter/pinpad", &ticket, &ZHANG).await
    ));

    let agent_account = add_staff(&app, "zhao.hotline", StaffRole::Hotline).await;
    let agent = logged_in(&app, "10.2.0.1", &agent_account).await;
    let (at, _) = agent.member_page(&ZHANG).await;
    let check = agent.run_checklist(&at, ZHANG.name, ZHANG.phone, &[]).await;
    assert!(
        check.html.contains("/send\""),
        "the checklist passed: {}",
        check.html
    );
    let id = check.html.split("/staff/checks/").nth(1).unwrap();
    let id: String = id.chars().take(32).collect();
    let texts = app.sms_to(ZHANG.phone).await.len();
    let refused = post(
        &agent,
        &format!("/staff/checks/{id}/send"),
        &[("scope", "transaction".to_owned())],
    )
    .await;
    assert!(
        refused.html.contains("须持证件原件到柜台办理"),
        "{}",
        refused.html
    );
    assert_eq!(
        app.sms_to(ZHANG.phone).await.len(),
        texts,
        "no code was sent"
    );
}
