//! The staff console's forms: every `POST` route of `web/console/mod.rs`, and their
//! good requests (ZHANG registered; a counter clerk, a supervisor and a hotline agent,
//! each logged in from their own desk the first time a row needs them).

use fundpass_core::staff::StaffRole;

use super::Kind::{Choice, Document, Phone, Secret, Text, Token};
use super::Place::Path;
use super::portal::{CSRF, row};
use super::run::Table;
use super::{Expect, Field, Prepared, Row, at, body};
use crate::console_common::{
    STAFF_PASSWORD, Staff, add_staff, code_from_secret, last_case_id, registered, secret_on,
    stored_code, visit, with,
};
use crate::support::TestApp;
use crate::web_common::{Browser, ZHANG};

const FORM: Expect = Expect::Form;
const NOT_FOUND: Expect = Expect::Status(404);
/// A wrong password or code counts against the account and is audited.
const TRIES: &[&str] = &["staff", "staff_sessions", "login_throttles", "audit_events"];

/// A console form: what a logged-in staff member tries and is refused is on the audit
/// trail too (the auditor reads attempts, not only what succeeded).
const fn staff_row(path: &'static str, fields: &'static [Field]) -> Row {
    Row {
        writes: &["audit_events"],
        ..row(path, fields)
    }
}

/// Every form of the staff console.
pub const ROWS: &[Row] = &[
    staff_row(
        "/staff/login",
        &[
            CSRF,
            body("username", Text, FORM).writing(TRIES),
            body("password", Secret, FORM).writing(TRIES),
        ],
    ),
    staff_row(
        "/staff/mfa",
        &[CSRF, body("code", Secret, FORM).writing(TRIES)],
    ),
    staff_row("/staff/logout", &[CSRF]),
    staff_row(
        "/staff/password",
        &[
            CSRF,
            body("current_password", Secret, FORM).writing(TRIES),
            body("new_password", Secret, FORM),
            body("new_password_again", Secret, FORM),
        ],
    ),
    staff_row(
        "/staff/lookup",
        &[
            CSRF,
            body("id_type", Choice, FORM),
            body("id_number", Document, FORM),
        ],
    ),
    staff_row(
        "/staff/members/{id}/reveal",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("reason", Text, FORM),
        ],
    ),
    staff_row(
        "/staff/members/{id}/counter",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("case_id", Token, FORM),
            body("card_id_type", Choice, FORM),
            body("card_id_number", Document, FORM),
            body("card_expiry", Text, FORM),
            body("form_number", Text, FORM),
            body("scope", Choice, FORM),
            body("new_phone", Phone, FORM),
            body("new_phone_again", Phone, FORM),
        ],
    ),
    staff_row(
        "/staff/members/{id}/hotline",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("call_id", Text, FORM),
            body("name", Text, FORM),
            body("phone", Phone, FORM),
        ],
    ),
    staff_row(
        "/staff/cases/{id}/issue",
        &[CSRF, at(Path, "id", Token, NOT_FOUND)],
    ),
    staff_row(
        "/staff/cases/{id}/decide",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("decision", Choice, FORM),
        ],
    ),
    staff_row(
        "/staff/checks/{id}/send",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("scope", Choice, FORM),
        ],
    ),
];

/// The rows of the staff console.
pub struct ConsoleTable;

pub struct ConsoleState {
    desks: Vec<(StaffRole, reqwest::Client, String)>,
    case: Option<String>,
    check: Option<String>,
}

/// Who works where.
const DESKS: [(StaffRole, &str, &str); 3] = [
    (StaffRole::Counter, "wang.li", "10.1.2.3"),
    (StaffRole::Supervisor, "zhou.min", "10.1.9.9"),
    (StaffRole::Hotline, "sun.li", "10.2.0.1"),
];

