//! A reset over the service hotline: the agent types what the caller says into the
//! checklist and sees only pass or fail per item; a passed checklist allows one thing,
//! a ticket texted to the phone on file (never shown to the agent, never to another
//! number), which the member redeems online. Three failed checklists lock hotline
//! resets for that member for a day.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    NEW_LOGIN_PASSWORD, add_staff, assert_no_identity_in, events_of, holds_a_ticket, logs_in,
    redeemed, registered, ticket_in,
};
use fundpass_core::audit::{Channel, Outcome};
use fundpass_core::member::HoldReason;
use fundpass_core::ports::HoldStore as _;
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, LOGIN_PASSWORD, Page, STRANGER, ZHANG};

const SCHOOL: &str = "Beijing No. 4 Middle School";

/// A logged-in hotline agent at 10.2.0.1.
async fn agent<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let staff = add_staff(app, name, StaffRole::Hotline).await;
    let browser = Browser::from_ip(app, "10.2.0.1");
    browser.staff_login(&staff).await;
    browser
}

/// The check id in the send form's address on a checklist result page.
fn check_id(page: &Page) -> String {
    let at = page
        .html
        .find("action=\"/staff/checks/")
        .expect("no send form")
        + "action=\"/staff/checks/".len();
    page.html[at..at + 32].to_owned()
}

/// Posts the send form of check `id` with `fields` (whatever the page offers); the
/// page it leads to.
async fn send(agent: &Browser<'_>, id: &str, fields: &[(&str, String)]) -> Page {
    let page = agent.get("/staff").await;
    let posted = agent
        .staff_post(&page, &format!("/staff/checks/{id}/send"), fields)
        .await;
    agent.follow(posted).await
}

/// The China time `at` as the console writes a lock's end on another day.
fn china(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::macros::offset!(+8));
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

#[tokio::test]
async fn a_hotline_reset_code_goes_to_the_phone_on_file_and_is_redeemed_online() {
    let app = TestApp::spawn().await;
    let member = registered(&app, &ZHANG).await;
    let own = Browser::from_ip(&app, "198.51.100.20");
    own.login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    let saved = own.set_questions(&[("first_school", SCHOOL)]).await;
    assert!(saved.html.contains("安全问题已保存"), "{}", saved.html);
    let agent = agent(&app, "sun.li").await;

    let (at, page) = agent.member_page(&ZHANG).await;
    assert!(
        page.html.contains("name=\"answer_first_school\""),
        "{}",
        page.html
    );
    assert!(page.html.contains("您就读的第一所学校叫什么名字？"));
    for stored in [SCHOOL, ZHANG.phone, ZHANG.id_number] {
        assert!(!page.html.contains(stored), "{stored}");
    }
    let wrong_answer = agent
        .run_checklist(
            &at,
            ZHANG.name,
            ZHANG.phone,
            &[("first_school", "Hope School")],
        )
        .await;
    assert!(wrong_answer.html.contains("class=\"check-result\">未通过"));
    assert_eq!(wrong_answer.html.matches("class=\"pass\"").count(), 3);
    assert!(
        wrong_answer
            .html
            .contains("<td>您就读的第一所学校叫什么名字？</td><td class=\"fail\">"),
        "{}",
        wrong_answer.html
    );
    assert!(!wrong_answer.html.contains(SCHOOL) && !wrong_answer.html.contains("/send\""));
    let result = agent
        .run_checklist(&at, ZHANG.name, ZHANG.phone, &[("first_school", SCHOOL)])
        .await;
    assert_eq!(result.status, 200, "{}", result.html);
    assert!(
        result.html.contains("class=\"check-result\">通过"),
        "{}",
        result.html
    );
    assert_eq!(
        result.html.matches("class=\"pass\"").count(),
        4,
        "{}",
        result.html
    );
    assert!(!result.html.contains("class=\"fail\""));
    for stored in [SCHOOL, ZHANG.phone, ZHANG.id_number] {
        assert!(!result.html.contains(stored), "{stored}: {}", result.html);
    }
    assert!(
        !result.html.contains("name=\"phone\""),
        "no number can be given"
    );
    let id = check_id(&result);

    let outbox_before = app.count_rows("outbox").await;
    let sent = send(
        &agent,
        &id,
        &[("scope", "both".into()), ("phone", STRANGER.phone.into())],
    )
    .await;
    assert!(
        sent.html.contains("重置凭证已发送至 138****5678"),
        "{}",
        sent.html
    );
    assert!(!holds_a_ticket(&sent.html), "{}", sent.html);
    assert_eq!(app.count_rows("outbox").await, outbox_before + 1);
    assert!(app.sms_to(STRANGER.phone).await.is_empty());
    let texts = app.sms_to(ZHANG.phone).await;
    let with_ticket: Vec<_> = texts.iter().filter(|t| holds_a_ticket(t)).collect();
    assert_eq!(with_ticket.len(), 1, "{texts:?}");
    let text = with_ticket[0];
    let ticket = ticket_in(text).unwrap();
    assert!(text.contains("1小时内有效"), "{text}");
    let later = agent.get(&format!("/staff/checks/{id}")).await;
    assert!(!later.html.contains(&ticket) && !later.html.contains("/send\""));
    let twice = send(&agent, &id, &[("scope", "both".into())]).await;
    assert!(
        twice.html.contains("此次核验已使用或已过期"),
        "{}",
        twice.html
    );
    assert_eq!(app.count_rows("outbox").await, outbox_before + 1);

    let done = Browser::new(&app).redeem("/ticket", &ticket, &ZHANG).await;
    assert!(redeemed(&done), "{}", done.html);
    assert!(!logs_in(&app, &ZHANG, LOGIN_PASSWORD).await);
    assert!(logs_in(&app, &ZHANG, NEW_LOGIN_PASSWORD).await);
    let holds = app
        .store
        .active_holds(member, app.clock_now())
        .await
        .unwrap();
    assert!(
        holds
            .iter()
            .any(|h| h.reason == HoldReason::LoginReset && h.channel == Channel::Hotline),
        "{holds:?}"
    );

    let events = app.audit_events().await;
    let send_event = events_of(&events, "hotline.send_reset_code")
        .into_iter()
        .find(|e| e.outcome == Outcome::Success)
        .expect("the send is audited");
    assert_eq!(send_event.details["to"], "138****5678");
    assert_no_identity_in(&events, &ZHANG);
    for event in &events {
        let text = serde_json::to_string(event).unwrap();
        assert!(!text.contains(SCHOOL) && !text.contains(&ticket), "{text}");
    }
}

