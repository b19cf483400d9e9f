//! No page, log line or audit detail shows a full document number or phone, except
//! the member's copy of their own data. Every HTTP test already runs the check on
//! each answer and on the audit trail (`support/exposure.rs`); this file shows that
//! the check catches what it should, then walks the portal, the app API and the
//! console once each with the log captured, and reads back the audit trail, the
//! outboxes' clear columns, the texts sent and the log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod console_common;
mod support;
mod web_common;

use base64::Engine as _;
use fundpass_core::crypto::Field;
use fundpass_core::ports::{AuditStore as _, OutboxStore as _};
use fundpass_core::staff::StaffRole;
use serde_json::json;
use support::exposure::{self, Kind};
use support::{TestApp, send_from};
use web_common::{Browser, LOGIN_PASSWORD, Page, STRANGER, TRANSACTION_PASSWORD, ZHANG};

/// Made-up numbers for the check's own tests; no member has them.
const SOME_ID: &str = "11010519491231002X";
const SOME_PHONE: &str = "13700001234";

fn kinds_in(text: &str) -> Vec<Kind> {
    exposure::hits_in(text).iter().map(|h| h.kind).collect()
}

#[test]
fn the_check_finds_a_full_number_however_it_is_written() {
    exposure::know(Kind::DocumentNumber, SOME_ID);
    exposure::know(Kind::Phone, SOME_PHONE);
    let percent: String = SOME_ID.bytes().map(|b| format!("%{b:02X}")).collect();
    let escaped: String = SOME_PHONE
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let entities: String = SOME_ID
        .chars()
        .map(|c| format!("&#{};", c as u32))
        .collect();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({ "sub": SOME_PHONE }).to_string());
    let cases = [
        (format!("<dd>{SOME_ID}</dd>"), Kind::DocumentNumber),
        (
            format!("<dd>{}</dd>", SOME_ID.to_lowercase()),
            Kind::DocumentNumber,
        ),
        (
            format!("Location: /staff/lookup?id={percent}"),
            Kind::DocumentNumber,
        ),
        (format!("{{\"to\":\"{escaped}\"}}"), Kind::Phone),
        (
            format!("<input value=\"{entities}\">"),
            Kind::DocumentNumber,
        ),
        (
            format!("token=eyJhbGciOiJub25lIn0.{claims}.sig"),
            Kind::Phone,
        ),
        ("call 137 0000 1234 now".to_owned(), Kind::Phone),
        ("call 137-0000-1234 now".to_owned(), Kind::Phone),
        ("全角１３７００００１２３４".to_owned(), Kind::Phone),
        (format!("+86{SOME_PHONE}"), Kind::Phone),
    ];
    for (text, kind) in cases {
        assert_eq!(kinds_in(&text), [kind], "{text}");
    }
    let hit = &exposure::hits_in(&format!("<dd>{SOME_ID}</dd>"))[0];
    let said = hit.to_string();
    assert!(
        !said.contains(SOME_ID),
        "the message shows the number: {said}"
    );
    assert!(said.contains("110105********002X"), "{said}");
}

#[test]
fn the_check_passes_masked_and_other_numbers() {
    exposure::know(Kind::DocumentNumber, SOME_ID);
    exposure::know(Kind::Phone, SOME_PHONE);
    for text in [
        "110105********002X",
        "137****1234",
        "1370000123",
        "13700001235",
        "account 200300400501, 2026-11-23 10:00",
        "1101051949123100",
    ] {
        assert_eq!(kinds_in(text), [], "{text}");
    }
}

/// A supervisor at 10.1.9.9, logged in, on the console page of ZHANG (registered);
/// the reveal's address.
async fn supervisor_at_zhang(app: &TestApp) -> (Browser<'_>, Page, String) {
    console_common::registered(app, &ZHANG).await;
    let staff = console_common::add_staff(app, "zhou.min", StaffRole::Supervisor).await;
    let supervisor = Browser::from_ip(app, "10.1.9.9");
    supervisor.staff_login(&staff).await;
    let (at, page) = supervisor.member_page(&ZHANG).await;
    (supervisor, page, format!("/staff/members/{at}/reveal"))
}

fn reveal_form(page: &Page) -> String {
    web_common::encode_form(&[
        ("csrf", &page.field("csrf").unwrap()),
        ("reason", "核对柜台业务"),
    ])
}

