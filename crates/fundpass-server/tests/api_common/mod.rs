//! What the JSON API tests share: a client that speaks to `/api/v1` the way the app
//! does, from a chosen address, and a few members with valid documents.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub use crate::support::Person;
use crate::support::{TestApp, send_from};

pub const WANG: Person = Person {
    account: "100200300401",
    name: "王小明",
    id_number: "110105199003071239",
    phone: "13812345678",
};
pub const LI: Person = Person {
    account: "100200300402",
    name: "李华",
    id_number: "310104198511224568",
    phone: "13987654321",
};
/// Nobody by this description is in the registry.
pub const STRANGER: Person = crate::support::STRANGER;

pub const LOGIN_PASSWORD: &str = "Blue7harbor42";
pub const TRANSACTION_PASSWORD: &str = "739512";

/// One response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {}", self.text))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        crate::support::header(&self.headers, name)
    }

    /// Asserts the status and the envelope's code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "{}",
            self.text
        );
    }
}

/// The app, as seen from one client address.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub ip: String,
}

impl<'a> Api<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::from_ip(app, "203.0.113.10")
    }

    pub fn from_ip(app: &'a TestApp, ip: &str) -> Self {
        crate::support::exposure::know_people(&[WANG, LI, STRANGER]);
        Self {
            app,
            client: app.client(),
            ip: ip.to_owned(),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let received = send_from(request, &self.ip).await;
        Reply {
            status: received.status,
            headers: received.headers,
            text: received.body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.post(self.app.url(path)).json(&body))
            .await
    }

    pub async fn post_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.post(self.app.url(path)).bearer_auth(token))
            .await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.app.url(path)).bearer_auth(token))
            .await
    }

    /// A new captcha's id and (through the dev helper) its answer.
    pub async fn captcha(&self) -> (String, String) {
        let reply = self
            .send(self.client.post(self.app.url("/api/v1/captcha")))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.json()["captcha_id"].as_str().unwrap().to_owned();
        let answer = self.app.captcha_answer(&id).await;
        (id, answer)
    }

    /// `POST /api/v1/registration` for `person`, with a solved captcha.
    pub async fn start_registration(&self, person: &Person) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "name": person.name, "id_type": "resident_id", "id_number": person.id_number,
            "phone": person.phone, "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/registration", body).await
    }

    /// Starts a registration that must be accepted and returns its flow id.
    pub async fn flow_for(&self, person: &Person) -> String {
        let reply = self.start_registration(person).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json()["flow_id"].as_str().unwrap().to_owned()
    }

    pub async fn submit_code(&self, flow: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/registration/code",
            json!({ "flow_id": flow, "code": code }),
        )
        .await
    }

    pub async fn complete(&self, flow: &str, login: &str, transaction: &str) -> Reply {
        let body = json!({
            "flow_id": flow, "login_password": login, "login_password_confirm": login,
            "transaction_password": transaction, "transaction_password_confirm": transaction,
        });
        self.post("/api/v1/registration/complete", body).await
    }

    /// Takes `person` from ordinary to registered with the standard passwords.
    pub async fn register(&self, person: &Person) {
        let flow = self.flow_for(person).await;
        let code = self.app.last_code_to(person.phone).await;
        let reply = self.submit_code(&flow, &code).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let reply = self
            .complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// `POST /api/v1/login` by account number.
    pub async fn login_by_account(&self, account: &str, password: &str) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "account_no": account, "password": password,
            "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/login", body).await
    }

    /// `POST /api/v1/login` by resident ID number.
    pub async fn login_by_id(&self, id_number: &str, password: &str) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "id_type": "resident_id", "id_number": id_number, "password": password,
            "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/login", body).await
    }

    /// A fresh token for a registered member.
    pub async fn token_for(&self, person: &Person) -> String {
        let reply = self.login_by_account(person.account, LOGIN_PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["token"].as_str().unwrap().to_owned()
    }
}

/// Imports `person` as an ordinary member.
pub async fn seed(app: &TestApp, person: &Person) {
    app.seed(person).await;
}