impl ConsoleState {
    /// The logged-in browser of the staff member with `role`.
    async fn desk<'a>(&mut self, app: &'a TestApp, role: StaffRole) -> Browser<'a> {
        let (_, name, ip) = DESKS.iter().find(|(r, ..)| *r == role).unwrap();
        if !self.desks.iter().any(|(r, ..)| *r == role) {
            let staff = add_staff(app, name, role).await;
            let browser = Browser::from_ip(app, ip);
            browser.staff_login(&staff).await;
            self.desks.push((role, browser.client, (*ip).to_owned()));
        }
        let (_, client, ip) = self.desks.iter().find(|(r, ..)| *r == role).unwrap();
        Browser {
            app,
            client: client.clone(),
            ip: ip.clone(),
            accept_language: None,
        }
    }
}

impl Table for ConsoleTable {
    type State = ConsoleState;

    async fn setup(app: &TestApp) -> ConsoleState {
        registered(app, &ZHANG).await;
        ConsoleState {
            desks: Vec::new(),
            case: None,
            check: None,
        }
    }

    async fn prepare(
        app: &TestApp,
        state: &mut ConsoleState,
        row: &Row,
        _target: Option<&Field>,
    ) -> Prepared {
        match row.path {
            "/staff/login" | "/staff/mfa" => at_the_door(app, row.path).await,
            "/staff/logout" | "/staff/password" | "/staff/lookup" => {
                let desk = state.desk(app, StaffRole::Counter).await;
                let csrf = desk.get("/staff").await.field("csrf").unwrap();
                let new = "Brand!New2026pass";
                let fields: Vec<(&str, &str)> = match row.path {
                    "/staff/password" => vec![
                        ("current_password", STAFF_PASSWORD),
                        ("new_password", new),
                        ("new_password_again", new),
                    ],
                    "/staff/lookup" => {
                        vec![("id_type", "resident_id"), ("id_number", ZHANG.id_number)]
                    }
                    _ => Vec::new(),
                };
                let mut form = vec![("csrf", csrf.as_str())];
                form.extend(fields);
                Prepared::new(&desk.client, &desk.ip).form(&form)
            }
            "/staff/members/{id}/reveal"
            | "/staff/members/{id}/counter"
            | "/staff/members/{id}/hotline" => {
                let role = match row.path {
                    "/staff/members/{id}/reveal" => StaffRole::Supervisor,
                    "/staff/members/{id}/counter" => StaffRole::Counter,
                    _ => StaffRole::Hotline,
                };
                let desk = state.desk(app, role).await;
                let (at, page) = desk.member_page(&ZHANG).await;
                // The reveal's purpose is to show both numbers, audited.
                app.allow_full_identity_on("POST", &format!("/staff/members/{at}/reveal"));
                let mut form = vec![("csrf".to_owned(), page.field("csrf").unwrap())];
                let fields: Vec<(&str, String)> = match role {
                    StaffRole::Supervisor => vec![("reason", "核对柜台业务".into())],
                    StaffRole::Counter => {
                        let mut fields = visit(&ZHANG, "both");
                        fields.push(("case_id", page.field("case_id").unwrap_or_default()));
                        fields
                    }
                    _ => vec![
                        ("call_id", "CALL-20261123-01".into()),
                        ("name", ZHANG.name.into()),
                        ("phone", ZHANG.phone.into()),
                    ],
                };
                form.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
                Prepared::new(&desk.client, &desk.ip)
                    .path("id", &at)
                    .pairs(form)
            }
            "/staff/cases/{id}/decide" | "/staff/cases/{id}/issue" => {
                let case = waiting_case(app, state).await;
                let deciding = row.path.ends_with("decide");
                if !deciding {
                    approve(app, state, &case).await;
                }
                let role = if deciding {
                    StaffRole::Supervisor
                } else {
                    StaffRole::Counter
                };
                let desk = state.desk(app, role).await;
                let csrf = desk.get("/staff").await.field("csrf").unwrap();
                let mut form = vec![("csrf", csrf.as_str())];
                if deciding {
                    form.push(("decision", "approve"));
                }
                Prepared::new(&desk.client, &desk.ip)
                    .path("id", &case)
                    .form(&form)
            }
            "/staff/checks/{id}/send" => {
                let check = passed_check(app, state).await;
                let desk = state.desk(app, StaffRole::Hotline).await;
                let csrf = desk.get("/staff").await.field("csrf").unwrap();
                Prepared::new(&desk.client, &desk.ip)
                    .path("id", &check)
                    .form(&[("csrf", csrf.as_str()), ("scope", "login")])
            }
            path => panic!("no good request for POST {path}"),
        }
    }
}

