//! Good requests for the rows of `api.rs`: WANG registered and logged in, LI imported
//! and not registered, and each flow, challenge or authorisation a row needs, made
//! through the API itself the first time a row asks for it.

use fundpass_core::clients::Scope;
use serde_json::{Value, json};

use super::run::Table;
use super::{Field, Prepared, Row};
use crate::api_common::{
    Api, LI, LOGIN_PASSWORD, NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, TRANSACTION_PASSWORD,
    WANG,
};
use crate::internal_common::{Internal, TestClient, payment};
use crate::support::TestApp;

/// The rows of the app's API.
pub struct ApiTable;

/// What the rows of one app share.
pub struct ApiState {
    token: String,
    /// Another session of WANG's, to end.
    other_session: String,
    registration: Option<(String, String)>,
    forgot_login: Option<String>,
    forgot_transaction: Option<String>,
    recovery_code: Option<(String, String)>,
    recovery_token: Option<String>,
    authorization: Option<String>,
    /// LI's request to be WANG's relative, and the code LI received.
    relative_link: Option<(String, String)>,
    /// Face checks started, each from an address of its own (starts are limited per
    /// address).
    checks_started: u32,
}

impl Table for ApiTable {
    type State = ApiState;

    async fn setup(app: &TestApp) -> ApiState {
        app.seed(&WANG).await;
        app.seed(&LI).await;
        let api = Api::new(app);
        api.register(&WANG).await;
        app.clock.advance(time::Duration::seconds(61));
        let other = api.token_for(&WANG).await;
        let token = api.token_for(&WANG).await;
        let sessions = api.get_as(&token, "/api/v1/sessions").await.json();
        let other_session = sessions["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] != true)
            .and_then(|s| s["id"].as_str())
            .unwrap()
            .to_owned();
        drop(other);
        let due = app.china_today() + time::Duration::days(10);
        app.entitle(&WANG, due, None).await;
        app.entitle(&LI, due, None).await;
        ApiState {
            token,
            other_session,
            registration: None,
            forgot_login: None,
            forgot_transaction: None,
            recovery_code: None,
            recovery_token: None,
            authorization: None,
            relative_link: None,
            checks_started: 0,
        }
    }

    async fn prepare(
        app: &TestApp,
        state: &mut ApiState,
        row: &Row,
        target: Option<&Field>,
    ) -> Prepared {
        let api = Api::new(app);
        let base = Prepared::new(&api.client, &api.ip);
        let token = state.token.clone();
        let member = base.clone().bearer(&token);
        match (row.method, row.path) {
            ("POST", "/api/v1/captcha") => base,
            ("POST", "/api/v1/registration") => {
                let (id, answer) = api.captcha().await;
                base.json(json!({
                    "name": LI.name, "id_type": "resident_id", "id_number": LI.id_number,
                    "phone": LI.phone, "captcha_id": id, "captcha_answer": answer,
                }))
            }
            ("POST", "/api/v1/registration/code") => {
                let (flow, code) = registration(&api, state).await;
                base.json(json!({ "flow_id": flow, "code": code }))
            }
            ("POST", "/api/v1/registration/resend") => {
                let (flow, _) = registration(&api, state).await;
                app.clock.advance(time::Duration::seconds(61));
                base.json(json!({ "flow_id": flow }))
            }
            ("POST", "/api/v1/registration/complete") => {
                let (flow, code) = registration(&api, state).await;
                api.submit_code(&flow, &code).await;
                base.json(json!({
                    "flow_id": flow,
                    "login_password": LOGIN_PASSWORD, "login_password_confirm": LOGIN_PASSWORD,
                    "transaction_password": TRANSACTION_PASSWORD,
                    "transaction_password_confirm": TRANSACTION_PASSWORD,
                }))
            }
            ("POST", "/api/v1/login") => {
                let (id, answer) = api.captcha().await;
                let by_account = target.is_some_and(|f| f.name == "/account_no");
                let mut body = json!({
                    "password": LOGIN_PASSWORD, "captcha_id": id, "captcha_answer": answer,
                });
                if by_account {
                    body["account_no"] = json!(WANG.account);
                } else {
                    body["id_type"] = json!("resident_id");
                    body["id_number"] = json!(WANG.id_number);
                }
                base.json(body)
            }
            ("POST", "/api/v1/logout" | "/api/v1/logout-all")
            | ("GET", "/api/v1/me" | "/api/v1/sessions")
            | ("GET", "/api/v1/security/questions" | "/api/v1/authorizations/pending") => member,
            ("GET", "/api/v1/security-record") => member
                .query("before", "100000")
                .query("kind", "login")
                .query("limit", "10"),
            ("GET", "/api/v1/security-record/export") => member.query("format", "json"),
            ("POST", "/api/v1/security-record/{seq}/not-me") => {
                let seq = reportable_login(&api, &token).await;
                member.path("seq", &seq.to_string())
            }
            ("DELETE", "/api/v1/sessions/{id}") => member.path("id", &state.other_session),
            ("POST", "/api/v1/recovery/login") => {
                let (id, answer) = api.captcha().await;
                base.json(json!({
                    "name": WANG.name, "id_type": "resident_id", "id_number": WANG.id_number,
                    "captcha_id": id, "captcha_answer": answer,
                }))
            }
            ("POST", "/api/v1/recovery/login/verify") => {
                let flow = forgot_login(&api, state).await;
                base.json(json!({ "flow": flow, "transaction_password": TRANSACTION_PASSWORD }))
            }
            ("POST", "/api/v1/recovery/login/complete") => {
                let flow = forgot_login(&api, state).await;
                api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
                base.json(json!({
                    "flow": flow, "new_password": NEW_LOGIN_PASSWORD,
                    "new_password_again": NEW_LOGIN_PASSWORD,
                }))
            }
            ("POST", "/api/v1/recovery/transaction") => member.json(json!({
                "name": WANG.name, "id_type": "resident_id", "id_number": WANG.id_number,
            })),
            ("POST", "/api/v1/recovery/transaction/code-request") => {
                let flow = forgot_transaction(&api, state).await;
                member.json(json!({ "flow": flow, "phone": WANG.phone }))
            }
            ("POST", "/api/v1/recovery/transaction/resend") => {
                let (flow, _) = recovery_code(&api, state).await;
                app.clock.advance(time::Duration::seconds(61));
                member.json(json!({ "flow": flow }))
            }
            ("POST", "/api/v1/recovery/transaction/code") => {
                let (flow, code) = recovery_code(&api, state).await;
                member.json(json!({ "flow": flow, "code": code }))
            }
            ("POST", "/api/v1/recovery/transaction/complete") => {
                let (flow, code) = recovery_code(&api, state).await;
                api.submit_recovery_code(&token, &flow, &code).await;
                member.json(json!({
                    "flow": flow, "new_transaction_password": NEW_TRANSACTION_PASSWORD,
                    "new_transaction_password_again": NEW_TRANSACTION_PASSWORD,
                }))
            }
            ("POST", "/api/v1/face/start") => base.json(json!({
                "id_type": "resident_id", "id_number": WANG.id_number,
                "name": WANG.name, "meta_info": "{\"zimVer\":\"3.0.0\"}",
            })),
            ("POST", "/api/v1/face/complete") => {
                let (flow, nonce) = api.face_challenge(WANG.id_number).await;
                let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
                base.json(json!({ "flow": flow, "result": result }))
            }
            ("PUT", "/api/v1/security/questions") => member.json(json!({
                "questions": [{"question": "first_school", "answer": "Beijing No. 4"}],
            })),
            ("POST", "/api/v1/my-data") => member.json(json!({ "password": LOGIN_PASSWORD })),
            ("POST", "/api/v1/phone") => {
                if state.recovery_token.is_none() {
                    state.recovery_token = Some(api.face_login(&WANG).await);
                }
                let recovery = state.recovery_token.clone().unwrap();
                base.bearer(&recovery).json(json!({
                    "transaction_password": TRANSACTION_PASSWORD,
                    "new_phone": "13900001111", "new_phone_again": "13900001111",
                }))
            }
            ("POST", "/api/v1/password/login") => member.json(json!({
                "current": LOGIN_PASSWORD, "new": NEW_LOGIN_PASSWORD,
                "new_again": NEW_LOGIN_PASSWORD,
            })),
            ("POST", "/api/v1/password/transaction") => member.json(json!({
                "current": TRANSACTION_PASSWORD, "new": NEW_TRANSACTION_PASSWORD,
                "new_again": NEW_TRANSACTION_PASSWORD,
            })),
            ("POST", "/api/v1/authorizations/{id}/confirm") => {
                let id = authorization(app, state).await;
                member
                    .path("id", &id)
                    .json(json!({ "transaction_password": TRANSACTION_PASSWORD }))
            }
            ("POST", "/api/v1/authorizations/{id}/decline") => {
                let id = authorization(app, state).await;
                member.path("id", &id)
            }
            ("GET", "/api/v1/qualification" | "/api/v1/qualification/relatives") => member,
            ("POST", "/api/v1/qualification/checks") => {
                open_check(app).await;
                member.json(json!({ "meta_info": "{\"zimVer\":\"3.0.0\"}" }))
            }
            ("POST", "/api/v1/qualification/checks/complete") => {
                open_check(app).await;
                state.checks_started += 1;
                let ip = format!("192.0.2.{}", state.checks_started % 250 + 1);
                let starter = Api::from_ip(app, &ip);
                let started = starter
                    .post_json_as(&token, "/api/v1/qualification/checks", json!({}))
                    .await;
                assert_eq!(started.status, 201, "{}", started.text);
                let attempt = started.json()["attempt"].as_str().unwrap().to_owned();
                let nonce = started.json()["nonce"].as_str().unwrap().to_owned();
                let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
                member.json(json!({ "attempt": attempt, "result": result }))
            }
            ("POST", "/api/v1/qualification/relatives") => member.json(json!({
                "id_type": "resident_id", "id_number": LI.id_number, "name": LI.name,
            })),
            ("POST", "/api/v1/qualification/relatives/confirm") => {
                let (flow, code) = relative_link(&api, state).await;
                member.json(json!({ "flow": flow, "code": code }))
            }
            ("POST", "/dev/face") => {
                let (_, nonce) = api.face_challenge(WANG.id_number).await;
                base.json(json!({
                    "nonce": nonce, "id_type": "resident_id", "id_number": WANG.id_number,
                }))
            }
            (method, path) => panic!("no good request for {method} {path}"),
        }
    }
}

/// WANG's check open again: due in ten days, no refusals counted.
async fn open_check(app: &TestApp) {
    use fundpass_core::ports::{QualificationStore as _, UnitOfWork as _};
    use fundpass_core::qualification::{Benefit, QualificationStatus, QualificationWrite};
    let id = crate::support::member_id(app, &WANG).await;
    let benefit = app.store.benefit(id).await.unwrap().unwrap();
    let open = Benefit {
        due_date: app.china_today() + time::Duration::days(10),
        status: QualificationStatus::Qualified,
        suspended_since: None,
        failed_attempts: 0,
        ..benefit.clone()
    };
    let change = fundpass_core::ports::ChangeSet {
        qualification: vec![QualificationWrite::Benefit {
            record: open,
            expected_version: benefit.version,
        }],
        ..Default::default()
    };
    app.store.apply(change).await.unwrap();
}

/// WANG's request to add LI as a relative, and the code texted to LI.
async fn relative_link(api: &Api<'_>, state: &mut ApiState) -> (String, String) {
    if state.relative_link.is_none() {
        let body = json!({ "id_type": "resident_id", "id_number": LI.id_number, "name": LI.name });
        let started = api
            .post_json_as(&state.token, "/api/v1/qualification/relatives", body)
            .await;
        assert_eq!(started.status, 202, "{}", started.text);
        let flow = started.json()["flow"].as_str().unwrap().to_owned();
        let code = api.app.last_code_to(LI.phone).await;
        state.relative_link = Some((flow, code));
    }
    state.relative_link.clone().unwrap()
}

/// LI's registration flow at its code step, and the code texted.
async fn registration(api: &Api<'_>, state: &mut ApiState) -> (String, String) {
    if state.registration.is_none() {
        let flow = api.flow_for(&LI).await;
        let code = api.app.last_code_to(LI.phone).await;
        state.registration = Some((flow, code));
    }
    state.registration.clone().unwrap()
}

async fn forgot_login(api: &Api<'_>, state: &mut ApiState) -> String {
    if state.forgot_login.is_none() {
        state.forgot_login = Some(api.forgot_login_flow(&WANG).await);
    }
    state.forgot_login.clone().unwrap()
}

async fn forgot_transaction(api: &Api<'_>, state: &mut ApiState) -> String {
    if state.forgot_transaction.is_none() {
        let flow = api.forgot_transaction_flow(&state.token, &WANG).await;
        state.forgot_transaction = Some(flow);
    }
    state.forgot_transaction.clone().unwrap()
}

async fn recovery_code(api: &Api<'_>, state: &mut ApiState) -> (String, String) {
    if state.recovery_code.is_none() {
        state.recovery_code = Some(api.flow_with_code(&state.token, &WANG).await);
    }
    state.recovery_code.clone().unwrap()
}

/// A new app session of the member with document `id_number`: its token.
async fn app_token(app: &TestApp, id_number: &str, password: &str) -> String {
    let reply = Api::new(app).login_by_id(id_number, password).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// The seq of a login on the record of the member with document `id_number` that
/// can be reported as not theirs (read through a new app session).
pub async fn reportable_login_of(app: &TestApp, id_number: &str, password: &str) -> i64 {
    let token = app_token(app, id_number, password).await;
    reportable_login(&Api::new(app), &token).await
}

/// The id of a new app session of the member with document `id_number`.
pub async fn app_session_of(app: &TestApp, id_number: &str, password: &str) -> String {
    let token = app_token(app, id_number, password).await;
    let sessions = Api::new(app)
        .get_as(&token, "/api/v1/sessions")
        .await
        .json();
    sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_owned()
}

/// The seq of a login on WANG's record that can be reported as not theirs.
async fn reportable_login(api: &Api<'_>, token: &str) -> i64 {
    let page = api.get_as(token, "/api/v1/security-record").await.json();
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "login" && e["reportable"] == true)
        .and_then(|e| e["seq"].as_i64())
        .expect("no reportable login on the record")
}

/// A payment authorisation waiting for WANG, asked for by a business system.
async fn authorization(app: &TestApp, state: &mut ApiState) -> String {
    if state.authorization.is_none() {
        let client = TestClient::register(app, "withdrawals", &Scope::ALL).await;
        let internal = Internal::new(app);
        let token = internal.token(&client).await;
        let view: Value = internal
            .created(&token, &payment(WANG.account, 1_234_567, "WD-1"))
            .await;
        state.authorization = Some(view["id"].as_str().unwrap().to_owned());
    }
    state.authorization.clone().unwrap()
}