#[tokio::test]
async fn a_full_number_on_a_page_is_caught_even_when_the_test_sends_around_the_harness() {
    let app = TestApp::spawn().await;
    let (supervisor, page, reveal) = supervisor_at_zhang(&app).await;

    // The console's reveal shows both numbers; sent with the test's own client.
    let raw = supervisor
        .client
        .post(app.url(&reveal))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "10.1.9.9")
        .body(reveal_form(&page))
        .send()
        .await
        .unwrap();
    assert!(raw.text().await.unwrap().contains(ZHANG.id_number));
    let found = app.take_exposures().join("\n");
    assert!(
        found.contains(&format!("POST {reveal} answered with")),
        "{found}"
    );
    assert!(
        found.contains("a full document number (110105********1239)"),
        "{found}"
    );
    assert!(
        found.contains("a full phone number (138******78)"),
        "{found}"
    );
    assert!(
        !found.contains(ZHANG.id_number) && !found.contains(ZHANG.phone),
        "{found}"
    );

    // Through the harness, the request itself fails.
    let request = supervisor
        .client
        .post(app.url(&reveal))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reveal_form(&page));
    let failed = tokio::spawn(async move { send_from(request, "10.1.9.9").await })
        .await
        .unwrap_err();
    assert!(failed.is_panic());
    let message = failed.into_panic();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!("exposure: POST {reveal} answered with")),
        "{message}"
    );
    assert!(app.take_exposures().is_empty());
}

#[tokio::test]
async fn a_full_number_in_an_audit_event_is_caught_after_the_next_request_and_when_read_back() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    browser.registered_and_logged_in(&ZHANG).await;
    let last = app.store.records_after(0, 10_000).await.unwrap();
    let mut forged = serde_json::to_value(&last.last().unwrap().event).unwrap();
    forged["details"] = json!({ "phone": ZHANG.phone });
    let forged = serde_json::from_value(forged).unwrap();
    app.store.append(&forged).await.unwrap();

    app.client().get(app.url("/healthz")).send().await.unwrap();
    let found = app.take_exposures().join("\n");
    assert!(found.starts_with("exposure: audit event"), "{found}");
    assert!(
        found.contains("written by the time GET /healthz was answered"),
        "{found}"
    );
    assert!(
        found.contains("a full phone number (138******78)"),
        "{found}"
    );

    let read_back = std::panic::catch_unwind(|| exposure::assert_audit_clean(&[forged]));
    assert!(
        read_back.is_err(),
        "the read-back check passed a full phone number"
    );
}

/// Log capture: every span and event of fundpass at any level, and of everything
/// else at DEBUG and above, as text (production logs at WARN, `-v` at INFO, `-vv`
/// at DEBUG).
mod log {
    use std::fmt::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, OnceLock};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();

    /// Installs the capturing subscriber for this test binary (once).
    pub fn capture() {
        INSTALLED.get_or_init(|| {
            let capture = Capture {
                next: AtomicU64::new(1),
            };
            tracing::subscriber::set_global_default(capture).unwrap();
        });
    }

    /// Everything captured so far, a line per span or event.
    pub fn text() -> String {
        LINES.lock().unwrap().join("\n")
    }

    struct Capture {
        next: AtomicU64,
    }

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn keep(line: Line) {
        LINES.lock().unwrap().push(line.0);
    }

    impl Subscriber for Capture {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target().starts_with("fundpass") || *metadata.level() <= Level::DEBUG
        }

        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let meta = span.metadata();
            let mut line = Line(format!(
                "span {} {} {}:",
                meta.level(),
                meta.target(),
                meta.name()
            ));
            span.record(&mut line);
            keep(line);
            Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed))
        }

        fn record(&self, _: &Id, values: &Record<'_>) {
            let mut line = Line("span fields:".to_owned());
            values.record(&mut line);
            keep(line);
        }

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, event: &Event<'_>) {
            let meta = event.metadata();
            let mut line = Line(format!("{} {}:", meta.level(), meta.target()));
            event.record(&mut line);
            keep(line);
        }

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }
}

/// What the app kept and said besides its answers: the audit trail, the outboxes'
/// clear columns, the texts themselves and the log (which must hold the walk).
async fn nothing_else_exposed(app: &TestApp, walked: &str) {
    let events = app.audit_events().await;
    assert!(
        events.len() > 10,
        "the walk left {} audit events",
        events.len()
    );
    for row in app.outbox_clear_columns().await {
        exposure::assert_clean("an outbox row", &row);
    }
    for message in app.store.recent_messages(500).await.unwrap() {
        let text = app.keyring.open(Field::Message, &message.body).unwrap();
        exposure::assert_clean(&format!("a {} text", message.purpose), &text);
    }
    let log = log::text();
    assert!(
        log.contains(&format!("path={walked}")),
        "the log was not captured"
    );
    exposure::assert_clean("the log", &log);
}

