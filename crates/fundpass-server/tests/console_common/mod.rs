//! What the staff-console tests share: staff accounts made through the store (as
//! `fundpass staff add` does), logging in with password and TOTP the way a staff
//! member with an authenticator app does, the console's forms and what the tests
//! read back (audit events, tickets on receipts). The member's side of a ticket (the
//! counter's PIN-pad page or `/ticket` online) is in `member.rs`.

// Test helpers: a failed request or a missing field is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod member;

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use member::{
    NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, holds_a_ticket, logs_in, redeemed, registered,
    texts_with, ticket_in,
};

use fundpass_core::audit::AuditEvent;
use fundpass_core::crypto::Field;
use fundpass_core::identity::{IdNumber, IdType};
use fundpass_core::member::MemberId;
use fundpass_core::ports::StaffStore as _;
use fundpass_core::staff::{Branch, NewStaff, StaffRecord, StaffRole, TotpSecret, Username};
use fundpass_server::system::OsSecrets;
use time::OffsetDateTime;

use crate::support::TestApp;
use crate::web_common::{Browser, Page, Person, cookie_value};

pub const STAFF_PASSWORD: &str = "Quiet!Harbor2026";
/// A card that is still good on the test clock's day (2026-11-23).
pub const CARD_EXPIRY: &str = "2036-05-01";

/// A staff account made for a test.
#[derive(Debug, Clone)]
pub struct Staff {
    pub username: String,
    pub role: StaffRole,
}

/// Creates an active staff account (no second factor yet) with [`STAFF_PASSWORD`].
pub async fn add_staff(app: &TestApp, username: &str, role: StaffRole) -> Staff {
    add_staff_holding(app, username, role, None).await
}

/// Creates a staff account whose holder is also the member `own` (their own
/// document's blind index on the account).
pub async fn add_staff_holding(
    app: &TestApp,
    username: &str,
    role: StaffRole,
    own: Option<&Person>,
) -> Staff {
    if let Some(person) = own {
        crate::support::exposure::know_person(person);
    }
    let member_index = own.map(|p| {
        let id = IdNumber::parse(
            IdType::ResidentId,
            p.id_number,
            time::macros::date!(2026 - 11 - 23),
        )
        .unwrap();
        app.keyring.blind_index(Field::IdNumber, id.normalised())
    });
    let new = NewStaff {
        username: Username::parse(username).unwrap(),
        display_name: format!("测试{username}"),
        role,
        branch: Branch {
            id: "BJ-001".into(),
            name: "东城管理部".into(),
        },
        password_hash: app
            .portal
            .hasher
            .hash(&app.keyring, STAFF_PASSWORD, &OsSecrets)
            .unwrap(),
        member_index,
        created_at: app.clock_now(),
    };
    app.store.insert_staff(&new).await.unwrap();
    Staff {
        username: username.to_owned(),
        role,
    }
}

/// The account as stored.
pub async fn staff_record(app: &TestApp, username: &str) -> StaffRecord {
    let name = Username::parse(username).unwrap();
    app.store.staff_by_username(&name).await.unwrap().unwrap()
}

/// The code an authenticator app shows at `at` for the base32 secret typed from
/// the enrolment page (SHA-1, 6 digits, 30-second steps).
pub fn code_from_secret(base32: &str, at: OffsetDateTime) -> String {
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::try_from_base32(base32).unwrap())
        .build()
        .unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
        .to_string()
}

/// The current code of an enrolled account, from its stored secret.
pub async fn stored_code(app: &TestApp, username: &str) -> String {
    let record = staff_record(app, username).await;
    let sealed = record.totp_secret.expect("the account has not enrolled");
    TotpSecret::open(&app.keyring, &sealed)
        .unwrap()
        .code_at(app.clock_now())
        .unwrap()
}

