//! Every form of the staff console and of ticket redemption refuses a missing or
//! forged token (403) and changes nothing; the console's forms take only the staff
//! session's own token, and a foreign origin is refused even with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use console_common::{
    STAFF_PASSWORD, add_staff, last_case_id, logs_in, redeemed, registered, staff_record,
    stored_code, ticket_on, visit, with,
};
use fundpass_core::assisted::CaseStatus;
use fundpass_core::ports::CaseStore as _;
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, CHEN, LOGIN_PASSWORD, ZHANG};

const FORGED: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Posts `fields` to `path` from `browser` without a token, with a forged one,
/// with `wrong` (a real token of another kind, if any) and, with `right`, from a
/// foreign origin: each must be a 403.
async fn assert_refuses_bad_tokens(
    browser: &Browser<'_>,
    path: &str,
    fields: &[(&str, String)],
    wrong: Option<&str>,
    right: &str,
) {
    let base: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let with_token = |token: &'static str| {
        let mut form = base.clone();
        form.push(("csrf", token));
        form
    };
    let missing = browser.post(path, &base).await;
    assert_eq!(
        missing.status, 403,
        "{path} without a token: {}",
        missing.html
    );
    let forged = browser.post(path, &with_token(FORGED)).await;
    assert_eq!(forged.status, 403, "{path} with a forged token");
    if let Some(wrong) = wrong {
        let mut form = base.clone();
        form.push(("csrf", wrong));
        assert_eq!(
            browser.post(path, &form).await.status,
            403,
            "{path} with another token"
        );
    }
    let mut form = base.clone();
    form.push(("csrf", right));
    let foreign = browser
        .post_with(path, &form, &[("origin", "https://evil.example")])
        .await;
    assert_eq!(foreign.status, 403, "{path} from a foreign origin");
}

#[tokio::test]
async fn every_console_form_refuses_a_missing_or_forged_token() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let (counter, supervisor, hotline) = (
        Browser::from_ip(&app, "10.1.2.3"),
        Browser::from_ip(&app, "10.1.9.9"),
        Browser::from_ip(&app, "10.2.0.1"),
    );
    let counter_account = add_staff(&app, "wang.li", StaffRole::Counter).await;
    counter.staff_login(&counter_account).await;
    supervisor
        .staff_login(&add_staff(&app, "zhou.min", StaffRole::Supervisor).await)
        .await;
    hotline
        .staff_login(&add_staff(&app, "sun.li", StaffRole::Hotline).await)
        .await;
    let anon = counter.get("/ticket").await.field("csrf").unwrap();
    let token_of = |page: &web_common::Page| page.field("csrf").unwrap();

    // Look-up, the counter form, the reveal and the hotline checklist.
    let (at_counter, page) = counter.member_page(&ZHANG).await;
    let counter_token = token_of(&page);
    let lookup = [
        ("id_type", "resident_id".to_owned()),
        ("id_number", ZHANG.id_number.to_owned()),
    ];
    assert_refuses_bad_tokens(
        &counter,
        "/staff/lookup",
        &lookup,
        Some(&anon),
        &counter_token,
    )
    .await;
    let phone_change = with(
        with(visit(&ZHANG, "both"), "new_phone", "13900001111"),
        "new_phone_again",
        "13900001111",
    );
    let open = format!("/staff/members/{at_counter}/counter");
    assert_refuses_bad_tokens(&counter, &open, &phone_change, Some(&anon), &counter_token).await;
    let (at_supervisor, page) = supervisor.member_page(&ZHANG).await;
    let supervisor_token = token_of(&page);
    let reveal = format!("/staff/members/{at_supervisor}/reveal");
    let reason = [("reason", "checking".to_owned())];
    assert_refuses_bad_tokens(
        &supervisor,
        &reveal,
        &reason,
        Some(&counter_token),
        &supervisor_token,
    )
    .await;
    let (at_hotline, page) = hotline.member_page(&ZHANG).await;
    let hotline_token = token_of(&page);
    let checklist = [
        ("call_id", "CALL-1".to_owned()),
        ("name", ZHANG.name.to_owned()),
        ("phone", ZHANG.phone.to_owned()),
    ];
    let run = format!("/staff/members/{at_hotline}/hotline");
    assert_refuses_bad_tokens(&hotline, &run, &checklist, Some(&anon), &hotline_token).await;
    assert_eq!(app.count_rows("assisted_cases").await, 0);
    assert_eq!(app.count_rows("hotline_checks").await, 0);
    let events = app.audit_events().await;
    assert!(
        !events
            .iter()
            .any(|e| e.action == "staff.reveal_full_identity")
    );

    // Decide, issue and send, each on a case or check that is really there.
    let opened = counter.staff_post(&page, &open, &phone_change).await;
    assert_eq!(
        opened.status, 403,
        "the hotline page's token is not the counter's"
    );
    let opened = counter
        .staff_post(&counter.get("/staff").await, &open, &phone_change)
        .await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    let case = last_case_id(&app).await;
    let decide = format!("/staff/cases/{case}/decide");
    let approve = [("decision", "approve".to_owned())];
    assert_refuses_bad_tokens(
        &supervisor,
        &decide,
        &approve,
        Some(&anon),
        &supervisor_token,
    )
    .await;
    assert_eq!(status_of(&app, &case).await, CaseStatus::AwaitingApproval);
    supervisor
        .staff_post(&page_of(&supervisor).await, &decide, &approve)
        .await
        .assert_redirect("/staff/approvals");
    let issue = format!("/staff/cases/{case}/issue");
    assert_refuses_bad_tokens(
        &counter,
        &issue,
        &[],
        Some(&supervisor_token),
        &counter_token,
    )
    .await;
    assert_eq!(status_of(&app, &case).await, CaseStatus::Approved);
    assert!(
        app.sms_to("13900001111").await.is_empty(),
        "the phone is unchanged"
    );
    let receipt = counter
        .staff_post(&page_of(&counter).await, &issue, &[])
        .await;
    assert!(ticket_on(&receipt).is_some(), "{}", receipt.html);

    // ZHANG is under the phone change's hold now, which the hotline sends to a
    // counter: the reset code is sent for CHEN.
    registered(&app, &CHEN).await;
    let (at_chen, _) = hotline.member_page(&CHEN).await;
    let checklist = [
        ("call_id", "CALL-2".to_owned()),
        ("name", CHEN.name.to_owned()),
        ("phone", CHEN.phone.to_owned()),
    ];
    let posted = hotline
        .staff_post(
            &page_of(&hotline).await,
            &format!("/staff/members/{at_chen}/hotline"),
            &checklist,
        )
        .await;
    let result = hotline.follow(posted).await;
    let at = result.html.find("action=\"/staff/checks/").unwrap() + "action=\"".len();
    let send = result.html[at..].split('"').next().unwrap().to_owned();
    let texts = app.sms_to(CHEN.phone).await.len();
    let scope = [("scope", "login".to_owned())];
    assert_refuses_bad_tokens(&hotline, &send, &scope, Some(&anon), &hotline_token).await;
    assert_eq!(
        app.sms_to(CHEN.phone).await.len(),
        texts,
        "no reset code sent"
    );
    let sent = hotline
        .staff_post(&page_of(&hotline).await, &send, &scope)
        .await;
    let sent = hotline.follow(sent).await;
    assert!(sent.html.contains("重置凭证已发送至"), "{}", sent.html);

    // Password change and logout.
    let old_hash = staff_record(&app, "wang.li").await.password_hash;
    let change = [
        ("current_password", STAFF_PASSWORD.to_owned()),
        ("new_password", "Brand!New2026pass".to_owned()),
        ("new_password_again", "Brand!New2026pass".to_owned()),
    ];
    assert_refuses_bad_tokens(
        &counter,
        "/staff/password",
        &change,
        Some(&anon),
        &counter_token,
    )
    .await;
    assert_eq!(staff_record(&app, "wang.li").await.password_hash, old_hash);
    assert_refuses_bad_tokens(&counter, "/staff/logout", &[], Some(&anon), &counter_token).await;
    assert_eq!(counter.get("/staff").await.status, 200, "still logged in");
}