#[tokio::test]
async fn a_member_walks_the_portal_and_nothing_but_the_data_copy_shows_a_full_number() {
    log::capture();
    let app = TestApp::spawn().await;
    app.seed(&ZHANG).await;
    let browser = Browser::new(&app);

    // Registration, after a wrong captcha that shows the form again.
    let form = browser.get("/register").await;
    let again = browser
        .post(
            "/register",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("name", ZHANG.name),
                ("id_type", "resident_id"),
                ("id_number", ZHANG.id_number),
                ("phone", ZHANG.phone),
                ("captcha_id", &form.field("captcha_id").unwrap()),
                ("captcha_answer", "0000"),
            ],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.html);
    browser.register(&ZHANG).await;

    // Logging in: a wrong password, a stranger, then the member.
    let wrong = browser.login(&ZHANG, "Wrong0password1").await;
    assert_eq!(wrong.status, 200, "{}", wrong.html);
    let stranger = browser.login(&STRANGER, LOGIN_PASSWORD).await;
    assert_eq!(stranger.status, 200, "{}", stranger.html);
    browser
        .login(&ZHANG, LOGIN_PASSWORD)
        .await
        .assert_redirect("/home");
    for path in [
        "/home",
        "/security",
        "/security/record",
        "/sessions",
        "/security/questions",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.html);
    }
    let saved = browser
        .set_questions(&[("first_school", "Beijing No. 4")])
        .await;
    assert_eq!(saved.status, 200, "{}", saved.html);

    // Changing the login password, first with a wrong current one.
    let new_login = "Harbor5lantern72";
    for current in ["Lantern42rivers", LOGIN_PASSWORD] {
        let form = browser.get("/security/password").await;
        browser
            .post(
                "/security/password",
                &[
                    ("csrf", &form.field("csrf").unwrap()),
                    ("current_password", current),
                    ("new_password", new_login),
                    ("new_password_again", new_login),
                ],
            )
            .await;
    }

    // The copy of one's data: refused with a wrong password, then the download.
    let form = browser.get("/security/my-data").await;
    let csrf = form.field("csrf").unwrap();
    let refused = browser
        .post(
            "/security/my-data",
            &[("csrf", &csrf), ("password", "Wrong0password1")],
        )
        .await;
    assert!(refused.header("content-disposition").is_none());
    let copy = browser
        .post(
            "/security/my-data",
            &[("csrf", &csrf), ("password", new_login)],
        )
        .await;
    assert!(copy.html.contains(ZHANG.id_number) && copy.html.contains(ZHANG.phone));

    // Logging out, a forgotten login password, and in again.
    let home = browser.get("/home").await;
    browser
        .post("/logout", &[("csrf", &home.field("csrf").unwrap())])
        .await;
    let verify = browser.forgot_identify(&ZHANG).await;
    let new_page = browser.forgot_verify(&verify, TRANSACTION_PASSWORD).await;
    let recovered = "Green5valley81";
    let done = browser.forgot_new(&new_page, [recovered, recovered]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    browser
        .login(&ZHANG, recovered)
        .await
        .assert_redirect("/home");

    // A forgotten transaction password, by a code to the phone on file (after a
    // wrong phone).
    app.clock.advance(time::Duration::seconds(61));
    let phone_page = browser.transaction_identify(&ZHANG).await;
    browser.transaction_phone(&phone_page, "13812345670").await;
    let code_page = browser.transaction_phone(&phone_page, ZHANG.phone).await;
    let code = app.last_code_to(ZHANG.phone).await;
    let new_page = browser.transaction_code(&code_page, &code).await;
    let done = browser
        .transaction_new(&new_page, ["581307", "581307"])
        .await;
    assert_eq!(done.status, 200, "{}", done.html);
    for path in ["/ticket", "/counter/pinpad", "/dev/outbox", "/login"] {
        browser.get(path).await;
    }
    nothing_else_exposed(&app, "/security/my-data").await;
}