/// The login form (`/staff/login`), or the code form of a password step just passed
/// (`/staff/mfa`), from a fresh browser of a clerk who has enrolled before.
async fn at_the_door(app: &TestApp, path: &str) -> Prepared {
    let staff = door_staff(app).await;
    let browser = Browser::from_ip(app, "10.1.2.4");
    if path == "/staff/login" {
        let csrf = browser.get("/staff/login").await.field("csrf").unwrap();
        return Prepared::new(&browser.client, &browser.ip).form(&[
            ("csrf", &csrf),
            ("username", &staff.username),
            ("password", STAFF_PASSWORD),
        ]);
    }
    browser
        .staff_password_step(&staff.username, STAFF_PASSWORD)
        .await
        .assert_redirect("/staff/mfa");
    let mfa = browser.get("/staff/mfa").await;
    let code = match secret_on(&mfa) {
        Some(secret) => code_from_secret(&secret, app.clock_now()),
        None => stored_code(app, &staff.username).await,
    };
    Prepared::new(&browser.client, &browser.ip)
        .form(&[("csrf", &mfa.field("csrf").unwrap()), ("code", &code)])
}

/// The clerk who logs in at the door (made the first time).
async fn door_staff(app: &TestApp) -> Staff {
    use fundpass_core::ports::StaffStore as _;
    let name = fundpass_core::staff::Username::parse("li.na").unwrap();
    if app.store.staff_by_username(&name).await.unwrap().is_none() {
        return add_staff(app, "li.na", StaffRole::Counter).await;
    }
    Staff {
        username: "li.na".into(),
        role: StaffRole::Counter,
    }
}

/// A case of ZHANG's waiting for a supervisor: a reset with a phone change.
async fn waiting_case(app: &TestApp, state: &mut ConsoleState) -> String {
    if state.case.is_none() {
        let desk = state.desk(app, StaffRole::Counter).await;
        let (at, _) = desk.member_page(&ZHANG).await;
        let change = with(
            with(visit(&ZHANG, "both"), "new_phone", "13900001111"),
            "new_phone_again",
            "13900001111",
        );
        let opened = desk.open_case(&at, &change).await;
        assert_eq!(opened.status, 303, "{}", opened.html);
        state.case = Some(last_case_id(app).await);
    }
    state.case.clone().unwrap()
}

/// Approves `case` as the supervisor (once).
async fn approve(app: &TestApp, state: &mut ConsoleState, case: &str) {
    let desk = state.desk(app, StaffRole::Supervisor).await;
    let page = desk.get("/staff").await;
    let decided = desk
        .staff_post(
            &page,
            &format!("/staff/cases/{case}/decide"),
            &[("decision", "approve".into())],
        )
        .await;
    assert!(matches!(decided.status, 200 | 303), "{}", decided.html);
}

/// A hotline checklist of ZHANG that passed: its id.
async fn passed_check(app: &TestApp, state: &mut ConsoleState) -> String {
    if state.check.is_none() {
        let desk = state.desk(app, StaffRole::Hotline).await;
        let (at, _) = desk.member_page(&ZHANG).await;
        let result = desk.run_checklist(&at, ZHANG.name, ZHANG.phone, &[]).await;
        let start = result
            .html
            .find("action=\"/staff/checks/")
            .expect("no send form")
            + "action=\"/staff/checks/".len();
        let id = result.html[start..].split('/').next().unwrap().to_owned();
        state.check = Some(id);
    }
    state.check.clone().unwrap()
}