/// The console's home page, for its token.
async fn page_of(browser: &Browser<'_>) -> web_common::Page {
    browser.get("/staff").await
}

async fn status_of(app: &TestApp, case: &str) -> CaseStatus {
    app.store.case_by_id(case).await.unwrap().unwrap().status
}

#[tokio::test]
async fn the_login_steps_and_the_ticket_pages_refuse_a_missing_or_forged_token() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let counter = Browser::from_ip(&app, "10.1.2.3");
    counter.staff_login(&staff).await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let receipt = counter.open_case(&at, &visit(&ZHANG, "login")).await;
    let ticket = ticket_on(&receipt).unwrap();
    app.clock.advance(time::Duration::seconds(30));

    let browser = Browser::from_ip(&app, "10.1.2.4");
    let anon = browser.get("/staff/login").await.field("csrf").unwrap();
    let login = [
        ("username", "wang.li".to_owned()),
        ("password", STAFF_PASSWORD.to_owned()),
    ];
    assert_refuses_bad_tokens(&browser, "/staff/login", &login, None, &anon).await;
    browser
        .staff_password_step("wang.li", STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    let mfa = browser.get("/staff/mfa").await;
    let step_token = mfa.field("csrf").unwrap();
    let code = [("code", stored_code(&app, "wang.li").await)];
    assert_refuses_bad_tokens(&browser, "/staff/mfa", &code, Some(&anon), &step_token).await;
    browser
        .staff_code(&mfa, &code[0].1)
        .await
        .assert_redirect("/staff");

    let pad = Browser::from_ip(&app, "10.1.2.3");
    let pad_token = pad.get("/counter/pinpad").await.field("csrf").unwrap();
    let document = [
        ("ticket", ticket.clone()),
        ("id_type", "resident_id".to_owned()),
        ("id_number", ZHANG.id_number.to_owned()),
    ];
    for start in ["/ticket", "/counter/pinpad"] {
        assert_refuses_bad_tokens(&pad, start, &document, None, &pad_token).await;
    }
    let checked = pad.check_ticket("/counter/pinpad", &ticket, &ZHANG).await;
    let secrets = [
        ("redemption", checked.field("redemption").unwrap()),
        ("login_password", "Harbour77sunrise".to_owned()),
        ("login_password_again", "Harbour77sunrise".to_owned()),
    ];
    for finish in ["/ticket/new", "/counter/pinpad/new"] {
        assert_refuses_bad_tokens(&pad, finish, &secrets, None, &pad_token).await;
    }
    assert!(
        logs_in(&app, &ZHANG, LOGIN_PASSWORD).await,
        "nothing changed"
    );
    let done = pad
        .new_secrets("/counter/pinpad", &checked, "Harbour77sunrise", "")
        .await;
    assert!(redeemed(&done), "{}", done.html);
}