#[tokio::test]
async fn a_member_walks_the_app_api_and_nothing_but_the_data_copy_shows_a_full_number() {
    use api_common::{Api, LI, NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD};

    log::capture();
    let app = TestApp::spawn().await;
    app.seed(&LI).await;
    let api = Api::new(&app);
    let refused = api
        .start_registration(&api_common::Person {
            phone: "13900001111",
            ..LI
        })
        .await;
    assert!(
        refused.status >= 400 || refused.status == 202,
        "{}",
        refused.text
    );
    api.register(&LI).await;
    app.clock.advance(time::Duration::seconds(61));

    api.login_by_id(LI.id_number, "Wrong0password1")
        .await
        .assert_error(401, "invalid_credentials");
    let token = api.token_for(&LI).await;
    for path in ["/api/v1/me", "/api/v1/security-record", "/api/v1/sessions"] {
        let reply = api.get_as(&token, path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    let questions = json!({"questions": [{"question": "first_school", "answer": "Beijing No. 4"}]});
    api.put_json_as(&token, "/api/v1/security/questions", questions)
        .await;
    let wrong = api
        .post_json_as(
            &token,
            "/api/v1/my-data",
            json!({ "password": "Wrong0password1" }),
        )
        .await;
    assert!(wrong.header("content-disposition").is_none());
    let copy = api
        .post_json_as(
            &token,
            "/api/v1/my-data",
            json!({ "password": api_common::LOGIN_PASSWORD }),
        )
        .await;
    assert!(copy.text.contains(LI.id_number) && copy.text.contains(LI.phone));

    api.recover_transaction_password(&token, &LI, NEW_TRANSACTION_PASSWORD)
        .await;
    api.recover_login_password(&LI, NEW_TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    let face = api.face_login(&LI).await;
    let change = json!({
        "transaction_password": NEW_TRANSACTION_PASSWORD,
        "new_phone": "13900001111", "new_phone_again": "13900001111",
    });
    let moved = api.post_json_as(&face, "/api/v1/phone", change).await;
    assert_eq!(moved.status, 204, "{}", moved.text);
    nothing_else_exposed(&app, "/api/v1/my-data").await;
}

#[tokio::test]
async fn staff_walk_the_console_and_no_page_shows_a_full_number_but_the_audited_reveal() {
    use console_common::{add_staff, redeemed, ticket_on, visit};

    log::capture();
    let app = TestApp::spawn().await;
    let (supervisor, page, reveal) = supervisor_at_zhang(&app).await;
    assert!(!page.html.contains(ZHANG.id_number));

    // The reveal's purpose is to show both numbers to a supervisor, once, audited.
    app.allow_full_identity_on("POST", &reveal);
    let shown = supervisor
        .staff_post(&page, &reveal, &[("reason", "核对柜台业务".to_owned())])
        .await;
    assert!(shown.html.contains(ZHANG.id_number), "{}", shown.html);
    let not_found = supervisor.look_up(&STRANGER).await;
    assert_eq!(not_found.status, 200, "{}", not_found.html);

    // A reset at the counter, redeemed on the PIN pad.
    let clerk = add_staff(&app, "wang.li", StaffRole::Counter).await;
    let counter = Browser::from_ip(&app, "10.1.2.3");
    counter.staff_login(&clerk).await;
    let (at, _) = counter.member_page(&ZHANG).await;
    let mismatch = counter
        .open_case(
            &at,
            &console_common::with(visit(&ZHANG, "both"), "card_id_number", STRANGER.id_number),
        )
        .await;
    assert!(ticket_on(&mismatch).is_none(), "{}", mismatch.html);
    let receipt = counter.open_case(&at, &visit(&ZHANG, "both")).await;
    let ticket = ticket_on(&receipt).expect("no ticket on the receipt");
    let pin_pad = Browser::from_ip(&app, "10.1.2.3");
    assert!(redeemed(
        &pin_pad.redeem("/counter/pinpad", &ticket, &ZHANG).await
    ));

    // The hotline checklist, and the auditor's pages.
    let agent = add_staff(&app, "sun.li", StaffRole::Hotline).await;
    let hotline = Browser::from_ip(&app, "10.2.0.1");
    hotline.staff_login(&agent).await;
    let (at, _) = hotline.member_page(&ZHANG).await;
    hotline
        .run_checklist(&at, ZHANG.name, "13900001111", &[])
        .await;
    let auditor = add_staff(&app, "zhou.audit", StaffRole::Auditor).await;
    let reader = Browser::from_ip(&app, "10.1.2.5");
    reader.staff_login(&auditor).await;
    for path in ["/staff/audit", "/staff/anomalies"] {
        let page = reader.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.html);
    }
    let approvals = supervisor.get("/staff/approvals").await;
    assert_eq!(approvals.status, 200, "{}", approvals.html);
    nothing_else_exposed(&app, "/staff/audit").await;
}
