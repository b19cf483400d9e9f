//! Good requests for the rows of `portal.rs`: ZHANG registered and logged in in one
//! browser, an anonymous browser for the public forms, CHEN imported and not
//! registered; the pages of each journey fetched as a person would, the first time a
//! row asks for them, and a fresh form (and captcha) for every request.

use fundpass_core::clients::Scope;
use fundpass_core::staff::StaffRole;
use serde_json::Value;

use super::run::Table;
use super::{Field, Prepared, Row};
use crate::console_common::{add_staff, ticket_on, visit};
use crate::internal_common::{Internal, TestClient, payment};
use crate::support::TestApp;
use crate::web_common::{Browser, CHEN, LOGIN_PASSWORD, Page, TRANSACTION_PASSWORD, ZHANG};

const NEW_LOGIN: &str = "Harbour77sunrise";
const NEW_TRANSACTION: &str = "503718";

/// The rows of the member portal.
pub struct PortalTable;

pub struct PortalState {
    anon: reqwest::Client,
    member: reqwest::Client,
    pages: std::collections::HashMap<&'static str, Page>,
    ticket: Option<String>,
    authorization: Option<String>,
}

impl PortalState {
    fn anon<'a>(&self, app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: self.anon.clone(),
            ip: "198.51.100.9".into(),
            accept_language: None,
        }
    }

    fn member<'a>(&self, app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: self.member.clone(),
            ip: "198.51.100.7".into(),
            accept_language: None,
        }
    }
}

impl Table for PortalTable {
    type State = PortalState;

    async fn setup(app: &TestApp) -> PortalState {
        let member = Browser::new(app);
        member.registered_and_logged_in(&ZHANG).await;
        app.seed(&CHEN).await;
        app.clock.advance(time::Duration::seconds(61));
        PortalState {
            anon: app.client(),
            member: member.client,
            pages: std::collections::HashMap::new(),
            ticket: None,
            authorization: None,
        }
    }

