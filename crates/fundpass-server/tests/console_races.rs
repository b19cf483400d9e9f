//! A ticket is redeemed once even when two redemptions race: the same redemption
//! posted twice at once, or the ticket checked twice and both finished at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    add_staff, events_of, last_case_id, logs_in, redeemed, registered, texts_with, ticket_on, visit,
};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::audit::Outcome;
use fundpass_core::member::{HoldReason, MemberId};
use fundpass_core::ports::{CaseStore as _, HoldStore as _};
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, ZHANG};

const FIRST: &str = "Harbour77sunrise";
const SECOND: &str = "Meadow58lantern";

/// ZHANG registered, and a login ticket issued for them at the counter.
async fn ticket_for_zhang(app: &TestApp) -> (MemberId, String) {
    let member = registered(app, &ZHANG).await;
    let counter = Browser::from_ip(app, "10.1.2.3");
    counter
        .staff_login(&add_staff(app, "wang.li", StaffRole::Counter).await)
        .await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let receipt = counter.open_case(&at, &visit(&ZHANG, "login")).await;
    (member, ticket_on(&receipt).expect("no ticket"))
}

/// Exactly one of the two passwords logs in, exactly one reset happened.
async fn assert_reset_once(app: &TestApp, member: MemberId) {
    let first = logs_in(app, &ZHANG, FIRST).await;
    let second = logs_in(app, &ZHANG, SECOND).await;
    assert!(first ^ second, "first: {first}, second: {second}");
    assert!(!logs_in(app, &ZHANG, LOGIN_PASSWORD).await);
    let holds = app
        .store
        .active_holds(member, app.clock_now())
        .await
        .unwrap();
    let resets = holds
        .iter()
        .filter(|h| h.reason == HoldReason::LoginReset)
        .count();
    assert_eq!(resets, 1, "{holds:?}");
    assert_eq!(texts_with(app, ZHANG.phone, "通过柜台重置").await, 1);
    let events = app.audit_events().await;
    let redeemed = events_of(&events, "recovery.ticket.redeem")
        .iter()
        .filter(|e| e.outcome == Outcome::Success)
        .count();
    assert_eq!(redeemed, 1);
    let case = app
        .store
        .case_by_id(&last_case_id(app).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.status, CaseStatus::Redeemed);
}

#[tokio::test]
async fn one_redemption_posted_twice_at_once_succeeds_once() {
    let app = TestApp::spawn().await;
    let (member, ticket) = ticket_for_zhang(&app).await;
    let pad = Browser::from_ip(&app, "10.1.2.3");
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    assert!(
        checked.html.contains("name=\"redemption\""),
        "{}",
        checked.html
    );

    let (a, b) = tokio::join!(
        pad.new_secrets("/counter/pinpad", &checked, FIRST, ""),
        pad.new_secrets("/counter/pinpad", &checked, SECOND, ""),
    );
    assert!(
        redeemed(&a) ^ redeemed(&b),
        "exactly one succeeds:\n{}\n{}",
        a.html,
        b.html
    );
    assert_reset_once(&app, member).await;
}

#[tokio::test]
async fn a_ticket_checked_twice_and_finished_twice_at_once_succeeds_once() {
    let app = TestApp::spawn().await;
    let (member, ticket) = ticket_for_zhang(&app).await;
    let (pad, online) = (
        Browser::from_ip(&app, "10.1.2.3"),
        Browser::from_ip(&app, "198.51.100.20"),
    );

    let (at_pad, at_home) = tokio::join!(
        pad.check_ticket("/counter/pinpad", &ticket, &ZHANG),
        online.check_ticket("/ticket", &ticket, &ZHANG),
    );
    // Checked at once, at most one check may lose the race; check again if so.
    let at_pad = if at_pad.field("redemption").is_some() {
        at_pad
    } else {
        pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await
    };
    let at_home = if at_home.field("redemption").is_some() {
        at_home
    } else {
        online.check_ticket("/ticket", &ticket, &ZHANG).await
    };
    assert!(at_pad.field("redemption").is_some() && at_home.field("redemption").is_some());

    let (a, b) = tokio::join!(
        pad.new_secrets("/counter/pinpad", &at_pad, FIRST, ""),
        online.new_secrets("/ticket", &at_home, SECOND, ""),
    );
    assert!(
        redeemed(&a) ^ redeemed(&b),
        "exactly one succeeds:\n{}\n{}",
        a.html,
        b.html
    );
    assert_reset_once(&app, member).await;
}
