//! Four eyes at the counter: a high-risk case (another reset within 30 days, a hold in
//! force, or both secrets with a new phone) waits until a supervisor (another
//! account) approves it; only then may the counter that opened it issue the ticket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    NEW_LOGIN_PASSWORD, Staff, add_staff, events_of, redeemed, registered, staff_record,
    texts_with, ticket_on, visit, with,
};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::audit::Outcome;
use fundpass_core::ports::CaseStore as _;
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, Page, ZHANG};

const WRONG_STEP: &str = "该业务已不在此环节。";
const NEW_PHONE: &str = "13900001111";

/// Three logged-in staff: the counter clerk, another clerk and a supervisor.
struct Desk<'a> {
    counter: Browser<'a>,
    other_counter: Browser<'a>,
    supervisor: Browser<'a>,
    supervisor_account: Staff,
}

async fn desk(app: &TestApp) -> Desk<'_> {
    let login = |ip: &'static str, name: &'static str, role: StaffRole| async move {
        let staff = add_staff(app, name, role).await;
        let browser = Browser::from_ip(app, ip);
        browser.staff_login(&staff).await;
        (browser, staff)
    };
    let (counter, _) = login("10.1.2.3", "wang.li", StaffRole::Counter).await;
    let (other_counter, _) = login("10.1.2.4", "li.na", StaffRole::Counter).await;
    let (supervisor, supervisor_account) =
        login("10.1.9.9", "zhou.min", StaffRole::Supervisor).await;
    Desk {
        counter,
        other_counter,
        supervisor,
        supervisor_account,
    }
}