    async fn prepare(
        app: &TestApp,
        state: &mut PortalState,
        row: &Row,
        target: Option<&Field>,
    ) -> Prepared {
        let (anon, member) = (state.anon(app), state.member(app));
        let public = Prepared::new(&anon.client, &anon.ip);
        let own = Prepared::new(&member.client, &member.ip);
        let member_csrf = member.get("/home").await.field("csrf").unwrap();
        let csrf = member_csrf.as_str();
        match row.path {
            "/register" => {
                let (form, id, answer) = with_captcha(&anon, "/register").await;
                public.form(&[
                    ("csrf", &form),
                    ("name", CHEN.name),
                    ("id_type", "resident_id"),
                    ("id_number", CHEN.id_number),
                    ("phone", CHEN.phone),
                    ("captcha_id", &id),
                    ("captcha_answer", &answer),
                ])
            }
            "/register/code" => {
                let page = journey(app, state, "register/code").await;
                let code = app.last_code_to(CHEN.phone).await;
                public.pairs(step(&page, &[("code", &code)]))
            }
            "/register/resend" | "/register/passwords" => {
                let key = row.path.trim_start_matches('/');
                let page = journey(app, state, key).await;
                if row.path.ends_with("resend") {
                    app.clock.advance(time::Duration::seconds(61));
                }
                let passwords = [
                    ("login_password", LOGIN_PASSWORD),
                    ("login_password_again", LOGIN_PASSWORD),
                    ("transaction_password", TRANSACTION_PASSWORD),
                    ("transaction_password_again", TRANSACTION_PASSWORD),
                ];
                let fields: &[(&str, &str)] = if row.path.ends_with("resend") {
                    &[]
                } else {
                    &passwords
                };
                public.pairs(step(&page, fields))
            }
            "/login" => {
                let (form, id, answer) = with_captcha(&anon, "/login").await;
                let (by, number, account) = if target.is_some_and(|f| f.name == "account_no") {
                    ("account", "", ZHANG.account)
                } else {
                    ("document", ZHANG.id_number, "")
                };
                public.form(&[
                    ("csrf", &form),
                    ("by", by),
                    ("id_type", "resident_id"),
                    ("id_number", number),
                    ("account_no", account),
                    ("password", LOGIN_PASSWORD),
                    ("captcha_id", &id),
                    ("captcha_answer", &answer),
                ])
            }
            "/forgot-password" | "/security/transaction-password" => {
                let browser = if row.path == "/forgot-password" {
                    &anon
                } else {
                    &member
                };
                let (form, id, answer) = with_captcha(browser, row.path).await;
                Prepared::new(&browser.client, &browser.ip).form(&[
                    ("csrf", &form),
                    ("name", ZHANG.name),
                    ("id_type", "resident_id"),
                    ("id_number", ZHANG.id_number),
                    ("captcha_id", &id),
                    ("captcha_answer", &answer),
                ])
            }
            "/forgot-password/verify" => {
                let page = journey(app, state, "forgot/verify").await;
                public.pairs(step(
                    &page,
                    &[("transaction_password", TRANSACTION_PASSWORD)],
                ))
            }
            "/forgot-password/new" => {
                let page = journey(app, state, "forgot/new").await;
                public.pairs(step(
                    &page,
                    &[
                        ("new_password", NEW_LOGIN),
                        ("new_password_again", NEW_LOGIN),
                    ],
                ))
            }
            "/security/record/download" => own.form(&[("csrf", csrf)]).query("format", "csv"),
            "/security/record/{seq}/not-me" => {
                let seq =
                    super::api_prepare::reportable_login_of(app, ZHANG.id_number, LOGIN_PASSWORD)
                        .await;
                own.form(&[("csrf", csrf)]).path("seq", &seq.to_string())
            }
            "/security/password" => own.form(&[
                ("csrf", csrf),
                ("current_password", LOGIN_PASSWORD),
                ("new_password", NEW_LOGIN),
                ("new_password_again", NEW_LOGIN),
            ]),
            "/security/transaction-password/change" => own.form(&[
                ("csrf", csrf),
                ("current_password", TRANSACTION_PASSWORD),
                ("new_password", NEW_TRANSACTION),
                ("new_password_again", NEW_TRANSACTION),
            ]),
            "/security/transaction-password/phone" => {
                let page = journey(app, state, "transaction/phone").await;
                own.pairs(step(&page, &[("phone", ZHANG.phone)]))
            }
            "/security/transaction-password/code" | "/security/transaction-password/resend" => {
                let page = journey(app, state, "transaction/code").await;
                if row.path.ends_with("resend") {
                    app.clock.advance(time::Duration::seconds(61));
                    own.pairs(step(&page, &[]))
                } else {
                    let code = app.last_code_to(ZHANG.phone).await;
                    own.pairs(step(&page, &[("code", &code)]))
                }
            }
            "/security/transaction-password/new" => {
                let page = journey(app, state, "transaction/new").await;
                own.pairs(step(
                    &page,
                    &[
                        ("new_password", NEW_TRANSACTION),
                        ("new_password_again", NEW_TRANSACTION),
                    ],
                ))
            }
            "/security/questions" => own.form(&[
                ("csrf", csrf),
                ("question", "first_school"),
                ("answer", "Beijing No. 4"),
            ]),
            "/security/my-data" => own.form(&[("csrf", csrf), ("password", LOGIN_PASSWORD)]),
            "/sessions/{id}/end" => {
                let id =
                    super::api_prepare::app_session_of(app, ZHANG.id_number, LOGIN_PASSWORD).await;
                own.form(&[("csrf", csrf)]).path("id", &id)
            }
            "/confirm/{id}" => {
                let id = authorization(app, state).await;
                own.path("id", &id).form(&[
                    ("csrf", csrf),
                    ("transaction_password", TRANSACTION_PASSWORD),
                    ("decision", "confirm"),
                ])
            }
            "/logout" | "/logout-all" => own.form(&[("csrf", csrf)]),
            "/ticket" | "/counter/pinpad" => {
                let ticket = ticket(app, state).await;
                let form = anon.get(row.path).await.field("csrf").unwrap();
                public.form(&[
                    ("csrf", &form),
                    ("ticket", &ticket),
                    ("id_type", "resident_id"),
                    ("id_number", ZHANG.id_number),
                ])
            }
            "/ticket/new" | "/counter/pinpad/new" => {
                let start = row.path.trim_end_matches("/new");
                if !state.pages.contains_key(row.path) {
                    let ticket = ticket(app, state).await;
                    let checked = anon.check_ticket(start, &ticket, &ZHANG).await;
                    state.pages.insert(row.path, checked);
                }
                let checked = clone(&state.pages[row.path]);
                let redemption = checked
                    .field("redemption")
                    .expect("no redemption on the page");
                public.form(&[
                    ("csrf", &checked.field("csrf").unwrap()),
                    ("redemption", &redemption),
                    ("login_password", NEW_LOGIN),
                    ("login_password_again", NEW_LOGIN),
                    ("transaction_password", NEW_TRANSACTION),
                    ("transaction_password_again", NEW_TRANSACTION),
                ])
            }
            "/lang" => {
                let form = anon.get("/login").await.field("csrf").unwrap();
                public.form(&[("csrf", &form), ("lang", "en"), ("back", "/login")])
            }
            path => panic!("no good request for POST {path}"),
        }
    }
}

