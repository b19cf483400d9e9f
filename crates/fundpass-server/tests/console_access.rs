//! Where the console may be used from and what its addresses open: branches held to
//! their networks, member pages reachable only through a look-up in the same staff
//! session, user names that lock whether or not anyone holds them, and the audit
//! trail readable by the auditor alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use std::collections::BTreeMap;

use console_common::{STAFF_PASSWORD, add_staff, redeemed, registered, ticket_on, visit};
use fundpass_core::portal::PortalPolicy;
use fundpass_core::staff::{BranchNetworks, StaffRole};
use support::{TestApp, TestOptions};
use web_common::{Browser, CHEN, STRANGER, ZHANG};

/// A dev-mode app whose branch `BJ-001` (every test account's) may use the console
/// from 10.1.0.0/16 only.
async fn app_with_branch_network() -> TestApp {
    let lists: BTreeMap<String, Vec<String>> =
        [("BJ-001".to_owned(), vec!["10.1.0.0/16".to_owned()])].into();
    TestApp::spawn_with(TestOptions {
        policy: PortalPolicy {
            dev_mode: true,
            staff_networks: BranchNetworks::parse(&lists).unwrap(),
            ..PortalPolicy::default()
        },
        ..TestOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_branch_held_to_its_network_refuses_logins_and_sessions_from_elsewhere() {
    let app = app_with_branch_network().await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;

    let outside = Browser::from_ip(&app, "192.0.2.7");
    let refused = outside.staff_password_step("wang.li", STAFF_PASSWORD).await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(
        refused
            .html
            .contains("该账号只能在所属网点的网络中使用控制台。"),
        "{}",
        refused.html
    );
    assert!(refused.set_cookie("fundpass_staff").is_none());

    // From the branch's network the same account logs in; its cookie used from
    // another address opens nothing.
    let inside = Browser::from_ip(&app, "10.1.4.2");
    let token = inside.staff_session_token(&staff).await;
    assert_eq!(inside.get("/staff").await.status, 200);
    let moved = app
        .client()
        .get(app.url("/staff"))
        .header("cookie", format!("fundpass_staff={token}"))
        .header("x-forwarded-for", "192.0.2.7")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    assert_eq!(moved.headers()["location"], "/staff/login");
    let denied = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "staff.login" && e.details["reason"] == "network")
        .count();
    assert_eq!(denied, 1, "the refused login is audited");
}

#[tokio::test]
async fn a_member_page_opens_only_in_the_session_that_looked_the_member_up() {
    let app = TestApp::spawn().await;
    let member = registered(&app, &ZHANG).await;
    let first = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let second = add_staff(&app, "li.na", StaffRole::Counter).await;
    let mine = Browser::from_ip(&app, "10.1.2.3");
    mine.staff_login(&first).await;
    let (address, page) = mine.member_page(&ZHANG).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(address.starts_with(&format!("{}-", member.0)), "{address}");

    let theirs = Browser::from_ip(&app, "10.1.2.4");
    theirs.staff_login(&second).await;
    for path in [
        format!("/staff/members/{address}"),
        format!("/staff/members/{}", member.0),
        format!("/staff/members/{}-{}", member.0, "0".repeat(20)),
        format!("/staff/members/{}", member.0 + 1),
    ] {
        let page = theirs.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.html);
        assert!(!page.html.contains(ZHANG.name), "{path}");
    }
    // The walker's own look-up gives it an address of its own.
    let (own, found) = theirs.member_page(&ZHANG).await;
    assert_eq!(found.status, 200);
    assert_ne!(own, address);
}

#[tokio::test]
async fn a_user_name_nobody_holds_locks_on_the_fifth_try_like_an_account() {
    let app = TestApp::spawn().await;
    add_staff(&app, "wang.li", StaffRole::Counter).await;
    let browser = Browser::from_ip(&app, "10.1.2.3");
    // 02:00 UTC is 10:00 in China; the first lock lasts 15 minutes.
    let locked = "失败次数过多，账号已锁定至10:15。";
    for name in ["wang.li", "zhao.liu"] {
        for attempt in 1..=5 {
            let page = browser.staff_password_step(name, "Wrong!Harbor2026").await;
            let expected = if attempt < 5 {
                "用户名或密码错误。"
            } else {
                locked
            };
            assert!(
                page.html.contains(expected),
                "{name}, attempt {attempt}: {}",
                page.html
            );
        }
        let sixth = browser.staff_password_step(name, STAFF_PASSWORD).await;
        assert!(sixth.html.contains(locked), "{name}: {}", sixth.html);
    }
}

#[tokio::test]
async fn the_auditor_reads_the_trail_and_no_other_role_may() {
    let app = TestApp::spawn().await;
    registered(&app, &ZHANG).await;
    let auditor = add_staff(&app, "zhou.audit", StaffRole::Auditor).await;
    let counter = add_staff(&app, "wang.li", StaffRole::Counter).await;

    let desk = Browser::from_ip(&app, "10.1.2.4");
    desk.staff_login(&counter).await;
    let (_, member) = desk.member_page(&ZHANG).await;
    assert_eq!(member.status, 200);
    let refused = desk.get("/staff/audit").await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(!refused.html.contains("staff.look_up_member"));

    let reader = Browser::from_ip(&app, "10.1.2.3");
    reader.staff_login(&auditor).await;
    let home = reader.get("/staff").await;
    assert!(home.html.contains("/staff/audit"), "{}", home.html);
    let trail = reader.get("/staff/audit").await;
    assert_eq!(trail.status, 200, "{}", trail.html);
    assert!(
        trail.html.contains("staff.look_up_member"),
        "{}",
        trail.html
    );
    assert!(
        trail.html.contains("staff.read_audit"),
        "the read itself is on it"
    );
    assert!(!trail.html.contains(ZHANG.id_number), "the trail is masked");
    assert!(!trail.html.contains(ZHANG.phone), "the trail is masked");
    // The auditor acts on no member.
    let lookup = reader.look_up(&ZHANG).await;
    assert_eq!(lookup.status, 403, "{}", lookup.html);
    let reads = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.action == "staff.read_audit")
        .count();
    assert!(reads >= 1, "each read is audited");
}