#[tokio::test]
async fn a_failed_checklist_cannot_send_and_three_lock_hotline_resets_for_a_day() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let agent = agent(&app, "sun.li").await;
    let (at, page) = agent.member_page(&ZHANG).await;
    assert!(
        page.html.contains("该缴存人未设置安全问题。"),
        "{}",
        page.html
    );
    let texts_before = app.sms_to(ZHANG.phone).await.len();

    let wrong_phone = agent
        .run_checklist(&at, ZHANG.name, "13800000000", &[])
        .await;
    assert!(wrong_phone.html.contains("class=\"check-result\">未通过"));
    assert_eq!(wrong_phone.html.matches("class=\"fail\"").count(), 1);
    assert!(
        !wrong_phone.html.contains("/send\""),
        "no send form after a failure"
    );
    let failed_id = {
        let events = app.audit_events().await;
        let last = events_of(&events, "hotline.checklist").pop().unwrap();
        last.details["check"].as_str().unwrap().to_owned()
    };
    let forged = send(&agent, &failed_id, &[("scope", "login".into())]).await;
    assert!(
        forged.html.contains("核验未通过，不能发送重置凭证。"),
        "{}",
        forged.html
    );

    let wrong_name = agent.run_checklist(&at, "张三", ZHANG.phone, &[]).await;
    assert!(wrong_name.html.contains("未通过"));
    agent
        .run_checklist(&at, ZHANG.name, "13800000000", &[])
        .await;
    let until = china(app.clock_now() + time::Duration::hours(24));
    let locked = agent.run_checklist(&at, ZHANG.name, ZHANG.phone, &[]).await;
    assert!(
        locked.html.contains(&format!(
            "该缴存人核验失败次数过多，热线重置已锁定至{until}，请引导其到柜台办理。"
        )),
        "{until}: {}",
        locked.html
    );
    let other_agent = self::agent(&app, "qian.wu").await;
    let (other_at, _) = other_agent.member_page(&ZHANG).await;
    assert_ne!(other_at, at, "addresses belong to one staff session");
    let also_locked = other_agent
        .run_checklist(&other_at, ZHANG.name, ZHANG.phone, &[])
        .await;
    assert!(
        also_locked.html.contains("热线重置已锁定"),
        "{}",
        also_locked.html
    );
    assert_eq!(app.count_rows("hotline_checks").await, 3);
    assert_eq!(app.count_rows("assisted_cases").await, 0);
    assert_eq!(app.sms_to(ZHANG.phone).await.len(), texts_before);

    app.clock.advance(time::Duration::hours(24));
    let agent = Browser::from_ip(&app, "10.2.0.1");
    agent
        .staff_login(&console_common::Staff {
            username: "sun.li".into(),
            role: StaffRole::Hotline,
        })
        .await;
    let (at, _) = agent.member_page(&ZHANG).await;
    let passed = agent.run_checklist(&at, ZHANG.name, ZHANG.phone, &[]).await;
    assert!(
        passed.html.contains("class=\"check-result\">通过"),
        "{}",
        passed.html
    );
}