/// The TOTP secret shown on an enrolment page, spaces removed.
pub fn secret_on(page: &Page) -> Option<String> {
    let start = page.html.find("<code id=\"totp-secret\">")? + "<code id=\"totp-secret\">".len();
    let end = page.html[start..].find("</code>")? + start;
    Some(page.html[start..end].replace(' ', ""))
}

/// The ticket printed on a receipt.
pub fn ticket_on(page: &Page) -> Option<String> {
    let start = page.html.find("id=\"ticket\">")? + "id=\"ticket\">".len();
    let end = page.html[start..].find('<')? + start;
    Some(page.html[start..end].trim().to_owned())
}

/// The console address of `member` in the staff session of `token`, made the way
/// the server makes it (for trying what a look-up would have refused).
pub async fn address_in_session(app: &TestApp, token: &str, member: MemberId) -> String {
    use fundpass_core::ports::StaffSessionStore as _;
    let digest = fundpass_core::crypto::OpaqueToken::parse(token)
        .unwrap()
        .digest();
    let session = app.store.staff_session(&digest).await.unwrap().unwrap();
    let staff = app
        .store
        .staff_by_id(session.staff_id)
        .await
        .unwrap()
        .unwrap();
    let auth = fundpass_core::console::StaffAuth { session, staff };
    app.portal.member_ref(&auth, member)
}

/// The id of the case of the newest audit event naming one.
pub async fn last_case_id(app: &TestApp) -> String {
    app.audit_events()
        .await
        .iter()
        .rev()
        .find_map(|e| e.details["case"].as_str().map(str::to_owned))
        .expect("no case in the audit trail")
}

/// Events of `action`, oldest first.
pub fn events_of<'a>(events: &'a [AuditEvent], action: &str) -> Vec<&'a AuditEvent> {
    events.iter().filter(|e| e.action == action).collect()
}

/// Asserts that no audit event carries `person`'s full document number or phone.
#[track_caller]
pub fn assert_no_identity_in(events: &[AuditEvent], person: &Person) {
    for event in events {
        let text = serde_json::to_string(event).unwrap();
        for leak in [person.id_number, person.phone] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
}

/// The in-person check form for `person`'s original card, resetting `scope`.
pub fn visit(person: &Person, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("card_id_type", "resident_id".into()),
        ("card_id_number", person.id_number.into()),
        ("card_expiry", CARD_EXPIRY.into()),
        ("form_number", "F-2026-0001".into()),
        ("scope", scope.into()),
        ("new_phone", String::new()),
        ("new_phone_again", String::new()),
    ]
}

/// `form` with field `name` set to `value`.
pub fn with(
    mut form: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(n, _)| *n != name);
    form.push((name, value.to_owned()));
    form
}