#[tokio::test]
async fn outside_the_network_a_wrong_password_reads_like_any_other_and_the_proxys_address_counts() {
    let app = app_with_branch_network().await;
    add_staff(&app, "wang.li", StaffRole::Counter).await;
    let outside = Browser::from_ip(&app, "192.0.2.7");
    let wrong = outside
        .staff_password_step("wang.li", "Wrong!Harbor2026")
        .await;
    assert_eq!(wrong.status, 200, "{}", wrong.html);
    assert!(wrong.html.contains("用户名或密码错误。"), "{}", wrong.html);
    assert!(
        !wrong.html.contains("所属网点的网络"),
        "no hint that the name exists"
    );

    // A client that writes the branch's address first in X-Forwarded-For is still
    // seen at the address the proxy appended last.
    let form = app
        .client()
        .get(app.url("/staff/login"))
        .header("x-forwarded-for", "10.1.2.3, 192.0.2.7")
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    let csrf_cookie = cookie.split(';').next().unwrap().to_owned();
    let html = form.text().await.unwrap();
    let csrf = web_common::field(&html, "csrf").unwrap();
    let spoofed = app
        .client()
        .post(app.url("/staff/login"))
        .header("x-forwarded-for", "10.1.2.3, 192.0.2.7")
        .header("cookie", csrf_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(web_common::encode_form(&[
            ("csrf", csrf.as_str()),
            ("username", "wang.li"),
            ("password", STAFF_PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        spoofed.status(),
        403,
        "the spoofed first entry is not trusted"
    );
}

#[tokio::test]
async fn guessing_the_current_password_inside_a_session_locks_the_account_and_ends_it() {
    let app = TestApp::spawn().await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let browser = Browser::from_ip(&app, "10.1.2.3");
    browser.staff_login(&staff).await;
    for attempt in 1..=5 {
        let page = browser.get("/staff/password").await;
        let csrf = page.field("csrf").unwrap();
        let reply = browser
            .post(
                "/staff/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", "Wrong!Harbor2026"),
                    ("new_password", "Brand-New-Harbor-77"),
                    ("new_password_again", "Brand-New-Harbor-77"),
                ],
            )
            .await;
        let expected = if attempt < 5 {
            "用户名或密码错误。"
        } else {
            "失败次数过多，账号已锁定至10:15。"
        };
        assert!(
            reply.html.contains(expected),
            "attempt {attempt}: {}",
            reply.html
        );
    }
    browser.get("/staff").await.assert_redirect("/staff/login");
}

#[tokio::test]
async fn the_auditors_anomaly_report_names_an_address_that_reset_three_members() {
    let app = TestApp::spawn().await;
    let clerk = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let auditor = add_staff(&app, "zhou.audit", StaffRole::Auditor).await;
    let desk = Browser::from_ip(&app, "10.1.2.3");
    desk.staff_login(&clerk).await;
    let pad = Browser::from_ip(&app, "10.1.7.7");
    for person in [&ZHANG, &CHEN, &STRANGER] {
        registered(&app, person).await;
        let (at, _) = desk.member_page(person).await;
        let receipt = desk.open_case(&at, &visit(person, "login")).await;
        let ticket = ticket_on(&receipt).expect("no ticket");
        assert!(redeemed(
            &pad.redeem("/counter/pinpad", &ticket, person).await
        ));
    }
    let refused = desk.get("/staff/anomalies").await;
    assert_eq!(refused.status, 403, "{}", refused.html);

    let reader = Browser::from_ip(&app, "10.1.2.9");
    reader.staff_login(&auditor).await;
    let report = reader.get("/staff/anomalies").await;
    assert_eq!(report.status, 200, "{}", report.html);
    assert!(
        report.html.contains("<tr><td>10.1.7.7</td><td>3</td></tr>"),
        "{}",
        report.html
    );
    assert!(
        !report.html.contains("10.1.2.3</td>"),
        "the desk reset nobody"
    );
}

#[tokio::test]
async fn the_anomaly_report_names_qualification_checks_that_look_forged() {
    use fundpass_core::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
    use fundpass_core::member::MemberId;
    use fundpass_core::ports::{ChangeSet, UnitOfWork as _};
    use fundpass_core::qualification::{CheckChannel, CheckRecord, QualificationWrite};

    let app = TestApp::spawn().await;
    let auditor = add_staff(&app, "zhou.audit", StaffRole::Auditor).await;
    // Seeded trail: five members passed from one address, three relatives checked by
    // member 77, and four members from another address (under the threshold).
    let passed = |member: i64, ip: &str, by: Option<i64>| {
        let mut e = AuditEvent::new(
            app.clock_now(),
            Actor {
                kind: ActorKind::Member,
                id: Some(by.unwrap_or(member).to_string()),
            },
            "qualification.result",
            Channel::App,
            Outcome::Success,
        )
        .member(MemberId(member))
        .details(serde_json::json!({ "channel": "app_face", "by_member": by }));
        e.ip = Some(ip.to_owned());
        e
    };
    let mut audit: Vec<AuditEvent> = (1..=5).map(|m| passed(m, "198.51.100.7", None)).collect();
    audit.extend((6..=9).map(|m| passed(m, "198.51.100.8", None)));
    audit.extend((20..=22).map(|m| passed(m, "203.0.113.5", Some(77))));
    app.store
        .apply(ChangeSet {
            audit,
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    // ZHANG was reported dead two days ago, and a check passed for them yesterday.
    registered(&app, &ZHANG).await;
    let today = app.china_today();
    let died = today - time::Duration::days(2);
    let zhang = app
        .entitle(&ZHANG, today + time::Duration::days(30), Some(died))
        .await;
    let check = CheckRecord {
        member_id: zhang,
        checked_at: app.clock_now() - time::Duration::days(1),
        checked_on: today - time::Duration::days(1),
        channel: CheckChannel::AppFace,
        provider: "tencent".into(),
        by_member: None,
        similarity: Some(91.0),
        due_before: today,
        due_after: today + time::Duration::days(365),
        gap_months: 0,
        ip: Some("198.51.100.9".into()),
    };
    let before_death = CheckRecord {
        checked_at: app.clock_now() - time::Duration::days(200),
        checked_on: today - time::Duration::days(200),
        ..check.clone()
    };
    app.store
        .apply(ChangeSet {
            qualification: vec![
                QualificationWrite::Check(before_death),
                QualificationWrite::Check(check),
            ],
            ..ChangeSet::default()
        })
        .await
        .unwrap();

    let reader = Browser::from_ip(&app, "10.1.2.9");
    reader.staff_login(&auditor).await;
    let report = reader.get("/staff/anomalies").await;
    assert_eq!(report.status, 200, "{}", report.html);
    let html = &report.html;
    assert!(
        html.contains("<tr><td>198.51.100.7</td><td>5</td></tr>"),
        "{html}"
    );
    assert!(
        !html.contains("<td>198.51.100.8</td>"),
        "four members are not many"
    );
    assert!(html.contains("<tr><td>77</td><td>3</td></tr>"), "{html}");
    let died_text = died.to_string();
    let row = format!("<tr><td>{}</td><td>{died_text}</td>", zhang.0);
    assert_eq!(
        html.matches(&row).count(),
        1,
        "only the check after death: {html}"
    );
    assert!(!html.contains(ZHANG.id_number), "no full document number");
}
