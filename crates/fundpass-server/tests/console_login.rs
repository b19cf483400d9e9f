//! Logging in to the staff console: user name and password, then a TOTP code
//! (enrolled from a QR code at the first login). A password alone opens nothing, its
//! step runs out after five minutes, a code is good once, and five wrong passwords
//! lock the account.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
mod support;
mod web_common;

use base64::Engine as _;
use console_common::{
    STAFF_PASSWORD, Staff, add_staff, code_from_secret, registered, secret_on, staff_record,
    stored_code,
};
use fundpass_core::staff::StaffRole;
use support::TestApp;
use web_common::{Browser, Page, ZHANG, blank, cookie_value, encode_form};

/// A code other than `code`.
fn other_than(code: &str) -> &'static str {
    if code == "246802" { "246803" } else { "246802" }
}

/// The staff cookie's value set by `page`.
fn staff_token(page: &Page) -> String {
    cookie_value(&page.set_cookie("fundpass_staff").expect("no staff cookie"))
}

/// Sends `request` carrying only the staff cookie `token`; status and `Location`.
async fn with_staff_cookie(request: reqwest::RequestBuilder, token: &str) -> (u16, String) {
    let reply = request
        .header("cookie", format!("fundpass_staff={token}"))
        .send()
        .await
        .unwrap();
    let location = reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (reply.status().as_u16(), location)
}