/// The console's side of the tests.
impl Browser<'_> {
    /// The login form, then user name and password.
    pub async fn staff_password_step(&self, username: &str, password: &str) -> Page {
        let form = self.get("/staff/login").await;
        assert_eq!(form.status, 200, "{}", form.html);
        let csrf = form.field("csrf").unwrap();
        self.post(
            "/staff/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Posts `code` on the TOTP page `mfa`.
    pub async fn staff_code(&self, mfa: &Page, code: &str) -> Page {
        let csrf = mfa.field("csrf").unwrap();
        self.post("/staff/mfa", &[("csrf", &csrf), ("code", code)])
            .await
    }

    /// Logs `staff` in (enrolling on a first login), waiting for the next TOTP step
    /// when this account's current code was already used; the console's home page.
    pub async fn staff_login(&self, staff: &Staff) -> Page {
        self.staff_session_token(staff).await;
        self.get("/staff").await
    }

    /// Logs `staff` in like [`Self::staff_login`]; the console session's token.
    pub async fn staff_session_token(&self, staff: &Staff) -> String {
        let app = self.app;
        let now_step = app.clock_now().unix_timestamp() / 30;
        if staff_record(app, &staff.username)
            .await
            .totp_last_step
            .is_some_and(|last| last >= now_step)
        {
            app.clock.advance(time::Duration::seconds(30));
        }
        self.staff_password_step(&staff.username, STAFF_PASSWORD)
            .await
            .assert_redirect("/staff/mfa");
        let mfa = self.get("/staff/mfa").await;
        let code = match secret_on(&mfa) {
            Some(secret) => code_from_secret(&secret, app.clock_now()),
            None => stored_code(app, &staff.username).await,
        };
        let done = self.staff_code(&mfa, &code).await;
        done.assert_redirect("/staff");
        cookie_value(
            &done
                .set_cookie("fundpass_staff")
                .expect("no console cookie"),
        )
    }

    /// Posts `fields` to `path` with the console token found on `page`.
    pub async fn staff_post(&self, page: &Page, path: &str, fields: &[(&str, String)]) -> Page {
        let csrf = page.field("csrf").expect("no token on the console page");
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        self.post(path, &form).await
    }

    /// Looks `person` up from the console's home page.
    pub async fn look_up(&self, person: &Person) -> Page {
        let home = self.get("/staff").await;
        assert_eq!(home.status, 200, "{}", home.html);
        self.staff_post(
            &home,
            "/staff/lookup",
            &[
                ("id_type", "resident_id".into()),
                ("id_number", person.id_number.into()),
            ],
        )
        .await
    }

    /// Looks `person` up and opens their console page: the member's console address
    /// in this staff session (`/staff/members/<address>`) and the page.
    pub async fn member_page(&self, person: &Person) -> (String, Page) {
        let found = self.look_up(person).await;
        assert_eq!(found.status, 303, "{}", found.html);
        let path = found.location().unwrap().to_owned();
        let address = path.strip_prefix("/staff/members/").unwrap().to_owned();
        (address, self.get(&path).await)
    }

    /// Posts the in-person check form from the member's console page (`member`: the
    /// address [`Self::member_page`] returned).
    pub async fn open_case(&self, member: &str, form: &[(&'static str, String)]) -> Page {
        let page = self.get(&format!("/staff/members/{member}")).await;
        assert_eq!(page.status, 200, "{}", page.html);
        self.post_counter_form(&page, member, form).await
    }

    /// Posts the counter form of the member page `page` (with the case id it was
    /// rendered with, as a browser does) filled in with `form`.
    pub async fn post_counter_form(
        &self,
        page: &Page,
        member: &str,
        form: &[(&'static str, String)],
    ) -> Page {
        let mut fields = form.to_vec();
        if let Some(case_id) = page.field("case_id") {
            fields.push(("case_id", case_id));
        }
        self.staff_post(page, &format!("/staff/members/{member}/counter"), &fields)
            .await
    }

    /// Follows a redirect as a browser would (one hop); any other page as it is.
    pub async fn follow(&self, page: Page) -> Page {
        match (page.status, page.location()) {
            (303, Some(to)) => self.get(to).await,
            _ => page,
        }
    }

    /// Posts the hotline checklist (`answers` by question code); the result page it
    /// leads to (or the member page with the refusal).
    pub async fn run_checklist(
        &self,
        member: &str,
        name: &str,
        phone: &str,
        answers: &[(&str, &str)],
    ) -> Page {
        let page = self.get(&format!("/staff/members/{member}")).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let csrf = page.field("csrf").unwrap();
        let named: Vec<(String, &str)> = answers
            .iter()
            .map(|(q, a)| (format!("answer_{q}"), *a))
            .collect();
        let mut fields: Vec<(&str, &str)> = vec![
            ("csrf", &csrf),
            ("call_id", "CALL-20261123-01"),
            ("name", name),
            ("phone", phone),
        ];
        fields.extend(named.iter().map(|(k, v)| (k.as_str(), *v)));
        let posted = self
            .post(&format!("/staff/members/{member}/hotline"), &fields)
            .await;
        self.follow(posted).await
    }
}