/// Opens a case that must wait; its id.
async fn waiting_case(
    counter: &Browser<'_>,
    member: &str,
    form: &[(&'static str, String)],
) -> String {
    let opened = counter.open_case(member, form).await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    let location = opened.location().unwrap();
    location.strip_prefix("/staff/cases/").unwrap().to_owned()
}

async fn status_of(app: &TestApp, case: &str) -> CaseStatus {
    app.store.case_by_id(case).await.unwrap().unwrap().status
}

async fn post(browser: &Browser<'_>, path: &str, fields: &[(&str, String)]) -> Page {
    let page = browser.get("/staff").await;
    browser.staff_post(&page, path, fields).await
}

fn approve() -> [(&'static str, String); 1] {
    [("decision", "approve".to_owned())]
}

#[tokio::test]
async fn a_second_reset_within_thirty_days_waits_for_a_supervisor() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let desk = desk(&app).await;
    let pad = Browser::from_ip(&app, "10.1.2.3");
    let (at, _) = desk.counter.member_page(&ZHANG).await;
    let first = desk.counter.open_case(&at, &visit(&ZHANG, "login")).await;
    let ticket = ticket_on(&first).expect("the first reset needs no approval");
    assert!(redeemed(
        &pad.redeem("/counter/pinpad", &ticket, &ZHANG).await
    ));

    let case = waiting_case(&desk.counter, &at, &visit(&ZHANG, "login")).await;
    let (issue, decide) = (
        format!("/staff/cases/{case}/issue"),
        format!("/staff/cases/{case}/decide"),
    );
    let page = desk.counter.get(&format!("/staff/cases/{case}")).await;
    for text in [
        "须经主管审批后方可出具凭证",
        "等待主管审批",
        "30天内已重置过",
        "保护期生效中",
    ] {
        assert!(page.html.contains(text), "{text}: {}", page.html);
    }
    assert!(!page.html.contains(&issue) && !page.html.contains(&decide));

    let early = post(&desk.counter, &issue, &[]).await;
    assert!(early.html.contains(WRONG_STEP) && ticket_on(&early).is_none());
    let own = post(&desk.counter, &decide, &approve()).await;
    assert_eq!(own.status, 403, "{}", own.html);
    assert_eq!(
        desk.other_counter
            .get(&format!("/staff/cases/{case}"))
            .await
            .status,
        403
    );
    for path in [&decide, &issue] {
        let refused = post(&desk.other_counter, path, &approve()).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.html);
        assert!(ticket_on(&refused).is_none());
    }
    let not_theirs = post(&desk.other_counter, &issue, &[]).await;
    assert!(
        not_theirs.html.contains("此业务由其他工作人员受理。"),
        "{}",
        not_theirs.html
    );
    let unknown = desk
        .counter
        .get("/staff/cases/0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.html);
    assert!(unknown.html.contains("没有此业务。"), "{}", unknown.html);
    assert_eq!(status_of(&app, &case).await, CaseStatus::AwaitingApproval);

    let list = desk.supervisor.get("/staff/approvals").await;
    assert!(
        list.html.contains(&format!("href=\"/staff/cases/{case}\"")),
        "{}",
        list.html
    );
    assert!(!list.html.contains(ZHANG.id_number) && list.html.contains("110105********1239"));
    let to_judge = desk.supervisor.get(&format!("/staff/cases/{case}")).await;
    assert!(to_judge.html.contains(&decide) && !to_judge.html.contains(&issue));
    let by_supervisor = post(&desk.supervisor, &issue, &[]).await;
    assert_eq!(by_supervisor.status, 403, "a supervisor issues nothing");
    post(&desk.supervisor, &decide, &approve())
        .await
        .assert_redirect("/staff/approvals");
    assert_eq!(status_of(&app, &case).await, CaseStatus::Approved);
    let twice = post(&desk.supervisor, &decide, &approve()).await;
    assert!(twice.html.contains(WRONG_STEP), "{}", twice.html);
    let list = desk.supervisor.get("/staff/approvals").await;
    assert!(list.html.contains("暂无待审批业务。"), "{}", list.html);

    let ready = desk.counter.get(&format!("/staff/cases/{case}")).await;
    assert!(ready.html.contains(&issue), "{}", ready.html);
    let receipt = post(&desk.counter, &issue, &[]).await;
    let ticket = ticket_on(&receipt).expect("no ticket after the approval");
    let again = post(&desk.counter, &issue, &[]).await;
    assert!(again.html.contains(WRONG_STEP) && ticket_on(&again).is_none());
    let late = post(&desk.supervisor, &decide, &approve()).await;
    assert!(late.html.contains(WRONG_STEP), "{}", late.html);

    let events = app.audit_events().await;
    let supervisor_id = staff_record(&app, &desk.supervisor_account.username)
        .await
        .id;
    let outcomes: Vec<_> = events_of(&events, "counter.approve_case")
        .iter()
        .map(|e| (e.outcome, e.details["reason"].as_str().map(str::to_owned)))
        .collect();
    let wrong_step = (Outcome::Failure, Some("wrong_step".to_owned()));
    assert_eq!(
        outcomes,
        [(Outcome::Success, None), wrong_step.clone(), wrong_step],
        "one approval, two refusals"
    );
    let issued: Vec<_> = events_of(&events, "counter.issue_ticket")
        .into_iter()
        .filter(|e| e.outcome == Outcome::Success)
        .map(|e| e.details["approved_by"].clone())
        .collect();
    assert_eq!(issued, [serde_json::Value::Null, supervisor_id.0.into()]);

    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    let done = pad
        .new_secrets("/counter/pinpad", &checked, "Meadow58lantern", "")
        .await;
    assert!(redeemed(&done), "{}", done.html);
    assert!(!console_common::logs_in(&app, &ZHANG, NEW_LOGIN_PASSWORD).await);
    assert!(console_common::logs_in(&app, &ZHANG, "Meadow58lantern").await);
}

#[tokio::test]
async fn both_secrets_with_a_new_phone_wait_for_a_supervisor_who_may_reject_them() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let desk = desk(&app).await;
    let texts_before = app.sms_to(ZHANG.phone).await.len();
    let (at, _) = desk.counter.member_page(&ZHANG).await;
    let form = with(
        with(visit(&ZHANG, "both"), "new_phone", NEW_PHONE),
        "new_phone_again",
        NEW_PHONE,
    );

    let case = waiting_case(&desk.counter, &at, &form).await;
    let page = desk.counter.get(&format!("/staff/cases/{case}")).await;
    assert!(
        page.html.contains("同时重置两个密码并变更手机号"),
        "{}",
        page.html
    );
    assert!(!page.html.contains(NEW_PHONE));
    post(
        &desk.supervisor,
        &format!("/staff/cases/{case}/decide"),
        &[("decision", "reject".to_owned())],
    )
    .await
    .assert_redirect("/staff/approvals");
    assert_eq!(status_of(&app, &case).await, CaseStatus::Closed);
    let refused = post(&desk.counter, &format!("/staff/cases/{case}/issue"), &[]).await;
    assert!(refused.html.contains(WRONG_STEP) && ticket_on(&refused).is_none());
    assert_eq!(
        app.sms_to(ZHANG.phone).await.len(),
        texts_before,
        "nothing happened"
    );
    let (_, member_page) = desk.counter.member_page(&ZHANG).await;
    assert!(member_page.html.contains("138****5678"));

    let case = waiting_case(&desk.counter, &at, &form).await;
    post(
        &desk.supervisor,
        &format!("/staff/cases/{case}/decide"),
        &approve(),
    )
    .await
    .assert_redirect("/staff/approvals");
    let receipt = post(&desk.counter, &format!("/staff/cases/{case}/issue"), &[]).await;
    let ticket = ticket_on(&receipt).expect("no ticket after the approval");
    assert_eq!(texts_with(&app, ZHANG.phone, "变更为139****1111").await, 1);
    assert_eq!(texts_with(&app, NEW_PHONE, "已生成一次性重置凭证").await, 1);
    // The old phone hears of the reset too, not only of the new number.
    assert_eq!(
        texts_with(&app, ZHANG.phone, "已生成一次性重置凭证").await,
        1
    );

    let pad = Browser::from_ip(&app, "10.1.2.3");
    assert!(redeemed(
        &pad.redeem("/counter/pinpad", &ticket, &ZHANG).await
    ));
    assert!(console_common::logs_in(&app, &ZHANG, NEW_LOGIN_PASSWORD).await);
}