/// A fresh form at `path`: its token, captcha id and the captcha's answer.
async fn with_captcha(browser: &Browser<'_>, path: &str) -> (String, String, String) {
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.html);
    let (id, answer) = browser.solve(&page).await;
    (page.field("csrf").unwrap(), id, answer)
}

/// The token and flow of `page` and `fields`: a step of a journey.
fn step(page: &Page, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = vec![
        (
            "csrf".to_owned(),
            page.field("csrf").expect("no token on the page"),
        ),
        (
            "flow".to_owned(),
            page.field("flow").expect("no flow on the page"),
        ),
    ];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    form
}

/// The page a journey is at before the step `key` (`register/code` is the code page
/// of CHEN's registration…), made the first time it is asked for.
async fn journey(app: &TestApp, state: &mut PortalState, key: &'static str) -> Page {
    if let Some(page) = state.pages.get(key) {
        return clone(page);
    }
    let (anon, member) = (state.anon(app), state.member(app));
    let page = match key {
        "register/code" | "register/resend" => anon.identify(&CHEN).await,
        "register/passwords" => {
            let code_page = anon.identify(&CHEN).await;
            let code = app.last_code_to(CHEN.phone).await;
            anon.enter_code(&code_page, &code).await
        }
        "forgot/verify" => anon.forgot_identify(&ZHANG).await,
        "forgot/new" => {
            let verify = anon.forgot_identify(&ZHANG).await;
            anon.forgot_verify(&verify, TRANSACTION_PASSWORD).await
        }
        "transaction/phone" => member.transaction_identify(&ZHANG).await,
        "transaction/code" => {
            let phone = member.transaction_identify(&ZHANG).await;
            member.transaction_phone(&phone, ZHANG.phone).await
        }
        "transaction/new" => {
            let phone = member.transaction_identify(&ZHANG).await;
            let code_page = member.transaction_phone(&phone, ZHANG.phone).await;
            let code = app.last_code_to(ZHANG.phone).await;
            member.transaction_code(&code_page, &code).await
        }
        other => panic!("no journey to {other}"),
    };
    assert!(page.field("flow").is_some(), "{key}: {}", page.html);
    state.pages.insert(key, clone(&page));
    page
}

fn clone(page: &Page) -> Page {
    Page {
        status: page.status,
        headers: page.headers.clone(),
        html: page.html.clone(),
    }
}

/// A reset ticket for ZHANG (login and transaction password), issued at a counter.
async fn ticket(app: &TestApp, state: &mut PortalState) -> String {
    if state.ticket.is_none() {
        let clerk = add_staff(app, "wang.li", StaffRole::Counter).await;
        let counter = Browser::from_ip(app, "10.1.2.3");
        counter.staff_login(&clerk).await;
        let (at, _) = counter.member_page(&ZHANG).await;
        let receipt = counter.open_case(&at, &visit(&ZHANG, "both")).await;
        state.ticket = Some(ticket_on(&receipt).expect("no ticket on the receipt"));
    }
    state.ticket.clone().unwrap()
}

/// A payment authorisation waiting for ZHANG.
async fn authorization(app: &TestApp, state: &mut PortalState) -> String {
    if state.authorization.is_none() {
        let client = TestClient::register(app, "withdrawals", &Scope::ALL).await;
        let internal = Internal::new(app);
        let token = internal.token(&client).await;
        let view: Value = internal
            .created(&token, &payment(ZHANG.account, 1_234_567, "WD-1"))
            .await;
        state.authorization = Some(view["id"].as_str().unwrap().to_owned());
    }
    state.authorization.clone().unwrap()
}