#[tokio::test]
async fn a_first_login_enrols_the_authenticator_and_later_logins_only_ask_for_the_code() {
    let app = TestApp::spawn().await;
    add_staff(&app, "wang.li", StaffRole::Counter).await;
    let browser = Browser::from_ip(&app, "10.1.2.3");

    let step = browser.staff_password_step("wang.li", STAFF_PASSWORD).await;
    step.assert_redirect("/staff/mfa");
    let step_cookie = step.set_cookie("fundpass_staff").unwrap();
    assert!(
        step_cookie.contains("HttpOnly") && step_cookie.contains("SameSite=Strict"),
        "{step_cookie}"
    );
    let enrol = browser.get("/staff/mfa").await;
    assert_eq!(enrol.status, 200, "{}", enrol.html);
    assert!(enrol.html.contains("设置身份验证器"), "{}", enrol.html);
    let qr = enrol
        .html
        .split("src=\"data:image/svg+xml;base64,")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("no QR code data URI");
    let svg = base64::engine::general_purpose::STANDARD
        .decode(qr)
        .unwrap();
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let secret = secret_on(&enrol).expect("no secret to type by hand");
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");

    let right = code_from_secret(&secret, app.clock_now());
    let wrong = browser.staff_code(&enrol, other_than(&right)).await;
    assert_eq!(wrong.status, 200, "{}", wrong.html);
    assert!(
        wrong
            .html
            .contains("口令错误或已过期，再错4次账号将被锁定。"),
        "{}",
        wrong.html
    );
    assert_eq!(secret_on(&wrong), Some(secret.clone()), "the same secret");
    assert!(staff_record(&app, "wang.li").await.totp_secret.is_none());

    let done = browser.staff_code(&wrong, &right).await;
    done.assert_redirect("/staff");
    assert_ne!(staff_token(&done), cookie_value(&step_cookie));
    let console = browser.get("/staff").await;
    assert_eq!(console.status, 200, "{}", console.html);
    assert!(console.html.contains("wang.li") && console.html.contains("柜台"));
    assert_eq!(
        stored_code(&app, "wang.li").await,
        right,
        "the shown secret is kept"
    );
    let events = app.audit_events().await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "staff.login" && e.details["reason"] == "mfa_enrolled"),
        "{events:?}"
    );

    let logout = browser.staff_post(&console, "/staff/logout", &[]).await;
    logout.assert_redirect("/staff/login");
    browser.get("/staff").await.assert_redirect("/staff/login");

    // The next login shows no secret; the code just used is refused as a replay.
    browser
        .staff_password_step("wang.li", STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    let mfa = browser.get("/staff/mfa").await;
    assert!(mfa.html.contains("第二重验证"), "{}", mfa.html);
    assert!(
        secret_on(&mfa).is_none() && !mfa.html.contains("data:image"),
        "{}",
        mfa.html
    );
    let replayed = browser.staff_code(&mfa, &right).await;
    assert!(
        replayed.html.contains("该口令已使用过，请等待下一个口令。"),
        "{}",
        replayed.html
    );
    browser.get("/staff").await.assert_redirect("/staff/login");

    app.clock.advance(time::Duration::seconds(30));
    browser
        .staff_password_step("wang.li", STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    let mfa = browser.get("/staff/mfa").await;
    let next = stored_code(&app, "wang.li").await;
    assert_ne!(next, right);
    browser
        .staff_code(&mfa, &next)
        .await
        .assert_redirect("/staff");
}

#[tokio::test]
async fn a_password_alone_opens_no_console_page_and_its_step_runs_out_after_five_minutes() {
    let app = TestApp::spawn().await;
    let member = registered(&app, &ZHANG).await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    Browser::from_ip(&app, "10.1.2.3").staff_login(&staff).await;
    app.clock.advance(time::Duration::seconds(30));

    let browser = Browser::from_ip(&app, "10.1.2.4");
    let step = browser.staff_password_step("wang.li", STAFF_PASSWORD).await;
    step.assert_redirect("/staff/mfa");
    let token = staff_token(&step);
    let mfa = browser.get("/staff/mfa").await;
    let step_csrf = mfa.field("csrf").unwrap();

    let case = "0123456789abcdef0123456789abcdef";
    let m = member.0;
    let pages = [
        "/staff".to_owned(),
        "/staff/approvals".to_owned(),
        "/staff/audit".to_owned(),
        "/staff/password".to_owned(),
        format!("/staff/members/{m}"),
        format!("/staff/cases/{case}"),
        format!("/staff/checks/{case}"),
    ];
    for path in &pages {
        let reply = with_staff_cookie(app.client().get(app.url(path)), &token).await;
        assert_eq!(reply, (303, "/staff/login".to_owned()), "GET {path}");
    }
    let form = [
        ("csrf", step_csrf.as_str()),
        ("id_type", "resident_id"),
        ("id_number", ZHANG.id_number),
        ("card_id_type", "resident_id"),
        ("card_id_number", ZHANG.id_number),
        ("card_long_term", "1"),
        ("form_number", "F-1"),
        ("scope", "both"),
        ("call_id", "C-1"),
        ("name", ZHANG.name),
        ("phone", ZHANG.phone),
        ("reason", "checking"),
        ("decision", "approve"),
    ];
    let posts = [
        "/staff/lookup".to_owned(),
        "/staff/logout".to_owned(),
        "/staff/password".to_owned(),
        format!("/staff/members/{m}/counter"),
        format!("/staff/members/{m}/hotline"),
        format!("/staff/members/{m}/reveal"),
        format!("/staff/cases/{case}/issue"),
        format!("/staff/cases/{case}/decide"),
        format!("/staff/checks/{case}/send"),
    ];
    for path in &posts {
        let request = app
            .client()
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(&form));
        let reply = with_staff_cookie(request, &token).await;
        assert_eq!(reply, (303, "/staff/login".to_owned()), "POST {path}");
    }
    assert_eq!(app.count_rows("assisted_cases").await, 0);
    assert_eq!(app.count_rows("hotline_checks").await, 0);
    assert!(
        !app.audit_events()
            .await
            .iter()
            .any(|e| e.action.starts_with("staff.look_up") || e.action.starts_with("counter.")),
        "a password-step session reached a console action"
    );

    // The code completes the same step; the token seen before it is then worthless.
    let code = stored_code(&app, "wang.li").await;
    let done = browser.staff_code(&mfa, &code).await;
    done.assert_redirect("/staff");
    assert_ne!(staff_token(&done), token);
    for path in ["/staff/mfa", "/staff"] {
        let reply = with_staff_cookie(app.client().get(app.url(path)), &token).await;
        assert_eq!(reply, (303, "/staff/login".to_owned()), "{path}");
    }

    // A password step waits five minutes for its code, not longer.
    app.clock.advance(time::Duration::seconds(30));
    let late = Browser::from_ip(&app, "10.1.2.5");
    late.staff_password_step("wang.li", STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    app.clock.advance(time::Duration::minutes(4));
    let mfa = late.get("/staff/mfa").await;
    assert_eq!(mfa.status, 200, "still waiting after four minutes");
    app.clock.advance(time::Duration::minutes(1));
    let code = stored_code(&app, "wang.li").await;
    late.staff_code(&mfa, &code)
        .await
        .assert_redirect("/staff/login");
    late.get("/staff/mfa").await.assert_redirect("/staff/login");
    late.get("/staff").await.assert_redirect("/staff/login");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_and_say_until_when() {
    let app = TestApp::spawn().await;
    let staff = add_staff(&app, "wang.li", StaffRole::Hotline).await;
    let browser = Browser::from_ip(&app, "10.1.2.3");
    // 02:00 UTC is 10:00 in China; the first lock lasts 15 minutes.
    let locked_message = "失败次数过多，账号已锁定至10:15。";
    for attempt in 1..=5 {
        let wrong = browser
            .staff_password_step("wang.li", "Wrong!Harbor2026")
            .await;
        assert_eq!(wrong.status, 200, "{}", wrong.html);
        let expected = if attempt < 5 {
            "用户名或密码错误。"
        } else {
            locked_message
        };
        assert!(
            wrong.html.contains(expected),
            "attempt {attempt}: {}",
            wrong.html
        );
        assert!(wrong.set_cookie("fundpass_staff").is_none());
    }
    let locked = browser.staff_password_step("wang.li", STAFF_PASSWORD).await;
    assert!(locked.html.contains(locked_message), "{}", locked.html);
    assert!(locked.set_cookie("fundpass_staff").is_none());

    app.clock.advance(time::Duration::minutes(15));
    let page = browser.staff_login(&staff).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let events = app.audit_events().await;
    for event in &events {
        let text = serde_json::to_string(event).unwrap();
        assert!(!text.contains("Wrong!Harbor2026") && !text.contains(STAFF_PASSWORD));
    }
}

#[tokio::test]
async fn wrong_codes_say_the_tries_left_and_the_fifth_locks_the_account() {
    let app = TestApp::spawn().await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    Browser::from_ip(&app, "10.1.2.3").staff_login(&staff).await;
    app.clock.advance(time::Duration::seconds(30));
    let browser = Browser::from_ip(&app, "10.1.2.4");
    browser
        .staff_password_step("wang.li", STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    let mut page = browser.get("/staff/mfa").await;
    let right = stored_code(&app, "wang.li").await;
    for left in [4, 3, 2, 1] {
        page = browser.staff_code(&page, other_than(&right)).await;
        let message = format!("口令错误或已过期，再错{left}次账号将被锁定。");
        assert!(page.html.contains(&message), "{message}: {}", page.html);
    }
    let fifth = browser.staff_code(&page, other_than(&right)).await;
    assert!(
        fifth.html.contains("失败次数过多，账号已锁定至10:15。"),
        "{}",
        fifth.html
    );
    let refused = browser.staff_code(&page, &right).await;
    assert!(refused.html.contains("账号已锁定至"), "{}", refused.html);
    browser.get("/staff").await.assert_redirect("/staff/login");
}

#[tokio::test]
async fn an_unknown_user_name_reads_the_same_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    add_staff(&app, "wang.li", StaffRole::Counter).await;
    let browser = Browser::from_ip(&app, "10.1.2.3");

    let wrong = browser
        .staff_password_step("wang.li", "Wrong!Harbor2026")
        .await;
    let unknown = browser
        .staff_password_step("zhao.liu", STAFF_PASSWORD)
        .await;
    let malformed = browser.staff_password_step("1x", STAFF_PASSWORD).await;
    assert!(wrong.html.contains("用户名或密码错误。"), "{}", wrong.html);
    for other in [&unknown, &malformed] {
        assert_eq!(other.status, wrong.status);
        assert_eq!(
            blank(&other.html, &["username"]),
            blank(&wrong.html, &["username"])
        );
        assert!(other.set_cookie("fundpass_staff").is_none());
    }
    // Unknown names have nothing to lock: the real account still has four tries.
    for _ in 0..5 {
        browser
            .staff_password_step("zhao.liu", STAFF_PASSWORD)
            .await;
    }
    assert_eq!(staff_record(&app, "wang.li").await.lock.failures, 1);
    let staff = Staff {
        username: "wang.li".into(),
        role: StaffRole::Counter,
    };
    browser.staff_login(&staff).await;
}

#[tokio::test]
async fn an_enrolment_begun_in_parallel_cannot_replace_the_one_that_finished() {
    let app = TestApp::spawn().await;
    let staff = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let (mine, other) = (
        Browser::from_ip(&app, "10.1.2.3"),
        Browser::from_ip(&app, "10.1.2.4"),
    );
    for browser in [&mine, &other] {
        browser
            .staff_password_step("wang.li", STAFF_PASSWORD)
            .await
            .assert_redirect("/staff/mfa");
    }
    let (my_page, other_page) = (mine.get("/staff/mfa").await, other.get("/staff/mfa").await);
    let (my_secret, other_secret) = (
        secret_on(&my_page).unwrap(),
        secret_on(&other_page).unwrap(),
    );
    assert_ne!(my_secret, other_secret);

    let now = app.clock_now();
    mine.staff_code(&my_page, &code_from_secret(&my_secret, now))
        .await
        .assert_redirect("/staff");
    // The other step still holds a secret of its own; once the account has one, that
    // secret is worth nothing.
    let late = other
        .staff_code(&other_page, &code_from_secret(&other_secret, now))
        .await;
    assert_ne!(late.location(), Some("/staff"), "{}", late.html);
    assert!(
        late.html.contains("登录超时，请重新登录。"),
        "{}",
        late.html
    );
    other.get("/staff").await.assert_redirect("/staff/login");
    app.clock.advance(time::Duration::seconds(30));
    assert_eq!(
        stored_code(&app, "wang.li").await,
        code_from_secret(&my_secret, app.clock_now()),
        "the authenticator enrolled first still works"
    );
    Browser::from_ip(&app, "10.1.2.5").staff_login(&staff).await;
}