/// The passwords a member chooses when recovering.
pub const NEW_LOGIN_PASSWORD: &str = "Green5valley81";
pub const NEW_TRANSACTION_PASSWORD: &str = "482615";

/// The body of `reply` with every occurrence of each `volatile` field's value (a
/// random flow id, a nonce) replaced by its name, for comparing answers byte for byte.
pub fn without(reply: &Reply, volatile: &[&str]) -> String {
    let body = reply.json();
    let mut text = reply.text.clone();
    for field in volatile {
        let value = body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field}: {}", reply.text));
        text = text.replace(value, field);
    }
    text
}

/// Recovery and face login, as the app drives them.
impl Api<'_> {
    pub async fn post_json_as(&self, token: &str, path: &str, body: Value) -> Reply {
        let url = self.app.url(path);
        self.send(self.client.post(url).bearer_auth(token).json(&body))
            .await
    }

    pub async fn put_json_as(&self, token: &str, path: &str, body: Value) -> Reply {
        let url = self.app.url(path);
        self.send(self.client.put(url).bearer_auth(token).json(&body))
            .await
    }

    /// `POST /api/v1/recovery/login` with a solved captcha.
    pub async fn start_forgot_login(&self, name: &str, id_number: &str) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "name": name, "id_type": "resident_id", "id_number": id_number,
            "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/recovery/login", body).await
    }

    /// Starts a forgotten-login-password recovery for `person`; returns its flow.
    pub async fn forgot_login_flow(&self, person: &Person) -> String {
        let reply = self.start_forgot_login(person.name, person.id_number).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["flow"].as_str().unwrap().to_owned()
    }

    pub async fn verify_forgot_login(&self, flow: &str, transaction_password: &str) -> Reply {
        let body = json!({ "flow": flow, "transaction_password": transaction_password });
        self.post("/api/v1/recovery/login/verify", body).await
    }

    pub async fn complete_forgot_login(&self, flow: &str, new: &str, again: &str) -> Reply {
        let body = json!({ "flow": flow, "new_password": new, "new_password_again": again });
        self.post("/api/v1/recovery/login/complete", body).await
    }

    /// The whole forgotten-login-password journey, each step asserted.
    pub async fn recover_login_password(&self, person: &Person, transaction: &str, new: &str) {
        let flow = self.forgot_login_flow(person).await;
        let reply = self.verify_forgot_login(&flow, transaction).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let reply = self.complete_forgot_login(&flow, new, new).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// `POST /api/v1/recovery/transaction` with `person`'s name and document.
    pub async fn start_forgot_transaction(&self, token: &str, person: &Person) -> Reply {
        let body = json!({
            "name": person.name, "id_type": "resident_id", "id_number": person.id_number,
        });
        self.post_json_as(token, "/api/v1/recovery/transaction", body)
            .await
    }

    /// Starts a forgotten-transaction-password recovery; returns its flow.
    pub async fn forgot_transaction_flow(&self, token: &str, person: &Person) -> String {
        let reply = self.start_forgot_transaction(token, person).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["flow"].as_str().unwrap().to_owned()
    }

    pub async fn request_recovery_code(&self, token: &str, flow: &str, phone: &str) -> Reply {
        let path = "/api/v1/recovery/transaction/code-request";
        self.post_json_as(token, path, json!({ "flow": flow, "phone": phone }))
            .await
    }

    pub async fn resend_recovery_code(&self, token: &str, flow: &str) -> Reply {
        let path = "/api/v1/recovery/transaction/resend";
        self.post_json_as(token, path, json!({ "flow": flow }))
            .await
    }

    pub async fn submit_recovery_code(&self, token: &str, flow: &str, code: &str) -> Reply {
        let path = "/api/v1/recovery/transaction/code";
        self.post_json_as(token, path, json!({ "flow": flow, "code": code }))
            .await
    }

    pub async fn complete_forgot_transaction(&self, token: &str, flow: &str, new: &str) -> Reply {
        let body = json!({
            "flow": flow, "new_transaction_password": new, "new_transaction_password_again": new,
        });
        self.post_json_as(token, "/api/v1/recovery/transaction/complete", body)
            .await
    }

    /// A flow of `person` (logged in as `token`) at its code step, and the code sent.
    pub async fn flow_with_code(&self, token: &str, person: &Person) -> (String, String) {
        let flow = self.forgot_transaction_flow(token, person).await;
        let reply = self.request_recovery_code(token, &flow, person.phone).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let code = self.app.last_code_to(person.phone).await;
        (flow, code)
    }

    /// The whole forgotten-transaction-password journey, each step asserted.
    pub async fn recover_transaction_password(&self, token: &str, person: &Person, new: &str) {
        let (flow, code) = self.flow_with_code(token, person).await;
        let reply = self.submit_recovery_code(token, &flow, &code).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let reply = self.complete_forgot_transaction(token, &flow, new).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// `POST /api/v1/face/start` for a resident ID.
    pub async fn face_start(&self, id_number: &str) -> Reply {
        let body = json!({ "id_type": "resident_id", "id_number": id_number });
        self.post("/api/v1/face/start", body).await
    }

    /// A face challenge that must be issued: its flow and nonce.
    pub async fn face_challenge(&self, id_number: &str) -> (String, String) {
        let reply = self.face_start(id_number).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let body = reply.json();
        let field = |name: &str| body[name].as_str().unwrap().to_owned();
        (field("flow"), field("nonce"))
    }

    /// A result signed by the dev simulator for `nonce` and a resident ID, with the
    /// extra fields of `overrides` (`score`, `liveness`, `issued_seconds_ago`).
    pub async fn dev_face_result(&self, nonce: &str, id_number: &str, overrides: Value) -> String {
        let mut body = json!({ "nonce": nonce, "id_type": "resident_id", "id_number": id_number });
        if let (Some(fields), Some(extra)) = (body.as_object_mut(), overrides.as_object()) {
            fields.extend(extra.clone());
        }
        let reply = self.post("/dev/face", body).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["result"].as_str().unwrap().to_owned()
    }

    pub async fn face_complete(&self, flow: &str, result: &str) -> Reply {
        let body = json!({ "flow": flow, "result": result });
        self.post("/api/v1/face/complete", body).await
    }

    /// A face login of `person` through the dev simulator: the recovery-only token.
    pub async fn face_login(&self, person: &Person) -> String {
        let (flow, nonce) = self.face_challenge(person.id_number).await;
        let result = self
            .dev_face_result(&nonce, person.id_number, json!({}))
            .await;
        let reply = self.face_complete(&flow, &result).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["token"].as_str().unwrap().to_owned()
    }
}

/// Every audit event recorded so far, oldest first, read through the store's audit API
/// (and checked for full document and phone numbers, as `TestApp::audit_events` does).
pub async fn audit_events(app: &TestApp) -> Vec<fundpass_core::audit::AuditEvent> {
    app.audit_events().await
}

/// Asserts that the audit trail has an event of each action in `actions`, and that no
/// event anywhere in it carries `person`'s full document number or phone, or any of
/// `secrets`.
#[track_caller]
pub fn assert_audited(
    events: &[fundpass_core::audit::AuditEvent],
    actions: &[&str],
    person: &Person,
    secrets: &[&str],
) {
    for action in actions {
        assert!(
            events.iter().any(|e| e.action == *action),
            "no {action} in {:?}",
            events.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    }
    for event in events {
        let text = serde_json::to_string(event).unwrap();
        for leak in [person.id_number, person.phone].iter().chain(secrets) {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
}

impl Api<'_> {
    /// A fresh token for a registered member who logs in with `password`.
    pub async fn token_for_password(&self, person: &Person, password: &str) -> String {
        let reply = self.login_by_account(person.account, password).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["token"].as_str().unwrap().to_owned()
    }
}

/// A fresh app with `person` registered through the API, the SMS cooldown of the
/// registration code already over (the clock is then at 02:01:01 UTC).
pub async fn app_with_registered(person: &Person) -> TestApp {
    let app = TestApp::spawn().await;
    seed(&app, person).await;
    Api::from_ip(&app, "203.0.113.1").register(person).await;
    app.clock.advance(time::Duration::seconds(61));
    app
}
